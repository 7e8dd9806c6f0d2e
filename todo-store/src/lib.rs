//! SQLite and PostgreSQL adapters of the todo-core ports.
