//! The one error type of the core: what went wrong, sorted by what a caller can do
//! about it. Adapters convert their native errors into it.

use crate::domain::ValidationError;

/// A result with [`Error`] as the error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core and its adapters; each variant is
/// one thing a caller can do about it (the HTTP layer maps each to a status).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that does not parse or breaks a rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A filter query that does not parse (with where it goes wrong).
    #[error(transparent)]
    InvalidFilter(#[from] crate::filter::FilterError),
    /// The thing does not exist for this user (it may exist for another: we do not say).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change conflicts with the current state (e.g. the e-mail is taken).
    #[error("{0}")]
    Conflict(String),
    /// Optimistic concurrency: the caller's version is not the current one.
    #[error("version mismatch: the task is at version {current}")]
    VersionMismatch {
        /// The task's current version.
        current: i64,
    },
    /// The work was already done (an idempotency key exists): a success for callers
    /// that deliver at least once.
    #[error("already processed: {0}")]
    Duplicate(String),
    /// The credentials were not accepted; which part was wrong is never said.
    #[error("authentication failed")]
    Unauthorized,
    /// The caller is who they say, but may not do this (e.g. a read-only token
    /// asked for a change).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Too many sign-in attempts: retry after the given seconds.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// The server is at capacity (e.g. every password-hashing slot is taken and
    /// the queue is full): retry after the given seconds.
    #[error("overloaded; retry in {retry_after_secs} s")]
    Overloaded {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// A dependency (database, event log) cannot be reached; retrying may help.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or a broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An [`Error::Internal`] with `e`'s message.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    /// Whether retrying the same operation later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Overloaded { .. })
    }
}

/// `e` and its sources, `: `-separated: the whole cause in one line, for errors
/// that become text (a core [`Error`] keeps only text).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
