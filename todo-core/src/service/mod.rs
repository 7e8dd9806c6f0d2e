//! Application services: use cases over the ports.

pub mod account;
pub mod assistant;
pub mod audit;
pub mod audit_verify;
pub mod chat;
pub mod credentials;
pub mod filters;
pub mod live;
pub mod notification;
pub mod recurring;
pub mod sync;
pub mod task;

pub use account::{AccountService, Credentials, Registration};
pub use credentials::{CalendarService, TokenService};
pub use filters::FilterService;
pub use task::{ListParams, NewTask, TaskPatch, TaskService};
