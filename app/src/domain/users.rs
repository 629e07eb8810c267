//! People who sign in: their names, e-mail addresses, passwords and org roles.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong with one field of a form, in words for the person typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A typed user id, so a user id cannot be mixed up with any other number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// A name people give something: trimmed, 1 to `max` characters, no control
/// characters; `empty` says what to write when there is none.
pub fn short_name(
    field: &'static str,
    raw: &str,
    max: usize,
    empty: &str,
) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, empty));
    }
    if name.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("Keep the name to {max} characters or fewer."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "The name contains characters that cannot be shown.",
        ));
    }
    Ok(name.to_owned())
}

/// A person's display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        short_name(field, raw, Self::MAX_CHARS, "Enter a name.").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, trimmed and lower-cased so one person has one account.
///
/// The check is deliberately loose (one `@`, a dot in the domain, no spaces):
/// the address is a sign-in name here, not a mailbox we deliver to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(FieldError::new(field, "Enter an e-mail address."));
        }
        if email.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(field, "That e-mail address is too long."));
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !valid {
            return Err(FieldError::new(
                field,
                "Enter an e-mail address like name@example.com.",
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 12 characters, at most 256 (argon2 input stays bounded).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let count = raw.chars().count();
        if count < Self::MIN_CHARS {
            return Err(FieldError::new(
                field,
                format!("Use at least {} characters.", Self::MIN_CHARS),
            ));
        }
        if count > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("Use at most {} characters.", Self::MAX_CHARS),
            ));
        }
        if raw.trim().is_empty() {
            return Err(FieldError::new(field, "A password cannot be only spaces."));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// What a person may do across the whole instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrgRole {
    /// Manages users, templates and settings; also works incidents.
    Admin,
    /// Declares and works incidents.
    Responder,
    /// Reads dashboards and incidents, changes nothing.
    Viewer,
}

impl OrgRole {
    pub const ALL: [OrgRole; 3] = [OrgRole::Admin, OrgRole::Responder, OrgRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Admin => "admin",
            OrgRole::Responder => "responder",
            OrgRole::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgRole::Admin => "Admin",
            OrgRole::Responder => "Responder",
            OrgRole::Viewer => "Viewer",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == raw.trim())
            .ok_or_else(|| FieldError::new(field, "Choose admin, responder or viewer."))
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let email = Email::parse("email", "  Ada@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ada@example.com");
    }

    #[test]
    fn an_email_without_a_domain_dot_is_rejected() {
        let err = Email::parse("email", "ada@localhost").expect_err("invalid");
        assert_eq!(err.field, "email");
    }

    #[test]
    fn an_email_with_two_at_signs_or_spaces_is_rejected() {
        assert!(Email::parse("email", "a@b@c.com").is_err());
        assert!(Email::parse("email", "a b@c.com").is_err());
        assert!(Email::parse("email", "").is_err());
    }

    #[test]
    fn a_password_of_eleven_characters_is_rejected_and_twelve_accepted() {
        assert!(NewPassword::parse("password", "abcdefghijk").is_err());
        assert!(NewPassword::parse("password", "abcdefghijkl").is_ok());
    }

    #[test]
    fn a_password_of_only_spaces_is_rejected() {
        assert!(NewPassword::parse("password", &" ".repeat(20)).is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = NewPassword::parse("password", "correct horse battery").expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn a_name_longer_than_100_chars_is_rejected() {
        assert!(PersonName::parse("name", &"x".repeat(101)).is_err());
        assert!(PersonName::parse("name", &"x".repeat(100)).is_ok());
    }

    #[test]
    fn a_blank_name_is_rejected() {
        let err = PersonName::parse("name", "   ").expect_err("blank");
        assert_eq!(err.message, "Enter a name.");
    }

    #[test]
    fn org_roles_round_trip_through_their_names() {
        for role in OrgRole::ALL {
            assert_eq!(OrgRole::parse("role", role.as_str()), Ok(role));
        }
        assert!(OrgRole::parse("role", "owner").is_err());
    }
}
