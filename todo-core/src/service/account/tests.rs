use super::*;
use crate::memory::{ManualClock, MemoryStore};
use crate::ports::SystemClock;

const IP: &str = "192.0.2.1";

fn service() -> (AccountService, ManualClock) {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at("2026-11-26T09:00:00Z");
    (AccountService::new(store.clone(), store, Arc::new(clock.clone())), clock)
}

fn reg(email: &str, pw: &str) -> Registration {
    Registration { email: Email::parse(email).unwrap(), password: pw.into(), timezone: None }
}

fn creds(email: &str, pw: &str) -> Credentials {
    Credentials { email: email.into(), password: pw.into() }
}

#[tokio::test]
async fn register_then_login() {
    let (s, _) = service();
    let u = s.register(reg("ada@example.com", "correct horse")).await.unwrap();
    assert!(u.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_eq!(s.login(creds("ADA@example.com ", "correct horse"), IP).await.unwrap().id, u.id);
}

/// Hashes made here verify with the argon2 crate's own verifier and back.
#[tokio::test]
async fn hashes_match_the_argon2_crate() {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    let ours = hash_password("correct horse".into()).await.unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
    assert!(Argon2::default().verify_password(b"wrong horse", &parsed).is_err());
    let a2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
    let theirs = a2.hash_password(b"correct horse", &SaltString::generate(&mut OsRng)).unwrap().to_string();
    assert!(verify_password("correct horse".into(), theirs.clone()).await.unwrap());
    assert!(!verify_password("wrong horse".into(), theirs).await.unwrap());
}

#[tokio::test]
async fn duplicate_email_conflicts() {
    let (s, _) = service();
    s.register(reg("ada@example.com", "correct horse")).await.unwrap();
    assert!(matches!(s.register(reg("Ada@Example.com", "another one")).await, Err(Error::Conflict(_))));
}

#[tokio::test]
async fn short_password_rejected() {
    let (s, _) = service();
    assert!(matches!(s.register(reg("ada@example.com", "short")).await, Err(Error::Validation(_))));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let (s, _) = service();
    s.register(reg("ada@example.com", "correct horse")).await.unwrap();
    assert!(matches!(s.login(creds("ada@example.com", "wrong horse"), IP).await, Err(Error::Unauthorized)));
    assert!(matches!(s.login(creds("bob@example.com", "correct horse"), IP).await, Err(Error::Unauthorized)));
    assert!(matches!(s.login(creds("not an email", "x"), IP).await, Err(Error::Unauthorized)));
}

#[tokio::test]
async fn throttles_after_ten_attempts_then_recovers() {
    let (s, clock) = service();
    s.register(reg("ada@example.com", "correct horse")).await.unwrap();
    for _ in 0..MAX_FAILED_LOGINS {
        assert!(matches!(s.login(creds("ada@example.com", "nope nope"), IP).await, Err(Error::Unauthorized)));
        clock.advance(Duration::seconds(10));
    }
    // Even the right password is refused from this address while throttled.
    match s.login(creds("ada@example.com", "correct horse"), IP).await {
        Err(Error::RateLimited { retry_after_secs }) => {
            assert!(retry_after_secs > 0 && retry_after_secs <= 15 * 60);
        }
        other => panic!("expected rate limiting, got {other:?}"),
    }
    clock.advance(Duration::minutes(15));
    assert!(s.login(creds("ada@example.com", "correct horse"), IP).await.is_ok());
}

/// Guessing from one address never locks the owner out from another.
#[tokio::test]
async fn the_owner_signs_in_from_another_address_while_one_is_throttled() {
    let (s, _) = service();
    s.register(reg("ada@example.com", "correct horse")).await.unwrap();
    for _ in 0..=MAX_FAILED_LOGINS {
        let _ = s.login(creds("ada@example.com", "nope nope"), "203.0.113.9").await;
    }
    assert!(matches!(
        s.login(creds("ada@example.com", "correct horse"), "203.0.113.9").await,
        Err(Error::RateLimited { .. })
    ));
    assert!(s.login(creds("ada@example.com", "correct horse"), "198.51.100.7").await.is_ok());
}

/// N parallel guesses: exactly `max_attempts` get their password checked.
#[tokio::test]
async fn parallel_guesses_cannot_pass_the_check_together() {
    let (s, _) = service();
    s.register(reg("ada@example.com", "correct horse")).await.unwrap();
    let guesses: Vec<_> = (0..30)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.login(creds("ada@example.com", "nope nope"), IP).await })
        })
        .collect();
    let (mut checked, mut throttled) = (0, 0);
    for g in guesses {
        match g.await.unwrap() {
            Err(Error::Unauthorized) => checked += 1,
            Err(Error::RateLimited { .. }) => throttled += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((checked, throttled), (MAX_FAILED_LOGINS as usize, 30 - MAX_FAILED_LOGINS as usize));
}

#[tokio::test]
async fn overlong_accounts_are_refused_without_work() {
    let (s, _) = service();
    let long = format!("{}@example.com", "a".repeat(10_000));
    assert!(matches!(s.login(creds(&long, "whatever1"), IP).await, Err(Error::Unauthorized)));
}

/// Beyond the running hashes and the queue, sign-ins are turned away at once.
#[tokio::test]
async fn hashing_is_capped_with_a_short_queue() {
    let store = Arc::new(MemoryStore::new());
    let limits = AccountLimits { hash_concurrency: 1, hash_queue: 2, ..AccountLimits::default() };
    let s = AccountService::with_limits(store.clone(), store, Arc::new(SystemClock), limits);
    let tries: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.login(creds(&format!("u{i}@example.com"), "nope nope"), IP).await })
        })
        .collect();
    let mut overloaded = 0;
    for t in tries {
        if let Err(Error::Overloaded { retry_after_secs }) = t.await.unwrap() {
            assert_eq!(retry_after_secs, 1);
            overloaded += 1;
        }
    }
    assert!(overloaded >= 12 - 3, "at most 1 running + 2 waiting got through; {overloaded} were turned away");
}
