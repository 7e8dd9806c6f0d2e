//! The task-repository contract (with the user and login-attempt ports of the same
//! store): CRUD, ownership, optimistic concurrency, atomic changes (task writes,
//! events and claims commit together or not at all), e-mail uniqueness, and
//! listings equal to [`TaskQuery::apply`](crate::domain::TaskQuery::apply) page by page.

mod changes;
mod listing;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{Email, Task, TaskId, Timezone, User, UserId};
use crate::events::{EventFactory, OutboxEvent, TaskChange, Topic};
use crate::ports::{Change, Ports, Record, TaskWrite};

pub use changes::{
    atomic_changes, chat_turns_keep_context_in_order, claims_are_once, concurrent_changes_keep_their_own_outcome,
    crud_round_trip, ownership, users_have_unique_emails, version_mismatch,
};
pub use listing::listing_matches_reference;

/// Gives the ports of a fresh, empty store (one fixture per contract).
#[async_trait]
pub trait RepoFixture: Send + Sync {
    /// The ports of a fresh, empty store.
    async fn open(&self) -> Ports;
}

/// Runs every contract of this module, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn RepoFixture>>,
{
    crud_round_trip(&*make().await).await;
    ownership(&*make().await).await;
    version_mismatch(&*make().await).await;
    atomic_changes(&*make().await).await;
    concurrent_changes_keep_their_own_outcome(&*make().await).await;
    claims_are_once(&*make().await).await;
    chat_turns_keep_context_in_order(&*make().await).await;
    users_have_unique_emails(&*make().await).await;
    listing_matches_reference(&*make().await).await;
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("an RFC 3339 instant")
}

fn base_now() -> DateTime<Utc> {
    at("2026-11-26T09:00:00Z")
}

fn user(email: &str) -> User {
    User {
        id: UserId::new(),
        email: Email::parse(email).expect("email"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        timezone: Timezone::parse("Europe/Berlin").expect("tz"),
        created_at: at("2026-01-02T03:04:05.678901Z"),
    }
}

fn task(user: UserId, title: &str) -> Task {
    super::pending_task(user, title, base_now())
}

fn factory() -> EventFactory {
    EventFactory::new("/contract")
}

fn insert(t: &Task) -> Change {
    Change {
        writes: vec![TaskWrite::Insert(t.clone())],
        events: factory().for_change(&TaskChange::Created, None, t, base_now()),
        ..Change::default()
    }
}

fn delete(user_id: UserId, id: TaskId, expected_version: i64) -> Change {
    Change { writes: vec![TaskWrite::Delete { user_id, id, expected_version }], ..Change::default() }
}

fn update(before: &Task, after: &Task) -> Change {
    Change {
        writes: vec![TaskWrite::Update { task: after.clone(), expected_version: before.version }],
        events: factory().for_change(&TaskChange::Updated(vec!["title".into()]), Some(before), after, base_now()),
        ..Change::default()
    }
}

/// Every record the store's log holds (all three topics), up to a sentinel
/// committed now: what earlier commits appended, in log order.
async fn log_so_far(r: &Ports) -> Vec<Record> {
    super::records_so_far(&*r.tasks, &*r.log, &Topic::ALL, "/contract", base_now()).await
}

/// Asserts that `records` are exactly the outbox records of `events`, in order.
fn assert_records(r: &Ports, records: &[Record], events: &[OutboxEvent], what: &str) {
    let got: Vec<_> =
        records.iter().map(|r| (r.topic.clone(), r.key.clone(), r.payload.clone(), r.headers.clone())).collect();
    let want: Vec<_> = events
        .iter()
        .map(|e| {
            let headers =
                vec![("ce_type".to_owned(), e.event.ty.clone()), ("ce_id".to_owned(), e.event.id.to_string())];
            (r.log.topic_names().name(e.topic), Some(e.key.clone()), e.payload(), headers)
        })
        .collect();
    assert_eq!(got, want, "{what}: the log holds exactly the events of the committed changes, in order");
}
