//! Secrets and private files: the JWT signing secret (given, or generated once
//! in the embedded mode), the check that refuses published or weak secrets, and
//! the data dir and SQLite file created readable by this user only.

use std::path::Path;

use anyhow::{Context, bail};

use crate::config::Config;
use crate::run_mode::RunMode;

/// Shortest accepted `JWT_SECRET`, in bytes (HS256 wants at least 256 bits).
pub const JWT_SECRET_MIN_BYTES: usize = 32;

/// Secrets that are public knowledge (shipped defaults, examples): a server
/// started with one would accept tokens anyone can mint.
pub const KNOWN_SECRETS: &[&str] = &[
    "change-me-to-32-or-more-random-bytes!!",
    "change-me",
    "changeme",
    "secret",
    "your-secret-key",
    "your-256-bit-secret",
    "integration-test-secret-0123456789abcdef",
];

/// Why `secret` may not sign tokens, if it may not.
pub fn weak_secret(secret: &str) -> Option<String> {
    if secret.len() < JWT_SECRET_MIN_BYTES {
        return Some(format!("JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes (it has {})", secret.len()));
    }
    let lowered = secret.trim().to_ascii_lowercase();
    if KNOWN_SECRETS.iter().any(|k| lowered == k.to_ascii_lowercase()) || lowered.contains("change-me") {
        return Some(
            "JWT_SECRET is a published default or example: anyone could sign tokens for any user. Generate \
             one, e.g. `openssl rand -hex 32`"
                .to_owned(),
        );
    }
    let distinct: std::collections::BTreeSet<char> = secret.chars().collect();
    if distinct.len() < 8 {
        return Some(
            "JWT_SECRET repeats too few characters to be secret; generate one, e.g. `openssl rand -hex 32`".into(),
        );
    }
    None
}

/// The signing secret: `JWT_SECRET`, or in embedded mode one generated once and
/// kept in `<data-dir>/jwt-secret` (mode 0600) so tokens survive restarts.
pub fn jwt_secret(config: &Config, mode: &RunMode) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &config.jwt_secret {
        if let Some(why) = weak_secret(s) {
            bail!("{why}");
        }
        return Ok(s.as_bytes().to_vec());
    }
    if !mode.is_embedded() {
        bail!("JWT_SECRET is required outside the embedded mode (at least {JWT_SECRET_MIN_BYTES} bytes)");
    }
    load_or_create_secret(&config.data_dir.join("jwt-secret"))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let s = existing.trim();
        if s.len() >= JWT_SECRET_MIN_BYTES {
            return Ok(s.as_bytes().to_vec());
        }
        bail!("{} is shorter than {JWT_SECRET_MIN_BYTES} bytes; delete it to generate a new one", path.display());
    }
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let secret: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::thread_rng().r#gen();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    write_private(path, &secret).with_context(|| format!("write {}", path.display()))?;
    Ok(secret.into_bytes())
}

/// Creates `dir` (and its parents) if missing; a directory this process creates is
/// private to its user (0700): it holds the database and the signing secret.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("create {}", dir.display()))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))
}

/// Creates the SQLite file of `url` empty with mode 0600 (in a 0700 directory)
/// before the store opens it, so the database never exists readable by others;
/// SQLite gives its `-wal` and `-shm` files the same mode.
pub fn prepare_sqlite_file(url: &str) -> anyhow::Result<()> {
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else { return Ok(()) };
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    let path = Path::new(path);
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("create {}", path.display())),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_short_and_repetitive_secrets_are_refused() {
        use clap::Parser;
        assert!(weak_secret("change-me-to-32-or-more-random-bytes!!").is_some_and(|w| w.contains("published")));
        assert!(weak_secret("CHANGE-ME-to-32-or-more-random-bytes!!").is_some());
        assert!(weak_secret("short").is_some_and(|w| w.contains("32 bytes")));
        assert!(weak_secret(&"ab".repeat(20)).is_some_and(|w| w.contains("too few")));
        assert_eq!(weak_secret("3f9a1c07b2e84d6e9a5f0c1b7d2e4a68c3b9f01e5d7a2c4b"), None);
        let argv = ["todo", "--jwt-secret", "change-me-to-32-or-more-random-bytes!!"];
        let c = crate::config::Cli::try_parse_from(argv).unwrap().config.normalized();
        let mode = RunMode::from_config(&c).unwrap();
        assert!(jwt_secret(&c, &mode).unwrap_err().to_string().contains("published"));
    }
}
