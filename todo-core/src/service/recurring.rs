//! The recurring-task service: when an occurrence of a recurring task is
//! completed, create the next one, exactly once.

use async_trait::async_trait;

use crate::Result;
use crate::consumer::{Delivery, EventHandler};
use crate::events::{CloudEvent, DomainEvent, EventError, EventType, Topic};
use crate::ports::{Change, Checkpoint, ProcessedKey, Record};
use crate::service::TaskService;

/// Consumer group and span name.
pub const RECURRING_GROUP: &str = "recurring-task";

/// Reacts to `todo.task.completed.v1` of recurring tasks.
pub struct RecurringTaskHandler {
    tasks: TaskService,
}

impl RecurringTaskHandler {
    /// `tasks` should produce events with source `/todo/recurring-task`.
    pub fn new(tasks: TaskService) -> Self {
        Self { tasks }
    }
}

#[async_trait]
impl EventHandler for RecurringTaskHandler {
    fn name(&self) -> String {
        RECURRING_GROUP.to_owned()
    }

    fn topics(&self) -> Vec<Topic> {
        vec![Topic::TaskEvents]
    }

    async fn handle(&self, event: &CloudEvent, _record: &Record) -> Result<()> {
        if let Some((completed, claim)) = completed_occurrence(event)?
            && !self.reopened(&completed).await?
            && let Some(next) = self.tasks.create_successor(&completed, vec![claim]).await?
        {
            tracing::info!(completed = %completed.id, next = %next.id, due_at = ?next.due_at, "next occurrence created");
        }
        Ok(())
    }

    /// Every successor of the batch in one change, with the checkpoint. A
    /// redelivered event fails it as a duplicate, and the runner then handles the
    /// batch's events one by one.
    fn max_batch(&self) -> usize {
        usize::MAX
    }

    async fn handle_batch(&self, batch: &[Delivery], checkpoint: Option<&Checkpoint>) -> Result<()> {
        let mut change = Change { checkpoint: checkpoint.cloned(), ..Change::default() };
        let mut created = Vec::new();
        for d in batch {
            if let Some((completed, claim)) = completed_occurrence(&d.event)?
                && !self.reopened(&completed).await?
                && let Some((next, successor)) = self.tasks.plan_successor(&completed, vec![claim]).await?
            {
                change.merge(successor);
                created.push((completed.id, next));
            }
        }
        if change.writes.is_empty() && change.checkpoint.is_none() {
            return Ok(());
        }
        self.tasks.commit(change).await?;
        for (completed, next) in created {
            tracing::info!(%completed, next = %next.id, due_at = ?next.due_at, "next occurrence created");
        }
        Ok(())
    }
}

impl RecurringTaskHandler {
    /// Whether `completed` is pending again by now (reopened, or its completion
    /// undone in a chat): then it has no successor yet, and completing it again
    /// makes one. A task deleted since still gets its successor, as before.
    async fn reopened(&self, completed: &crate::domain::Task) -> Result<bool> {
        match self.tasks.get(completed.user_id, completed.id).await {
            Ok(t) => Ok(t.is_pending()),
            Err(crate::Error::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The completed occurrence of a recurring task that `event` reports, with the
/// claim of this event; `None` for any other event. Two keys guard a successor:
/// the event (redelivery) and the completed occurrence itself (completed,
/// reopened and completed again: still one successor).
fn completed_occurrence(event: &CloudEvent) -> Result<Option<(crate::domain::Task, ProcessedKey)>> {
    match event.decode() {
        Ok(DomainEvent::Task(EventType::TaskCompleted, data)) if data.task_data.recurrence.is_some() => {
            Ok(Some((data.task_data, ProcessedKey::new(RECURRING_GROUP, event.id.to_string()))))
        }
        Ok(_) | Err(EventError::UnknownType(_)) => Ok(None),
        Err(e) => Err(crate::Error::Validation(crate::domain::ValidationError::new("event", e.to_string()))),
    }
}
