//! The notification service's tables on both backends: the reminder schedule
//! (`reminder_schedule`), the reminders that fired (`notifications`) and the
//! webhook outbox (`webhook_deliveries`).
//!
//! Firing is one transaction per batch: the due reminders are selected (on
//! PostgreSQL locked with `FOR UPDATE SKIP LOCKED`, so concurrent instances take
//! disjoint ones), each is marked, and for each that still stands its
//! notification, its `todo.reminder.due.v1` event (into `event_log`, like the
//! outbox) and its webhook delivery are written. Whether a reminder stands (its
//! task still exists, is pending and has the same `remind_at`) and what its
//! firing records are the domain's rules, [`todo_core::domain::reminder`] and
//! [`EventFactory::fire_reminder`]: see `docs/adr/0008-reminder-firing-guard.md`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::domain::reminder::{self, TaskNow};
use todo_core::domain::{EventId, Notification, Status, TaskId, UserId, WebhookDelivery};
use todo_core::events::{EventFactory, ReminderData, TopicNames};
use todo_core::ports::{Checkpoint, ReminderStore, ScheduleChange, WebhookTarget, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::rows::EventRow;
use crate::sql::RowExt;
use crate::sql::{Arg, Dialect, Exec, Stmt, ceil_micros};
use crate::writer::Lane;

/// The columns [`read_notification`] reads.
const NOTIFICATION_COLUMNS: &str = "id, user_id, task_id, title, due_at, remind_at, fired_at, late";

/// Longest `last_error` kept for a webhook delivery, in characters.
const MAX_ERROR_CHARS: usize = 1000;

/// What a write to the schedule does to the reminder of a task.
#[derive(Clone, Copy)]
enum ScheduleWrite {
    Upsert,
    Cancel,
}

#[async_trait]
impl<B: Backend> ReminderStore for SqlStore<B> {
    /// Schedules or moves `r` unless an older task version than the stored one.
    async fn upsert(&self, r: &ReminderData) -> todo_core::Result<()> {
        self.write_one(Lane::Background, schedule([(r, ScheduleWrite::Upsert)])).await?;
        Ok(())
    }

    /// Cancels the reminder of `r.task_id` unless a newer version is stored.
    async fn cancel(&self, r: &ReminderData) -> todo_core::Result<()> {
        self.write_one(Lane::Background, schedule([(r, ScheduleWrite::Cancel)])).await?;
        Ok(())
    }

    /// Applies `changes` in order, in one transaction with `checkpoint`.
    async fn apply(&self, changes: &[ScheduleChange], checkpoint: Option<&Checkpoint>) -> todo_core::Result<()> {
        // One statement per run of distinct tasks: a statement cannot change a
        // row twice, and the order of one task's changes matters.
        let mut stmts = Vec::new();
        let mut run: Vec<(&ReminderData, ScheduleWrite)> = Vec::new();
        for change in changes {
            let (r, write) = match change {
                ScheduleChange::Upsert(r) => (r, ScheduleWrite::Upsert),
                ScheduleChange::Cancel(r) => (r, ScheduleWrite::Cancel),
            };
            if run.len() == MAX_ROWS || run.iter().any(|(seen, _)| seen.task_id == r.task_id) {
                stmts.push(schedule(run.drain(..)));
            }
            run.push((r, write));
        }
        if !run.is_empty() {
            stmts.push(schedule(run));
        }
        Ok(self.write_all(stmts, checkpoint).await?)
    }

    /// Fires at most `limit` reminders due at `now`, in one transaction.
    async fn fire_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        events: &EventFactory,
        webhook: Option<&WebhookTarget>,
    ) -> todo_core::Result<Vec<Notification>> {
        let batch = Arc::new(Batch {
            now: truncate_micros(now),
            limit,
            events: events.clone(),
            webhook: webhook.cloned(),
            topics: self.topics().clone(),
        });
        let dialect = self.backend().dialect();
        let fired = self
            .write(Lane::Background, true, move |c| {
                let batch = batch.clone();
                Box::pin(async move { fire_batch(c, dialect, &batch).await })
            })
            .await?;
        Ok(fired)
    }

    /// When the earliest scheduled reminder is due.
    async fn next_due(&self) -> todo_core::Result<Option<DateTime<Utc>>> {
        let s = Stmt::new("SELECT MIN(remind_at) AS next FROM reminder_schedule WHERE state = 'scheduled'", vec![]);
        let row = self.backend().connection().await?.row(&s).await?;
        Ok(row.map(|r| r.opt_time("next")).transpose()?.flatten())
    }

    /// A user's notifications, newest first by `(fired_at, id)`, after the one
    /// with id `before` (none if that is not one of the user's).
    async fn notifications(
        &self,
        user_id: UserId,
        limit: u32,
        before: Option<EventId>,
    ) -> todo_core::Result<Vec<Notification>> {
        let mut s = Stmt::new(
            format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1"),
            vec![Arg::Uuid(user_id.as_uuid())],
        );
        if let Some(before) = before {
            let p = s.bind(Arg::Uuid(before.as_uuid()));
            s.push(&format!(
                " AND (fired_at, id) < (SELECT c.fired_at, c.id FROM notifications c WHERE c.id = {p} AND c.user_id = $1)"
            ));
        }
        let limit = s.bind(Arg::Int(i64::from(limit)));
        s.push(&format!(" ORDER BY fired_at DESC, id DESC LIMIT {limit}"));
        let rows = self.backend().connection().await?.rows(&s).await?;
        Ok(rows.iter().map(read_notification).collect::<Result<_>>()?)
    }

    /// Leases at most `limit` due webhook deliveries for `lease_secs`: each one's next
    /// attempt moves to the lease's end, and its attempts count goes up.
    async fn claim_webhooks(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: i64,
    ) -> todo_core::Result<Vec<WebhookDelivery>> {
        let lease_end = truncate_micros(now) + Duration::seconds(lease_secs);
        let lock = self.backend().dialect().lock_skip_locked("w");
        let s = Stmt::new(
            format!(
                "UPDATE webhook_deliveries SET next_attempt_at = $1, attempts = attempts + 1 WHERE id IN (\
                 SELECT w.id FROM webhook_deliveries w \
                 WHERE w.delivered_at IS NULL AND w.gave_up_at IS NULL AND w.next_attempt_at <= $2 \
                 ORDER BY w.next_attempt_at, w.id LIMIT $3{lock}) \
                 RETURNING id, url, body, attempts"
            ),
            vec![Arg::Time(lease_end), Arg::Time(truncate_micros(now)), Arg::Int(i64::from(limit))],
        );
        let s = Arc::new(s);
        let claimed = self
            .write(Lane::Background, false, move |c| {
                let s = s.clone();
                Box::pin(async move { c.rows(&s).await?.iter().map(read_delivery).collect::<Result<Vec<_>>>() })
            })
            .await?;
        Ok(claimed)
    }

    /// The delivery succeeded: it is never claimed again.
    async fn webhook_delivered(&self, id: EventId) -> todo_core::Result<()> {
        let s = Stmt::new(
            "UPDATE webhook_deliveries SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL",
            vec![Arg::Uuid(id.as_uuid()), Arg::Time(truncate_micros(Utc::now()))],
        );
        self.write_one(Lane::Background, s).await?;
        Ok(())
    }

    /// The delivery failed: due again at `retry_at`, or given up (`None`).
    async fn webhook_failed(&self, id: EventId, error: &str, retry_at: Option<DateTime<Utc>>) -> todo_core::Result<()> {
        let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
        let (set, at) = match retry_at {
            // Rounded up: a stored time may not fall before the one asked for.
            Some(t) => ("next_attempt_at", ceil_micros(t)),
            None => ("gave_up_at", truncate_micros(Utc::now())),
        };
        let s = Stmt::new(
            format!(
                "UPDATE webhook_deliveries SET {set} = $2, last_error = $3 \
                 WHERE id = $1 AND delivered_at IS NULL AND gave_up_at IS NULL"
            ),
            vec![Arg::Uuid(id.as_uuid()), Arg::Time(at), Arg::Text(error)],
        );
        self.write_one(Lane::Background, s).await?;
        Ok(())
    }
}

/// Most reminders in one statement (7 parameters each).
const MAX_ROWS: usize = 256;

/// The upserts and cancels of `rows` into the schedule, one statement (the tasks
/// must be distinct). The stored reminder is replaced only by the same or a newer
/// task version. An upsert schedules it again, except that a reminder which fired
/// stays fired while its `remind_at` stays the same (a later version that only
/// renames the task does not deliver it twice), and a cancelled one stays
/// cancelled when the very version that was cancelled comes again (a redelivery).
/// A cancel always cancels.
fn schedule<'r>(rows: impl IntoIterator<Item = (&'r ReminderData, ScheduleWrite)>) -> Stmt {
    let mut s = Stmt::new(
        "INSERT INTO reminder_schedule (task_id, user_id, title, due_at, remind_at, task_version, state, fired_at) \
         VALUES ",
        vec![],
    );
    for (i, (r, write)) in rows.into_iter().enumerate() {
        let state = match write {
            ScheduleWrite::Upsert => "scheduled",
            ScheduleWrite::Cancel => "cancelled",
        };
        let values = [
            Arg::Uuid(r.task_id.as_uuid()),
            Arg::Uuid(r.user_id.as_uuid()),
            Arg::Text(r.title.clone()),
            Arg::OptTime(r.due_at.map(truncate_micros)),
            Arg::Time(truncate_micros(r.remind_at)),
            Arg::Int(r.task_version),
            Arg::Text(state.to_owned()),
        ]
        .into_iter()
        .map(|a| s.bind(a))
        .collect::<Vec<_>>();
        s.push(&format!("{}({}, NULL)", if i == 0 { "" } else { ", " }, values.join(", ")));
    }
    // `keep`: the stored state stands (an upsert of a fired or cancelled reminder
    // as described above; never for a cancel).
    let keep = "excluded.state = 'scheduled' AND reminder_schedule.remind_at = excluded.remind_at \
                AND (reminder_schedule.state = 'fired' OR (reminder_schedule.state = 'cancelled' \
                AND reminder_schedule.task_version = excluded.task_version))";
    s.push(&format!(
        " ON CONFLICT (task_id) DO UPDATE SET user_id = excluded.user_id, title = excluded.title, \
         due_at = excluded.due_at, remind_at = excluded.remind_at, task_version = excluded.task_version, \
         state = CASE WHEN {keep} THEN reminder_schedule.state ELSE excluded.state END, \
         fired_at = CASE WHEN {keep} THEN reminder_schedule.fired_at ELSE NULL END \
         WHERE excluded.task_version >= reminder_schedule.task_version"
    ));
    s
}

/// One `fire_due` call.
struct Batch {
    now: DateTime<Utc>,
    limit: u32,
    events: EventFactory,
    webhook: Option<WebhookTarget>,
    topics: TopicNames,
}

/// Fires one batch inside an open write transaction.
async fn fire_batch<C: Exec>(c: &mut C, dialect: Dialect, b: &Batch) -> Result<Vec<Notification>> {
    let lock = dialect.lock_skip_locked("r");
    let due = Stmt::new(
        format!(
            "SELECT r.task_id, r.user_id, r.title, r.due_at, r.remind_at, r.task_version, \
             t.user_id AS task_user_id, t.status AS task_status, t.remind_at AS task_remind_at \
             FROM reminder_schedule r LEFT JOIN tasks t ON t.id = r.task_id \
             WHERE r.state = 'scheduled' AND r.remind_at <= $1 \
             ORDER BY r.remind_at, r.task_id LIMIT $2{lock}"
        ),
        vec![Arg::Time(b.now), Arg::Int(i64::from(b.limit))],
    );
    let rows = c.rows(&due).await?;
    let mut fired = Vec::new();
    for row in &rows {
        let r = ReminderData {
            task_id: TaskId(row.uuid("task_id")?),
            title: row.text("title")?,
            due_at: row.opt_time("due_at")?,
            remind_at: row.time("remind_at")?,
            user_id: UserId(row.uuid("user_id")?),
            task_version: row.int("task_version")?,
        };
        if !reminder::stands(r.user_id, r.remind_at, task_now(row)?) {
            // Completed, deleted or moved: it never fires for this time.
            let s = Stmt::new(
                "UPDATE reminder_schedule SET state = 'cancelled' WHERE task_id = $1",
                vec![Arg::Uuid(r.task_id.as_uuid())],
            );
            c.run(&s).await?;
            continue;
        }
        fired.push(fire_one(c, b, &r).await?);
    }
    Ok(fired)
}

/// Marks `r` fired and writes its notification, event and webhook delivery.
async fn fire_one<C: Exec>(c: &mut C, b: &Batch, r: &ReminderData) -> Result<Notification> {
    let now = b.now;
    let (event, n) = b.events.fire_reminder(r, now);
    let mark = Stmt::new(
        "UPDATE reminder_schedule SET state = 'fired', fired_at = $2 WHERE task_id = $1",
        vec![Arg::Uuid(r.task_id.as_uuid()), Arg::Time(now)],
    );
    c.run(&mark).await?;
    let insert = Stmt::new(
        format!("INSERT INTO notifications ({NOTIFICATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
        vec![
            Arg::Uuid(n.id.as_uuid()),
            Arg::Uuid(n.user_id.as_uuid()),
            Arg::Uuid(n.task_id.as_uuid()),
            Arg::Text(n.title.clone()),
            Arg::OptTime(n.due_at),
            Arg::Time(n.remind_at),
            Arg::Time(n.fired_at),
            Arg::Bool(n.late),
        ],
    );
    c.run(&insert).await?;
    let record = EventRow::outbox(&event, &b.topics);
    let body = String::from_utf8(record.payload.clone())
        .map_err(|e| StoreError::Internal(format!("reminder event is not UTF-8: {e}")))?;
    c.run(&record.insert(now, false))
        .await
        .map_err(|e| e.on_unique(|_| StoreError::Internal(format!("event id {} appended twice", event.event.id))))?;
    if let Some(w) = &b.webhook {
        let delivery = Stmt::new(
            "INSERT INTO webhook_deliveries (id, url, body, attempts, next_attempt_at) VALUES ($1, $2, $3, 0, $4)",
            vec![Arg::Uuid(n.id.as_uuid()), Arg::Text(w.url.clone()), Arg::Text(body), Arg::Time(now)],
        );
        c.run(&delivery).await?;
    }
    Ok(n)
}

/// The reminder's task as it is now (`task_user_id`, `task_status`,
/// `task_remind_at` of the due query's join; `None`: deleted).
fn task_now(row: &impl RowExt) -> Result<Option<TaskNow>> {
    let Some(user_id) = row.opt_uuid("task_user_id")? else {
        return Ok(None);
    };
    let status = row.text("task_status")?;
    Ok(Some(TaskNow {
        user_id: UserId(user_id),
        status: Status::parse(&status).map_err(|e| StoreError::corrupt(format!("task status {status:?}: {e}")))?,
        remind_at: row.opt_time("task_remind_at")?,
    }))
}

/// Reads the [`NOTIFICATION_COLUMNS`] of a row.
fn read_notification(row: &impl RowExt) -> Result<Notification> {
    Ok(Notification {
        id: EventId(row.uuid("id")?),
        user_id: UserId(row.uuid("user_id")?),
        task_id: TaskId(row.uuid("task_id")?),
        title: row.text("title")?,
        due_at: row.opt_time("due_at")?,
        remind_at: row.time("remind_at")?,
        fired_at: row.time("fired_at")?,
        late: row.boolean("late")?,
    })
}

/// Reads a claimed delivery (`id, url, body, attempts`).
fn read_delivery(row: &impl RowExt) -> Result<WebhookDelivery> {
    let id = EventId(row.uuid("id")?);
    let attempts = row.int("attempts")?;
    Ok(WebhookDelivery {
        id,
        url: row.text("url")?,
        body: row.text("body")?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::corrupt(format!("webhook delivery {id}: attempts {attempts}")))?,
    })
}
