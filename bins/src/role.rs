//! What each process is, as data: one row per service binary and one for `todo
//! serve`. The router ([`crate::http::router_for`]), the background-task starter
//! ([`crate::services::start`], [`crate::wiring`]) and each binary's `--help` read
//! this table; nothing else decides what a process serves or runs.

use todo_core::service::audit::AUDIT_GROUP;
use todo_core::service::notification::NOTIFICATION_GROUP;
use todo_core::service::recurring::RECURRING_GROUP;

/// The CloudEvents `source` of events produced by the API.
pub const API_SOURCE: &str = "/todo/chat-api";
/// The CloudEvents `source` of the recurring-task service's events.
pub const RECURRING_SOURCE: &str = "/todo/recurring-task";
/// The CloudEvents `source` of the notification service's events.
pub const NOTIFICATION_SOURCE: &str = "/todo/notification";

/// What a process is: the all-in-one `todo serve`, or one of the five services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    All,
    ChatApi,
    Sync,
    Audit,
    Notification,
    RecurringTask,
}

/// A group of HTTP endpoints a process can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteGroup {
    /// `/health`, `/ready`, `/metrics`: every process serves them.
    Health,
    /// The REST API: accounts, tasks, saved filters, chat, API tokens, calendar feeds, OpenAPI.
    Api,
    /// The MCP tools over Streamable HTTP.
    Mcp,
    /// The web page and its assets.
    WebPage,
    /// The audit trail and its verification.
    Audit,
    /// Fired reminders.
    Notifications,
    /// Live updates over a WebSocket.
    LiveUpdates,
}

impl RouteGroup {
    /// The paths of the group, for `--help`.
    pub fn paths(self) -> &'static str {
        match self {
            RouteGroup::Health => "/health /ready /metrics",
            RouteGroup::Api => "/api/v1/{auth,tasks,filters,chat,conversations,calendar}/... /api/v1/openapi.json",
            RouteGroup::Mcp => "/mcp",
            RouteGroup::WebPage => "/ (the web page)",
            RouteGroup::Audit => "/api/v1/audit /api/v1/audit/verify",
            RouteGroup::Notifications => "/api/v1/notifications",
            RouteGroup::LiveUpdates => "/ws",
        }
    }
}

/// A reactive service: a handler run by the consumer runner, in its consumer group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consumer {
    /// Creates the next occurrence of a completed recurring task.
    RecurringTask,
    /// Records every task event in the user's audit chain.
    Audit,
    /// Feeds this process's WebSockets (one consumer group per instance).
    Sync,
    /// Keeps the reminder schedule in step with the tasks.
    Reminders,
}

impl Consumer {
    /// What it is, for `--help`.
    pub fn label(self) -> &'static str {
        match self {
            Consumer::RecurringTask => "recurring-task consumer",
            Consumer::Audit => "audit recorder",
            Consumer::Sync => "live-update consumer",
            Consumer::Reminders => "reminder consumer",
        }
    }

    /// The consumer group, for `--help` (the handler's `name()` is the one used).
    pub fn group(self) -> &'static str {
        match self {
            Consumer::RecurringTask => RECURRING_GROUP,
            Consumer::Audit => AUDIT_GROUP,
            Consumer::Sync => "sync-<instance id>",
            Consumer::Reminders => NOTIFICATION_GROUP,
        }
    }
}

/// One row of [`ROLES`].
#[derive(Debug)]
pub struct RoleSpec {
    pub role: Role,
    /// The binary's name (and the `role` of its log lines).
    pub name: &'static str,
    /// The port it listens on unless `TODO_BIND` says otherwise (DESIGN §2).
    pub default_port: u16,
    /// The endpoints it serves.
    pub routes: &'static [RouteGroup],
    /// The reactive services it runs.
    pub consumers: &'static [Consumer],
    /// Whether, with Kafka, it runs an outbox relay: it writes events. Relays are
    /// exclusive; the others wait as standbys.
    pub outbox_relay: bool,
    /// Whether it fires due reminders.
    pub reminder_scheduler: bool,
    /// Whether it POSTs fired reminders to `NOTIFY_WEBHOOK_URL` (when set).
    pub webhook_dispatcher: bool,
    /// One line saying what it is.
    pub about: &'static str,
}

/// Every process of todo-events.
pub static ROLES: [RoleSpec; 6] = [
    RoleSpec {
        role: Role::All,
        name: "todo",
        default_port: 8000,
        routes: &[
            RouteGroup::Health,
            RouteGroup::Api,
            RouteGroup::Mcp,
            RouteGroup::WebPage,
            RouteGroup::Audit,
            RouteGroup::Notifications,
            RouteGroup::LiveUpdates,
        ],
        consumers: &[Consumer::RecurringTask, Consumer::Audit, Consumer::Sync, Consumer::Reminders],
        outbox_relay: true,
        reminder_scheduler: true,
        webhook_dispatcher: true,
        about: "The API, the web page and all five services in one process.",
    },
    RoleSpec {
        role: Role::ChatApi,
        name: "chat-api",
        default_port: 8000,
        routes: &[RouteGroup::Health, RouteGroup::Api, RouteGroup::Mcp, RouteGroup::WebPage],
        consumers: &[],
        outbox_relay: true,
        reminder_scheduler: false,
        webhook_dispatcher: false,
        about: "The todo-events REST API, MCP endpoint and web page.",
    },
    RoleSpec {
        role: Role::Sync,
        name: "sync-service",
        default_port: 8001,
        routes: &[RouteGroup::Health, RouteGroup::LiveUpdates],
        consumers: &[Consumer::Sync],
        outbox_relay: false,
        reminder_scheduler: false,
        webhook_dispatcher: false,
        about: "The todo-events live updates: task events pushed to WebSockets.",
    },
    RoleSpec {
        role: Role::Audit,
        name: "audit-service",
        default_port: 8002,
        routes: &[RouteGroup::Health, RouteGroup::Audit],
        consumers: &[Consumer::Audit],
        outbox_relay: false,
        reminder_scheduler: false,
        webhook_dispatcher: false,
        about: "The todo-events audit trail: every task event in a hash chain per user.",
    },
    RoleSpec {
        role: Role::Notification,
        name: "notification-service",
        default_port: 8003,
        routes: &[RouteGroup::Health, RouteGroup::Notifications],
        consumers: &[Consumer::Reminders],
        outbox_relay: true,
        reminder_scheduler: true,
        webhook_dispatcher: true,
        about: "The todo-events reminders: scheduled, fired as events, optionally POSTed to a webhook.",
    },
    RoleSpec {
        role: Role::RecurringTask,
        name: "recurring-task-service",
        default_port: 8004,
        routes: &[RouteGroup::Health],
        consumers: &[Consumer::RecurringTask],
        outbox_relay: true,
        reminder_scheduler: false,
        webhook_dispatcher: false,
        about: "The todo-events recurrence: the next occurrence of each completed recurring task.",
    },
];

impl Role {
    /// This role's row of [`ROLES`].
    pub fn spec(self) -> &'static RoleSpec {
        ROLES.iter().find(|s| s.role == self).expect("every role has a row in ROLES")
    }

    /// The binary's name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The port it listens on by default (DESIGN §2).
    pub fn default_port(self) -> u16 {
        self.spec().default_port
    }
}

impl RoleSpec {
    /// Whether the process serves `group`.
    pub fn serves(&self, group: RouteGroup) -> bool {
        self.routes.contains(&group)
    }

    /// Whether the process runs `consumer`.
    pub fn runs(&self, consumer: Consumer) -> bool {
        self.consumers.contains(&consumer)
    }

    /// What the process serves and runs, for its `--help`.
    pub fn long_help(&self) -> String {
        let mut s = format!("{}\n\nServes (default port {}, TODO_BIND):\n", self.about, self.default_port);
        for group in self.routes {
            s.push_str(&format!("  {}\n", group.paths()));
        }
        s.push_str("Runs:\n");
        for consumer in self.consumers {
            s.push_str(&format!("  the {} (consumer group {})\n", consumer.label(), consumer.group()));
        }
        if self.reminder_scheduler {
            s.push_str("  the reminder scheduler\n");
        }
        if self.webhook_dispatcher {
            s.push_str("  the webhook dispatcher (with NOTIFY_WEBHOOK_URL)\n");
        }
        if self.outbox_relay {
            s.push_str("  an outbox relay (with Kafka; one active, the others standbys)\n");
        }
        if self.consumers.is_empty() && !self.reminder_scheduler && !self.outbox_relay {
            s.push_str("  no background work\n");
        }
        s.trim_end().to_owned()
    }
}

/// The processes, one line each, for `todo --help`.
pub fn overview() -> String {
    let mut s = String::from("Processes (each a row of one table; `<name> --help` says what it serves and runs):\n");
    for spec in &ROLES {
        let name = if spec.role == Role::All { "todo serve" } else { spec.name };
        s.push_str(&format!("  {name:<24}{:<6}{}\n", spec.default_port, spec.about));
    }
    s.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_exactly_one_row() {
        for role in [Role::All, Role::ChatApi, Role::Sync, Role::Audit, Role::Notification, Role::RecurringTask] {
            assert_eq!(ROLES.iter().filter(|s| s.role == role).count(), 1, "{role:?}");
            assert!(role.spec().serves(RouteGroup::Health), "{role:?} answers /health");
        }
    }

    /// `todo serve` is every service at once: it serves and runs what any of them does.
    #[test]
    fn the_all_in_one_process_is_the_union_of_the_services() {
        let all = Role::All.spec();
        for spec in ROLES.iter().filter(|s| s.role != Role::All) {
            assert!(spec.routes.iter().all(|g| all.serves(*g)), "{}", spec.name);
            assert!(spec.consumers.iter().all(|c| all.runs(*c)), "{}", spec.name);
            assert!(!spec.reminder_scheduler || all.reminder_scheduler);
            assert!(!spec.outbox_relay || all.outbox_relay);
        }
        let names: std::collections::BTreeSet<_> = ROLES.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), ROLES.len(), "names are unique");
    }

    #[test]
    fn help_names_what_a_service_serves_and_runs() {
        let help = Role::Audit.spec().long_help();
        assert!(help.contains("/api/v1/audit") && help.contains(AUDIT_GROUP) && help.contains("8002"), "{help}");
        assert!(Role::ChatApi.spec().long_help().contains("outbox relay"));
        assert!(overview().contains("recurring-task-service"));
    }
}
