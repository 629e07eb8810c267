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
    /// The request body is larger than any form needs.
    #[error("That is too much to send at once.")]
    TooLarge,
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
            // Not about one field a form shows: the request as a whole, or an id.
            ApiError::Invalid { field, message } if field == "request" || field == "id" => {
                Some(message.clone())
            }
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
            ApiError::TooLarge => 413,
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

    /// Input that does not decode is the caller's mistake (4xx, at its field when
    /// the decoder names one); only a failed round trip is a transport error.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        if value.to_string().contains("length limit exceeded") {
            return ApiError::TooLarge;
        }
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                ApiError::Invalid {
                    field: named_field(&message).unwrap_or_else(|| "request".to_owned()),
                    message: "This value could not be read. Check the form and try again."
                        .to_owned(),
                }
            }
            // On the server, this is the request body that did not decode; in the
            // browser it is the answer that did not, which is a transport failure.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => ApiError::Invalid {
                field: "request".to_owned(),
                message: "This request could not be read. Check the form and try again.".to_owned(),
            },
            other => ApiError::Transport(other.to_string()),
        }
    }
}

/// The field a decoder's message names: "missing field `title`" gives `title`.
fn named_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    let name = &message[start..start + len];
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| name.to_owned())
}

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        // An id that names nobody and nothing: the caller's mistake, and the
        // transaction rolled back, so nothing was half-written.
        if let crate::store::StoreError::Sqlx(sqlx::Error::Database(db)) = &e {
            if db.is_foreign_key_violation() {
                return ApiError::invalid(
                    "id",
                    "That refers to someone or something that does not exist.",
                );
            }
        }
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
    fn undecodable_arguments_are_the_callers_mistake_at_the_named_field() {
        let missing = ApiError::from_server_fn_error(ServerFnErrorErr::Args(
            "missing field `title`".to_owned(),
        ));
        assert_eq!(missing.status_code(), 422);
        assert!(missing.for_field("title").is_some());
        let huge = ApiError::from_server_fn_error(ServerFnErrorErr::Args(
            "length limit exceeded".to_owned(),
        ));
        assert_eq!(huge.status_code(), 413);
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
