//! What both backends share: the transactional-outbox commit, task reads and
//! listing, users, login attempts and raw appends (the audit trail, reminders and
//! conversations are in their own modules, also as `impl Engine`). A [`Backend`]
//! supplies connections, the group-commit [`Writer`] and event-log readers;
//! [`impl_store!`] turns a store holding an [`Engine`] into the seven `todo_core` ports.

use std::ops::DerefMut;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use futures::future::BoxFuture;
use todo_core::domain::{Email, Task, TaskId, TaskPage, TaskQuery, User, UserId};
use todo_core::events::TopicNames;
use todo_core::ports::{Change, Checkpoint, StartFrom, Subscription, TaskWrite, truncate_micros};

use crate::error::{Result, StoreError};
use crate::rows::{EventRow, RowExt, TASK_COLUMNS, TaskRow, USER_COLUMNS, insert_user, read_user};
use crate::sql::{Arg, Dialect, Exec, Stmt, list_tasks};
use crate::subscription::{LogSource, SqlSubscription};
use crate::writer::{Lane, Writer};

/// One database behind the engine.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// A connection, on which statements run.
    type Connection: Exec + 'static;
    /// A pooled connection.
    type Conn: DerefMut<Target = Self::Connection> + Send;
    /// The event-log reader of one consumer group member.
    type Source: LogSource;

    fn dialect(&self) -> Dialect;

    /// Creates or updates the schema.
    async fn migrate(&self) -> Result<()>;

    /// Closes the pool's connections (after their current work).
    async fn close(&self);

    /// A connection for reads.
    async fn connection(&self) -> Result<Self::Conn>;

    /// Where every write goes: one shared transaction per batch of writers.
    fn writer(&self) -> &Writer<Self::Connection>;

    /// This store's event log, as [`Checkpoint::log`] names it.
    fn log_id(&self) -> u64;

    /// Readies the event log for subscribers (PostgreSQL: starts listening).
    async fn prepare_log(&self) -> Result<()> {
        Ok(())
    }

    /// Stores the starting position of `group` if the group is new.
    fn join_group(&self, group: &str, start: StartFrom) -> Stmt;

    /// A member of `group` reading `topics`.
    fn log_source(&self, group: &str, topics: &[String]) -> Self::Source;

    /// The statement that stores `checkpoint` (a checkpoint of this log) as its
    /// group's position, never moving it back.
    fn store_position(&self, checkpoint: &Checkpoint) -> Result<Stmt>;

    /// Runs `stmt` in a write transaction with the append-only guard of `audit_log`
    /// lifted for that transaction alone: for tests that tamper with the trail.
    async fn run_unguarded(&self, stmt: Stmt) -> Result<u64>;

    /// Runs `stmt` in a transaction of its own, outside the writer, kept open for
    /// `hold` before the commit: for tests of readers against slow writers.
    async fn write_holding(&self, stmt: Stmt, hold: Duration) -> Result<()>;
}

/// Runs one statement in the next shared write transaction.
pub(crate) async fn write_one<B: Backend>(backend: &B, lane: Lane, stmt: Stmt) -> Result<u64> {
    let stmt = Arc::new(stmt);
    backend
        .writer()
        .write(lane, false, move |c| {
            let stmt = stmt.clone();
            Box::pin(async move { c.run(&stmt).await })
        })
        .await
}

/// The shared logic over one backend.
pub(crate) struct Engine<B> {
    pub backend: B,
    pub topics: TopicNames,
}

impl<B: Backend> Engine<B> {
    /// An engine over `backend`, for a store's handles to share.
    pub fn shared(backend: B, options: &crate::StoreOptions) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self { backend, topics: options.topic_names.clone() })
    }

    /// Runs `work` in the next shared write transaction (see [`Writer::write`]).
    pub async fn write<T, F>(&self, lane: Lane, appends: bool, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut B::Connection) -> BoxFuture<'c, Result<T>> + Send + Sync + 'static,
    {
        self.backend.writer().write(lane, appends, work).await
    }

    /// `checkpoint` if it is a position of this store's log, with the statement
    /// that stores it; a checkpoint of another log is left to its consumer.
    pub fn own_checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<Option<(Checkpoint, Stmt)>> {
        match checkpoint {
            Some(cp) if cp.log == self.backend.log_id() => Ok(Some((cp.clone(), self.backend.store_position(cp)?))),
            _ => Ok(None),
        }
    }

    pub async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>> {
        let stmt = Stmt::new(
            format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"),
            vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
        );
        let row = self.backend.connection().await?.row(&stmt).await?;
        row.map(|r| TaskRow::read(&r)?.into_task()).transpose()
    }

    pub async fn list(&self, query: &TaskQuery) -> Result<TaskPage> {
        let stmt = list_tasks(self.backend.dialect(), query);
        let rows = self.backend.connection().await?.rows(&stmt).await?;
        let tasks = rows.iter().map(|r| TaskRow::read(r)?.into_task()).collect::<Result<Vec<_>>>()?;
        Ok(TaskPage::from_overfetch(tasks, query))
    }

    /// The transactional outbox: claims, task writes, events, the chat turn and the
    /// consumer's checkpoint in one transaction (shared with other writers').
    pub async fn commit(&self, change: Change) -> Result<()> {
        let lane = if change.is_background() { Lane::Background } else { Lane::Foreground };
        let appends = !change.events.is_empty();
        let checkpoint = self.own_checkpoint(change.checkpoint.as_ref())?;
        let dialect = self.backend.dialect();
        let work = Arc::new((change, self.topics.clone(), checkpoint.as_ref().map(|(_, s)| s.clone())));
        self.write(lane, appends, move |c| {
            let work = work.clone();
            Box::pin(async move {
                let (change, topics, position) = &*work;
                apply_change(c, dialect, change, topics).await?;
                if let Some(p) = position {
                    c.run(p).await?;
                }
                Ok(())
            })
        })
        .await?;
        if let Some((cp, _)) = checkpoint {
            cp.mark_stored();
        }
        Ok(())
    }

    pub async fn create_user(&self, user: &User) -> Result<()> {
        write_one(&self.backend, Lane::Foreground, insert_user(user)).await.map_err(|e| {
            e.on_unique(|what| {
                StoreError::Conflict(if what.contains("email") {
                    "an account with this e-mail exists".to_owned()
                } else {
                    format!("user {} exists", user.id)
                })
            })
        })?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.user_where("email = $1", Arg::Text(email.as_str().to_owned())).await
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        self.user_where("id = $1", Arg::Uuid(id.as_uuid())).await
    }

    async fn user_where(&self, condition: &str, arg: Arg) -> Result<Option<User>> {
        let stmt = Stmt::new(format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}"), vec![arg]);
        let row = self.backend.connection().await?.row(&stmt).await?;
        row.map(|r| read_user(&r)).transpose()
    }

    /// Appends `record` (a raw record, e.g. a dead letter: background work); with a
    /// `hold`, in a transaction of its own kept open that long before committing
    /// (tests of commit order).
    pub async fn append(&self, record: EventRow, hold: Duration) -> Result<()> {
        let stmt = record.insert(truncate_micros(Utc::now()), true);
        if !hold.is_zero() {
            return self.backend.write_holding(stmt, hold).await;
        }
        let stmt = Arc::new(stmt);
        self.write(Lane::Background, true, move |c| {
            let stmt = stmt.clone();
            Box::pin(async move { c.run(&stmt).await.map(drop) })
        })
        .await
    }

    /// Joins consumer group `group` (see `todo_core::ports::EventLog::subscribe`).
    pub async fn subscribe(&self, group: &str, topics: &[String], start: StartFrom) -> Result<Box<dyn Subscription>> {
        self.backend.prepare_log().await?;
        write_one(&self.backend, Lane::Background, self.backend.join_group(group, start)).await?;
        Ok(Box::new(SqlSubscription::new(self.backend.log_source(group, topics))))
    }

    pub async fn ping(&self) -> Result<()> {
        let one = self.backend.connection().await?.row(&Stmt::new("SELECT CAST(1 AS BIGINT) AS one", vec![])).await?;
        match one.map(|r| r.int("one")).transpose()? {
            Some(1) => Ok(()),
            other => Err(StoreError::Internal(format!("SELECT 1 returned {other:?}"))),
        }
    }
}

/// Applies `change` inside an open transaction; any error leaves it to be rolled back.
async fn apply_change<C: Exec>(c: &mut C, dialect: Dialect, change: &Change, topics: &TopicNames) -> Result<()> {
    let now = truncate_micros(Utc::now());
    // Claims first: a change whose key is claimed already is work done before
    // (`Duplicate`), whatever its writes would report (e.g. the version mismatch that
    // this very work caused), as in the in-memory store.
    for claim in &change.claims {
        let stmt = Stmt::new(
            "INSERT INTO processed_keys (scope, key, claimed_at) VALUES ($1, $2, $3)",
            vec![Arg::Text(claim.scope.clone()), Arg::Text(claim.key.clone()), Arg::Time(now)],
        );
        c.run(&stmt)
            .await
            .map_err(|e| e.on_unique(|_| StoreError::Duplicate(format!("{}/{}", claim.scope, claim.key))))?;
    }
    for release in &change.releases {
        let stmt = Stmt::new(
            "DELETE FROM processed_keys WHERE scope = $1 AND key = $2",
            vec![Arg::Text(release.scope.clone()), Arg::Text(release.key.clone())],
        );
        c.run(&stmt).await?;
    }
    for write in &change.writes {
        apply_write(c, write).await?;
    }
    if !change.events.is_empty() {
        let rows = change.events.iter().map(|e| EventRow::outbox(e, topics)).collect();
        c.run(&EventRow::insert_all(rows, now)).await.map_err(|e| {
            e.on_unique(|_| StoreError::Internal("an event id of this change was appended before".to_owned()))
        })?;
    }
    if let Some(turn) = &change.turn {
        crate::conversations::record_turn(c, dialect, turn).await?;
    }
    Ok(())
}

async fn apply_write<C: Exec>(c: &mut C, write: &TaskWrite) -> Result<()> {
    let (stmt, user_id, id) = match write {
        TaskWrite::Insert(task) => {
            c.run(&TaskRow::insert(task))
                .await
                .map_err(|e| e.on_unique(|_| StoreError::Conflict(format!("task {} exists", task.id))))?;
            return Ok(());
        }
        TaskWrite::Update { task, expected_version } => {
            (TaskRow::update(task, *expected_version), task.user_id, task.id)
        }
        TaskWrite::Delete { user_id, id, expected_version } => (
            Stmt::new(
                "DELETE FROM tasks WHERE id = $1 AND user_id = $2 AND version = $3",
                vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid()), Arg::Int(*expected_version)],
            ),
            *user_id,
            *id,
        ),
    };
    if c.run(&stmt).await? > 0 {
        return Ok(());
    }
    // Nothing matched: no such task for this user, or it is at another version.
    let current = Stmt::new(
        "SELECT version FROM tasks WHERE id = $1 AND user_id = $2",
        vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
    );
    match c.row(&current).await? {
        Some(row) => Err(StoreError::VersionMismatch { current: row.int("version")? }),
        None => Err(StoreError::NotFound("task")),
    }
}

/// Implements `TaskRepository`, `UserRepository`, `LoginAttempts`, `EventLog`,
/// `AuditStore`, `ReminderStore` and `ConversationStore`, and the methods every
/// store has, for a store type with a field
/// `engine: Arc<Engine<_>>`.
macro_rules! impl_store {
    ($store:ty) => {
        impl $store {
            /// Creates or updates the schema.
            pub async fn migrate(&self) -> $crate::Result<()> {
                $crate::engine::Backend::migrate(&self.engine.backend).await
            }

            /// Runs the listing SQL of `query`, fetching its rows without decoding them
            /// (for benchmarks: the SQL alone); returns the number of rows.
            #[doc(hidden)]
            pub async fn raw_list(&self, query: &::todo_core::domain::TaskQuery) -> $crate::Result<usize> {
                self.engine.raw_list(query).await
            }

            /// The listing SQL of `query` and its arguments (for benchmarks and plans).
            #[doc(hidden)]
            pub fn list_sql(&self, query: &::todo_core::domain::TaskQuery) -> (String, Vec<String>) {
                self.engine.list_sql(query)
            }

            /// Closes the pool's connections (after their current work).
            pub async fn close(&self) {
                $crate::engine::Backend::close(&self.engine.backend).await;
            }

            /// Appends a raw record and keeps its transaction open for `hold` before
            /// the commit: for tests of readers against slow writers.
            #[doc(hidden)]
            pub async fn append_holding(
                &self,
                topic: &str,
                payload: &[u8],
                hold: ::std::time::Duration,
            ) -> ::todo_core::Result<()> {
                let record = $crate::rows::EventRow::raw(topic, None, payload, &[]);
                Ok(self.engine.append(record, hold).await?)
            }
        }

        #[::async_trait::async_trait]
        impl ::todo_core::ports::TaskRepository for $store {
            async fn get(
                &self,
                user_id: ::todo_core::domain::UserId,
                id: ::todo_core::domain::TaskId,
            ) -> ::todo_core::Result<Option<::todo_core::domain::Task>> {
                Ok(self.engine.get(user_id, id).await?)
            }

            async fn list(
                &self,
                query: &::todo_core::domain::TaskQuery,
            ) -> ::todo_core::Result<::todo_core::domain::TaskPage> {
                Ok(self.engine.list(query).await?)
            }

            async fn commit(&self, change: ::todo_core::ports::Change) -> ::todo_core::Result<()> {
                Ok(self.engine.commit(change).await?)
            }
        }

        #[::async_trait::async_trait]
        impl ::todo_core::ports::UserRepository for $store {
            async fn create(&self, user: &::todo_core::domain::User) -> ::todo_core::Result<()> {
                Ok(self.engine.create_user(user).await?)
            }

            async fn by_email(
                &self,
                email: &::todo_core::domain::Email,
            ) -> ::todo_core::Result<Option<::todo_core::domain::User>> {
                Ok(self.engine.user_by_email(email).await?)
            }

            async fn by_id(
                &self,
                id: ::todo_core::domain::UserId,
            ) -> ::todo_core::Result<Option<::todo_core::domain::User>> {
                Ok(self.engine.user_by_id(id).await?)
            }
        }

        $crate::login::impl_login_attempts!($store);

        #[::async_trait::async_trait]
        impl ::todo_core::ports::EventLog for $store {
            fn topic_names(&self) -> &::todo_core::events::TopicNames {
                &self.engine.topics
            }

            async fn subscribe(
                &self,
                group: &str,
                topics: &[String],
                start: ::todo_core::ports::StartFrom,
            ) -> ::todo_core::Result<Box<dyn ::todo_core::ports::Subscription>> {
                Ok(self.engine.subscribe(group, topics, start).await?)
            }

            async fn append(
                &self,
                topic: &str,
                key: Option<&str>,
                payload: &[u8],
                headers: &[(String, String)],
            ) -> ::todo_core::Result<()> {
                let record = $crate::rows::EventRow::raw(topic, key, payload, headers);
                Ok(self.engine.append(record, ::std::time::Duration::ZERO).await?)
            }

            async fn ping(&self) -> ::todo_core::Result<()> {
                Ok(self.engine.ping().await?)
            }
        }

        $crate::audit::impl_audit_store!($store);
        $crate::reminders::impl_reminder_store!($store);
        $crate::conversations::impl_conversation_store!($store);
        $crate::saved_filters::impl_saved_filter_store!($store);
        $crate::audit_verify::impl_audit_checkpoints!($store);
        $crate::usage::impl_llm_budget!($store);
        $crate::credentials::impl_credential_stores!($store);
    };
}
pub(crate) use impl_store;
