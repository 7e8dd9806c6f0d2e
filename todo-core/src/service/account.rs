//! Accounts: registration, sign-in with argon2id password hashes, throttling of
//! sign-in attempts per (account, client address), and a cap on concurrent
//! password hashing (each argon2id computation takes 19 MiB and a core).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::user::EMAIL_MAX_LEN;
use crate::domain::{Email, Timezone, User, UserId, ValidationError};
use crate::ports::{Clock, LoginAttempts, UserRepository};
use crate::{Error, Result};

/// Sign-in attempts allowed per (account, client address) within
/// [`THROTTLE_WINDOW_MINUTES`] (default of [`AccountLimits::max_attempts`]).
pub const MAX_FAILED_LOGINS: u32 = 10;
/// The throttling window (default of [`AccountLimits::window`]).
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Default of [`AccountLimits::hash_queue`].
pub const HASH_QUEUE: usize = 16;
/// Shortest accepted password, in characters (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest accepted password, in bytes (bounds hashing work).
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// `POST /api/v1/auth/register`.
#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The sign-in address.
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
    /// The password.
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
fn params() -> Params {
    Params::new(19_456, 2, 1, None).expect("valid argon2 params")
}

/// argon2id's working memory (19 MiB). Hashing slots reuse one buffer each:
/// buffers of this size, allocated and freed on many blocking threads, would
/// otherwise linger in the allocator's per-thread arenas and grow the process by
/// hundreds of MiB under a flood of sign-ins.
type Memory = Vec<Block>;

fn new_memory() -> Memory {
    vec![Block::default(); params().block_count()]
}

/// The raw argon2 output of `password` with the parameters of a PHC hash.
fn compute(
    password: &[u8],
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Salt<'_>,
    memory: &mut Memory,
) -> std::result::Result<Output, argon2::password_hash::Error> {
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf)?;
    if memory.len() < params.block_count() {
        // A hash stored with more memory than ours: a buffer of its own.
        memory.resize(params.block_count(), Block::default());
    }
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon2 = Argon2::new(algorithm, version, params);
    let blocks = argon2.params().block_count();
    Output::init_with(len, |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])?)
    })
}

/// `password` hashed into a PHC string with a fresh salt, in `memory`.
fn hash_in(password: &[u8], memory: &mut Memory) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let output = compute(password, Algorithm::Argon2id, Version::V0x13, params(), salt.as_salt(), memory)
        .map_err(Error::internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(Error::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (constant-time comparison), in `memory`.
fn verify_in(password: &[u8], phc: &str, memory: &mut Memory) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(Error::internal)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(Error::internal)?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(Error::internal)?.unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(Error::internal)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(Error::internal("stored password hash without salt or hash"));
    };
    let output = compute(password, algorithm, version, params, salt, memory).map_err(Error::internal)?;
    // `Output`'s equality is constant-time.
    Ok(output == expected)
}

/// Runs `f` with `memory` on the blocking pool (argon2 is CPU-heavy) and hands the memory back.
async fn on_blocking<T: Send + 'static>(
    mut memory: Memory,
    f: impl FnOnce(&mut Memory) -> Result<T> + Send + 'static,
) -> (Result<T>, Option<Memory>) {
    match tokio::task::spawn_blocking(move || {
        let r = f(&mut memory);
        (r, memory)
    })
    .await
    {
        Ok((r, memory)) => (r, Some(memory)),
        Err(e) => (Err(Error::internal(e)), None),
    }
}

/// Hashes `password` into a PHC string (CPU-heavy: runs on the blocking pool).
pub async fn hash_password(password: String) -> Result<String> {
    on_blocking(new_memory(), move |m| hash_in(password.as_bytes(), m)).await.0
}

/// Checks `password` against a PHC string (on the blocking pool).
pub async fn verify_password(password: String, phc: String) -> Result<bool> {
    on_blocking(new_memory(), move |m| verify_in(password.as_bytes(), &phc, m)).await.0
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

/// The limits of sign-in and registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountLimits {
    /// Sign-in attempts per (account, client address) in one window; the next
    /// ones get [`Error::RateLimited`] until the window ends. Default 10.
    pub max_attempts: u32,
    /// The throttling window. Default 15 minutes.
    pub window: Duration,
    /// Password hashes (argon2id, 19 MiB and one core each) computed at once.
    /// Default: the number of CPU cores.
    pub hash_concurrency: usize,
    /// Sign-ins and registrations that may wait for a hashing slot; beyond them,
    /// [`Error::Overloaded`]. Default 16.
    pub hash_queue: usize,
}

impl Default for AccountLimits {
    fn default() -> Self {
        Self {
            max_attempts: MAX_FAILED_LOGINS,
            window: Duration::minutes(THROTTLE_WINDOW_MINUTES),
            hash_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            hash_queue: HASH_QUEUE,
        }
    }
}

/// Admission to password hashing: at most `concurrency` hashes run, at most
/// `queue` more wait; anyone beyond is turned away at once instead of piling up
/// 19 MiB allocations on the blocking pool.
struct HashGate {
    admitted: Arc<tokio::sync::Semaphore>,
    running: Arc<tokio::sync::Semaphore>,
    /// The working memory of the slots not in use (at most `concurrency` buffers).
    memory: Arc<std::sync::Mutex<Vec<Memory>>>,
}

/// Held while one hash is computed: a place to run and its working memory.
struct HashSlot {
    _admitted: tokio::sync::OwnedSemaphorePermit,
    _running: tokio::sync::OwnedSemaphorePermit,
    pool: Arc<std::sync::Mutex<Vec<Memory>>>,
}

impl HashSlot {
    /// Runs `f` on the blocking pool with this slot's working memory.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Memory) -> Result<T> + Send + 'static) -> Result<T> {
        let memory = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let (result, memory) = on_blocking(memory.unwrap_or_else(new_memory), f).await;
        if let Some(m) = memory {
            self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(m);
        }
        result
    }
}

impl HashGate {
    fn new(limits: &AccountLimits) -> Self {
        let concurrency = limits.hash_concurrency.max(1);
        Self {
            admitted: Arc::new(tokio::sync::Semaphore::new(concurrency + limits.hash_queue)),
            running: Arc::new(tokio::sync::Semaphore::new(concurrency)),
            memory: Arc::new(std::sync::Mutex::new(Vec::new())),
        }
    }

    async fn slot(&self) -> Result<HashSlot> {
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("todo_password_hash_rejected_total").increment(1);
            Error::Overloaded { retry_after_secs: 1 }
        })?;
        let running = self.running.clone().acquire_owned().await.map_err(Error::internal)?;
        Ok(HashSlot { _admitted: admitted, _running: running, pool: self.memory.clone() })
    }
}

/// Registration and sign-in.
#[derive(Clone)]
pub struct AccountService {
    users: Arc<dyn UserRepository>,
    attempts: Arc<dyn LoginAttempts>,
    clock: Arc<dyn Clock>,
    limits: AccountLimits,
    gate: Arc<HashGate>,
    /// A real hash of a random password, verified against when the account does not
    /// exist, so that unknown and known e-mails take the same time.
    decoy_hash: Arc<tokio::sync::OnceCell<String>>,
}

impl AccountService {
    /// The service with the default [`AccountLimits`].
    pub fn new(users: Arc<dyn UserRepository>, attempts: Arc<dyn LoginAttempts>, clock: Arc<dyn Clock>) -> Self {
        Self::with_limits(users, attempts, clock, AccountLimits::default())
    }

    /// The service with `limits`.
    pub fn with_limits(
        users: Arc<dyn UserRepository>,
        attempts: Arc<dyn LoginAttempts>,
        clock: Arc<dyn Clock>,
        limits: AccountLimits,
    ) -> Self {
        let gate = Arc::new(HashGate::new(&limits));
        Self { users, attempts, clock, limits, gate, decoy_hash: Arc::new(tokio::sync::OnceCell::new()) }
    }

    /// The limits in force.
    pub fn limits(&self) -> &AccountLimits {
        &self.limits
    }

    /// Creates an account ([`Error::Conflict`] if the address is taken); the password, 8 characters or more, is stored hashed (argon2id).
    pub async fn register(&self, r: Registration) -> Result<User> {
        check_password(&r.password)?;
        if self.users.by_email(&r.email).await?.is_some() {
            return Err(Error::Conflict("an account with this e-mail already exists".into()));
        }
        let password = r.password;
        let password_hash = self.gate.slot().await?.run(move |m| hash_in(password.as_bytes(), m)).await?;
        let user = User {
            id: UserId::new(),
            email: r.email,
            password_hash,
            timezone: r.timezone.unwrap_or_default(),
            created_at: self.clock.now(),
        };
        self.users.create(&user).await?;
        Ok(user)
    }

    /// The user whose credentials these are, signing in from `client` (an IP
    /// address). Every failure is the same [`Error::Unauthorized`] (never saying
    /// whether the e-mail exists). Each attempt is counted for (account, client)
    /// before the password is checked, in one atomic step; past
    /// [`AccountLimits::max_attempts`] in the window, [`Error::RateLimited`]
    /// without checking. A success clears the pair's count. When every hashing
    /// slot is taken and the queue is full, [`Error::Overloaded`].
    pub async fn login(&self, c: Credentials, client: &str) -> Result<User> {
        let account = c.email.trim().to_lowercase();
        if account.len() > EMAIL_MAX_LEN {
            // No account has such an address: nothing to throttle, nothing to hash.
            return Err(Error::Unauthorized);
        }
        let client: String = client.chars().take(64).collect();
        let now = self.clock.now();
        let window = self.attempts.count_attempt(&account, &client, now, self.limits.window).await?;
        if window.attempts > u64::from(self.limits.max_attempts) {
            let retry = (window.started + self.limits.window - now).num_seconds().max(1) as u64;
            metrics::counter!("todo_login_throttled_total").increment(1);
            return Err(Error::RateLimited { retry_after_secs: retry });
        }
        let user = match Email::parse(&account) {
            Ok(email) => self.users.by_email(&email).await?,
            Err(_) => None,
        };
        let password_ok = {
            let slot = self.gate.slot().await?;
            match &user {
                Some(u) if c.password.len() <= PASSWORD_MAX_BYTES => {
                    let (password, phc) = (c.password, u.password_hash.clone());
                    slot.run(move |m| verify_in(password.as_bytes(), &phc, m)).await?
                }
                _ => {
                    let decoy = self
                        .decoy_hash
                        .get_or_try_init(|| {
                            let decoy = format!("decoy-{}", UserId::new());
                            slot.run(move |m| hash_in(decoy.as_bytes(), m))
                        })
                        .await?
                        .clone();
                    let password: String = c.password.chars().take(64).collect();
                    let _ = slot.run(move |m| verify_in(password.as_bytes(), &decoy, m)).await?;
                    false
                }
            }
        };
        match user {
            Some(u) if password_ok => {
                self.attempts.clear(&account, &client).await?;
                Ok(u)
            }
            _ => Err(Error::Unauthorized),
        }
    }

    /// Forgets throttling windows that ended (run now and then to bound the table).
    pub async fn prune_attempts(&self) -> Result<u64> {
        self.attempts.prune(self.clock.now() - self.limits.window).await
    }

    /// The user with id `id` ([`Error::NotFound`] if none).
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.users.by_id(id).await?.ok_or(Error::NotFound("user"))
    }
}

#[cfg(test)]
mod tests;
