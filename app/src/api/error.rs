//! The one error type that crosses the wire from server functions.

use crate::domain::users::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a caller is told when a server function refuses. Internal details go
/// to the server log, never here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// One field of the input is wrong; the form shows `message` next to it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Wrong e-mail or password: one answer for both.
    #[error("Wrong e-mail or password.")]
    BadCredentials,
    #[error("Sign in to continue.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("Something went wrong on the server. Try again in a moment.")]
    Internal,
    /// The request never got an answer (network, decoding).
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn forbidden() -> Self {
        ApiError::Forbidden("You do not have permission to do that.".to_owned())
    }

    /// The message to show next to `field`, when this error is about it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            ApiError::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The message for the whole form: everything that is not about one field.
    pub fn for_form(&self) -> Option<String> {
        match self {
            ApiError::Invalid { .. } => None,
            other => Some(other.to_string()),
        }
    }

    /// The HTTP status API callers get.
    pub fn status_code(&self) -> u16 {
        match self {
            ApiError::Invalid { .. } => 422,
            ApiError::BadCredentials | ApiError::Unauthorized => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound => 404,
            ApiError::Conflict(_) => 409,
            ApiError::TooManyRequests(_) => 429,
            ApiError::Internal | ApiError::Transport(_) => 500,
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Invalid {
            field: e.field.to_owned(),
            message: e.message,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_is_shown_only_at_its_field() {
        let err = ApiError::invalid("email", "Enter an e-mail address.");
        assert_eq!(
            err.for_field("email").as_deref(),
            Some("Enter an e-mail address.")
        );
        assert_eq!(err.for_field("password"), None);
        assert_eq!(err.for_form(), None);
    }

    #[test]
    fn refusals_map_to_4xx_and_faults_to_500() {
        assert_eq!(ApiError::invalid("x", "y").status_code(), 422);
        assert_eq!(ApiError::BadCredentials.status_code(), 401);
        assert_eq!(ApiError::forbidden().status_code(), 403);
        assert_eq!(ApiError::TooManyRequests(String::new()).status_code(), 429);
        assert_eq!(ApiError::Internal.status_code(), 500);
    }
}
