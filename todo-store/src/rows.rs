//! Rows <-> domain values, once for both backends: [`TaskRow`] is the one
//! intermediate shape of a task; [`RowExt`] is how a backend hands out column values.

use chrono::{DateTime, Utc};
use todo_core::domain::query::{due_sort_value, search_text, title_sort_value};
use todo_core::domain::{
    Description, Email, Priority, Recurrence, RepeatFrom, SeriesId, Status, Tags, Task, TaskId, TaskTitle, Timezone,
    User, UserId,
};
use todo_core::events::{OutboxEvent, TopicNames};
use todo_core::ports::{Record, truncate_micros};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::sql::{Arg, At, RowExt, Stmt};

/// The stored columns of a task, as [`TaskRow::read`] reads them (by position).
pub(crate) const TASK_COLUMNS: &str = "id, user_id, title, description, status, priority, tags, due_at, all_day, \
     remind_at, recurrence, repeat_from, series_id, created_at, updated_at, completed_at, version";

/// A task as stored: plain values, no validation yet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TaskRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub tags: Vec<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub all_day: bool,
    pub remind_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub repeat_from: String,
    pub series_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl TaskRow {
    /// The row of `t`. Times keep whole microseconds, what both backends store.
    pub fn from_task(t: &Task) -> Self {
        Self {
            id: t.id.as_uuid(),
            user_id: t.user_id.as_uuid(),
            title: t.title.as_str().to_owned(),
            description: t.description.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            priority: t.priority.as_str().to_owned(),
            tags: t.tags.to_vec(),
            due_at: t.due_at.map(truncate_micros),
            all_day: t.all_day,
            remind_at: t.remind_at.map(truncate_micros),
            recurrence: t.recurrence.as_ref().map(|r| r.as_str().to_owned()),
            repeat_from: t.repeat_from.as_str().to_owned(),
            series_id: t.series_id.map(|s| s.as_uuid()),
            created_at: truncate_micros(t.created_at),
            updated_at: truncate_micros(t.updated_at),
            completed_at: t.completed_at.map(truncate_micros),
            version: t.version,
        }
    }

    /// Parses the row back into a task; a value that does not parse is [`StoreError::Corrupt`].
    pub fn into_task(self) -> Result<Task> {
        let id = self.id;
        let bad = |field: &str, e: &dyn std::fmt::Display| StoreError::corrupt(format!("task {id}: {field}: {e}"));
        Ok(Task {
            id: TaskId(self.id),
            user_id: UserId(self.user_id),
            // The row's strings move into the task (checked, not copied).
            title: TaskTitle::try_from(self.title).map_err(|e| bad("title", &e))?,
            description: Description::try_from(self.description).map_err(|e| bad("description", &e))?,
            status: Status::parse(&self.status).map_err(|e| bad("status", &e))?,
            priority: Priority::parse(&self.priority).map_err(|e| bad("priority", &e))?,
            tags: Tags::from_strings(self.tags).map_err(|e| bad("tags", &e))?,
            due_at: self.due_at,
            all_day: self.all_day,
            remind_at: self.remind_at,
            recurrence: self
                .recurrence
                .as_deref()
                .map(Recurrence::parse)
                .transpose()
                .map_err(|e| bad("recurrence", &e))?,
            repeat_from: RepeatFrom::parse(&self.repeat_from).map_err(|e| bad("repeat_from", &e))?,
            series_id: self.series_id.map(SeriesId),
            created_at: self.created_at,
            updated_at: self.updated_at,
            completed_at: self.completed_at,
            version: self.version,
        })
    }

    /// Reads the [`TASK_COLUMNS`] of a result row.
    pub fn read(row: &impl RowExt) -> Result<Self> {
        // By position, in the order of TASK_COLUMNS and of the fields below.
        let mut next = 0;
        let mut at = |name| {
            next += 1;
            At(next - 1, name)
        };
        Ok(Self {
            id: row.uuid(at("id"))?,
            user_id: row.uuid(at("user_id"))?,
            title: row.text(at("title"))?,
            description: row.text(at("description"))?,
            status: row.text(at("status"))?,
            priority: row.text(at("priority"))?,
            tags: row.tags(at("tags"))?,
            due_at: row.opt_time(at("due_at"))?,
            all_day: row.boolean(at("all_day"))?,
            remind_at: row.opt_time(at("remind_at"))?,
            recurrence: row.opt_text(at("recurrence"))?,
            repeat_from: row.text(at("repeat_from"))?,
            series_id: row.opt_uuid(at("series_id"))?,
            created_at: row.time(at("created_at"))?,
            updated_at: row.time(at("updated_at"))?,
            completed_at: row.opt_time(at("completed_at"))?,
            version: row.int(at("version"))?,
        })
    }

    /// Every column to write for `task`, the listing helpers included: they are
    /// computed here, in Rust, with the functions `TaskQuery` sorts and searches by.
    fn columns(task: &Task) -> Vec<(&'static str, Arg)> {
        let r = Self::from_task(task);
        vec![
            ("id", Arg::Uuid(r.id)),
            ("user_id", Arg::Uuid(r.user_id)),
            ("title_sort", Arg::Text(title_sort_value(&r.title))),
            ("search_text", Arg::Text(search_text(&r.title, &r.description))),
            ("title", Arg::Text(r.title)),
            ("description", Arg::Text(r.description)),
            ("status", Arg::Text(r.status)),
            ("priority", Arg::Text(r.priority)),
            ("priority_rank", Arg::Int(task.priority.rank())),
            ("tags", Arg::Tags(r.tags)),
            ("due_sort_asc", Arg::Int(due_sort_value(r.due_at, false))),
            ("due_sort_desc", Arg::Int(due_sort_value(r.due_at, true))),
            ("due_at", Arg::OptTime(r.due_at)),
            ("all_day", Arg::Bool(r.all_day)),
            ("remind_at", Arg::OptTime(r.remind_at)),
            ("recurrence", Arg::OptText(r.recurrence)),
            ("repeat_from", Arg::Text(r.repeat_from)),
            ("series_id", Arg::OptUuid(r.series_id)),
            ("created_at", Arg::Time(r.created_at)),
            ("updated_at", Arg::Time(r.updated_at)),
            ("completed_at", Arg::OptTime(r.completed_at)),
            ("version", Arg::Int(r.version)),
        ]
    }

    /// One `INSERT` of every task of `tasks` (at least one).
    pub fn insert_all(tasks: &[&Task]) -> Stmt {
        let mut s = Stmt::default();
        let (mut names, mut values) = (Vec::new(), Vec::with_capacity(tasks.len()));
        for task in tasks {
            let (n, params): (Vec<_>, Vec<_>) =
                Self::columns(task).into_iter().map(|(name, arg)| (name, s.bind(arg))).unzip();
            names = n;
            values.push(format!("({})", params.join(", ")));
        }
        s.sql = format!("INSERT INTO tasks ({}) VALUES {}", names.join(", "), values.join(", "));
        s
    }

    /// `UPDATE` of the stored task to `task`, if it belongs to the same user and is
    /// still at `expected_version`.
    pub fn update(task: &Task, expected_version: i64) -> Stmt {
        let mut s = Stmt::default();
        let sets: Vec<String> = Self::columns(task)
            .into_iter()
            .filter(|(name, _)| !matches!(*name, "id" | "user_id"))
            .map(|(name, arg)| format!("{name} = {}", s.bind(arg)))
            .collect();
        let id = s.bind(Arg::Uuid(task.id.as_uuid()));
        let user = s.bind(Arg::Uuid(task.user_id.as_uuid()));
        let version = s.bind(Arg::Int(expected_version));
        s.push(&format!(
            "UPDATE tasks SET {} WHERE id = {id} AND user_id = {user} AND version = {version}",
            sets.join(", ")
        ));
        s
    }
}

/// The stored columns of a user.
pub(crate) const USER_COLUMNS: &str = "id, email, password_hash, timezone, created_at";

/// Reads the [`USER_COLUMNS`] of a result row.
pub(crate) fn read_user(row: &impl RowExt) -> Result<User> {
    let id = row.uuid("id")?;
    let bad = |field: &str, e: &dyn std::fmt::Display| StoreError::corrupt(format!("user {id}: {field}: {e}"));
    Ok(User {
        id: UserId(id),
        email: Email::parse(&row.text("email")?).map_err(|e| bad("email", &e))?,
        password_hash: row.text("password_hash")?,
        timezone: Timezone::parse(&row.text("timezone")?).map_err(|e| bad("timezone", &e))?,
        created_at: row.time("created_at")?,
    })
}

/// `INSERT` of a user.
pub(crate) fn insert_user(u: &User) -> Stmt {
    Stmt::new(
        format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
        vec![
            Arg::Uuid(u.id.as_uuid()),
            Arg::Text(u.email.as_str().to_owned()),
            Arg::Text(u.password_hash.clone()),
            Arg::Text(u.timezone.to_string()),
            Arg::Time(truncate_micros(u.created_at)),
        ],
    )
}

/// One record for the `event_log` table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EventRow {
    pub topic: String,
    pub key: Option<String>,
    /// The CloudEvents id (`ce_id`), unique per topic; `None` for raw records without one.
    pub event_id: Option<String>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// Record header with the CloudEvents type.
pub(crate) const CE_TYPE: &str = "ce_type";
/// Record header with the CloudEvents id.
pub(crate) const CE_ID: &str = "ce_id";

impl EventRow {
    /// An outbox event on its physical topic, with the `ce_type` and `ce_id` headers.
    pub fn outbox(e: &OutboxEvent, topics: &TopicNames) -> Self {
        let id = e.event.id.to_string();
        Self {
            topic: topics.name(e.topic),
            key: Some(e.key.clone()),
            event_id: Some(id.clone()),
            payload: e.payload(),
            headers: vec![(CE_TYPE.to_owned(), e.event.ty.clone()), (CE_ID.to_owned(), id)],
        }
    }

    /// A raw record; its event id is its `ce_id` header, if any.
    pub fn raw(topic: &str, key: Option<&str>, payload: &[u8], headers: &[(String, String)]) -> Self {
        Self {
            topic: topic.to_owned(),
            key: key.map(str::to_owned),
            event_id: headers.iter().find(|(k, _)| k == CE_ID).map(|(_, v)| v.clone()),
            payload: payload.to_vec(),
            headers: headers.to_vec(),
        }
    }

    /// `INSERT` of the record. A raw record whose `(topic, event_id)` exists is the
    /// same event appended again and is skipped; an outbox event fails instead.
    pub fn insert(self, now: DateTime<Utc>, skip_existing: bool) -> Stmt {
        let mut s = Self::insert_all(vec![self], now);
        if skip_existing {
            s.push(" ON CONFLICT (topic, event_id) DO NOTHING");
        }
        s
    }

    /// One `INSERT` of every record of `rows` (at least one), in order: their `seq`s
    /// follow that order. Fails on an existing `(topic, event_id)`.
    pub fn insert_all(rows: Vec<EventRow>, now: DateTime<Utc>) -> Stmt {
        let mut s =
            Stmt::new("INSERT INTO event_log (topic, key, event_id, payload, headers, created_at) VALUES ", vec![]);
        for (i, row) in rows.into_iter().enumerate() {
            let headers = serde_json::Value::Array(
                row.headers.into_iter().map(|(k, v)| serde_json::Value::Array(vec![k.into(), v.into()])).collect(),
            );
            let values = [
                Arg::Text(row.topic),
                Arg::OptText(row.key),
                Arg::OptText(row.event_id),
                Arg::Bytes(row.payload),
                Arg::Json(headers),
                Arg::Time(now),
            ]
            .into_iter()
            .map(|a| s.bind(a))
            .collect::<Vec<_>>();
            s.push(&format!("{}({})", if i == 0 { "" } else { ", " }, values.join(", ")));
        }
        s
    }
}

/// Reads a record (columns `seq`, `topic`, `key`, `payload`, `headers` as JSON text).
/// Offsets are `seq`; the SQL log has one partition.
pub(crate) fn read_record(row: &impl RowExt) -> Result<Record> {
    let seq = row.int("seq")?;
    let headers: Vec<(String, String)> = serde_json::from_str(&row.text("headers")?)
        .map_err(|e| StoreError::corrupt(format!("event_log {seq}: headers: {e}")))?;
    Ok(Record {
        topic: row.text("topic")?,
        partition: 0,
        offset: seq,
        key: row.opt_text("key")?,
        payload: row.bytes("payload")?,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_keeps_id_and_owner_out_of_the_set_list() {
        let task: Task = serde_json::from_value(serde_json::json!({
            "id": TaskId::new(), "user_id": UserId::new(), "title": "Äpfel", "status": "pending",
            "priority": "high", "due_at": null, "remind_at": null, "recurrence": null, "series_id": null,
            "created_at": "2026-11-26T09:00:00Z", "updated_at": "2026-11-26T09:00:00Z", "completed_at": null,
            "version": 2
        }))
        .expect("a task");
        let s = TaskRow::update(&task, 1);
        assert!(s.sql.starts_with("UPDATE tasks SET title_sort = $1, search_text = $2, title = $3"), "{}", s.sql);
        assert!(s.sql.ends_with("WHERE id = $21 AND user_id = $22 AND version = $23"), "{}", s.sql);
        assert_eq!(s.args[0], Arg::Text("äpfel".into()));
        assert_eq!(TaskRow::from_task(&task).into_task().expect("parses back"), task);
    }
}
