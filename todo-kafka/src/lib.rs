//! Apache Kafka adapters of the todo-core ports.
