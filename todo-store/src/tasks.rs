//! [`TaskRepository`] on both backends: task reads, listings (the SQL of
//! [`crate::listing::list_tasks`]) and the transactional outbox.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use todo_core::domain::{Task, TaskId, TaskPage, TaskQuery, UserId};
use todo_core::events::TopicNames;
use todo_core::ports::{Change, TaskRepository, TaskWrite, truncate_micros};

use crate::backend::{Backend, SqlStore};
use crate::conversations::record_turn;
use crate::error::{Result, StoreError};
use crate::inserts::Inserts;
use crate::listing::list_tasks;
use crate::rows::{EventRow, TASK_COLUMNS, TaskRow};
use crate::sql::{Arg, Exec, RowExt, Stmt};
use crate::writer::{Lane, work_of};

#[async_trait]
impl<B: Backend> TaskRepository for SqlStore<B> {
    async fn get(&self, user_id: UserId, id: TaskId) -> todo_core::Result<Option<Task>> {
        let stmt = Stmt::new(
            format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"),
            vec![Arg::Uuid(id.as_uuid()), Arg::Uuid(user_id.as_uuid())],
        );
        let row = self.backend().connection().await?.row(&stmt).await?;
        Ok(row.map(|r| TaskRow::read(&r)?.into_task()).transpose()?)
    }

    async fn list(&self, query: &TaskQuery) -> todo_core::Result<TaskPage> {
        let stmt = list_tasks(self.backend().dialect(), query);
        let rows = self.backend().connection().await?.rows(&stmt).await?;
        let tasks = rows.iter().map(|r| TaskRow::read(r)?.into_task()).collect::<Result<Vec<_>>>()?;
        Ok(TaskPage::from_overfetch(tasks, query))
    }

    /// The transactional outbox: claims, task writes, events, the chat turn and the
    /// consumer's checkpoint in one transaction (shared with other writers').
    async fn commit(&self, change: Change) -> todo_core::Result<()> {
        let lane = if change.is_background() { Lane::Background } else { Lane::Foreground };
        if let Some(rows) = Inserts::of(&change, self.topics()) {
            let rest = change.turn.map(Arc::new).map(|turn| {
                work_of(move |c: &mut B::Connection| {
                    let turn = turn.clone();
                    Box::pin(async move { record_turn(c, &turn).await })
                })
            });
            return Ok(self.backend().writer().insert(lane, rows, rest).await?);
        }
        let appends = !change.events.is_empty();
        let checkpoint = self.own_checkpoint(change.checkpoint.as_ref())?;
        let work = Arc::new((change, self.topics().clone(), checkpoint.as_ref().map(|(_, s)| s.clone())));
        self.write(lane, appends, move |c| {
            let work = work.clone();
            Box::pin(async move {
                let (change, topics, position) = &*work;
                apply_change(c, change, topics).await?;
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
}

#[cfg(feature = "test-util")]
impl<B: Backend> SqlStore<B> {
    /// Runs the listing SQL of `query`, fetching its rows without decoding them
    /// into tasks: the SQL alone, for benchmarks. Returns the number of rows.
    pub async fn raw_list(&self, query: &TaskQuery) -> Result<usize> {
        let stmt = list_tasks(self.backend().dialect(), query);
        Ok(self.backend().connection().await?.rows(&stmt).await?.len())
    }

    /// The listing SQL of `query` and its arguments as text (for benchmarks and
    /// query plans).
    pub fn list_sql(&self, query: &TaskQuery) -> (String, Vec<String>) {
        let stmt = list_tasks(self.backend().dialect(), query);
        (stmt.sql, stmt.args.iter().map(|a| format!("{a:?}")).collect())
    }
}

/// Applies `change` inside an open transaction; any error leaves it to be rolled back.
async fn apply_change<C: Exec>(c: &mut C, change: &Change, topics: &TopicNames) -> Result<()> {
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
        record_turn(c, turn).await?;
    }
    Ok(())
}

async fn apply_write<C: Exec>(c: &mut C, write: &TaskWrite) -> Result<()> {
    let (stmt, user_id, id) = match write {
        TaskWrite::Insert(task) => {
            c.run(&TaskRow::insert_all(&[task]))
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
