//! # todo-core
//!
//! The heart of todo-events, an event-driven todo system with a chat interface:
//! the task domain (parsed values, recurrence engine), the event catalog
//! (CloudEvents envelope and typed payloads), the chat interpreter, the filter
//! language, the ports every adapter implements, and the application services
//! built on them. No database, broker or web dependency: everything outside is a
//! trait in [`ports`], implemented by todo-store (SQLite, PostgreSQL), todo-kafka
//! (Apache Kafka), or the in-memory adapters of `memory` (feature `test-util`).
//!
//! ```
//! use std::sync::Arc;
//! use todo_core::domain::{Email, Tags, TaskTitle, Timezone, User, UserId};
//! use todo_core::events::{EventFactory, Topic};
//! use todo_core::memory::{ManualClock, MemoryStore};
//! use todo_core::ports::{Clock, Ports};
//! use todo_core::service::{ListParams, NewTask, TaskService};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // Every port on one in-memory store, at a fixed time.
//! let store = Arc::new(MemoryStore::new());
//! let clock = Arc::new(ManualClock::at("2026-11-26T09:00:00Z"));
//! let ports = Ports::from_one(store.clone()).with_clock(clock.clone());
//! let user = User {
//!     id: UserId::new(),
//!     email: Email::parse("ada@example.com")?,
//!     password_hash: String::new(),
//!     timezone: Timezone::default(),
//!     created_at: clock.now(),
//! };
//! ports.users.create(&user).await?;
//!
//! let tasks = TaskService::new(ports.tasks, ports.users, ports.clock, EventFactory::new("/example"));
//! let new = NewTask { tags: Some(Tags::parse(["groceries"])?), ..NewTask::titled(TaskTitle::parse("buy milk")?) };
//! let task = tasks.create(user.id, new).await?;
//! assert_eq!(task.version, 1);
//!
//! // Listings take the filter language (docs/filters.md).
//! let params = ListParams { filter: Some("#groceries & !p1".into()), ..ListParams::default() };
//! let page = tasks.list_with(user.id, params).await?;
//! assert_eq!(page.items, [task]);
//!
//! // The change and its `todo.task.created.v1` event were committed together.
//! let records = store.records(Topic::TaskEvents);
//! assert_eq!(records[0].header("ce_type"), Some("todo.task.created.v1"));
//! # Ok::<(), todo_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! ## Where to start
//!
//! - [`service::TaskService`]: the task use cases (create, update, complete,
//!   delete, list) on a [`ports::TaskRepository`] and a [`ports::UserRepository`].
//! - [`ports::Ports`]: every adapter a process runs on, in one value; todo-store's
//!   `Store::ports()` returns one.
//! - [`consumer::run`]: drives an [`consumer::EventHandler`] of yours over an
//!   [`ports::EventLog`] (the SQL log, Kafka, or the in-memory one), at least once,
//!   with retries and dead letters.
//! - [`events`]: what goes on the log ([`events::CloudEvent`],
//!   [`events::DomainEvent`]) and who makes it ([`events::EventFactory`]).
//! - [`chat::parse`] and [`filter::Filter::parse`]: the chat interpreter and the
//!   filter language, plain functions.
//!
//! The crate's `examples/` run these end to end: `in_memory_tasks` and
//! `custom_handler` (`cargo run -p todo-core --example custom_handler --features test-util`).
//!
//! ## Features
//!
//! - `test-util`: `memory` (an in-memory adapter of every port and a settable
//!   clock) and `contract` (the test suites every adapter of a port passes).

#![deny(missing_docs)]

pub mod chat;
pub mod consumer;
pub mod domain;
pub mod error;
pub mod events;
pub mod filter;
pub mod ports;
pub mod service;

#[cfg(any(test, feature = "test-util"))]
pub mod contract;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;

pub use error::{Error, Result};

// The README's examples are compiled and run with the doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
