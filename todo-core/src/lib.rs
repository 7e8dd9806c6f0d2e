//! # todo-core
//!
//! The heart of todo-events: the task domain (parsed values, recurrence engine),
//! the event catalog (CloudEvents envelope and typed payloads), the ports every
//! adapter implements, and the application services built on them. No database,
//! broker or web dependency: everything outside is a trait in [`ports`].
//!
//! ```
//! use std::sync::Arc;
//! use todo_core::domain::{Tags, TaskTitle, User, UserId, Email, Timezone};
//! use todo_core::events::EventFactory;
//! use todo_core::memory::{ManualClock, MemoryStore};
//! use todo_core::ports::UserRepository;
//! use todo_core::service::{NewTask, TaskService};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let clock = Arc::new(ManualClock::at("2026-11-26T09:00:00Z"));
//! let user = User {
//!     id: UserId::new(),
//!     email: Email::parse("ada@example.com").unwrap(),
//!     password_hash: String::new(),
//!     timezone: Timezone::default(),
//!     created_at: chrono::Utc::now(),
//! };
//! store.create(&user).await.unwrap();
//! let tasks = TaskService::new(store.clone(), store.clone(), clock, EventFactory::new("/example"));
//! let new = NewTask { tags: Some(Tags::parse(["groceries"]).unwrap()), ..NewTask::titled(TaskTitle::parse("buy milk").unwrap()) };
//! let task = tasks.create(user.id, new).await.unwrap();
//! assert_eq!(task.version, 1);
//! # });
//! ```

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
