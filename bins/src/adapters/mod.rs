//! Adapters of the ports todo-core leaves to the services: the LLM chat
//! interpreter and the HTTP webhook sender. (The stores and the event logs are
//! their own crates, todo-store and todo-kafka.)

pub mod llm;
pub mod webhook;
