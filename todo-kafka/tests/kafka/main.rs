//! Integration tests of todo-kafka against a real Apache Kafka broker:
//! `KAFKA_BOOTSTRAP_SERVERS` (`export $(scripts/kafka-local start)`), or with
//! the `testcontainers` feature and a Docker engine, a container per test.
//! Every test uses fresh topics under a random prefix. Run with `--nocapture`
//! to see the measured figures.

mod broker_restart;
mod contract;
mod poison;
mod relay;
mod relay_crash;
mod support;
