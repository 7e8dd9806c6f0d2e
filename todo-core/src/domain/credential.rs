//! Credentials besides the password: named API tokens with scopes (for AI
//! assistants and scripts) and the secret of a user's calendar feed. Both are
//! random secrets shown once; only their SHA-256 is stored, so a copy of the
//! database lets nobody in, and a presented secret is found by its hash (no
//! comparison of secrets in variable time).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::ValidationError;
use super::ids::UserId;

/// Prefix of every API token: says what a leaked string is (secret scanners can
/// match it) and tells an API token from a session JWT at a glance.
pub const API_TOKEN_PREFIX: &str = "todo_pat_";
/// Random bytes in a secret (256 bits).
const SECRET_BYTES: usize = 32;
/// Longest token name.
pub const TOKEN_NAME_MAX_CHARS: usize = 100;
/// API tokens one user may hold at once.
pub const TOKENS_PER_USER_MAX: usize = 50;

/// An API token's identifier (not secret: it names the token in listings and revocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = Uuid)]
pub struct TokenId(pub uuid::Uuid);

impl TokenId {
    /// A fresh time-ordered (v7) identifier.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// The UUID.
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for TokenId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::str::FromStr for TokenId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read tasks, notifications and the audit trail; change nothing.
    Read,
    /// Create, change, complete, reopen and delete tasks (always with `read`).
    Write,
}

impl Scope {
    /// `read` or `write`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            other => {
                Err(ValidationError::new("scopes", format!("unknown scope {other:?}; the scopes are read and write")))
            }
        }
    }
}

/// The scopes of a token: `["read"]` or `["read", "write"]` (writing without
/// reading is not a thing an assistant can do: it must find a task to change it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Scopes {
    write: bool,
}

impl Scopes {
    /// Read only.
    pub const READ: Scopes = Scopes { write: false };
    /// Read and write.
    pub const READ_WRITE: Scopes = Scopes { write: true };

    /// Parses a list of scope names: it must name `read`, and may name `write`.
    pub fn parse<S: AsRef<str>>(scopes: &[S]) -> Result<Self, ValidationError> {
        let mut read = false;
        let mut write = false;
        for s in scopes {
            match Scope::parse(s.as_ref())? {
                Scope::Read => read = true,
                Scope::Write => write = true,
            }
        }
        match (read, write) {
            (true, w) => Ok(Scopes { write: w }),
            (false, true) => {
                Err(ValidationError::new("scopes", "write needs read as well: ask for [\"read\", \"write\"]"))
            }
            (false, false) => Err(ValidationError::new("scopes", "scopes must name at least \"read\"")),
        }
    }

    /// Whether these scopes allow changes.
    pub fn can_write(&self) -> bool {
        self.write
    }

    /// The scopes, `read` first.
    pub fn to_vec(&self) -> Vec<Scope> {
        if self.write { vec![Scope::Read, Scope::Write] } else { vec![Scope::Read] }
    }

    /// `read` or `read write` (the stored form).
    pub fn as_str(&self) -> &'static str {
        if self.write { "read write" } else { "read" }
    }

    /// Parses [`Scopes::as_str`].
    pub fn from_stored(s: &str) -> Result<Self, ValidationError> {
        Self::parse(&s.split_whitespace().collect::<Vec<_>>())
    }
}

impl TryFrom<Vec<String>> for Scopes {
    type Error = ValidationError;
    fn try_from(v: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}

impl From<Scopes> for Vec<String> {
    fn from(s: Scopes) -> Self {
        s.to_vec().iter().map(|s| s.as_str().to_owned()).collect()
    }
}

/// A token's name: what the user calls it ("Claude Desktop on my laptop").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenName(String);

impl TokenName {
    /// A name of 1 to `TOKEN_NAME_MAX_CHARS` characters after trimming, without control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        let n = t.chars().count();
        if n == 0 {
            return Err(ValidationError::new("name", "name must not be empty"));
        }
        if n > TOKEN_NAME_MAX_CHARS {
            return Err(ValidationError::new(
                "name",
                format!("name is {n} characters; the limit is {TOKEN_NAME_MAX_CHARS}"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(ValidationError::new("name", "name must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TokenName {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TokenName> for String {
    fn from(n: TokenName) -> Self {
        n.0
    }
}

/// OpenAPI schemas of the newtypes, with their limits.
mod schemas {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    use utoipa::{PartialSchema, ToSchema};

    use super::*;

    impl PartialSchema for Scopes {
        fn schema() -> RefOr<Schema> {
            ArrayBuilder::new()
                .items(Scope::schema())
                .min_items(Some(1))
                .max_items(Some(2))
                .unique_items(true)
                .description(Some("`[\"read\"]` or `[\"read\", \"write\"]`"))
                .examples([serde_json::json!(["read"])])
                .into()
        }
    }
    impl ToSchema for Scopes {}

    impl PartialSchema for TokenName {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(TOKEN_NAME_MAX_CHARS))
                .examples(["Claude Desktop"])
                .into()
        }
    }
    impl ToSchema for TokenName {}
}

/// The SHA-256 of a secret, hex: what is stored and looked up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretHash(String);

impl SecretHash {
    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        Self(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    /// A stored hash (64 lowercase hex digits).
    pub fn from_stored(s: &str) -> Result<Self, ValidationError> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new("hash", "a stored secret hash is not 64 hex digits"))
        }
    }

    /// The hash, 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh random secret: 32 bytes from the operating system, base64url without padding.
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `s` has the shape of a secret from [`random_secret`] (43 base64url
/// characters): anything else is refused before any lookup.
pub fn is_secret_shaped(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `bearer` is an API token (rather than a session JWT).
pub fn is_api_token(bearer: &str) -> bool {
    bearer.starts_with(API_TOKEN_PREFIX)
}

/// A stored API token (its secret is not: only its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    /// The token's id.
    pub id: TokenId,
    /// Whose token it is.
    pub user_id: UserId,
    /// What the user calls it.
    pub name: TokenName,
    /// What it may do.
    pub scopes: Scopes,
    /// The hash of its secret.
    pub hash: SecretHash,
    /// When it was minted.
    pub created_at: DateTime<Utc>,
    /// Roughly when it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this instant the token is refused.
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token is refused at `now` (it has expired).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// What the API shows of a token: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// The token's id.
    pub id: TokenId,
    /// What the user calls it.
    pub name: TokenName,
    /// What it may do.
    pub scopes: Scopes,
    /// When it was minted.
    pub created_at: DateTime<Utc>,
    /// Roughly when it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this instant the token is refused.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            scopes: t.scopes,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
        }
    }
}

/// A user's calendar feed: the hash of the secret in its URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarFeed {
    /// Whose feed it is.
    pub user_id: UserId,
    /// The hash of the secret in the feed's URL.
    pub hash: SecretHash,
    /// When the current secret was made (creation or last rotation).
    pub created_at: DateTime<Utc>,
}

/// Who is calling and what they may do: a signed-in session (everything), or an
/// API token with its scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The caller.
    pub user_id: UserId,
    /// What the caller may do.
    pub scopes: Scopes,
    /// The API token used, if any (`None`: a session).
    pub token: Option<TokenId>,
}

impl Principal {
    /// A signed-in session: every scope.
    pub fn session(user_id: UserId) -> Self {
        Self { user_id, scopes: Scopes::READ_WRITE, token: None }
    }

    /// Whether the caller may change things.
    pub fn can_write(&self) -> bool {
        self.scopes.can_write()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_or_read_write() {
        assert_eq!(Scopes::parse(&["read"]).unwrap(), Scopes::READ);
        assert_eq!(Scopes::parse(&["write", "read"]).unwrap(), Scopes::READ_WRITE);
        assert_eq!(Scopes::parse(&["read", "read"]).unwrap(), Scopes::READ);
        assert!(Scopes::parse(&["write"]).unwrap_err().message.contains("needs read"));
        assert!(Scopes::parse::<&str>(&[]).is_err());
        assert!(Scopes::parse(&["admin"]).unwrap_err().message.contains("unknown scope"));
        assert_eq!(Scopes::from_stored(Scopes::READ_WRITE.as_str()).unwrap(), Scopes::READ_WRITE);
        let json: Scopes = serde_json::from_str(r#"["read","write"]"#).unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), r#"["read","write"]"#);
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert!(is_secret_shaped(&a), "{a}");
        assert!(!is_secret_shaped("short"));
        assert!(!is_secret_shaped(&format!("{}=", &a[..42])));
        assert_eq!(SecretHash::of(&a), SecretHash::of(&a));
        assert_ne!(SecretHash::of(&a), SecretHash::of(&b));
        assert_eq!(SecretHash::of("abc").as_str().len(), 64);
        assert!(SecretHash::from_stored(SecretHash::of("x").as_str()).is_ok());
        assert!(SecretHash::from_stored("nope").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TokenName::parse("  Claude  ").unwrap().as_str(), "Claude");
        assert!(TokenName::parse(" ").is_err());
        assert!(TokenName::parse(&"x".repeat(101)).is_err());
        assert!(TokenName::parse("a\u{0}b").is_err());
    }
}
