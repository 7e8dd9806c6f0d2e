//! The reactive services as background tasks of a process: each consumer runs
//! the shared consumer runner over the process's event log.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use todo_core::consumer::{self, EventHandler, LagBoard, RunOptions};
use todo_core::events::EventFactory;
use todo_core::ports::{WebhookSender, WebhookTarget};
use todo_core::service::TaskService;
use todo_core::service::audit::AuditRecorder;
use todo_core::service::notification::{ReminderHandler, ReminderScheduler, WebhookDispatcher};
use todo_core::service::recurring::RecurringTaskHandler;
use todo_core::service::sync::{SyncHandler, SyncHub};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use todo_core::ports::Ports;

/// CloudEvents sources of the services' own events.
pub const RECURRING_SOURCE: &str = "/todo/recurring-task";
pub const NOTIFICATION_SOURCE: &str = "/todo/notification";

/// Which reactive services a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceSet {
    pub recurring: bool,
    pub notification: bool,
    pub audit: bool,
    pub sync: bool,
}

impl ServiceSet {
    pub const ALL: ServiceSet = ServiceSet { recurring: true, notification: true, audit: true, sync: true };
    pub const NONE: ServiceSet = ServiceSet { recurring: false, notification: false, audit: false, sync: false };
}

/// Where and how fired reminders are also POSTed.
#[derive(Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Vec<u8>,
    pub sender: Arc<dyn WebhookSender>,
}

/// Starts `set` on `tracker`; they stop when `shutdown` is cancelled. Each
/// consumer reports its lag on `lag`.
pub fn start(
    ports: &Ports,
    hub: &SyncHub,
    lag: &LagBoard,
    set: ServiceSet,
    webhook: Option<WebhookConfig>,
    tracker: &TaskTracker,
    shutdown: &CancellationToken,
) {
    let options = RunOptions { lag: lag.clone(), ..RunOptions::default() };
    let consume = |handler: Arc<dyn EventHandler>| {
        let (log, token, options) = (ports.log.clone(), shutdown.clone(), options.clone());
        tracker.spawn(async move {
            let name = handler.name();
            if let Err(e) = consumer::run_with(log, handler, options, token).await {
                tracing::error!(consumer = %name, error = %e, "consumer stopped");
            }
        });
    };
    if set.recurring {
        let tasks = TaskService::new(
            ports.tasks.clone(),
            ports.users.clone(),
            ports.clock.clone(),
            EventFactory::new(RECURRING_SOURCE),
        );
        consume(Arc::new(RecurringTaskHandler::new(tasks)));
    }
    if set.audit {
        consume(Arc::new(AuditRecorder::new(ports.audit.clone(), ports.clock.clone())));
    }
    if set.sync {
        consume(Arc::new(SyncHandler::new(hub.clone(), &uuid::Uuid::now_v7().to_string())));
    }
    if set.notification {
        let wake = Arc::new(Notify::new());
        let fired = Arc::new(Notify::new());
        consume(Arc::new(ReminderHandler::new(ports.reminders.clone(), wake.clone())));
        let target = webhook.as_ref().map(|w| WebhookTarget { url: w.url.clone() });
        let scheduler = ReminderScheduler::new(
            ports.reminders.clone(),
            ports.clock.clone(),
            EventFactory::new(NOTIFICATION_SOURCE),
            target,
            wake,
            fired.clone(),
        );
        tracker.spawn(scheduler.run(shutdown.clone()));
        if let Some(w) = webhook {
            let dispatcher =
                WebhookDispatcher::new(ports.reminders.clone(), w.sender, ports.clock.clone(), w.secret, fired);
            tracker.spawn(dispatcher.run(shutdown.clone()));
        }
    }
}

/// POSTs webhooks with reqwest, 10 s timeout, never following redirects (a
/// redirect would re-POST the signed body to wherever the receiver points).
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl Default for HttpWebhookSender {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("todo-events/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a reqwest client with static settings builds");
        Self { client }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, url: &str, headers: &[(String, String)], body: &str) -> Result<(), String> {
        let mut req = self.client.post(url).body(body.to_owned());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        // Errors are logged and stored: they never carry the URL, which for
        // Slack-style hooks is itself the secret.
        match req.send().await {
            Ok(res) if res.status().is_success() => Ok(()),
            Ok(res) if res.status().is_redirection() => {
                Err(format!("receiver answered {} (redirects are not followed)", res.status()))
            }
            Ok(res) => Err(format!("receiver answered {}", res.status())),
            Err(e) => Err(format!("request failed: {}", describe(&e.without_url()))),
        }
    }
}

/// A reqwest error and its causes, `: `-separated (the URL already stripped).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
