//! The deployment under test: the services as processes, killed and restarted.

use super::*;

/// The settings every process of one deployment shares.
#[derive(Clone)]
pub struct Deployment {
    pub db: String,
    pub kafka: String,
    pub prefix: String,
    pub jwt: String,
    pub logs: PathBuf,
}

impl Deployment {
    pub fn new(db: &str, logs: &Path) -> Self {
        let jwt: String = {
            let bytes: [u8; 32] = rand::thread_rng().r#gen();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        Self {
            db: db.to_owned(),
            kafka: servers(),
            prefix: format!("s{}.", uuid::Uuid::new_v4().simple()),
            jwt,
            logs: logs.to_owned(),
        }
    }

    pub fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        c.env("DATABASE_URL", &self.db)
            .env("KAFKA_BOOTSTRAP_SERVERS", &self.kafka)
            .env("KAFKA_TOPIC_PREFIX", &self.prefix)
            .env("KAFKA_PARTITIONS", PARTITIONS.to_string())
            .env("KAFKA_SESSION_TIMEOUT_MS", SESSION_TIMEOUT_MS.to_string())
            .env("JWT_SECRET", &self.jwt)
            .env("TODO_BIND", "127.0.0.1:0")
            .env("TODO_MIGRATE", "skip")
            .env("TODO_RATE_LIMIT", "0")
            .env("RUST_LOG", "warn")
            .env("LOG_FORMAT", "text")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    }

    pub fn names(&self) -> TopicNames {
        TopicNames::new(self.prefix.clone())
    }

    pub fn kafka_log(&self) -> KafkaEventLog {
        KafkaEventLog::new(KafkaConfig::new(self.kafka.clone()).with_topic_prefix(self.prefix.clone()))
            .expect("kafka client")
    }
}

/// One running service process.
pub struct Instance {
    pub child: Child,
    pub addr: SocketAddr,
}

/// Starts `bin` and waits until it listens and is ready.
pub async fn start(dep: &Deployment, bin: &'static str, label: &str) -> Instance {
    let mut child = dep.command(bin).spawn().unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dep.logs.join(format!("{label}.log")))
        .expect("log file");
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            if let Some(addr) = line.split("listening on http://").nth(1)
                && let Ok(addr) = addr.trim().parse::<SocketAddr>()
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(addr);
            }
        }
    });
    let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(90)))
        .await
        .unwrap()
        .unwrap_or_else(|_| panic!("{label} did not start listening (log in {})", dep.logs.display()));
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("http://{addr}/ready")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "{label} not ready within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Instance { child, addr }
}

/// Two instances of each service; `addrs` is what clients see (updated on restart).
pub struct Stack {
    pub dep: Deployment,
    pub services: HashMap<&'static str, [Option<Instance>; 2]>,
    pub addrs: HashMap<&'static str, watch::Sender<[SocketAddr; 2]>>,
}

pub const SERVICES: [(&str, &str); 5] = [
    ("chat-api", env!("CARGO_BIN_EXE_chat-api")),
    ("sync", env!("CARGO_BIN_EXE_sync-service")),
    ("audit", env!("CARGO_BIN_EXE_audit-service")),
    ("notification", env!("CARGO_BIN_EXE_notification-service")),
    ("recurring", env!("CARGO_BIN_EXE_recurring-task-service")),
];

pub fn bin_of(service: &str) -> &'static str {
    SERVICES.iter().find(|(s, _)| *s == service).expect("a service").1
}

impl Stack {
    pub async fn start(dep: Deployment, which: &[&'static str]) -> Self {
        let mut stack = Stack { dep, services: HashMap::new(), addrs: HashMap::new() };
        for &service in which {
            let (first, second) = (format!("{service}-0"), format!("{service}-1"));
            let (a, b) =
                tokio::join!(start(&stack.dep, bin_of(service), &first), start(&stack.dep, bin_of(service), &second));
            stack.addrs.insert(service, watch::channel([a.addr, b.addr]).0);
            stack.services.insert(service, [Some(a), Some(b)]);
        }
        stack
    }

    pub fn addrs(&self, service: &str) -> watch::Receiver<[SocketAddr; 2]> {
        self.addrs[service].subscribe()
    }

    /// SIGKILL: no shutdown, no final commit, no leaving the consumer group.
    pub fn kill(&mut self, service: &'static str, i: usize) {
        let mut inst = self.services.get_mut(service).unwrap()[i].take().expect("running");
        inst.child.kill().expect("kill -9");
        inst.child.wait().ok();
    }

    pub async fn restart(&mut self, service: &'static str, i: usize) {
        let label = format!("{service}-{i}");
        let inst = start(&self.dep, bin_of(service), &label).await;
        self.addrs[service].send_modify(|a| a[i] = inst.addr);
        self.services.get_mut(service).unwrap()[i] = Some(inst);
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for slots in self.services.values_mut() {
            for inst in slots.iter_mut().flatten() {
                let _ = inst.child.kill();
                let _ = inst.child.wait();
            }
        }
    }
}

/// `todo migrate` once, before any service starts (they run with TODO_MIGRATE=skip).
pub fn migrate(dep: &Deployment) {
    let status = dep
        .command(env!("CARGO_BIN_EXE_todo"))
        .arg("migrate")
        .stderr(Stdio::null())
        .status()
        .expect("run todo migrate");
    assert!(status.success(), "todo migrate failed");
}
