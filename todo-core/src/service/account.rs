//! Accounts: registration, sign-in with argon2id password hashes, and throttling
//! of failed sign-ins (10 per account per 15 minutes).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Email, Timezone, User, UserId, ValidationError};
use crate::ports::{Clock, LoginAttempts, UserRepository};
use crate::{Error, Result};

/// Failed sign-ins allowed per account within [`THROTTLE_WINDOW_MINUTES`].
pub const MAX_FAILED_LOGINS: usize = 10;
/// The throttling window.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Shortest accepted password, in characters (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest accepted password, in bytes (bounds hashing work).
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// `POST /api/v1/auth/register`.
#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub email: Email,
    /// 8 characters or more.
    pub password: String,
    /// IANA name; default `UTC`.
    #[serde(default)]
    pub timezone: Option<Timezone>,
}

/// `POST /api/v1/auth/login`.
#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Taken as given: a malformed address simply matches no account.
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration").field("email", &self.email).field("password", &"<redacted>").finish()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).field("password", &"<redacted>").finish()
    }
}

/// argon2id with OWASP's recommended minimum: m = 19456 KiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).expect("valid argon2 params"))
}

/// Hashes `password` into a PHC string (CPU-heavy: runs on the blocking pool).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(Error::internal)
    })
    .await
    .map_err(Error::internal)?
}

/// Checks `password` against a PHC string (on the blocking pool).
pub async fn verify_password(password: String, phc: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(Error::internal)?;
        Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(Error::internal)?
}

fn check_password(p: &str) -> std::result::Result<(), ValidationError> {
    if p.chars().count() < PASSWORD_MIN_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("password must be at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if p.len() > PASSWORD_MAX_BYTES {
        return Err(ValidationError::new("password", format!("password must be at most {PASSWORD_MAX_BYTES} bytes")));
    }
    Ok(())
}

/// Registration and sign-in.
#[derive(Clone)]
pub struct AccountService {
    users: Arc<dyn UserRepository>,
    attempts: Arc<dyn LoginAttempts>,
    clock: Arc<dyn Clock>,
    /// A real hash of a random password, verified against when the account does not
    /// exist, so that unknown and known e-mails take the same time.
    decoy_hash: Arc<tokio::sync::OnceCell<String>>,
}

impl AccountService {
    pub fn new(users: Arc<dyn UserRepository>, attempts: Arc<dyn LoginAttempts>, clock: Arc<dyn Clock>) -> Self {
        Self { users, attempts, clock, decoy_hash: Arc::new(tokio::sync::OnceCell::new()) }
    }

    pub async fn register(&self, r: Registration) -> Result<User> {
        check_password(&r.password)?;
        if self.users.by_email(&r.email).await?.is_some() {
            return Err(Error::Conflict("an account with this e-mail already exists".into()));
        }
        let user = User {
            id: UserId::new(),
            email: r.email,
            password_hash: hash_password(r.password).await?,
            timezone: r.timezone.unwrap_or_default(),
            created_at: self.clock.now(),
        };
        self.users.create(&user).await?;
        Ok(user)
    }

    /// The user whose credentials these are. Every failure is the same
    /// [`Error::Unauthorized`] (never saying whether the e-mail exists); after
    /// [`MAX_FAILED_LOGINS`] failures in the window, [`Error::RateLimited`].
    pub async fn login(&self, c: Credentials) -> Result<User> {
        let account = c.email.trim().to_lowercase();
        let now = self.clock.now();
        let window = Duration::minutes(THROTTLE_WINDOW_MINUTES);
        let failures = self.attempts.failures_since(&account, now - window).await?;
        if failures.len() >= MAX_FAILED_LOGINS {
            let oldest_relevant = failures[failures.len() - MAX_FAILED_LOGINS];
            let retry = (oldest_relevant + window - now).num_seconds().max(1) as u64;
            return Err(Error::RateLimited { retry_after_secs: retry });
        }
        let user = match Email::parse(&account) {
            Ok(email) => self.users.by_email(&email).await?,
            Err(_) => None,
        };
        let password_ok = match &user {
            Some(u) if c.password.len() <= PASSWORD_MAX_BYTES => {
                verify_password(c.password, u.password_hash.clone()).await?
            }
            _ => {
                let decoy = self
                    .decoy_hash
                    .get_or_try_init(|| hash_password(format!("decoy-{}", UserId::new())))
                    .await?
                    .clone();
                let _ = verify_password(c.password.chars().take(64).collect(), decoy).await?;
                false
            }
        };
        match user {
            Some(u) if password_ok => {
                self.attempts.clear(&account).await?;
                Ok(u)
            }
            _ => {
                self.attempts.record_failure(&account, now).await?;
                Err(Error::Unauthorized)
            }
        }
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        self.users.by_id(id).await?.ok_or(Error::NotFound("user"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{ManualClock, MemoryStore};

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
        assert_eq!(s.login(creds("ADA@example.com ", "correct horse")).await.unwrap().id, u.id);
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
        assert!(matches!(s.login(creds("ada@example.com", "wrong horse")).await, Err(Error::Unauthorized)));
        assert!(matches!(s.login(creds("bob@example.com", "correct horse")).await, Err(Error::Unauthorized)));
        assert!(matches!(s.login(creds("not an email", "x")).await, Err(Error::Unauthorized)));
    }

    #[tokio::test]
    async fn throttles_after_ten_failures_then_recovers() {
        let (s, clock) = service();
        s.register(reg("ada@example.com", "correct horse")).await.unwrap();
        for _ in 0..MAX_FAILED_LOGINS {
            assert!(matches!(s.login(creds("ada@example.com", "nope nope")).await, Err(Error::Unauthorized)));
            clock.advance(Duration::seconds(10));
        }
        // Even the right password is refused while throttled.
        match s.login(creds("ada@example.com", "correct horse")).await {
            Err(Error::RateLimited { retry_after_secs }) => {
                assert!(retry_after_secs > 0 && retry_after_secs <= 15 * 60);
            }
            other => panic!("expected rate limiting, got {other:?}"),
        }
        clock.advance(Duration::minutes(15));
        assert!(s.login(creds("ada@example.com", "correct horse")).await.is_ok());
    }
}
