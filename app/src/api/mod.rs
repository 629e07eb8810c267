//! Server functions: parse input into domain types, check permission, call the store.

#[cfg(feature = "ssr")]
mod access;
pub mod alerts;
pub mod auth;
mod error;
pub mod incidents;
#[cfg(feature = "ssr")]
pub mod kept;
pub mod leadership;
#[cfg(feature = "ssr")]
pub mod markdown;
#[cfg(feature = "ssr")]
mod passwords;
pub mod postmortems;
#[cfg(feature = "ssr")]
pub mod rooms;
#[cfg(feature = "ssr")]
mod session;
pub mod shared;
pub mod status;
pub mod tokens;
pub mod updates;
pub mod users;
pub mod zones;

#[cfg(feature = "ssr")]
pub use access::may_see_incident;
pub use error::ApiError;
#[cfg(feature = "ssr")]
pub use passwords::{bootstrap_admin, warm_up as warm_up_passwords};
#[cfg(feature = "ssr")]
pub use session::{begin_session, forwarded_client, session_user, user_of_record, AppState};
