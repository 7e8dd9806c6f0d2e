//! How a store connects, and which database it is.

use todo_core::events::TopicNames;

/// How a store connects.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Physical names of the catalog topics in the event log (default: no prefix).
    pub topic_names: TopicNames,
    /// Most pooled connections for reads (default 10). An in-memory SQLite database
    /// has one, shared with its writer.
    pub max_connections: u32,
    /// PostgreSQL: writer tasks, each with a connection of its own, that commit
    /// the queued writes in shared transactions (default 2). SQLite has one writer.
    pub pg_writers: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { topic_names: TopicNames::default(), max_connections: 10, pg_writers: 2 }
    }
}

/// Which database a [`Store`](crate::Store) uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file or in-memory database.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}
