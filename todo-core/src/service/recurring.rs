//! The recurring-task service: when an occurrence of a recurring task is
//! completed, create the next one, exactly once.

use async_trait::async_trait;

use crate::Result;
use crate::consumer::EventHandler;
use crate::events::{CloudEvent, DomainEvent, EventError, EventType, Topic};
use crate::ports::{ProcessedKey, Record};
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
        match event.decode() {
            Ok(DomainEvent::Task(EventType::TaskCompleted, data)) if data.task_data.recurrence.is_some() => {
                // Two keys guard the successor: this event (redelivery) and the completed
                // occurrence itself (completed, reopened and completed again: still one).
                let claim = ProcessedKey::new(RECURRING_GROUP, event.id.to_string());
                if let Some(next) = self.tasks.create_successor(&data.task_data, vec![claim]).await? {
                    tracing::info!(completed = %data.task_id, next = %next.id, due_at = ?next.due_at, "next occurrence created");
                }
                Ok(())
            }
            Ok(_) | Err(EventError::UnknownType(_)) => Ok(()),
            Err(e) => Err(crate::Error::Validation(crate::domain::ValidationError::new("event", e.to_string()))),
        }
    }
}
