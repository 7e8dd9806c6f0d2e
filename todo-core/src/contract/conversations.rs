//! The conversation-store contract: conversations and messages round-trip, every
//! access is scoped to the conversation's user (another user's conversation does
//! not exist for them), `save` changes only the listing and `updated_at`, and
//! `append` numbers messages 1, 2, 3... without gaps or repeats under concurrency.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::Error;
use crate::domain::{Action, Conversation, ConversationId, Message, Role, TaskId, UserId};
use crate::ports::ConversationStore;

/// Gives a fresh, empty conversation store.
#[async_trait]
pub trait ConversationFixture: Send + Sync {
    /// A fresh, empty conversation store.
    async fn open(&self) -> Arc<dyn ConversationStore>;
}

/// Runs every contract of this module, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn ConversationFixture>>,
{
    conversations_round_trip(&*make().await).await;
    messages_round_trip_in_order(&*make().await).await;
    other_users_see_nothing(&*make().await).await;
    concurrent_appends_number_without_gaps(&*make().await).await;
}

fn t0() -> DateTime<Utc> {
    "2026-11-26T09:00:00.123456Z".parse().expect("an RFC 3339 instant")
}

fn conversation(user: UserId) -> Conversation {
    Conversation::start(user, t0())
}

fn message(c: &Conversation, role: Role, content: &str, n: i64) -> Message {
    Message {
        seq: 0,
        conversation_id: c.id,
        role,
        content: content.to_owned(),
        actions: vec![],
        created_at: t0() + Duration::seconds(n),
    }
}

/// A conversation reads back as created; `save` stores the listing and
/// `updated_at` (nothing else); a second create of the same id is a conflict.
pub async fn conversations_round_trip(f: &dyn ConversationFixture) {
    let store = f.open().await;
    let user = UserId::new();
    let c = conversation(user);
    store.create(&c).await.expect("create");
    assert_eq!(store.get(user, c.id).await.expect("get"), Some(c.clone()));
    assert_eq!(store.get(user, ConversationId::new()).await.expect("get"), None);

    let listing = vec![TaskId::new(), TaskId::new(), TaskId::new()];
    let saved = Conversation {
        updated_at: t0() + Duration::minutes(1),
        last_listing: listing.clone(),
        created_at: t0() + Duration::days(9),
        ..c.clone()
    };
    store.save(&saved).await.expect("save");
    let got = store.get(user, c.id).await.expect("get").expect("the conversation");
    assert_eq!(got.last_listing, listing, "the listing keeps its order");
    assert_eq!(got.updated_at, t0() + Duration::minutes(1));
    assert_eq!(got.created_at, c.created_at, "save changes only the listing and updated_at");
    store.save(&Conversation { last_listing: vec![], ..saved.clone() }).await.expect("save an empty listing");
    assert!(store.get(user, c.id).await.expect("get").expect("the conversation").last_listing.is_empty());

    let again = store.create(&Conversation { last_listing: listing, ..c.clone() }).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "an existing id: {again:?}");
    let missing = store.save(&conversation(user)).await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "saving a conversation never created: {missing:?}");
}

/// Messages get `seq` 1, 2, 3... (whatever the caller set), keep role, content,
/// actions and time, and list oldest first after a `seq`, at most `limit`.
pub async fn messages_round_trip_in_order(f: &dyn ConversationFixture) {
    let store = f.open().await;
    let user = UserId::new();
    let c = conversation(user);
    store.create(&c).await.expect("create");
    let asked = Message { seq: 42, ..message(&c, Role::User, "remind me to pay rent on the 1st at 9am", 1) };
    let answer = Message {
        actions: vec![
            Action {
                tool: "add_task".into(),
                args: json!({"title": "pay rent", "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1", "priority": null}),
                result: json!({"ok": true, "task": {"id": TaskId::new(), "tags": ["home"]}}),
            },
            Action { tool: "help".into(), args: json!({}), result: json!("Ünïcödé ✓") },
        ],
        ..message(&c, Role::Assistant, "Added \"pay rent\" 🏠, every month on the 1st.", 2)
    };
    let mut stored = Vec::new();
    for (i, m) in [asked, answer, message(&c, Role::User, "", 3)].iter().enumerate() {
        let s = store.append(user, m).await.expect("append");
        assert_eq!(s, Message { seq: i as i64 + 1, ..m.clone() }, "the store assigns seq; the rest is kept");
        stored.push(s);
    }
    assert_eq!(store.messages(user, c.id, 0, 100).await.expect("messages"), stored, "oldest first");
    assert_eq!(store.messages(user, c.id, 1, 100).await.expect("messages"), stored[1..], "after a seq");
    assert_eq!(store.messages(user, c.id, 0, 2).await.expect("messages"), stored[..2], "at most limit");
    assert!(store.messages(user, c.id, 3, 100).await.expect("messages").is_empty());
    let empty = conversation(user);
    store.create(&empty).await.expect("create");
    assert!(store.messages(user, empty.id, 0, 100).await.expect("messages").is_empty(), "a new conversation");
    let m = store.append(user, &message(&empty, Role::User, "hello", 1)).await.expect("append");
    assert_eq!(m.seq, 1, "each conversation counts from 1");
}

/// Another user's conversation does not exist: not readable, not savable, no
/// messages to read or append; the owner's data is unchanged.
pub async fn other_users_see_nothing(f: &dyn ConversationFixture) {
    let store = f.open().await;
    let (owner, intruder) = (UserId::new(), UserId::new());
    let c = Conversation { last_listing: vec![TaskId::new()], ..conversation(owner) };
    store.create(&c).await.expect("create");
    let first = store.append(owner, &message(&c, Role::User, "mine", 1)).await.expect("append");

    assert_eq!(store.get(intruder, c.id).await.expect("get"), None, "not readable");
    let stolen = Conversation { user_id: intruder, last_listing: vec![], ..c.clone() };
    let res = store.save(&stolen).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "not savable: {res:?}");
    let res = store.append(intruder, &message(&c, Role::User, "theirs", 2)).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "no appending: {res:?}");
    let res = store.messages(intruder, c.id, 0, 100).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "no reading: {res:?}");
    let res = store.messages(owner, ConversationId::new(), 0, 100).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "an unknown conversation: {res:?}");
    let res = store.append(owner, &message(&conversation(owner), Role::User, "nowhere", 1)).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "appending to an unknown conversation: {res:?}");

    assert_eq!(store.get(owner, c.id).await.expect("get"), Some(c.clone()), "the owner's conversation is unchanged");
    assert_eq!(store.messages(owner, c.id, 0, 100).await.expect("messages"), vec![first]);
}

/// Appends to one conversation from many tasks at once get `seq` 1..=n, each once.
pub async fn concurrent_appends_number_without_gaps(f: &dyn ConversationFixture) {
    const WRITERS: i64 = 8;
    const EACH: i64 = 10;
    let store = f.open().await;
    let user = UserId::new();
    let c = conversation(user);
    store.create(&c).await.expect("create");
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let (store, c) = (store.clone(), c.clone());
        handles.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..EACH {
                let m = message(&c, Role::User, &format!("{w}:{n}"), n);
                seqs.push(store.append(user, &m).await.expect("append").seq);
            }
            seqs
        }));
    }
    let mut seqs = Vec::new();
    for h in handles {
        let mine = h.await.expect("writer");
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "one writer's messages are in its order");
        seqs.extend(mine);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=WRITERS * EACH).collect::<Vec<_>>(), "every seq once, no gap");
    let stored = store.messages(user, c.id, 0, 1000).await.expect("messages");
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=WRITERS * EACH).collect::<Vec<_>>());
}
