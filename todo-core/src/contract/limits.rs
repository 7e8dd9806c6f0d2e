//! The contracts of the abuse limits' storage: sign-in attempts per (account,
//! client) counted atomically, checkpoints of verified audit chains, and the
//! per-user daily LLM budget.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::UserId;
use crate::ports::{AuditCheckpoint, Ports};

/// Gives the ports of a fresh, empty store (one fixture per contract).
#[async_trait]
pub trait LimitFixture: Send + Sync {
    /// The ports of a fresh, empty store.
    async fn open(&self) -> Ports;
}

/// Runs every contract of this module, each on a fresh fixture from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn LimitFixture>>,
{
    login_attempts(&*make().await).await;
    concurrent_attempts_are_counted_once_each(&*make().await).await;
    audit_checkpoints(&*make().await).await;
    llm_budget(&*make().await).await;
}

fn t0() -> DateTime<Utc> {
    "2026-11-26T09:00:00.000001Z".parse().expect("an instant")
}

/// Attempts count per (account, client), the window starts over once it has
/// passed, `clear` forgets one pair, `prune` forgets windows that began long ago.
pub async fn login_attempts(f: &dyn LimitFixture) {
    let p = f.open().await;
    let (t0, window, s) = (t0(), Duration::minutes(15), Duration::seconds);
    for n in 1..=3u64 {
        let w = p
            .login_attempts
            .count_attempt("ada@example.com", "10.0.0.1", t0 + s(n as i64), window)
            .await
            .expect("count");
        assert_eq!((w.attempts, w.started), (n, t0 + s(1)), "attempt {n} of one window");
    }
    let other = p.login_attempts.count_attempt("ada@example.com", "10.0.0.2", t0 + s(5), window).await.expect("count");
    assert_eq!(other.attempts, 1, "another client address has its own window");
    let bob = p.login_attempts.count_attempt("bob@example.com", "10.0.0.1", t0 + s(5), window).await.expect("count");
    assert_eq!(bob.attempts, 1, "another account has its own window");

    let later = t0 + s(1) + window;
    let w = p.login_attempts.count_attempt("ada@example.com", "10.0.0.1", later, window).await.expect("count");
    assert_eq!((w.attempts, w.started), (1, later), "a window that has passed starts over");

    p.login_attempts.clear("ada@example.com", "10.0.0.1").await.expect("clear");
    let w = p.login_attempts.count_attempt("ada@example.com", "10.0.0.1", later + s(1), window).await.expect("count");
    assert_eq!(w.attempts, 1, "cleared");
    let w = p.login_attempts.count_attempt("ada@example.com", "10.0.0.2", t0 + s(6), window).await.expect("count");
    assert_eq!(w.attempts, 2, "clearing one pair leaves the others");

    // ada/10.0.0.2 and bob began at t0+5s; ada/10.0.0.1 at later+1s.
    let pruned = p.login_attempts.prune(t0 + s(5)).await.expect("prune");
    assert_eq!(pruned, 2, "windows that began at or before the instant are pruned");
    let w = p.login_attempts.count_attempt("bob@example.com", "10.0.0.1", t0 + s(7), window).await.expect("count");
    assert_eq!(w.attempts, 1, "a pruned window is gone");
    let w = p.login_attempts.count_attempt("ada@example.com", "10.0.0.1", later + s(2), window).await.expect("count");
    assert_eq!(w.attempts, 2, "a recent window survives pruning");
}

/// Parallel attempts of one pair each get a distinct count: the check and the
/// count are one step, so no number of parallel guesses gets past a limit.
pub async fn concurrent_attempts_are_counted_once_each(f: &dyn LimitFixture) {
    let p = f.open().await;
    let n = 24u64;
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let logins = p.login_attempts.clone();
            tokio::spawn(async move {
                logins.count_attempt("ada@example.com", "10.0.0.9", t0(), Duration::minutes(15)).await.expect("count")
            })
        })
        .collect();
    let mut counts = Vec::new();
    for h in handles {
        counts.push(h.await.expect("join").attempts);
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=n).collect::<Vec<_>>(), "every parallel attempt saw its own count");
}

/// Checkpoints are per user and only move forward.
pub async fn audit_checkpoints(f: &dyn LimitFixture) {
    let p = f.open().await;
    let (a, b) = (UserId::new(), UserId::new());
    assert_eq!(p.checkpoints.checkpoint(a).await.expect("read"), None);
    let cp = |seq: i64| AuditCheckpoint { seq, hash: format!("{seq:064x}") };
    p.checkpoints.save_checkpoint(a, &cp(5), t0()).await.expect("save");
    p.checkpoints.save_checkpoint(b, &cp(2), t0()).await.expect("save");
    assert_eq!(p.checkpoints.checkpoint(a).await.expect("read"), Some(cp(5)));
    p.checkpoints.save_checkpoint(a, &cp(9), t0()).await.expect("save");
    assert_eq!(p.checkpoints.checkpoint(a).await.expect("read"), Some(cp(9)), "moves forward");
    p.checkpoints.save_checkpoint(a, &cp(3), t0()).await.expect("save");
    assert_eq!(p.checkpoints.checkpoint(a).await.expect("read"), Some(cp(9)), "never backwards");
    assert_eq!(p.checkpoints.checkpoint(b).await.expect("read"), Some(cp(2)), "other users keep theirs");
}

/// The budget allows `limit` calls per user and day, in parallel too, and no more.
pub async fn llm_budget(f: &dyn LimitFixture) {
    let p = f.open().await;
    let (a, b) = (UserId::new(), UserId::new());
    let day = NaiveDate::from_ymd_opt(2026, 11, 26).expect("a date");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let budget = p.llm_budget.clone();
            tokio::spawn(async move { budget.take_call(a, day, 5).await.expect("take") })
        })
        .collect();
    let mut granted = 0;
    for h in handles {
        granted += usize::from(h.await.expect("join"));
    }
    assert_eq!(granted, 5, "exactly the budget is granted to parallel calls");
    assert!(!p.llm_budget.take_call(a, day, 5).await.expect("take"), "spent");
    assert!(p.llm_budget.take_call(b, day, 5).await.expect("take"), "another user has their own budget");
    let tomorrow = day.succ_opt().expect("a date");
    assert!(p.llm_budget.take_call(a, tomorrow, 5).await.expect("take"), "a new day, a new budget");
    assert!(!p.llm_budget.take_call(a, day, 0).await.expect("take"), "a budget of 0 grants nothing");
}
