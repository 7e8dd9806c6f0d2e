-- todo-events on SQLite: the audit trail, the reminder schedule with its fired
-- notifications and webhook outbox, and chat conversations.
--
-- Conventions as in 0001: INTEGER microseconds, TEXT hyphenated lowercase UUIDs,
-- INTEGER 0/1 booleans, JSON as TEXT, STRICT tables.

-- The audit trail: one hash chain per user, append-only. `event` is the canonical
-- JSON text of the CloudEvent exactly as it was hashed (sorted keys, no
-- whitespace), so `GET /api/v1/audit/verify` recomputes the same hash.
-- `hash = sha256(prev_hash || event)` (see todo_core::domain::audit). SQLite has one
-- writer at a time, which serialises the appends of every user.
CREATE TABLE audit_log (
    user_id     TEXT    NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq > 0),
    event_id    TEXT    NOT NULL UNIQUE,
    event_type  TEXT    NOT NULL,
    task_id     TEXT,
    -- The catalog topic of `event_type` (NULL for a type this build does not know).
    topic       TEXT,
    occurred_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    PRIMARY KEY (user_id, seq)
) STRICT, WITHOUT ROWID;
-- The listing filters (newest first by seq).
CREATE INDEX audit_log_by_task ON audit_log (user_id, task_id, seq) WHERE task_id IS NOT NULL;
CREATE INDEX audit_log_by_type ON audit_log (user_id, event_type, seq);

-- Append-only: UPDATE and DELETE fail (SQLite has no TRUNCATE; a DELETE without
-- WHERE runs these triggers too). Whoever holds the file can drop them; tampering
-- that gets past them is detected by the hash chain.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed');
END;

-- The notification service's schedule: one reminder per task, the newest task
-- version wins (`task_version`), so redelivered and reordered events are harmless.
-- `state`: scheduled (waiting), fired (delivered once), cancelled (by a newer
-- version, or skipped at firing time because the task no longer wants it).
CREATE TABLE reminder_schedule (
    task_id      TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    due_at       INTEGER,
    remind_at    INTEGER NOT NULL,
    task_version INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('scheduled', 'cancelled', 'fired')),
    fired_at     INTEGER
) STRICT;
-- Due reminders, earliest first (`fire_due`, `next_due`).
CREATE INDEX reminder_schedule_due ON reminder_schedule (remind_at, task_id) WHERE state = 'scheduled';

-- Reminders that fired: what GET /api/v1/notifications lists. `id` is the id of the
-- todo.reminder.due.v1 event appended in the same transaction.
CREATE TABLE notifications (
    id        TEXT    NOT NULL PRIMARY KEY,
    user_id   TEXT    NOT NULL,
    task_id   TEXT    NOT NULL,
    title     TEXT    NOT NULL,
    due_at    INTEGER,
    remind_at INTEGER NOT NULL,
    fired_at  INTEGER NOT NULL,
    late      INTEGER NOT NULL CHECK (late IN (0, 1))
) STRICT;
-- Newest first per user: (fired_at DESC, id DESC) is the listing's total order.
CREATE INDEX notifications_by_user ON notifications (user_id, fired_at DESC, id DESC);

-- The webhook outbox: a delivery per fired reminder, leased to a sender by pushing
-- `next_attempt_at` forward (a crashed sender's lease expires), retried until
-- delivered or given up.
CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY REFERENCES notifications (id),
    url             TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    gave_up_at      INTEGER,
    last_error      TEXT
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- Chat conversations. `last_listing`: the task ids of the last listing shown, in
-- order (what "task 2" refers to), as a JSON array.
CREATE TABLE conversations (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_listing TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(last_listing) AND json_type(last_listing) = 'array')
) STRICT;
CREATE INDEX conversations_by_user ON conversations (user_id, updated_at DESC);

-- Messages of a conversation; `seq` from 1, assigned inside the write transaction.
CREATE TABLE messages (
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL CHECK (seq > 0),
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT    NOT NULL,
    actions         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(actions) AND json_type(actions) = 'array'),
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT, WITHOUT ROWID;
