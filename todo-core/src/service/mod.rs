//! Application services: use cases over the ports.

pub mod task;

pub use task::{ListParams, NewTask, TaskPatch, TaskService};
