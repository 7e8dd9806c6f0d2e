//! Changes that insert (new tasks and their events, as every create makes, by
//! request or by chat), held as rows rather than as a closure, so that the writer
//! can insert the rows of every such change in its transaction together: one
//! multi-row statement per table instead of two statements per change. See `docs/adr/0016-group-commit.md`.

use chrono::Utc;
use todo_core::domain::Task;
use todo_core::events::TopicNames;
use todo_core::ports::{Change, TaskWrite, truncate_micros};

use crate::error::{Result, StoreError};
use crate::rows::{EventRow, TaskRow};
use crate::sql::Exec;

/// Most task rows in one statement (22 parameters each).
const MAX_TASK_ROWS: usize = 64;
/// Most event rows in one statement (6 parameters each).
const MAX_EVENT_ROWS: usize = 128;

/// The rows of a change that only inserts tasks and appends their events.
#[derive(Debug)]
pub(crate) struct Inserts {
    tasks: Vec<Task>,
    events: Vec<EventRow>,
}

impl Inserts {
    /// The rows of `change`, if it inserts tasks and appends their events and
    /// does nothing else but record a chat turn (which its caller does after the
    /// rows): no updates or deletes, claims, releases or checkpoint. The events
    /// are serialized here, by the caller, not in the writer's transaction.
    pub fn of(change: &Change, topics: &TopicNames) -> Option<Self> {
        let plain = change.claims.is_empty()
            && change.releases.is_empty()
            && change.checkpoint.is_none()
            && !change.writes.is_empty();
        if !plain {
            return None;
        }
        let tasks = change
            .writes
            .iter()
            .map(|w| match w {
                TaskWrite::Insert(task) => Some(task.clone()),
                TaskWrite::Update { .. } | TaskWrite::Delete { .. } => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let events = change.events.iter().map(|e| EventRow::outbox(e, topics)).collect();
        Some(Self { tasks, events })
    }

    /// Whether the rows append to the event log.
    pub fn appends(&self) -> bool {
        !self.events.is_empty()
    }

    /// Inserts the rows of every part of `parts`, in order (the events' `seq`s
    /// follow it), in as few statements as the row limits allow. Run with one part,
    /// its errors are that change's own (`Conflict` for a task id that exists).
    pub async fn run_all<C: Exec>(c: &mut C, parts: &[&Inserts]) -> Result<()> {
        let tasks: Vec<&Task> = parts.iter().flat_map(|p| &p.tasks).collect();
        for chunk in runs(&tasks, MAX_TASK_ROWS) {
            c.run(&TaskRow::insert_all(chunk)).await.map_err(|e| {
                e.on_unique(|_| match chunk {
                    [task] => StoreError::Conflict(format!("task {} exists", task.id)),
                    _ => StoreError::Conflict("a task of this batch exists".to_owned()),
                })
            })?;
        }
        let events: Vec<&EventRow> = parts.iter().flat_map(|p| &p.events).collect();
        let now = truncate_micros(Utc::now());
        for chunk in runs(&events, MAX_EVENT_ROWS) {
            let rows = chunk.iter().map(|&r| r.clone()).collect();
            c.run(&EventRow::insert_all(rows, now)).await.map_err(|e| {
                e.on_unique(|_| StoreError::Internal("an event id of this change was appended before".to_owned()))
            })?;
        }
        Ok(())
    }
}

/// `items` in consecutive runs whose lengths are powers of two of at most `max`,
/// longest first: a multi-row statement's text depends on its row count, so this
/// keeps the prepared statements of any batch size to a handful per table.
fn runs<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = max.min(1 << rest.len().ilog2());
        let (run, tail) = rest.split_at(n);
        rest = tail;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use todo_core::domain::{NewTask, TaskTitle, Timezone, UserId};
    use todo_core::ports::ProcessedKey;

    use super::*;

    #[test]
    fn runs_are_powers_of_two_longest_first_and_cover_everything_in_order() {
        for n in 0..300usize {
            let items: Vec<usize> = (0..n).collect();
            let got: Vec<&[usize]> = runs(&items, 64).collect();
            assert!(got.iter().all(|r| r.len().is_power_of_two() && r.len() <= 64), "{n}: {got:?}");
            assert!(got.windows(2).all(|w| w[0].len() >= w[1].len()), "{n}");
            assert_eq!(got.concat(), items, "{n}");
        }
        assert_eq!(runs(&[0; 13], 64).map(<[i32]>::len).collect::<Vec<_>>(), [8, 4, 1]);
        assert_eq!(runs(&[0; 200], 64).map(<[i32]>::len).collect::<Vec<_>>(), [64, 64, 64, 8]);
    }

    #[test]
    fn only_a_change_that_just_inserts_is_rows() {
        let topics = TopicNames::default();
        let task =
            Task::new(UserId::new(), NewTask::titled(TaskTitle::parse("t").unwrap()), Timezone::default(), Utc::now())
                .unwrap();
        let insert = Change { writes: vec![TaskWrite::Insert(task.clone())], ..Change::default() };
        assert!(Inserts::of(&insert, &topics).is_some());
        assert!(Inserts::of(&Change::default(), &topics).is_none(), "nothing to insert");
        let claimed = Change { claims: vec![ProcessedKey::new("g", "k")], ..insert.clone() };
        assert!(Inserts::of(&claimed, &topics).is_none(), "a consumer's claim");
        let mut updated = insert;
        updated.writes.push(TaskWrite::Update { task, expected_version: 1 });
        assert!(Inserts::of(&updated, &topics).is_none(), "an update too");
    }
}
