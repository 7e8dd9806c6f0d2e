//! The store's error type: native sqlx errors sorted by what a caller can do about
//! them, then converted into [`todo_core::Error`] at the port boundary.

use std::path::PathBuf;

use sqlx::error::DatabaseError;
use todo_core::error::error_chain;

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL names no supported backend.
    #[error("unsupported database url {0:?}: expected sqlite:<path>, sqlite::memory: or postgres://...")]
    UnsupportedUrl(String),
    /// The directory of a SQLite file could not be created.
    #[error("cannot create the database directory {path}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why it could not be created.
        #[source]
        source: std::io::Error,
    },
    /// Applying the migrations failed.
    #[error("migrating the database failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database cannot be reached, or is busy; retrying may help.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A unique constraint (named, or described by the database) was violated.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// A foreign key was violated.
    #[error("foreign key violated: {0}")]
    ForeignKeyViolation(String),
    /// Any other database error: a bug or a broken schema.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// The row does not exist (for this user).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Optimistic concurrency: the row is at another version.
    #[error("version mismatch: the task is at version {current}")]
    VersionMismatch {
        /// The stored version.
        current: i64,
    },
    /// A claimed key exists already.
    #[error("already processed: {0}")]
    Duplicate(String),
    /// The change conflicts with the stored state.
    #[error("{0}")]
    Conflict(String),
    /// A stored value does not parse into its domain type.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A broken invariant.
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    /// A stored value that does not parse.
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }

    /// Replaces a unique violation with the error it means for the statement at hand.
    pub(crate) fn on_unique(self, meaning: impl FnOnce(&str) -> StoreError) -> Self {
        match self {
            StoreError::UniqueViolation(what) => meaning(&what),
            other => other,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    /// Sorts a sqlx error: constraint violations by kind, transient conditions
    /// (connection, pool, busy database) as [`StoreError::Unavailable`], the rest as
    /// [`StoreError::Database`].
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            sqlx::Error::Database(db) => match sort_database_error(db.as_ref()) {
                Sorted::Unique(what) => StoreError::UniqueViolation(what),
                Sorted::ForeignKey(what) => StoreError::ForeignKeyViolation(what),
                Sorted::Transient => StoreError::Unavailable(e),
                Sorted::Other => StoreError::Database(e),
            },
            _ => StoreError::Database(e),
        }
    }
}

enum Sorted {
    Unique(String),
    ForeignKey(String),
    Transient,
    Other,
}

/// SQLite reports extended result codes (`2067` SQLITE_CONSTRAINT_UNIQUE, `1555`
/// SQLITE_CONSTRAINT_PRIMARYKEY, `787` SQLITE_CONSTRAINT_FOREIGNKEY; primary code 5
/// BUSY, 6 LOCKED, 10 IOERR, 13 FULL, 14 CANTOPEN); PostgreSQL SQLSTATEs (`23505`
/// unique, `23503` foreign key; classes 08 connection, 53 resources, 57P0x shutdown,
/// 40001/40P01 serialization failure and deadlock, which a retry resolves).
fn sort_database_error(db: &dyn DatabaseError) -> Sorted {
    let what = || db.constraint().map_or_else(|| db.message().to_owned(), str::to_owned);
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    match code.as_str() {
        "2067" | "1555" | "23505" => return Sorted::Unique(what()),
        "787" | "23503" => return Sorted::ForeignKey(what()),
        "40001" | "40P01" | "57P01" | "57P02" | "57P03" => return Sorted::Transient,
        c if c.starts_with("08") || c.starts_with("53") => return Sorted::Transient,
        _ => {}
    }
    match code.parse::<i32>() {
        Ok(sqlite) if matches!(sqlite & 0xff, 5 | 6 | 10 | 13 | 14) => Sorted::Transient,
        _ => Sorted::Other,
    }
}

impl From<StoreError> for todo_core::Error {
    fn from(e: StoreError) -> Self {
        use todo_core::Error as E;
        match e {
            StoreError::NotFound(what) => E::NotFound(what),
            StoreError::VersionMismatch { current } => E::VersionMismatch { current },
            StoreError::Duplicate(key) => E::Duplicate(key),
            StoreError::Conflict(what) => E::Conflict(what),
            StoreError::UniqueViolation(_) | StoreError::ForeignKeyViolation(_) => E::Conflict(error_chain(&e)),
            StoreError::Unavailable(_) => E::Unavailable(error_chain(&e)),
            StoreError::UnsupportedUrl(_)
            | StoreError::Directory { .. }
            | StoreError::Migrate(_)
            | StoreError::Database(_)
            | StoreError::Corrupt(_)
            | StoreError::Internal(_) => E::Internal(error_chain(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_errors_keep_their_meaning_in_the_core() {
        let core: todo_core::Error = StoreError::VersionMismatch { current: 3 }.into();
        assert!(matches!(core, todo_core::Error::VersionMismatch { current: 3 }));
        let core: todo_core::Error = StoreError::Unavailable(sqlx::Error::PoolTimedOut).into();
        assert!(core.is_transient(), "{core}");
        let dup = StoreError::UniqueViolation("processed_keys".into()).on_unique(|_| StoreError::Duplicate("k".into()));
        assert!(matches!(todo_core::Error::from(dup), todo_core::Error::Duplicate(k) if k == "k"));
    }
}
