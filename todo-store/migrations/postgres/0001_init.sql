-- todo-events on PostgreSQL (13 or later): users, tasks, the transactional outbox /
-- event log.
--
-- Times are timestamptz (microsecond precision, like the Rust values). Sort keys
-- that need Rust semantics are stored, computed in Rust (todo_core::domain::query).
--
-- Later migrations add further tables (0002 conversations and messages, then audit
-- entries, reminder schedule, notifications); never edit an applied migration.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    timezone      text        NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE tasks (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL, -- no foreign key: the ports do not require the user row (as in todo_core::memory)
    title         text        NOT NULL,
    description   text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'completed')),
    priority      text        NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
    tags          text[]      NOT NULL DEFAULT '{}',
    due_at        timestamptz,
    all_day       boolean     NOT NULL,
    remind_at     timestamptz,
    recurrence    text,
    repeat_from   text        NOT NULL CHECK (repeat_from IN ('due', 'completion')),
    series_id     uuid,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    completed_at  timestamptz,
    version       bigint      NOT NULL,
    -- Listing helpers, computed in Rust so that every store sorts alike. Titles sort
    -- bytewise (Rust `str` order), whatever the database's default collation.
    priority_rank bigint      NOT NULL,
    title_sort    text        COLLATE "C" NOT NULL,
    search_text   text        NOT NULL,
    due_sort_asc  bigint      NOT NULL,
    due_sort_desc bigint      NOT NULL
);

CREATE INDEX tasks_by_due ON tasks (user_id, status, due_sort_asc, id);
CREATE INDEX tasks_by_due_desc ON tasks (user_id, status, due_sort_desc, id);
CREATE INDEX tasks_by_priority ON tasks (user_id, status, priority_rank, id);
CREATE INDEX tasks_by_created ON tasks (user_id, status, created_at, id);
CREATE INDEX tasks_by_title ON tasks (user_id, status, title_sort, id);
CREATE INDEX tasks_by_series ON tasks (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX tasks_by_tag ON tasks USING gin (tags);

-- Failed sign-ins, for throttling.
CREATE TABLE login_failures (
    account   text        NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_by_account ON login_failures (account, failed_at);

-- Keys claimed once, ever, in the transaction of their effect (idempotent consumers).
CREATE TABLE processed_keys (
    scope      text        NOT NULL,
    key        text        NOT NULL,
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

-- The outbox and the event log. `seq` is NOT commit order (a transaction can take a
-- seq and commit after a later one): readers go by `txid`, the id of the writing
-- transaction, and read only below the oldest running transaction; see
-- todo-store/src/postgres/log.rs. `event_id` is the CloudEvents id (NULL for raw
-- records): unique per topic, so a dead letter may carry the id of the record it copies.
CREATE TABLE event_log (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid       xid8        NOT NULL DEFAULT pg_current_xact_id(),
    topic      text        NOT NULL,
    key        text,
    event_id   text,
    payload    bytea       NOT NULL,
    headers    jsonb       NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL,
    UNIQUE (topic, event_id)
);
CREATE INDEX event_log_commit_order ON event_log (txid, seq);

-- Consumer group positions: the (txid, seq) of the last processed record. A group
-- that started at "latest" skips the records visible in `skip_snapshot`, the
-- snapshot of the moment it joined.
CREATE TABLE consumer_offsets (
    group_name    text        PRIMARY KEY,
    txid          xid8        NOT NULL,
    seq           bigint      NOT NULL,
    skip_snapshot pg_snapshot,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
