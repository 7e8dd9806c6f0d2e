//! The `todo` binary as an attacker and an operator meet it: known or short
//! secrets and a wildcard CORS origin are refused at start with a clear message;
//! the data directory, secret and database file are private; and a flood of 500
//! concurrent wrong-password sign-ins leaves another user's listings fast and the
//! process small (docs/security.md).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A fresh directory under the system temp dir (not created).
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("todo-hardening-{name}-{}", uuid::Uuid::new_v4().simple()))
}

fn todo(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_todo"));
    c.arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TODO_DATA_DIR", data_dir)
        .env("TODO_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    c
}

/// Runs `todo serve` expecting it to refuse to start; returns its stderr.
fn refused(cmd: &mut Command) -> String {
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output().expect("run todo");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "started: {stderr}");
    assert!(!stderr.contains("panicked"), "a panic instead of an error: {stderr}");
    stderr
}

#[test]
fn known_short_and_wildcard_settings_are_refused_at_start() {
    let dir = temp_path("refused");
    // The value docker-compose.yml shipped as a default.
    let e = refused(todo(&dir).env("JWT_SECRET", "change-me-to-32-or-more-random-bytes!!"));
    assert!(e.contains("published default"), "{e}");
    let e = refused(todo(&dir).env("JWT_SECRET", "too-short-secret"));
    assert!(e.contains("at least 32 bytes"), "{e}");
    let e = refused(todo(&dir).env("JWT_SECRET", "a".repeat(64)));
    assert!(e.contains("too few characters"), "{e}");
    let e = refused(todo(&dir).env("TODO_CORS_ORIGINS", "*"));
    assert!(e.contains("TODO_CORS_ORIGINS=*"), "{e}");
    assert!(!dir.exists(), "nothing is created before the settings are checked");
}

/// A running `todo serve` and its address.
struct Server {
    child: Child,
    addr: String,
    data: PathBuf,
}

impl Server {
    fn start(extra: &[(&str, &str)]) -> Server {
        let data = temp_path("serve");
        let mut cmd = todo(&data);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start todo serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines.next().expect("todo serve exited before listening").expect("read stderr");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.trim().to_owned();
            }
        };
        // Keep draining stderr so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr, data }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Resident set size now, and at its peak, in MiB (Linux).
    fn rss_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib = |field: &str| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn the_data_dir_secret_and_database_are_private() {
    let server = Server::start(&[]);
    assert_eq!(mode(&server.data), 0o700, "data dir");
    assert_eq!(mode(&server.data.join("jwt-secret")), 0o600, "generated secret");
    assert_eq!(mode(&server.data.join("todo.db")), 0o600, "database file");
    for side in ["todo.db-wal", "todo.db-shm"] {
        let p = server.data.join(side);
        if p.exists() {
            assert_eq!(mode(&p) & 0o077, 0, "{side} readable by others");
        }
    }
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// 500 concurrent wrong-password sign-ins (the per-address limit off, as for an
/// attacker with many addresses) while another user lists tasks: the hashing cap
/// turns the excess away with 503, the lister stays fast, the process stays small,
/// and signing in works right after. Figures are printed; bounds are generous.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_leaves_others_fast_and_the_process_small() {
    const FLOOD: usize = 500;
    let server = Server::start(&[("TODO_AUTH_RATE_LIMIT", "0"), ("TODO_RATE_LIMIT", "0")]);
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let (status, body) = post(
        &client,
        server.url("/api/v1/auth/register"),
        None,
        json!({"email": "lister@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    for i in 0..20 {
        let (s, _) =
            post(&client, server.url("/api/v1/tasks"), Some(&token), json!({"title": format!("task {i}")})).await;
        assert_eq!(s, 201);
    }
    let (_, idle_peak) = server.rss_mib();

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lister = {
        let (client, url, token, done) = (client.clone(), server.url("/api/v1/tasks"), token.clone(), done.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let start = Instant::now();
                let res = client.get(&url).bearer_auth(&token).send().await.expect("list");
                assert_eq!(res.status(), 200);
                let _ = res.bytes().await;
                latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            latencies
        })
    };
    let started = Instant::now();
    let flood: Vec<_> = (0..FLOOD)
        .map(|i| {
            let (client, url) = (client.clone(), server.url("/api/v1/auth/login"));
            tokio::spawn(async move {
                post(
                    &client,
                    url,
                    None,
                    json!({"email": format!("victim{}@example.com", i % 50), "password": "wrong guess"}),
                )
                .await
                .0
            })
        })
        .collect();
    let mut peak_sampled = 0f64;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for f in flood {
        statuses.entry(f.await.unwrap()).and_modify(|n| *n += 1).or_insert(1);
        peak_sampled = peak_sampled.max(server.rss_mib().0);
    }
    let flood_took = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut latencies = lister.await.unwrap();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| latencies[((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1];
    let (_, peak) = server.rss_mib();
    println!(
        "login flood: {FLOOD} concurrent wrong-password sign-ins in {flood_took:.2?}; answers {statuses:?}; \
         lister: {} listings, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; RSS peak {peak:.0} MiB (before the flood \
         {idle_peak:.0} MiB)",
        latencies.len(),
        p(0.50),
        p(0.99),
        p(1.0),
    );
    assert!(statuses.keys().all(|s| matches!(s, 401 | 503)), "only 401 and 503: {statuses:?}");
    assert!(statuses.get(&503).copied().unwrap_or(0) > 0, "the hashing cap turned some away: {statuses:?}");
    assert!(latencies.len() >= 5, "the lister made progress");
    assert!(p(0.99) < 1000.0, "lister p99 {:.1} ms", p(0.99));
    assert!(peak < 300.0, "RSS peak {peak:.0} MiB");

    // Right after the flood, signing in works (it answered 500 before the cap).
    let (status, body) = post(
        &client,
        server.url("/api/v1/auth/login"),
        None,
        json!({"email": "lister@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
