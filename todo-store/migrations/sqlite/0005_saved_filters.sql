-- Saved filters: a user's named filter queries (docs/filters.md). Conventions as in
-- 0001: INTEGER microseconds, TEXT hyphenated lowercase UUIDs, STRICT tables.
--
-- `name_key` is the name lowercased with inner blanks collapsed, computed in Rust
-- (todo_core::domain::FilterName::key), so both backends compare names alike; a
-- user's names are unique by it. The query is stored as written and parsed again
-- at every use, so "today" in a saved filter stays today.
CREATE TABLE saved_filters (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    query      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (user_id, name_key)
) STRICT;
