//! The per-user request rate limit: every authenticated request of a user draws
//! from that user's bucket (GCRA, the `governor` crate); an empty bucket answers
//! 429 `rate_limited` with `Retry-After`. Users never slow each other down.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use todo_core::domain::UserId;

use super::error::ApiError;

/// Requests per second and burst of each user.
pub struct UserRateLimit {
    limiter: DefaultKeyedRateLimiter<UserId>,
    clock: DefaultClock,
    per_second: NonZeroU32,
}

impl std::fmt::Debug for UserRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRateLimit").field("per_second", &self.per_second).finish_non_exhaustive()
    }
}

impl UserRateLimit {
    /// `per_second` requests per second sustained, up to `burst` at once (at
    /// least `per_second`); `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        let per_second = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst).map_or(per_second, |b| b.max(per_second));
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            clock: DefaultClock::default(),
            per_second,
        })
    }

    /// Takes one request from `user`'s bucket, or says when to come back.
    pub fn check(&self, user: UserId) -> Result<(), ApiError> {
        self.limiter.check_key(&user).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Whole seconds, rounded up: a client that waits this long gets through.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            metrics::counter!("http_rate_limited_total").increment(1);
            ApiError::rate_limited(
                secs.max(1),
                format!("too many requests (more than {} per second); slow down", self.per_second),
            )
        })
    }

    /// Forgets users whose bucket is full again (run now and then to bound memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
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
            limit.check(a).expect("within the burst");
        }
        let e = limit.check(a).expect_err("over the burst");
        assert_eq!(e.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        assert_eq!(e.retry_after, Some(1));
        limit.check(b).expect("another user has their own bucket");
        limit.forget_idle();
    }

    #[test]
    fn zero_is_no_limit() {
        assert!(UserRateLimit::new(0, 10).is_none());
    }
}
