//! Read connections that go back without a round trip.
//!
//! sqlx 0.8 pings every connection it gets back into its pool (`Sync`, then a
//! wait for `ReadyForQuery`), in case the last user dropped it mid-query. For a
//! read that is a second round trip, and a second wake-up of the server, after
//! every query. A [`ReadConn`] knows whether its last statement ran to the end:
//! if it did, the connection goes back to a stash of ours, as it is, for the next
//! read; if not (cancelled, failed, or used through its `DerefMut` in a way it
//! cannot follow), it goes back to sqlx's pool, which pings (and closes it if it
//! is broken). Stashed connections stay checked out of sqlx's pool, so its
//! connection limit still holds. Reads take a permit first (a fair semaphore of
//! [`Stash::keep`] permits): at most that many read connections exist, in use or
//! stashed, so the rest of the pool stays with its other users, and a read waits
//! its turn in order (waiting in the pool instead, a read could starve while
//! finished reads kept handing their connections to newcomers through the stash). A connection idle in the stash
//! for [`MAX_IDLE`], or older than [`MAX_AGE`], goes back to the pool instead (which
//! closes idle and old connections as it does with its own).

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::Result;
use crate::sql::{Exec, Stmt};

/// A stashed connection idle this long goes back to the pool.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// A connection this old is not stashed again (sqlx's default `max_lifetime` is 30 min).
const MAX_AGE: Duration = Duration::from_secs(20 * 60);

/// Idle read connections, most recently used last.
pub(crate) struct Stash {
    idle: Mutex<Vec<Idle>>,
    keep: usize,
    permits: Arc<Semaphore>,
    /// How long a read waits for its turn (sqlx's acquire timeout).
    wait: Duration,
}

/// A stashed connection: when it was taken from the pool, and when it was stashed.
struct Idle {
    conn: PoolConnection<Postgres>,
    taken: Instant,
    since: Instant,
}

impl Stash {
    /// A stash for at most `keep` read connections (at least one), waiting at most
    /// `wait` for one.
    pub(crate) fn new(keep: usize, wait: Duration) -> Arc<Self> {
        let keep = keep.max(1);
        Arc::new(Self { idle: Mutex::new(Vec::new()), keep, permits: Arc::new(Semaphore::new(keep)), wait })
    }

    /// An idle connection of the stash, or a new one from `pool`.
    pub(crate) async fn acquire(self: &Arc<Self>, pool: &PgPool) -> Result<ReadConn> {
        let permit = match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(permit) => permit.expect("the semaphore is never closed"),
            Err(_) => return Err(sqlx::Error::PoolTimedOut.into()),
        };
        let stashed = {
            let mut idle = self.idle.lock().expect("stash lock");
            match idle.pop() {
                // The most recent is stale: so are all the others.
                Some(i) if i.since.elapsed() > MAX_IDLE => {
                    idle.clear();
                    drop(i);
                    None
                }
                i => i,
            }
        };
        let (conn, taken) = match stashed {
            Some(i) => (i.conn, i.taken),
            None => (pool.acquire().await?, Instant::now()),
        };
        Ok(ReadConn { conn: Some(conn), taken, stash: self.clone(), clean: false, _permit: permit })
    }

    /// Gives every idle connection back to the pool (before closing it).
    pub(crate) fn drain(&self) {
        self.idle.lock().expect("stash lock").clear();
    }
}

/// A read connection: back to the stash if its last statement ran to the end.
pub struct ReadConn {
    conn: Option<PoolConnection<Postgres>>,
    taken: Instant,
    stash: Arc<Stash>,
    clean: bool,
    /// Given back after the connection (dropped after `drop` ran).
    _permit: OwnedSemaphorePermit,
}

impl ReadConn {
    fn conn(&mut self) -> &mut PgConnection {
        self.clean = false;
        self.conn.as_mut().expect("a connection until dropped")
    }
}

impl Deref for ReadConn {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.conn.as_ref().expect("a connection until dropped")
    }
}

impl DerefMut for ReadConn {
    /// Used this way, the connection goes back through sqlx's pool.
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn()
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.clean && self.taken.elapsed() < MAX_AGE {
            let mut idle = self.stash.idle.lock().expect("stash lock");
            if idle.len() < self.stash.keep {
                idle.push(Idle { conn, taken: self.taken, since: Instant::now() });
            }
        }
        // Otherwise `conn` drops here: back to sqlx's pool, which pings it.
    }
}

#[async_trait]
impl Exec for ReadConn {
    type Row = PgRow;

    async fn run(&mut self, stmt: &Stmt) -> Result<u64> {
        let done = self.conn().run(stmt).await;
        self.clean = done.is_ok();
        done
    }

    async fn rows(&mut self, stmt: &Stmt) -> Result<Vec<PgRow>> {
        let done = self.conn().rows(stmt).await;
        self.clean = done.is_ok();
        done
    }
}

#[cfg(test)]
mod tests;
