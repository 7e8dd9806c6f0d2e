//! Contracts on what a change does: CRUD, ownership, optimistic concurrency,
//! atomic and concurrent changes, claims, chat turns, and unique e-mails.

use crate::Error;
use crate::domain::query::StatusFilter;
use crate::domain::{BulkAction, Conversation, Message, PendingAction, Role};
use crate::domain::{
    Description, Email, Priority, Recurrence, RepeatFrom, SeriesId, Status, Tags, Task, TaskId, TaskQuery, TaskTitle,
    User, UserId,
};
use crate::events::TaskChange;
use crate::ports::{Change, ChatTurn, ProcessedKey, TaskWrite};

use super::{RepoFixture, assert_records, at, base_now, delete, factory, insert, log_so_far, task, update, user};

/// A task with every field set survives a round trip, updates and deletes, and
/// its events reach the log with key, payload and headers.
pub async fn crud_round_trip(f: &dyn RepoFixture) {
    let r = f.open().await;
    let ada = user("ada@example.com");
    r.users.create(&ada).await.expect("create user");
    let mut full = task(ada.id, "Äpfel & Birnen 🍐 kaufen");
    full.description = Description::parse("für den Kuchen\nzwei Kilo").expect("description");
    full.priority = Priority::High;
    full.tags = Tags::parse(["home", "errand_1", "x-y"]).expect("tags");
    full.due_at = Some(at("2026-12-01T08:30:00.123456Z"));
    full.remind_at = Some(at("2026-12-01T08:00:00.000001Z"));
    full.recurrence = Some(Recurrence::parse("FREQ=WEEKLY;BYDAY=MO,TH").expect("rrule"));
    full.repeat_from = RepeatFrom::Completion;
    full.series_id = Some(SeriesId(full.id.0));
    full.created_at = at("2026-11-26T08:59:59.999999Z");
    full.updated_at = full.created_at;
    let bare = task(ada.id, "b");

    let mut events = Vec::new();
    for t in [&full, &bare] {
        let change = insert(t);
        events.extend(change.events.clone());
        r.tasks.commit(change).await.expect("insert");
    }
    assert_eq!(r.tasks.get(ada.id, full.id).await.expect("get"), Some(full.clone()), "every field round-trips");
    assert_eq!(r.tasks.get(ada.id, bare.id).await.expect("get"), Some(bare.clone()));
    let page = r.tasks.list(&TaskQuery::new(ada.id, base_now())).await.expect("list");
    assert_eq!(page.items, vec![full.clone(), bare.clone()], "default listing: pending by due date, undated last");

    let mut done = full.clone();
    done.status = Status::Completed;
    done.completed_at = Some(at("2026-11-27T10:00:00.5Z"));
    done.tags = Tags::parse(["work"]).expect("tags");
    done.due_at = None;
    done.remind_at = None;
    done.recurrence = None;
    done.all_day = false;
    done.version = 2;
    done.updated_at = at("2026-11-27T10:00:00.5Z");
    let change = update(&full, &done);
    events.extend(change.events.clone());
    r.tasks.commit(change).await.expect("update");
    assert_eq!(r.tasks.get(ada.id, full.id).await.expect("get"), Some(done.clone()), "the update replaced every field");

    let del = Change {
        writes: vec![TaskWrite::Delete { user_id: ada.id, id: bare.id, expected_version: 1 }],
        events: factory().for_change(&TaskChange::Deleted, Some(&bare), &bare, base_now()),
        ..Change::default()
    };
    events.extend(del.events.clone());
    r.tasks.commit(del).await.expect("delete");
    assert_eq!(r.tasks.get(ada.id, bare.id).await.expect("get"), None, "deleted");

    let again = r.tasks.commit(insert(&done)).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "inserting an existing id is a conflict: {again:?}");
    assert_eq!(r.tasks.get(ada.id, full.id).await.expect("get"), Some(done), "the conflicting insert changed nothing");
    assert_records(&r, &log_so_far(&r).await, &events, "crud");
}

/// Another user can neither see nor change a task.
pub async fn ownership(f: &dyn RepoFixture) {
    let r = f.open().await;
    let (a, b) = (user("a@example.com"), user("b@example.com"));
    r.users.create(&a).await.expect("create a");
    r.users.create(&b).await.expect("create b");
    let t = task(a.id, "a's secret");
    let created = insert(&t);
    let events = created.events.clone();
    r.tasks.commit(created).await.expect("insert");

    assert_eq!(r.tasks.get(b.id, t.id).await.expect("get"), None, "b cannot read a's task");
    let mut stolen = t.clone();
    stolen.user_id = b.id;
    stolen.title = TaskTitle::parse("mine now").expect("title");
    stolen.version = 2;
    let res = r.tasks.commit(update(&t, &stolen)).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "b's update of a's task: {res:?}");
    let del = delete(b.id, t.id, 1);
    let res = r.tasks.commit(del).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "b's delete of a's task: {res:?}");

    assert_eq!(r.tasks.get(a.id, t.id).await.expect("get"), Some(t.clone()), "a's task is unchanged");
    let mut q = TaskQuery::new(b.id, base_now());
    q.status = StatusFilter::All;
    assert!(r.tasks.list(&q).await.expect("list").items.is_empty(), "b lists nothing of a's");
    assert_records(&r, &log_so_far(&r).await, &events, "ownership");
}

/// Updates and deletes carry the expected version; a stale one fails with the current.
pub async fn version_mismatch(f: &dyn RepoFixture) {
    let r = f.open().await;
    let a = user("v@example.com");
    let t = task(a.id, "versioned");
    r.tasks.commit(insert(&t)).await.expect("insert");
    let mut v2 = t.clone();
    v2.title = TaskTitle::parse("versioned twice").expect("title");
    v2.version = 2;
    r.tasks.commit(update(&t, &v2)).await.expect("update at the current version");

    let mut v3 = v2.clone();
    v3.version = 3;
    let stale = r.tasks.commit(update(&t, &v3)).await;
    assert!(matches!(stale, Err(Error::VersionMismatch { current: 2 })), "stale update: {stale:?}");
    let del = delete(a.id, t.id, 1);
    let stale = r.tasks.commit(del).await;
    assert!(matches!(stale, Err(Error::VersionMismatch { current: 2 })), "stale delete: {stale:?}");
    assert_eq!(r.tasks.get(a.id, t.id).await.expect("get"), Some(v2), "stale writes changed nothing");

    let ghost = task(a.id, "ghost");
    let res = r.tasks.commit(update(&ghost, &ghost)).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "update of a missing task: {res:?}");
    let del = delete(a.id, ghost.id, 1);
    let res = r.tasks.commit(del).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "delete of a missing task: {res:?}");
}

/// A change that fails anywhere leaves no task, no event and no claim behind.
pub async fn atomic_changes(f: &dyn RepoFixture) {
    let r = f.open().await;
    let a = user("atomic@example.com");
    let taken = ProcessedKey::new("contract", "taken");
    r.tasks.commit(Change { claims: vec![taken.clone()], ..Change::default() }).await.expect("claim");

    // A claim that exists: Duplicate, and nothing of the change remains.
    let t1 = task(a.id, "claimed twice");
    let fresh1 = ProcessedKey::new("contract", "fresh-1");
    let mut c = insert(&t1);
    c.claims = vec![fresh1.clone(), taken.clone()];
    let res = r.tasks.commit(c).await;
    assert!(matches!(res, Err(Error::Duplicate(_))), "an existing claim fails the change: {res:?}");
    assert_eq!(r.tasks.get(a.id, t1.id).await.expect("get"), None, "no task from the failed change");

    // The same event id twice: the failure comes after the task write.
    let t2 = task(a.id, "event twice");
    let fresh2 = ProcessedKey::new("contract", "fresh-2");
    let mut c = insert(&t2);
    let first = c.events[0].clone();
    c.events.push(first);
    c.claims = vec![fresh2.clone()];
    let res = r.tasks.commit(c).await;
    assert!(matches!(res, Err(Error::Internal(_))), "an event id appended twice fails the change: {res:?}");
    assert_eq!(r.tasks.get(a.id, t2.id).await.expect("get"), None, "no task after a failure past the task write");

    // A later write fails: the earlier insert is undone.
    let t3 = task(a.id, "then a stale update");
    let mut stale = t3.clone();
    stale.version = 8;
    let c = Change {
        writes: vec![TaskWrite::Insert(t3.clone()), TaskWrite::Update { task: stale, expected_version: 7 }],
        events: insert(&t3).events,
        ..Change::default()
    };
    let res = r.tasks.commit(c).await;
    assert!(matches!(res, Err(Error::VersionMismatch { current: 1 })), "the second write fails: {res:?}");
    assert_eq!(r.tasks.get(a.id, t3.id).await.expect("get"), None, "the first write was rolled back");

    for k in [fresh1, fresh2] {
        r.tasks
            .commit(Change { claims: vec![k.clone()], ..Change::default() })
            .await
            .unwrap_or_else(|e| panic!("claim {k:?} was rolled back with its change, so it can be claimed now: {e}"));
    }
    assert_records(&r, &log_so_far(&r).await, &[], "failed changes");
}

/// Changes committed at the same moment (which a store may share a transaction
/// between, or even one statement: the rows of plain inserts) each get their own
/// outcome: the failures of some (a stale version, a key claimed by another, a
/// missing task, a task id that exists, a chat turn over a stale conversation)
/// neither fail nor undo the others, and every success is durable and in the log.
pub async fn concurrent_changes_keep_their_own_outcome(f: &dyn RepoFixture) {
    let r = f.open().await;
    let a = user("crowd@example.com");
    let existing = task(a.id, "updated by many");
    r.tasks.commit(insert(&existing)).await.expect("insert");
    let mut conv = Conversation::start(a.id, base_now());
    conv.version = 1;
    let started = ChatTurn { conversation: conv.clone(), new_conversation: true, messages: vec![] };
    r.tasks.commit(Change { turn: Some(started), ..Change::default() }).await.expect("a conversation");
    // A turn that read version 5 of the conversation (at version 1).
    conv.version = 6;
    let stale_turn = ChatTurn { conversation: conv, new_conversation: false, messages: vec![] };
    let shared = ProcessedKey::new("contract", "contended");
    let mut handles = Vec::new();
    for i in 0..60usize {
        let tasks = r.tasks.clone();
        let existing = existing.clone();
        let shared = shared.clone();
        let stale_turn = stale_turn.clone();
        handles.push(tokio::spawn(async move {
            let (kind, change) = match i % 4 {
                // A new task in a chat turn over a stale conversation.
                1 if i % 8 == 1 => {
                    let mut c = insert(&task(existing.user_id, &format!("stale turn {i}")));
                    c.turn = Some(stale_turn);
                    ("stale turn", c)
                }
                // A plain insert of a task id that exists, among the fresh ones.
                1 if i % 8 == 5 => {
                    let again = Task { title: TaskTitle::parse("again").expect("title"), ..existing.clone() };
                    ("exists", insert(&again))
                }
                // Fresh tasks: every one must succeed.
                0 | 1 => ("insert", insert(&task(existing.user_id, &format!("fresh {i}")))),
                // Stale updates: each expects version 5 of a task at version 1.
                2 if i % 8 == 2 => {
                    let mut after = existing.clone();
                    after.version = 6;
                    let c = Change {
                        writes: vec![TaskWrite::Update { task: after, expected_version: 5 }],
                        ..Change::default()
                    };
                    ("stale", c)
                }
                // A missing task.
                2 => ("missing", delete(existing.user_id, TaskId::new(), 1)),
                // One key, claimed by many at once: exactly one wins.
                _ => {
                    let mut c = insert(&task(existing.user_id, &format!("claiming {i}")));
                    c.claims = vec![shared.clone()];
                    ("claim", c)
                }
            };
            let inserted = change.writes.iter().find_map(|w| match w {
                TaskWrite::Insert(t) => Some(t.clone()),
                _ => None,
            });
            (kind, inserted, tasks.commit(change).await)
        }));
    }
    let mut claims_won = 0;
    let mut inserted_ok = Vec::new();
    for h in handles {
        let (kind, inserted, res) = h.await.expect("committer");
        match (kind, &res) {
            ("insert", Ok(())) => inserted_ok.push(inserted.expect("an insert")),
            ("stale", Err(Error::VersionMismatch { current: 1 })) => {}
            ("missing", Err(Error::NotFound(_))) => {}
            ("exists", Err(Error::Conflict(_))) => {}
            ("stale turn", Err(Error::VersionMismatch { current: 1 })) => {
                let t = inserted.expect("an insert");
                assert_eq!(r.tasks.get(a.id, t.id).await.expect("get"), None, "a failed turn's task is not written");
            }
            ("claim", Ok(())) => {
                claims_won += 1;
                inserted_ok.push(inserted.expect("an insert"));
            }
            ("claim", Err(Error::Duplicate(_))) => {}
            (kind, res) => panic!("a {kind} change got another's outcome: {res:?}"),
        }
    }
    assert_eq!(claims_won, 1, "exactly one of the changes claiming one key commits");
    assert_eq!(inserted_ok.len(), 16, "every fresh insert (15) and the winning claim commit");
    for t in &inserted_ok {
        assert_eq!(r.tasks.get(a.id, t.id).await.expect("get").as_ref(), Some(t), "a success is durable");
    }
    assert_eq!(r.tasks.get(a.id, existing.id).await.expect("get"), Some(existing), "no stale update applied");
    let log = log_so_far(&r).await;
    let created = log.iter().filter(|rec| rec.header("ce_type") == Some("todo.task.created.v1")).count();
    assert_eq!(created, 17, "the log holds the created events of the successes (and of the first task) only");
}

/// A key is claimed once, ever; scopes are independent.
pub async fn claims_are_once(f: &dyn RepoFixture) {
    let r = f.open().await;
    let k = ProcessedKey::new("group-a", "event-1");
    r.tasks.commit(Change { claims: vec![k.clone()], ..Change::default() }).await.expect("first claim");
    let res = r.tasks.commit(Change { claims: vec![k.clone()], ..Change::default() }).await;
    assert!(matches!(res, Err(Error::Duplicate(_))), "second claim: {res:?}");
    let other = ProcessedKey::new("group-b", "event-1");
    r.tasks.commit(Change { claims: vec![other], ..Change::default() }).await.expect("same key, other scope");
    let twice = ProcessedKey::new("group-a", "event-2");
    let res = r.tasks.commit(Change { claims: vec![twice.clone(), twice.clone()], ..Change::default() }).await;
    assert!(matches!(res, Err(Error::Duplicate(_))), "one key twice in a change: {res:?}");
    r.tasks
        .commit(Change { claims: vec![twice], ..Change::default() })
        .await
        .expect("the failed change claimed nothing");
    // A released key may be claimed again; releasing an unclaimed key is nothing.
    r.tasks.commit(Change { releases: vec![k.clone()], ..Change::default() }).await.expect("release");
    r.tasks.commit(Change { claims: vec![k.clone()], ..Change::default() }).await.expect("claim again after release");
    let never = ProcessedKey::new("group-a", "never-claimed");
    r.tasks.commit(Change { releases: vec![never], ..Change::default() }).await.expect("release an unclaimed key");
}

/// A chat turn saves its conversation's context with the change it made, and
/// only over the version it read: a second turn that read the same version
/// fails whole ([`Error::VersionMismatch`]), its task writes with it.
pub async fn chat_turns_keep_context_in_order(f: &dyn RepoFixture) {
    let r = f.open().await;
    let owner = UserId::new();
    let t = task(owner, "remembered");
    let mut conv = Conversation::start(owner, base_now());
    conv.version = 1;
    conv.context.focus = vec![t.id];
    conv.context.remember(Role::User, "add remembered");
    let message = |c: &Conversation, text: &str| Message {
        seq: 0,
        conversation_id: c.id,
        role: Role::User,
        content: text.to_owned(),
        actions: vec![],
        created_at: base_now(),
    };
    let turn = |c: &Conversation, new: bool, text: &str| ChatTurn {
        conversation: c.clone(),
        new_conversation: new,
        messages: vec![message(c, text), Message { role: Role::Assistant, ..message(c, &format!("re: {text}")) }],
    };
    let mut first = insert(&t);
    first.turn = Some(turn(&conv, true, "add remembered"));
    r.tasks.commit(first).await.expect("the first turn");
    let stored = r.conversations.get(owner, conv.id).await.expect("get").expect("the conversation");
    assert_eq!((stored.version, &stored.context), (1, &conv.context), "the context reads back");

    let mut second = conv.clone();
    second.version = 2;
    second.context.pending = Some(PendingAction { action: BulkAction::Delete, tasks: vec![t.id] });
    r.tasks
        .commit(Change { turn: Some(turn(&second, false, "delete all")), ..Change::default() })
        .await
        .expect("the next turn");
    // Another turn that read version 1 too comes second: it fails, whole.
    let late = task(owner, "late");
    let mut stale = insert(&late);
    stale.turn = Some(turn(&second, false, "stale"));
    let res = r.tasks.commit(stale).await;
    assert!(matches!(res, Err(Error::VersionMismatch { current: 2 })), "a stale turn: {res:?}");
    assert_eq!(r.tasks.get(owner, late.id).await.expect("get"), None, "the stale turn's task was not written");
    let stored = r.conversations.get(owner, conv.id).await.expect("get").expect("the conversation");
    assert_eq!((stored.version, &stored.context), (2, &second.context));
    let stored: Vec<(i64, Role, String)> = r
        .conversations
        .messages(owner, conv.id, 0, 10)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| (m.seq, m.role, m.content))
        .collect();
    let expected = [
        (1, Role::User, "add remembered"),
        (2, Role::Assistant, "re: add remembered"),
        (3, Role::User, "delete all"),
        (4, Role::Assistant, "re: delete all"),
    ]
    .map(|(seq, role, text)| (seq, role, text.to_owned()));
    assert_eq!(stored, expected, "each turn's messages in order, numbered on from the last");
    // Another user's turn on it finds no conversation.
    let mut stolen = second.clone();
    stolen.user_id = UserId::new();
    stolen.version = 3;
    let res = r.tasks.commit(Change { turn: Some(turn(&stolen, false, "mine now")), ..Change::default() }).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "another user's turn: {res:?}");
}

/// Users round-trip; an e-mail belongs to one account.
pub async fn users_have_unique_emails(f: &dyn RepoFixture) {
    let r = f.open().await;
    let ada = user("ada@example.com");
    r.users.create(&ada).await.expect("create");
    assert_eq!(r.users.by_email(&ada.email).await.expect("by email"), Some(ada.clone()));
    assert_eq!(r.users.by_id(ada.id).await.expect("by id"), Some(ada.clone()));
    let twin = User { id: UserId::new(), ..user("ada@example.com") };
    let res = r.users.create(&twin).await;
    assert!(matches!(res, Err(Error::Conflict(_))), "a taken e-mail: {res:?}");
    assert_eq!(r.users.by_id(twin.id).await.expect("by id"), None, "the conflicting user was not stored");
    assert_eq!(r.users.by_email(&Email::parse("bob@example.com").expect("email")).await.expect("by email"), None);
    assert_eq!(r.users.by_email(&ada.email).await.expect("by email"), Some(ada));
}
