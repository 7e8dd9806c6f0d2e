//! The encrypted links, for the run of scripts/test that points `DATABASE_URL` at
//! PostgreSQL over TLS (`sslmode=verify-full`, `sslrootcert` = the CA that
//! scripts/pg-local made) and `KAFKA_BOOTSTRAP_SERVERS`/`KAFKA_PROPERTIES` at
//! Kafka's SSL or SASL_SSL listener (scripts/kafka-local). They are `#[ignore]`d
//! in the plaintext run and run with `--include-ignored` in the encrypted one,
//! where the `kafka::` tests and a services test also run, unchanged, over the
//! same links. A client that trusts another CA is refused by both servers.

use std::time::Duration;

use sqlx::Connection;
use todo_kafka::KafkaConfig;

const HOW: &str = "these tests need the encrypted links: scripts/test runs them with DATABASE_URL from \
                   `scripts/pg-local tls-env` and KAFKA_* from `scripts/kafka-local tls-env sasl_ssl`";

/// A CA that signed nothing the test servers present.
fn other_ca() -> String {
    format!("{}/fixtures/other-ca.crt", env!("CARGO_MANIFEST_DIR"))
}

fn tls_database_url() -> String {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| panic!("DATABASE_URL is not set; {HOW}"));
    assert!(url.contains("sslmode=verify-full") && url.contains("sslrootcert="), "DATABASE_URL is not TLS; {HOW}");
    url
}

#[tokio::test]
#[ignore = "needs the encrypted links; scripts/test runs it"]
async fn postgres_connections_are_encrypted_and_verified() {
    let url = tls_database_url();
    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect with verify-full");
    let (ssl, version): (bool, Option<String>) =
        sqlx::query_as("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut c)
            .await
            .expect("pg_stat_ssl");
    println!("tls: PostgreSQL session encrypted={ssl} ({})", version.as_deref().unwrap_or("-"));
    assert!(ssl, "the session is encrypted");
    // The stores connect the same way.
    let store = todo_store::connect(&url).await.expect("the store connects over TLS");
    store.close().await;

    // A client that trusts another CA is refused.
    let (before, _) = url.split_once("sslrootcert=").expect("sslrootcert");
    let after = url.split_once("sslrootcert=").unwrap().1;
    let rest = after.split_once('&').map(|(_, r)| format!("&{r}")).unwrap_or_default();
    let wrong = format!("{before}sslrootcert={}{rest}", other_ca());
    let err = match todo_store::connect(&wrong).await {
        Ok(_) => panic!("a client trusting another CA connected"),
        Err(e) => e,
    };
    let chain = format!("{err:?}");
    println!("tls: PostgreSQL with the wrong CA: {err}");
    assert!(chain.to_lowercase().contains("certificate") || chain.contains("Tls"), "{chain}");
}

#[tokio::test]
#[ignore = "needs the encrypted links; scripts/test runs it"]
async fn kafka_clients_with_the_wrong_ca_are_refused() {
    let config = KafkaConfig::from_env().expect("KAFKA_* settings");
    let protocol = config.properties.get("security.protocol").cloned().unwrap_or_default();
    assert!(protocol.ends_with("SSL"), "KAFKA_PROPERTIES has no security.protocol=SSL or SASL_SSL; {HOW}");
    assert!(config.properties.contains_key("ssl.ca.location"), "{HOW}");
    // The right CA: topics can be created and the log answers.
    let good = config.clone().with_topic_prefix(format!("tls{}.", uuid::Uuid::new_v4().simple()));
    todo_kafka::ensure_topics(&good).await.expect("topics over TLS");
    let log = todo_kafka::KafkaEventLog::new(good).expect("a client");
    todo_core::ports::EventLog::ping(&log).await.expect("ping over TLS");
    println!("tls: Kafka over {protocol} with the right CA: ok");

    // Another CA: the handshake fails and nothing gets through.
    let mut wrong = config.with_property("ssl.ca.location", other_ca());
    wrong.request_timeout = Duration::from_secs(3);
    let started = std::time::Instant::now();
    let refused = todo_kafka::ensure_topics(&wrong).await;
    println!("tls: Kafka over {protocol} with the wrong CA after {:.1?}: {refused:?}", started.elapsed());
    assert!(refused.is_err(), "a client trusting another CA reached the broker");
}
