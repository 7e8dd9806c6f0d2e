-- todo-events on SQLite: sign-in throttling per (account, client address),
-- checkpoints of verified audit chains, and the per-user daily LLM budget
-- (docs/security.md). Conventions as in 0001.

-- Replaced by login_throttle: failures keyed on the account alone let anyone lock
-- any known account, and the table was never pruned.
DROP TABLE login_failures;

-- One fixed window of sign-in attempts per account and client address. Counted
-- with one upsert (check and count in the same statement; SQLite has one writer),
-- cleared on success, pruned once the window has passed.
CREATE TABLE login_throttle (
    account      TEXT    NOT NULL CHECK (length(account) <= 320),
    client       TEXT    NOT NULL CHECK (length(client) <= 64),
    window_start INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (account, client)
) STRICT;
CREATE INDEX login_throttle_by_window ON login_throttle (window_start);

-- The longest prefix of each user's audit chain that verified, and the hash of its
-- last entry: verification resumes there, and checks that the entry still has
-- that hash (a rewritten chain no longer matches its checkpoint).
CREATE TABLE audit_checkpoints (
    user_id     TEXT    NOT NULL PRIMARY KEY,
    seq         INTEGER NOT NULL CHECK (seq > 0),
    hash        TEXT    NOT NULL,
    verified_at INTEGER NOT NULL
) STRICT;

-- LLM calls per user and UTC day (YYYY-MM-DD).
CREATE TABLE llm_usage (
    user_id TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    calls   INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
) STRICT;
