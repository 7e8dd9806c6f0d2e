//! The event log on PostgreSQL: the `event_log` table read in commit order.
//!
//! # Decision record: reading below the oldest running transaction
//!
//! **Context.** Writers append in concurrent transactions. `seq` comes from a
//! sequence when the row is inserted, not when its transaction commits: writer A
//! takes seq 10, writer B takes seq 11 and commits, a reader reads 11 and moves its
//! position past it, then A commits and row 10 is never read. A consumer group must
//! see every committed row exactly once in a stable order, without serialising the
//! writers (a table lock on every append) and without waiting a fixed "settle" time,
//! which only makes the loss rarer.
//!
//! **Decision.** Each row records the id of its writing transaction, `txid xid8
//! DEFAULT pg_current_xact_id()`. A reader reads only rows with `txid <
//! pg_snapshot_xmin(pg_current_snapshot())`: every transaction below the snapshot's
//! xmin has ended, so the set of committed rows below it is final, and no later
//! commit can add to it (a transaction that takes its id later gets one at or above
//! xmin). Within that set the reader goes by `(txid, seq)`, a total order; the
//! group's position is the `(txid, seq)` of its last processed record. Rows of one
//! transaction share a txid and keep their `seq` order. A transaction that began
//! after another committed has a larger txid, so records keep the order of changes
//! that depend on each other (a change reads the state, then commits in a fresh
//! transaction); truly concurrent transactions are ordered by txid, which is one
//! valid serial order for them.
//!
//! **Consequences.** A row becomes readable only when every transaction that
//! started before it ended, in *any* database of the cluster: a long transaction
//! (an idle-in-transaction session, a long report) delays delivery, never loses or
//! reorders it. Readers wake on `LISTEN`/`NOTIFY` (notified inside the appending
//! transaction, so delivered on commit) and poll every [`POLL`] for transactions that
//! end without notifying. `Record::offset` is `seq`; the subscription remembers the
//! txid of what it delivered so that a commit can store `(txid, seq)`. A group that
//! starts at `Latest` stores the snapshot of the moment it joined and skips the rows
//! visible in it: exactly the rows committed before it joined, where a position
//! alone would either re-deliver rows committed by transactions above xmin or skip
//! rows of transactions still running.
//!
//! Consumer groups are exclusive: a member holds `pg_try_advisory_lock` on the
//! group's name, in a session of its own, for its whole life, and reads and stores
//! positions through that session, so a member that lost its session (and lock)
//! cannot move the group's position. Other members wait as standbys, retrying every
//! [`STANDBY_RETRY`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use todo_core::ports::{Record, StartFrom};
use tokio::sync::Notify;

use super::db::{PgShared, PostgresBackend};
use crate::error::{Result, StoreError};
use crate::rows::read_record;
use crate::sql::RowExt;
use crate::sql::{Arg, Exec, Stmt};
use crate::subscription::LogSource;

/// Polling interval when no notification comes.
const POLL: Duration = Duration::from_secs(1);
/// Polling interval while committed records wait behind the xmin horizon: the
/// transaction holding it back may end without notifying (consumers' offsets,
/// audit rows and claims commit without appending to the log).
const HORIZON_POLL: Duration = Duration::from_millis(20);
/// How often a standby member tries to take the group.
const STANDBY_RETRY: Duration = Duration::from_millis(500);
/// First key of the advisory locks of consumer groups (`"todo"`); the second is
/// `hashtext(group)`.
const LOCK_SPACE: i32 = 0x746f_646f;

/// Stores the starting point of `group` if it is new: the beginning, or for
/// `Latest` the oldest running transaction and the current snapshot (whose visible
/// rows are skipped).
pub(super) fn join_group(group: &str, start: StartFrom) -> Stmt {
    let sql = match start {
        StartFrom::Earliest => {
            "INSERT INTO consumer_offsets (group_name, txid, seq) VALUES ($1, '0'::xid8, 0) \
             ON CONFLICT (group_name) DO NOTHING"
        }
        StartFrom::Latest => {
            "INSERT INTO consumer_offsets (group_name, txid, seq, skip_snapshot) \
             SELECT $1, pg_snapshot_xmin(s), 0, s FROM pg_current_snapshot() AS s \
             ON CONFLICT (group_name) DO NOTHING"
        }
    };
    Stmt::new(sql, vec![Arg::Text(group.to_owned())])
}

/// Stores `pos` as the position of `group`, never moving it back.
pub(super) fn store_position(group: &str, pos: PgPosition) -> Stmt {
    Stmt::new(
        "INSERT INTO consumer_offsets (group_name, txid, seq, updated_at) VALUES ($1, $2::text::xid8, $3, now()) \
         ON CONFLICT (group_name) DO UPDATE SET txid = excluded.txid, seq = excluded.seq, updated_at = excluded.updated_at \
         WHERE (consumer_offsets.txid, consumer_offsets.seq) < (excluded.txid, excluded.seq)",
        vec![Arg::Text(group.to_owned()), Arg::Int(pos.txid), Arg::Int(pos.seq)],
    )
}

/// A place in commit order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PgPosition {
    pub txid: i64,
    pub seq: i64,
}

/// A member of a consumer group of the PostgreSQL log.
pub struct PgLogSource {
    connect: PgConnectOptions,
    /// Keeps the store's listener alive and gives its signal.
    shared: Arc<PgShared>,
    group: String,
    topics: Vec<String>,
    /// The session holding the group's advisory lock (or trying to).
    session: Option<PgConnection>,
    /// The snapshot a `Latest` group joined at: its visible rows are skipped.
    skip_snapshot: Option<String>,
    /// The last fetch found nothing readable, but committed records of these
    /// topics wait behind the horizon.
    behind_horizon: bool,
    log_id: u64,
}

impl PgLogSource {
    pub(super) fn new(backend: &PostgresBackend, group: &str, topics: &[String]) -> Self {
        Self {
            connect: backend.connect.clone(),
            shared: backend.shared.clone(),
            group: group.to_owned(),
            topics: topics.to_vec(),
            session: None,
            skip_snapshot: None,
            behind_horizon: false,
            log_id: backend.log_id,
        }
    }

    fn session(&mut self) -> Result<&mut PgConnection> {
        self.session
            .as_mut()
            .ok_or_else(|| StoreError::Internal(format!("not the active member of consumer group {:?}", self.group)))
    }

    fn close_session(&mut self) {
        if let Some(session) = self.session.take() {
            // Closing ends the session on the server, which releases its lock.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = session.close().await;
                });
            }
        }
    }
}

impl Drop for PgLogSource {
    fn drop(&mut self) {
        self.close_session();
    }
}

#[async_trait]
impl LogSource for PgLogSource {
    type Position = PgPosition;

    async fn activate(&mut self) -> Result<PgPosition> {
        let mut session = match self.session.take() {
            Some(s) => s,
            None => {
                let mut s = PgConnection::connect_with(&self.connect).await?;
                // The reads of this session walk the commit-order index and stop at
                // their LIMIT. Without statistics (a table just filled, before
                // autovacuum analyzed it) the planner would rather fetch every row
                // after the position and sort them: each read then costs the whole
                // backlog. This session never needs a sort or a bitmap scan.
                s.run(&Stmt::new("SET enable_sort = off", vec![])).await?;
                s.run(&Stmt::new("SET enable_bitmapscan = off", vec![])).await?;
                s
            }
        };
        let lock = Stmt::new(
            format!("SELECT pg_try_advisory_lock({LOCK_SPACE}, hashtext($1)) AS locked"),
            vec![Arg::Text(self.group.clone())],
        );
        loop {
            let locked = session.row(&lock).await?.map(|r| r.boolean("locked")).transpose()?;
            if locked == Some(true) {
                break;
            }
            tokio::time::sleep(STANDBY_RETRY).await;
        }
        let load = Stmt::new(
            "SELECT txid::text::bigint AS txid, seq, skip_snapshot::text AS skip_snapshot \
             FROM consumer_offsets WHERE group_name = $1",
            vec![Arg::Text(self.group.clone())],
        );
        let row = session.row(&load).await?;
        self.session = Some(session);
        let Some(row) = row else {
            self.skip_snapshot = None;
            return Ok(PgPosition { txid: 0, seq: 0 });
        };
        self.skip_snapshot = row.opt_text("skip_snapshot")?;
        Ok(PgPosition { txid: row.int("txid")?, seq: row.int("seq")? })
    }

    fn deactivate(&mut self) {
        self.close_session();
    }

    async fn fetch(&mut self, after: &PgPosition, limit: i64) -> Result<Vec<(Record, PgPosition)>> {
        let mut s = Stmt::new(
            "SELECT seq, txid::text::bigint AS txid, topic, key, payload, headers::text AS headers FROM event_log \
             WHERE (txid, seq) > ($1::text::xid8, $2) AND txid < pg_snapshot_xmin(pg_current_snapshot())",
            vec![Arg::Int(after.txid), Arg::Int(after.seq)],
        );
        if let Some(snapshot) = &self.skip_snapshot {
            let p = s.bind(Arg::Text(snapshot.clone()));
            s.push(&format!(" AND NOT pg_visible_in_snapshot(txid, {p}::pg_snapshot)"));
        }
        s.push_topic_filter(&self.topics);
        let limit = s.bind(Arg::Int(limit));
        // The table's columns, not the `txid` alias of the select list (a bigint):
        // ordering by the alias sorted the whole table on every fetch.
        s.push(&format!(" ORDER BY event_log.txid, event_log.seq LIMIT {limit}"));
        let rows = self.session()?.rows(&s).await?;
        self.behind_horizon = false;
        if rows.is_empty() {
            // Committed records this fetch could not take yet (an older
            // transaction is still open): any record at or past the horizon. A
            // position is always below the horizon (only records below it are
            // taken), so no position bound is needed, and none of the topics:
            // the newest record through the commit-order index, one step. The
            // filtered `EXISTS` this replaces was planned on the topic index
            // and read the whole log, 3 ms and most of PostgreSQL's time under
            // load (pg_stat_statements, `scripts/bench`).
            let waiting = Stmt::new(
                "SELECT COALESCE((SELECT txid FROM event_log ORDER BY txid DESC LIMIT 1) \
                 >= pg_snapshot_xmin(pg_current_snapshot()), false) AS waiting",
                vec![],
            );
            let row = self.session()?.row(&waiting).await?;
            self.behind_horizon = row.map(|r| r.boolean("waiting")).transpose()?.unwrap_or(false);
        }
        rows.iter()
            .map(|r| {
                let record = read_record(r)?;
                let pos = PgPosition { txid: r.int("txid")?, seq: record.offset };
                Ok((record, pos))
            })
            .collect()
    }

    async fn store(&mut self, pos: &PgPosition) -> Result<()> {
        let stmt = store_position(&self.group, *pos);
        self.session()?.run(&stmt).await.map(drop)
    }

    fn encode(&self, pos: &PgPosition) -> Vec<(String, i64)> {
        vec![("txid".to_owned(), pos.txid), ("seq".to_owned(), pos.seq)]
    }

    fn log_id(&self) -> u64 {
        self.log_id
    }

    fn group(&self) -> &str {
        &self.group
    }

    async fn count_after(&mut self, after: &PgPosition) -> Result<u64> {
        let mut s = Stmt::new(
            "SELECT COUNT(*) AS n FROM event_log WHERE (txid, seq) > ($1::text::xid8, $2)",
            vec![Arg::Int(after.txid), Arg::Int(after.seq)],
        );
        s.push_topic_filter(&self.topics);
        let row = self.session()?.row(&s).await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0).max(0) as u64)
    }

    async fn position_of(&mut self, seq: i64) -> Result<PgPosition> {
        let stmt = Stmt::new("SELECT txid::text::bigint AS txid FROM event_log WHERE seq = $1", vec![Arg::Int(seq)]);
        match self.session()?.row(&stmt).await? {
            Some(row) => Ok(PgPosition { txid: row.int("txid")?, seq }),
            None => Err(StoreError::Internal(format!("no event_log record at seq {seq}"))),
        }
    }

    fn wake(&self) -> Arc<Notify> {
        self.shared.wake.clone()
    }

    fn poll_interval(&self) -> Duration {
        if self.behind_horizon { HORIZON_POLL } else { POLL }
    }
}
