-- todo-events on PostgreSQL: the audit trail, the reminder schedule with its fired
-- notifications and webhook outbox, and chat conversations.
--
-- Conventions as in 0001: timestamptz (microseconds), uuid ids, sort keys that
-- need Rust semantics stored as computed in Rust.

-- The audit trail: one hash chain per user, append-only. `event` is the canonical
-- JSON text of the CloudEvent exactly as it was hashed (sorted keys, no
-- whitespace): text, not jsonb, which would reorder keys and normalise numbers, so
-- `GET /api/v1/audit/verify` could no longer recompute the same hash.
-- `hash = sha256(prev_hash || event)` (see todo_core::domain::audit). Appends of
-- one user are serialised by a transaction-level advisory lock on the user id
-- (todo-store/src/audit.rs), so `seq` has no gaps and `prev_hash` is the previous
-- entry's hash.
CREATE TABLE audit_log (
    user_id     uuid        NOT NULL,
    seq         bigint      NOT NULL CHECK (seq > 0),
    event_id    uuid        NOT NULL UNIQUE,
    event_type  text        NOT NULL,
    task_id     uuid,
    -- The catalog topic of `event_type` (NULL for a type this build does not know).
    topic       text,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    event       text        NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL,
    PRIMARY KEY (user_id, seq)
);
-- The listing filters (newest first by seq).
CREATE INDEX audit_log_by_task ON audit_log (user_id, task_id, seq) WHERE task_id IS NOT NULL;
CREATE INDEX audit_log_by_type ON audit_log (user_id, event_type, seq);

-- Append-only: every UPDATE, DELETE and TRUNCATE of audit_log fails, whoever runs
-- it (a statement-level trigger: even one that matches no row). This guards the
-- trail against the application and against mistakes; the table's owner can still
-- disable the trigger, so in production the services should connect as a role
-- that does not own the table. Tampering that gets past it anyway is detected by
-- the hash chain.
CREATE FUNCTION audit_log_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit entries are never changed or removed; append a new event instead';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();

-- The notification service's schedule: one reminder per task, the newest task
-- version wins (`task_version`), so redelivered and reordered events are harmless.
-- `state`: scheduled (waiting), fired (delivered once), cancelled (by a newer
-- version, or skipped at firing time because the task no longer wants it).
CREATE TABLE reminder_schedule (
    task_id      uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL,
    title        text        NOT NULL,
    due_at       timestamptz,
    remind_at    timestamptz NOT NULL,
    task_version bigint      NOT NULL,
    state        text        NOT NULL CHECK (state IN ('scheduled', 'cancelled', 'fired')),
    fired_at     timestamptz
);
-- Due reminders, earliest first (`fire_due`, `next_due`).
CREATE INDEX reminder_schedule_due ON reminder_schedule (remind_at, task_id) WHERE state = 'scheduled';

-- Reminders that fired: what GET /api/v1/notifications lists. `id` is the id of the
-- todo.reminder.due.v1 event appended in the same transaction.
CREATE TABLE notifications (
    id        uuid        PRIMARY KEY,
    user_id   uuid        NOT NULL,
    task_id   uuid        NOT NULL,
    title     text        NOT NULL,
    due_at    timestamptz,
    remind_at timestamptz NOT NULL,
    fired_at  timestamptz NOT NULL,
    late      boolean     NOT NULL
);
-- Newest first per user: (fired_at DESC, id DESC) is the listing's total order.
CREATE INDEX notifications_by_user ON notifications (user_id, fired_at DESC, id DESC);

-- The webhook outbox: a delivery per fired reminder, leased to a sender by pushing
-- `next_attempt_at` forward (a crashed sender's lease expires), retried until
-- delivered or given up.
CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY REFERENCES notifications (id),
    url             text        NOT NULL,
    body            text        NOT NULL,
    attempts        bigint      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    gave_up_at      timestamptz,
    last_error      text
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;

-- Chat conversations. `last_listing`: the task ids of the last listing shown, in
-- order (what "task 2" refers to).
CREATE TABLE conversations (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    last_listing jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(last_listing) = 'array')
);
CREATE INDEX conversations_by_user ON conversations (user_id, updated_at DESC);

-- Messages of a conversation; `seq` from 1, assigned under a lock on the
-- conversation row.
CREATE TABLE messages (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint      NOT NULL CHECK (seq > 0),
    role            text        NOT NULL CHECK (role IN ('user', 'assistant')),
    content         text        NOT NULL,
    actions         jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(actions) = 'array'),
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
