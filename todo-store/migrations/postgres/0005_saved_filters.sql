-- Saved filters: a user's named filter queries (docs/filters.md).
--
-- `name_key` is the name lowercased with inner blanks collapsed, computed in Rust
-- (todo_core::domain::FilterName::key), so both backends compare names alike; a
-- user's names are unique by it, and listed in its bytewise order (COLLATE "C").
-- The query is stored as written and parsed again at every use, so "today" in a
-- saved filter stays today.
CREATE TABLE saved_filters (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    name       text        NOT NULL,
    name_key   text        COLLATE "C" NOT NULL,
    query      text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (user_id, name_key)
);
