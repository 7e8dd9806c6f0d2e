//! Keyed request rate limits (GCRA, the `governor` crate): every signed-in
//! user's authenticated requests draw from that user's bucket, every client
//! address's requests to `/api/v1/auth/*` from that address's bucket, and each
//! user's audit verifications from a bucket of their own. An empty bucket answers
//! 429 `rate_limited` with `Retry-After`. Keys never slow each other down. And
//! the count of each user's open WebSockets ([`SocketCounts`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use todo_core::domain::UserId;

use super::error::ApiError;

/// A rate limit per key: a sustained rate and a burst.
pub struct RateLimit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    /// "20 per second", for the error message.
    rate: String,
}

/// Requests per second and burst of each signed-in user.
pub type UserRateLimit = RateLimit<UserId>;

/// Requests per minute and burst of each client address.
pub type IpRateLimit = RateLimit<IpAddr>;

impl<K: Hash + Eq + Clone> std::fmt::Debug for RateLimit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").field("rate", &self.rate).finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    /// `per_second` requests per second sustained, up to `burst` at once (at
    /// least `per_second`); `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst).map_or(rate, |b| b.max(rate));
        Some(Self::with_quota(Quota::per_second(rate).allow_burst(burst), format!("{rate} per second")))
    }

    /// `per_minute` requests per minute sustained, up to `burst` at once (at least
    /// 1); `None` when `per_minute` is 0 (no limit).
    pub fn per_minute(per_minute: u32, burst: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Some(Self::with_quota(Quota::per_minute(rate).allow_burst(burst), format!("{rate} per minute")))
    }

    fn with_quota(quota: Quota, rate: String) -> Self {
        Self { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default(), rate }
    }

    /// Takes one request from `key`'s bucket, or says when to come back.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Whole seconds, rounded up: a client that waits this long gets through.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            metrics::counter!("http_rate_limited_total").increment(1);
            ApiError::rate_limited(secs.max(1), format!("too many requests (more than {}); slow down", self.rate))
        })
    }

    /// Forgets keys whose bucket is full again (run now and then to bound memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Open sockets per user.
#[derive(Clone, Debug, Default)]
pub struct SocketCounts(Arc<Mutex<HashMap<UserId, usize>>>);

/// One open socket of a user; dropping it frees the place.
pub struct SocketSlot {
    counts: SocketCounts,
    user: UserId,
}

impl SocketCounts {
    /// A place for one more socket of `user`, if they hold fewer than `max`.
    pub fn take(&self, user: UserId, max: usize) -> Option<SocketSlot> {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(user).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SocketSlot { counts: self.clone(), user })
    }

    /// Sockets `user` holds.
    pub fn of(&self, user: UserId) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&user).copied().unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_429_per_user() {
        let limit = UserRateLimit::new(1, 3).expect("a limit");
        let (a, b) = (UserId::new(), UserId::new());
        for _ in 0..3 {
            limit.check(&a).expect("within the burst");
        }
        let e = limit.check(&a).expect_err("over the burst");
        assert_eq!(e.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        assert_eq!(e.retry_after, Some(1));
        limit.check(&b).expect("another user has their own bucket");
        limit.forget_idle();
    }

    #[test]
    fn per_minute_limits_say_when_to_come_back() {
        let limit = IpRateLimit::per_minute(6, 2).expect("a limit");
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        limit.check(&ip).expect("1");
        limit.check(&ip).expect("2");
        let e = limit.check(&ip).expect_err("over the burst");
        assert!(e.retry_after.is_some_and(|s| (1..=10).contains(&s)), "{:?}", e.retry_after);
        assert!(e.message.contains("6 per minute"), "{}", e.message);
        limit.check(&"192.0.2.8".parse().unwrap()).expect("another address");
    }

    #[test]
    fn zero_is_no_limit() {
        assert!(UserRateLimit::new(0, 10).is_none());
        assert!(IpRateLimit::per_minute(0, 10).is_none());
    }
}
