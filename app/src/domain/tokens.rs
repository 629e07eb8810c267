//! API tokens as people see and make them: a name, read-only or read-write,
//! an expiry, and a secret shown once.

use super::users::{FieldError, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Every secret starts with this, so a leaked one is recognisable (secret
/// scanners, logs) and a wrong paste is told apart from a wrong token.
pub const SECRET_PREFIX: &str = "calmroom_";

/// The longest a token may live.
pub const MAX_DAYS: i64 = 366;

/// A token as its owner (or an admin) sees it in a list: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub owner: UserId,
    pub owner_name: String,
    pub owner_email: String,
    pub name: String,
    pub can_write: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether a request bearing it would be let in at `now` (the owner's
    /// account aside).
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A token just made: the secret, which is never shown again, and the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeToken {
    pub secret: String,
    pub token: ApiToken,
}

/// What a script uses a token for, in its owner's words: trimmed, 1 to 80
/// characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let empty = "Name the token after what will use it, such as \"deploy bot\".";
        super::users::short_name(field, raw, Self::MAX_CHARS, empty).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// "read" or "write": whether the token may change things its owner may change.
pub fn parse_access(field: &'static str, raw: &str) -> Result<bool, FieldError> {
    match raw.trim() {
        "read" => Ok(false),
        "write" => Ok(true),
        _ => Err(FieldError::new(
            field,
            "Choose read-only or read and write.",
        )),
    }
}

/// How many days the token lives: a whole number from 1 to [`MAX_DAYS`].
pub fn parse_days(field: &'static str, raw: &str) -> Result<i64, FieldError> {
    match raw.trim().parse::<i64>() {
        Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(days),
        _ => Err(FieldError::new(
            field,
            format!("Choose a lifetime from 1 to {MAX_DAYS} days."),
        )),
    }
}

/// The secret made of 32 random bytes: the prefix and 64 hex digits.
pub fn secret_from(bytes: [u8; 32]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{SECRET_PREFIX}{hex}")
}

/// Whether `raw` has the shape of a secret (checked before any lookup).
pub fn looks_like_secret(raw: &str) -> bool {
    raw.strip_prefix(SECRET_PREFIX).is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_has_the_prefix_and_only_secrets_look_like_one() {
        let secret = secret_from([0xab; 32]);
        assert!(secret.starts_with("calmroom_abab"));
        assert!(looks_like_secret(&secret));
        assert!(!looks_like_secret("calmroom_abc"));
        assert!(!looks_like_secret(&secret.to_uppercase()));
        assert!(!looks_like_secret(&format!("{secret}0")));
    }

    #[test]
    fn lifetime_access_and_name_are_checked_at_their_fields() {
        assert_eq!(parse_days("days", "30"), Ok(30));
        assert_eq!(parse_days("days", "0").map_err(|e| e.field), Err("days"));
        assert!(parse_days("days", "367").is_err());
        assert!(parse_days("days", "1e9").is_err());
        assert_eq!(parse_access("access", "write"), Ok(true));
        assert!(parse_access("access", "admin").is_err());
        assert!(TokenName::parse("name", "  ").is_err());
        assert!(TokenName::parse("name", &"x".repeat(81)).is_err());
        assert_eq!(
            TokenName::parse("name", " deploy bot ").map(|n| n.as_str().to_owned()),
            Ok("deploy bot".to_owned())
        );
    }
}
