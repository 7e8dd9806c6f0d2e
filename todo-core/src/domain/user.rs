//! User accounts.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ValidationError;
use super::ids::UserId;

/// Longest accepted e-mail address (RFC 5321's path limit).
pub const EMAIL_MAX_LEN: usize = 254;

/// An e-mail address, trimmed and lowercased. Checked for shape only
/// (`local@domain.tld`); whether it receives mail is not our business.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, format = Email, example = "ada@example.com")]
pub struct Email(String);

impl Email {
    /// Trims and lowercases; refuses anything not shaped `local@domain.tld`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let e = s.trim().to_lowercase();
        let bad = || ValidationError::new("email", format!("{s:?} is not an e-mail address"));
        if e.len() > EMAIL_MAX_LEN || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = e.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(e))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> Self {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone name such as `Europe/Berlin` (default `UTC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "Europe/Berlin")]
pub struct Timezone(pub chrono_tz::Tz);

impl Timezone {
    /// An IANA time zone name such as `Europe/Berlin`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        s.trim()
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| ValidationError::new("timezone", format!("{s:?} is not an IANA time zone name")))
    }

    /// The `chrono_tz` zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self(chrono_tz::Tz::UTC)
    }
}

impl TryFrom<String> for Timezone {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Timezone> for String {
    fn from(t: Timezone) -> Self {
        t.0.name().to_owned()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A stored account. The password hash never leaves the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The sign-in address (unique).
    pub email: Email,
    /// PHC string (argon2id).
    pub password_hash: String,
    /// The user's time zone: dates in chat, filters and all-day tasks are local to it.
    pub timezone: Timezone,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

/// What the API shows of a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// The user's id.
    pub id: UserId,
    /// The sign-in address.
    pub email: Email,
    /// The user's time zone.
    pub timezone: Timezone,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self { id: u.id, email: u.email.clone(), timezone: u.timezone, created_at: u.created_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "a b@example.com", "ada@example", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn time_zones() {
        assert_eq!(Timezone::parse("Europe/Berlin").unwrap().to_string(), "Europe/Berlin");
        assert!(Timezone::parse("Mars/Olympus").is_err());
        assert_eq!(Timezone::default().to_string(), "UTC");
    }
}
