//! Test fixtures for crates that test against real databases (feature `test-util`):
//! temporary directories for SQLite files and fresh PostgreSQL databases.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Executor, PgConnection};

/// How to get a PostgreSQL server for the tests.
pub const HOW_TO_START_POSTGRES: &str = "PostgreSQL tests need DATABASE_URL, a server URL whose user may CREATE \
     DATABASE: start a throwaway server with `export $(scripts/pg-local start)` (it prints DATABASE_URL=...) and run \
     the tests again; scripts/test does all of this";

/// A directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("todo-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `sqlite://<dir>/todo.db`.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.join("todo.db").display())
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh database `todo_test_<random>` on the server of `DATABASE_URL`, dropped
/// (with its connections) when this value is. Panics, saying how to start a
/// server, when `DATABASE_URL` is unset or unreachable: tests never skip.
#[derive(Debug)]
pub struct PgDb {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDb {
    pub async fn create() -> Self {
        let admin_url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| panic!("DATABASE_URL is not set. {HOW_TO_START_POSTGRES}"));
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to DATABASE_URL: {e}. {HOW_TO_START_POSTGRES}"));
        let name = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create a test database");
        let _ = admin.close().await;
        let (base, params) = match admin_url.split_once('?') {
            Some((b, p)) => (b, format!("?{p}")),
            None => (admin_url.as_str(), String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _db)| server);
        Self { url: format!("{server}/{name}{params}"), admin_url, name }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async: a thread with its own runtime does the work.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let mut admin = PgConnection::connect(&url).await?;
                admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}
