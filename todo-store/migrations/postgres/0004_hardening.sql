-- todo-events on PostgreSQL: sign-in throttling per (account, client address),
-- checkpoints of verified audit chains, and the per-user daily LLM budget
-- (docs/security.md). Conventions as in 0001.

-- Replaced by login_throttle: failures keyed on the account alone let anyone lock
-- any known account, and the table was never pruned.
DROP TABLE login_failures;

-- One fixed window of sign-in attempts per account and client address. Counted
-- with one upsert (check and count in the same statement, serialised by the row
-- lock), cleared on success, pruned once the window has passed.
CREATE TABLE login_throttle (
    account      text        NOT NULL CHECK (length(account) <= 320),
    client       text        NOT NULL CHECK (length(client) <= 64),
    window_start timestamptz NOT NULL,
    attempts     bigint      NOT NULL,
    PRIMARY KEY (account, client)
);
CREATE INDEX login_throttle_by_window ON login_throttle (window_start);

-- The longest prefix of each user's audit chain that verified, and the hash of its
-- last entry: verification resumes there, and checks that the entry still has
-- that hash (a rewritten chain no longer matches its checkpoint).
CREATE TABLE audit_checkpoints (
    user_id     uuid        NOT NULL PRIMARY KEY,
    seq         bigint      NOT NULL CHECK (seq > 0),
    hash        text        NOT NULL,
    verified_at timestamptz NOT NULL
);

-- LLM calls per user and UTC day (YYYY-MM-DD), shared by every chat-api instance.
CREATE TABLE llm_usage (
    user_id uuid   NOT NULL,
    day     text   NOT NULL,
    calls   bigint NOT NULL,
    PRIMARY KEY (user_id, day)
);
