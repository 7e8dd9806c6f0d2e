//! The contracts of the credential stores: API tokens and calendar feeds, found
//! by the hash of their secret, scoped to their user for listing and revoking.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::domain::{ApiToken, CalendarFeed, Scopes, SecretHash, TokenId, TokenName, UserId};
use crate::ports::Ports;

/// Gives the ports of a fresh, empty store (one fixture per contract).
#[async_trait]
pub trait CredentialFixture: Send + Sync {
    /// The ports of a fresh, empty store.
    async fn open(&self) -> Ports;
}

/// Runs every contract of this module, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn CredentialFixture>>,
{
    tokens_by_hash_and_per_user(&*make().await).await;
    feeds_rotate_and_revoke(&*make().await).await;
}

fn t0() -> DateTime<Utc> {
    "2026-11-26T09:00:00.000001Z".parse().expect("an instant")
}

fn token(user: UserId, name: &str, secret: &str, at: DateTime<Utc>, scopes: Scopes) -> ApiToken {
    ApiToken {
        id: TokenId::new(),
        user_id: user,
        name: TokenName::parse(name).expect("name"),
        scopes,
        hash: SecretHash::of(secret),
        created_at: at,
        last_used_at: None,
        expires_at: Some(at + Duration::days(30)),
    }
}

/// Tokens round-trip, are found by hash, listed newest first per user, touched,
/// and revoked only by their owner; a hash is unique.
pub async fn tokens_by_hash_and_per_user(f: &dyn CredentialFixture) {
    let p = f.open().await;
    let (a, b) = (UserId::new(), UserId::new());
    let a1 = token(a, "laptop", "secret-a1", t0(), Scopes::READ);
    let a2 = token(a, "phone", "secret-a2", t0() + Duration::seconds(1), Scopes::READ_WRITE);
    let b1 = ApiToken { expires_at: None, ..token(b, "bob's", "secret-b1", t0(), Scopes::READ) };
    for t in [&a1, &a2, &b1] {
        p.api_tokens.create_token(t).await.expect("create");
    }
    let dup = token(b, "copy", "secret-a1", t0(), Scopes::READ);
    assert!(
        matches!(p.api_tokens.create_token(&dup).await, Err(crate::Error::Conflict(_))),
        "two tokens never share a secret hash"
    );
    assert_eq!(p.api_tokens.tokens(a).await.expect("list"), vec![a2.clone(), a1.clone()], "newest first, A's only");
    assert_eq!(p.api_tokens.tokens(b).await.expect("list"), vec![b1.clone()]);
    assert_eq!(p.api_tokens.token_by_hash(&SecretHash::of("secret-a2")).await.expect("find"), Some(a2.clone()));
    assert_eq!(p.api_tokens.token_by_hash(&SecretHash::of("nope")).await.expect("find"), None);

    let used = t0() + Duration::minutes(5);
    p.api_tokens.touch_token(a1.id, used).await.expect("touch");
    let found = p.api_tokens.token_by_hash(&a1.hash).await.expect("find").expect("a1");
    assert_eq!(found.last_used_at, Some(used), "touch records the use");

    assert!(!p.api_tokens.revoke_token(b, a1.id).await.expect("revoke"), "B cannot revoke A's token");
    assert!(p.api_tokens.token_by_hash(&a1.hash).await.expect("find").is_some(), "A's token still works");
    assert!(p.api_tokens.revoke_token(a, a1.id).await.expect("revoke"), "A revokes A's token");
    assert!(!p.api_tokens.revoke_token(a, a1.id).await.expect("revoke"), "once");
    assert_eq!(p.api_tokens.token_by_hash(&a1.hash).await.expect("find"), None, "a revoked token is gone");
    assert_eq!(p.api_tokens.tokens(a).await.expect("list"), vec![a2]);
}

/// One feed per user: putting another replaces it (the old hash stops
/// resolving), deleting removes it, users never touch each other's.
pub async fn feeds_rotate_and_revoke(f: &dyn CredentialFixture) {
    let p = f.open().await;
    let (a, b) = (UserId::new(), UserId::new());
    let feed = |user, secret: &str, at| CalendarFeed { user_id: user, hash: SecretHash::of(secret), created_at: at };
    assert_eq!(p.calendar_feeds.feed(a).await.expect("feed"), None);
    let fa = feed(a, "feed-a", t0());
    let fb = feed(b, "feed-b", t0());
    p.calendar_feeds.put_feed(&fa).await.expect("put");
    p.calendar_feeds.put_feed(&fb).await.expect("put");
    assert_eq!(p.calendar_feeds.feed(a).await.expect("feed"), Some(fa.clone()));
    assert_eq!(p.calendar_feeds.feed_by_hash(&fa.hash).await.expect("find"), Some(fa.clone()));

    let rotated = feed(a, "feed-a2", t0() + Duration::hours(1));
    p.calendar_feeds.put_feed(&rotated).await.expect("rotate");
    assert_eq!(p.calendar_feeds.feed_by_hash(&fa.hash).await.expect("find"), None, "the old secret stops working");
    assert_eq!(p.calendar_feeds.feed_by_hash(&rotated.hash).await.expect("find"), Some(rotated.clone()));
    assert_eq!(p.calendar_feeds.feed(a).await.expect("feed"), Some(rotated));
    assert_eq!(p.calendar_feeds.feed(b).await.expect("feed"), Some(fb.clone()), "B's feed is untouched");

    assert!(p.calendar_feeds.delete_feed(a).await.expect("delete"));
    assert!(!p.calendar_feeds.delete_feed(a).await.expect("delete"), "once");
    assert_eq!(p.calendar_feeds.feed(a).await.expect("feed"), None);
    assert_eq!(
        p.calendar_feeds.feed_by_hash(&fb.hash).await.expect("find"),
        Some(fb),
        "B's feed survives A's revocation"
    );
}
