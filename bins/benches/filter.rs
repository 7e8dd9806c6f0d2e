//! The filter benchmark (run by `scripts/bench.d/filter`, which starts the server):
//! seeds 100,000 tasks of one user straight into the store, then measures the
//! latency of one filter query through the HTTP API of a running `todo serve`
//! against the same compiled SQL run raw on the database, alternating the two.
//!
//! Environment: `DATABASE_URL` (the server's database), `API_URL` (the server),
//! `JWT_SECRET` (the server's), `TASKS` (default 100000), `REQUESTS` (per side,
//! default 5000), `QUERY` (default `(today | overdue) & #work & !p3`).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveTime, Utc};
use rand::{Rng, SeedableRng};
use todo_core::domain::{
    Description, Email, Priority, RepeatFrom, Status, Tags, Task, TaskId, TaskTitle, Timezone, User, UserId,
};
use todo_core::ports::{Change, TaskWrite, truncate_micros};
use todo_core::service::ListParams;
use todo_services::http::jwt::JwtKeys;

const TAGS: &[&str] = &["work", "home", "errand", "health", "travel", "finance", "someday", "reading"];
const CHUNK: usize = 2_000;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// One user's task: due within two months either side of now (a tenth all day,
/// a fifth without a date), up to three tags, any priority, 30% completed.
fn task(rng: &mut rand::rngs::StdRng, user: UserId, tz: Timezone, now: DateTime<Utc>, i: usize) -> Task {
    let created = truncate_micros(now - chrono::Duration::days(rng.gen_range(0..120)));
    let (due_at, all_day) = match rng.gen_range(0..10) {
        0 | 1 => (None, false),
        2 => {
            let day = (now + chrono::Duration::days(rng.gen_range(-60..60))).with_timezone(&tz.tz()).date_naive();
            let midnight = todo_core::domain::recurrence::local_datetime(tz.tz(), day, NaiveTime::MIN);
            (Some(midnight.with_timezone(&Utc)), true)
        }
        _ => (Some(truncate_micros(now + chrono::Duration::seconds(rng.gen_range(-60 * 86_400..60 * 86_400)))), false),
    };
    let tags: Vec<&str> = (0..rng.gen_range(0..4)).map(|_| TAGS[rng.gen_range(0..TAGS.len())]).collect();
    let done = rng.gen_bool(0.3);
    Task {
        id: TaskId::new(),
        user_id: user,
        title: TaskTitle::parse(&format!("task {i}")).expect("title"),
        description: Description::parse(if i.is_multiple_of(7) { "with some notes" } else { "" }).expect("description"),
        status: if done { Status::Completed } else { Status::Pending },
        priority: Priority::ALL[rng.gen_range(0..3)],
        tags: Tags::parse(tags).expect("tags"),
        due_at,
        all_day,
        remind_at: None,
        recurrence: None,
        repeat_from: RepeatFrom::Due,
        series_id: None,
        created_at: created,
        updated_at: created,
        completed_at: done.then_some(created),
        version: 1,
    }
}

fn percentile(xs: &mut [Duration], p: f64) -> Duration {
    xs.sort();
    let rank = ((p / 100.0) * xs.len() as f64).ceil().max(1.0) as usize;
    xs[rank.min(xs.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL (the server's database) is required")?;
    let api = std::env::var("API_URL").context("API_URL (the running server) is required")?;
    let secret = std::env::var("JWT_SECRET").context("JWT_SECRET (the server's) is required")?;
    let n: usize = env("TASKS", "100000").parse()?;
    let requests: usize = env("REQUESTS", "5000").parse()?;
    let query = env("QUERY", "(today | overdue) & #work & !p3");

    let store = todo_store::connect(&url).await.context("connect to the database")?;
    store.migrate().await?;
    let tz = Timezone::parse("Europe/Berlin")?;
    let now = Utc::now();
    let user = User {
        id: UserId::new(),
        email: Email::parse(&format!("filter-bench-{}@example.com", UserId::new().as_uuid().simple()))?,
        password_hash: "not used: the benchmark signs its own token".into(),
        timezone: tz,
        created_at: now,
    };
    store.users().create(&user).await?;

    // Seed straight into the store, without events (no consumer has work to do
    // while the clock runs), in large transactions.
    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let tasks = store.tasks();
    let mut made = 0;
    while made < n {
        let k = CHUNK.min(n - made);
        let writes = (made..made + k).map(|i| TaskWrite::Insert(task(&mut rng, user.id, tz, now, i))).collect();
        tasks.commit(Change { writes, ..Change::default() }).await?;
        made += k;
    }
    let seeded = started.elapsed();
    analyze(&url).await?;

    let token = JwtKeys::new(secret.as_bytes(), 3600).issue(user.id).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
    let list_url = reqwest::Url::parse_with_params(
        &format!("{api}/api/v1/tasks"),
        &[("filter", query.as_str()), ("limit", "50")],
    )?;
    let params = || ListParams { filter: Some(query.clone()), limit: Some("50".into()), ..ListParams::default() };
    let (q, _) = params().into_query_in(user.id, Utc::now(), tz.tz())?;

    // The API through a client that does the least (see `Wire`); reqwest only reads `/metrics`.
    let mut wire = Wire::connect(&api).await?;
    let list_target = format!("{}?{}", list_url.path(), list_url.query().unwrap_or_default());
    let list_request = Wire::request(&api, &list_target, Some(&token))?;
    let health_request = Wire::request(&api, "/health", None)?;
    let repo = store.tasks();
    let decoded_once = || async {
        let t = Instant::now();
        let page = repo.list(&q).await?;
        Ok::<_, anyhow::Error>((t.elapsed(), page.items.len()))
    };
    let raw_once = || async {
        let t = Instant::now();
        let rows = store.raw_list(&q).await?;
        Ok::<_, anyhow::Error>((t.elapsed(), rows))
    };

    // Warm up both (connections, caches, the server's prepared statements).
    for _ in 0..200 {
        wire.send(&list_request).await?;
        raw_once().await?;
    }
    let shown = match wire.send(&list_request).await? {
        (200, body) => serde_json::from_slice::<serde_json::Value>(body)?["items"].as_array().map_or(0, Vec::len),
        (status, body) => bail!("the API answered {status}: {}", String::from_utf8_lossy(body)),
    };
    let (_, rows) = raw_once().await?;
    let page = repo.list(&q).await?;
    let t = Instant::now();
    for _ in 0..1000 {
        std::hint::black_box(serde_json::to_vec(&page)?);
    }
    let json = t.elapsed() / 1000;
    let server_before = server_time(&client, &api).await;
    let (mut api_lat, mut raw_lat, mut health_lat, mut decoded_lat) = (
        Vec::with_capacity(requests),
        Vec::with_capacity(requests),
        Vec::with_capacity(requests),
        Vec::with_capacity(requests),
    );
    // Alternate in short rounds, so that bursts of load on a shared machine hit
    // every side alike.
    let round = 10;
    while api_lat.len() < requests {
        for _ in 0..round {
            api_lat.push(wire.timed(&list_request, 200).await?);
        }
        for _ in 0..round {
            raw_lat.push(raw_once().await?.0);
        }
        for _ in 0..round {
            health_lat.push(wire.timed(&health_request, 200).await?);
        }
        for _ in 0..round {
            decoded_lat.push(decoded_once().await?.0);
        }
    }
    let server_after = server_time(&client, &api).await;

    let (a50, a99) = (percentile(&mut api_lat, 50.0), percentile(&mut api_lat, 99.0));
    let (r50, r99) = (percentile(&mut raw_lat, 50.0), percentile(&mut raw_lat, 99.0));
    let (h50, h99) = (percentile(&mut health_lat, 50.0), percentile(&mut health_lat, 99.0));
    let (d50, d99) = (percentile(&mut decoded_lat, 50.0), percentile(&mut decoded_lat, 99.0));
    let kind = format!("{:?}", store.kind());
    let (sql, _) = store.list_sql(&q);
    println!("### {kind}: `{query}` over {n} tasks of one user");
    println!();
    println!(
        "- seeded {n} tasks in {:.1} s ({:.0} tasks/s, straight into the store)",
        seeded.as_secs_f64(),
        n as f64 / seeded.as_secs_f64()
    );
    println!(
        "- one page of {shown} tasks ({rows} rows with the look-ahead one); {} sequential requests per side, in alternating rounds of {round}; load average before: {}",
        api_lat.len(),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    println!();
    println!("| | p50 | p99 |");
    println!("|---|---:|---:|");
    println!(
        "| `GET /api/v1/tasks?filter=…&limit=50` (HTTP, until the JSON has arrived; a minimal keep-alive client, as wrk) | {} | {} |",
        ms(a50),
        ms(a99)
    );
    println!("| the same SQL, raw (sqlx, rows fetched, not decoded) | {} | {} |", ms(r50), ms(r99));
    println!("| the store's listing in this process (rows decoded into tasks) | {} | {} |", ms(d50), ms(d99));
    println!(
        "| `GET /health` on the same server, the same client (the HTTP round trip alone) | {} | {} |",
        ms(h50),
        ms(h99)
    );
    println!("| serializing the page to JSON, in this process (mean) | {} | |", ms(json));
    println!(
        "| **ratio raw / API** | {:.2} | **{:.2}** |",
        r50.as_secs_f64() / a50.as_secs_f64(),
        r99.as_secs_f64() / a99.as_secs_f64()
    );
    let ratio = r99.as_secs_f64() / a99.as_secs_f64();
    println!();
    println!(
        "Acceptance (issue 12: p99 raw / API at least 0.7): {} ({ratio:.2}).",
        if ratio >= 0.7 { "met" } else { "not met" }
    );
    if let (Some((s0, c0)), Some((s1, c1))) = (server_before, server_after)
        && c1 > c0
    {
        println!();
        println!(
            "Inside the server (its `todo_http_request_duration_seconds`, from the request to the response body): mean {:.2} ms.",
            (s1 - s0) / (c1 - c0) * 1e3
        );
    }
    println!();
    println!("SQL: `{sql}`");
    println!();
    store.close().await;
    Ok(())
}

/// Fresh planner statistics after the bulk load (as autovacuum would make later).
async fn analyze(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query("ANALYZE").execute(&mut c).await?;
        c.close().await?;
    } else {
        let mut c = sqlx::PgConnection::connect(url).await?;
        sqlx::query("ANALYZE tasks").execute(&mut c).await?;
        c.close().await?;
    }
    Ok(())
}

/// The server's total time and count of `GET /api/v1/tasks` answered 200, from `/metrics`.
async fn server_time(client: &reqwest::Client, api: &str) -> Option<(f64, f64)> {
    let text = client.get(format!("{api}/metrics")).send().await.ok()?.text().await.ok()?;
    let value = |suffix: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!("todo_http_request_duration_seconds_{suffix}{{"))
                    && l.contains("route=\"/api/v1/tasks\"")
                    && l.contains("status=\"200\"")
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some((value("sum")?, value("count")?))
}

/// One keep-alive HTTP/1.1 connection that writes a prepared request and reads
/// the response to its last byte: the least a client can do (as wrk does), so
/// that the API's latency is the server's and not the client library's.
struct Wire {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    /// `host:port` of the server at `api`.
    fn authority(api: &str) -> anyhow::Result<String> {
        let url = reqwest::Url::parse(api)?;
        Ok(format!("{}:{}", url.host_str().context("API_URL has no host")?, url.port_or_known_default().unwrap_or(80)))
    }

    async fn connect(api: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(Self::authority(api)?).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buf: Vec::with_capacity(64 * 1024) })
    }

    /// The request for `GET target`, with `token` as its bearer if given.
    fn request(api: &str, target: &str, token: Option<&str>) -> anyhow::Result<Vec<u8>> {
        let host = Self::authority(api)?;
        let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
        Ok(format!("GET {target} HTTP/1.1\r\nhost: {host}\r\n{auth}\r\n").into_bytes())
    }

    /// Sends `request`: how long until the whole response had arrived (as wrk
    /// counts; parsing it is the client's), which must have status `expect`.
    async fn timed(&mut self, request: &[u8], expect: u16) -> anyhow::Result<Duration> {
        let t = Instant::now();
        let (status, body) = self.send(request).await?;
        let took = t.elapsed();
        if status != expect {
            bail!("the API answered {status}: {}", String::from_utf8_lossy(body));
        }
        Ok(took)
    }

    /// Sends `request`; the status and the body once the whole response has arrived.
    async fn send(&mut self, request: &[u8]) -> anyhow::Result<(u16, &[u8])> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.stream.write_all(request).await?;
        self.buf.clear();
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut res = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = res.parse(&self.buf)? {
                let length = res
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .context("a response without content-length")?;
                let length: usize = std::str::from_utf8(length.value)?.trim().parse()?;
                let status = res.code.unwrap_or(0);
                while self.buf.len() < head + length {
                    if self.stream.read_buf(&mut self.buf).await? == 0 {
                        bail!("the server closed the connection mid-response");
                    }
                }
                return Ok((status, &self.buf[head..head + length]));
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                bail!("the server closed the connection");
            }
        }
    }
}
