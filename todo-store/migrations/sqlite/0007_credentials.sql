-- todo-events on SQLite: API tokens for assistants and scripts, and calendar
-- feed secrets. Only the SHA-256 of each secret is stored (64 hex digits): a
-- presented secret is looked up by its hash, and a copy of the database opens
-- nothing. Conventions as in 0001.

CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 400),
    -- 'read' or 'read write'.
    scopes       TEXT    NOT NULL CHECK (scopes IN ('read', 'read write')),
    token_hash   TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER
) STRICT;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at);

-- One feed per user; rotating replaces the hash, revoking deletes the row.
CREATE TABLE calendar_feeds (
    user_id     TEXT    NOT NULL PRIMARY KEY,
    secret_hash TEXT    NOT NULL UNIQUE CHECK (length(secret_hash) = 64),
    created_at  INTEGER NOT NULL
) STRICT;
