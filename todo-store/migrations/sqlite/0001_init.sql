-- todo-events on SQLite: users, tasks, the transactional outbox / embedded event log.
--
-- Conventions (shared with the Rust code in todo-store/src/sqlite):
-- * times are INTEGER microseconds since the Unix epoch, UTC: exact round trips, and
--   comparisons that agree bit for bit with the Rust values of todo_core;
-- * ids are TEXT, hyphenated lowercase UUIDs: their text order is their byte order,
--   the order of `uuid::Uuid`;
-- * booleans are INTEGER 0/1; tables are STRICT.
--
-- Later migrations add further tables (0002 conversations and messages, then audit
-- entries, reminder schedule, notifications); never edit an applied migration.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    timezone      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE tasks (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL, -- no foreign key: the ports do not require the user row (as in todo_core::memory)
    title         TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'completed')),
    priority      TEXT    NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
    tags          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    due_at        INTEGER,
    all_day       INTEGER NOT NULL CHECK (all_day IN (0, 1)),
    remind_at     INTEGER,
    recurrence    TEXT,
    repeat_from   TEXT    NOT NULL CHECK (repeat_from IN ('due', 'completion')),
    series_id     TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    completed_at  INTEGER,
    version       INTEGER NOT NULL,
    -- Listing helpers, computed in Rust (todo_core::domain::query) so that every
    -- store filters and sorts exactly alike.
    priority_rank INTEGER NOT NULL,
    title_sort    TEXT    NOT NULL,
    search_text   TEXT    NOT NULL,
    due_sort_asc  INTEGER NOT NULL,
    due_sort_desc INTEGER NOT NULL
) STRICT;

-- The default listing (pending, by due date) and the other sort orders.
CREATE INDEX tasks_by_due ON tasks (user_id, status, due_sort_asc, id);
CREATE INDEX tasks_by_due_desc ON tasks (user_id, status, due_sort_desc, id);
CREATE INDEX tasks_by_priority ON tasks (user_id, status, priority_rank, id);
CREATE INDEX tasks_by_created ON tasks (user_id, status, created_at, id);
CREATE INDEX tasks_by_title ON tasks (user_id, status, title_sort, id);
CREATE INDEX tasks_by_series ON tasks (series_id) WHERE series_id IS NOT NULL;

-- Failed sign-ins, for throttling.
CREATE TABLE login_failures (
    account   TEXT    NOT NULL,
    failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_by_account ON login_failures (account, failed_at);

-- Keys claimed once, ever, in the transaction of their effect (idempotent consumers).
CREATE TABLE processed_keys (
    scope      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

-- The outbox and the embedded event log. One writer at a time (SQLite), so `seq`
-- order is commit order. AUTOINCREMENT: a seq is never reused, even after pruning.
-- `event_id` is the CloudEvents id (NULL for raw records): unique per topic, so a
-- dead letter may carry the id of the record it copies.
CREATE TABLE event_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    topic      TEXT    NOT NULL,
    key        TEXT,
    event_id   TEXT,
    payload    BLOB    NOT NULL,
    headers    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(headers)),
    created_at INTEGER NOT NULL,
    UNIQUE (topic, event_id)
) STRICT;
CREATE INDEX event_log_by_topic ON event_log (topic, seq);

-- Consumer group positions: the seq of the last processed record.
CREATE TABLE consumer_offsets (
    group_name TEXT    NOT NULL PRIMARY KEY,
    seq        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
