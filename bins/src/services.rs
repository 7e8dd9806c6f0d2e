//! The background work of a process, as its row of [`crate::role::ROLES`] says:
//! each consumer runs the shared consumer runner over the process's event log;
//! the reminder scheduler and the webhook dispatcher run beside them.

use std::sync::Arc;

use todo_core::consumer::{self, EventHandler, LagBoard, RunOptions};
use todo_core::events::EventFactory;
use todo_core::ports::{Ports, WebhookSender, WebhookTarget};
use todo_core::service::TaskService;
use todo_core::service::audit::AuditRecorder;
use todo_core::service::notification::{ReminderHandler, ReminderScheduler, WebhookDispatcher};
use todo_core::service::recurring::RecurringTaskHandler;
use todo_core::service::sync::{SyncHandler, SyncHub};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::role::{Consumer, NOTIFICATION_SOURCE, RECURRING_SOURCE, RoleSpec};

/// Where and how fired reminders are also POSTed.
#[derive(Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Vec<u8>,
    pub sender: Arc<dyn WebhookSender>,
}

/// Starts the consumers, scheduler and dispatcher `spec` names on `tracker`;
/// they stop when `shutdown` is cancelled. Each consumer reports its lag on `lag`.
/// (The outbox relay, which needs Kafka, is started by [`crate::wiring`].)
pub fn start(
    ports: &Ports,
    hub: &SyncHub,
    lag: &LagBoard,
    spec: &RoleSpec,
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
    // The reminder consumer wakes the scheduler when the schedule changes; the
    // scheduler wakes the dispatcher when a reminder with a webhook fires.
    let wake = Arc::new(Notify::new());
    let fired = Arc::new(Notify::new());
    for consumer in spec.consumers {
        consume(match consumer {
            Consumer::RecurringTask => {
                let tasks = TaskService::new(
                    ports.tasks.clone(),
                    ports.users.clone(),
                    ports.clock.clone(),
                    EventFactory::new(RECURRING_SOURCE),
                );
                Arc::new(RecurringTaskHandler::new(tasks))
            }
            Consumer::Audit => Arc::new(AuditRecorder::new(ports.audit.clone(), ports.clock.clone())),
            Consumer::Sync => Arc::new(SyncHandler::new(hub.clone(), &uuid::Uuid::now_v7().to_string())),
            Consumer::Reminders => Arc::new(ReminderHandler::new(ports.reminders.clone(), wake.clone())),
        });
    }
    let webhook = webhook.filter(|_| spec.webhook_dispatcher);
    if spec.reminder_scheduler {
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
    }
    if let Some(w) = webhook {
        let dispatcher =
            WebhookDispatcher::new(ports.reminders.clone(), w.sender, ports.clock.clone(), w.secret, fired);
        tracker.spawn(dispatcher.run(shutdown.clone()));
    }
}
