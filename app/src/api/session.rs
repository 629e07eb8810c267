//! Who is calling: the shared server state, the session, and permission checks.

use super::ApiError;
use crate::domain::users::{OrgRole, UserId};
use crate::store::{self, users::User, Db};
use leptos::prelude::*;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// What every server function can reach, provided as Leptos context by the server.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub events: crate::live::Events,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none: the TCP peer is).
    pub trusted_proxies: std::sync::Arc<Vec<IpAddr>>,
    /// War-room views shared by everyone watching an incident.
    pub rooms: std::sync::Arc<super::rooms::RoomCache>,
    /// People by id, as the change log last said.
    pub people: std::sync::Arc<super::kept::People>,
    /// Where people stand on incidents, as of each incident's last change.
    pub openings: std::sync::Arc<super::kept::Openings>,
    /// Company sign-in, when an identity provider is configured.
    pub company: super::auth::CompanySlot,
}

impl AppState {
    /// The state of one server on `db`; its caches follow `events`.
    pub fn new(db: Db, events: crate::live::Events, trusted_proxies: Vec<IpAddr>) -> Self {
        let people = std::sync::Arc::<super::kept::People>::default();
        people.follow(&events);
        AppState {
            db,
            events,
            trusted_proxies: std::sync::Arc::new(trusted_proxies),
            rooms: Default::default(),
            people,
            openings: Default::default(),
            company: Default::default(),
        }
    }

    /// User `id` (from memory while their account has not changed).
    pub(crate) async fn user(&self, id: UserId) -> Result<Option<User>, store::StoreError> {
        self.people.find(&self.db, &self.events, id).await
    }
}

use store::sessions::USER_ID_KEY;
/// The user's session epoch when this session began; a password change moves it.
const EPOCH_KEY: &str = "epoch";
/// When the session was last renewed (Unix seconds).
const SEEN_KEY: &str = "seen_at";
/// A request renews its session (and so its idle timeout) at most this often,
/// so an active responder stays signed in without a write per request.
const RENEW_AFTER_SECS: i64 = 60;

/// Marks the session as used now when the last mark is older than a minute:
/// the change makes the session layer save it with a fresh idle expiry.
async fn renew(session: &Session) -> Result<(), ApiError> {
    let now = chrono::Utc::now().timestamp();
    let seen = session.get::<i64>(SEEN_KEY).await.map_err(session_error)?;
    if seen.is_none_or(|seen| now - seen >= RENEW_AFTER_SECS) {
        session.insert(SEEN_KEY, now).await.map_err(session_error)?;
    }
    Ok(())
}

pub(crate) fn state() -> Result<AppState, ApiError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        ApiError::Internal
    })
}

/// Runs a server function body and gives API callers the matching HTTP status.
pub(crate) async fn respond<T>(
    body: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let out = body.await;
    if let Err(e) = &out {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            // A page sends a signed-out visitor to sign in while its own
            // resources answer 401: the redirect must stay the page's status,
            // whichever finishes first.
            let redirecting = options
                .0
                .read()
                .map(|parts| parts.status.is_some_and(|s| s.is_redirection()))
                .unwrap_or(false);
            if let (false, Ok(status)) = (
                redirecting,
                axum::http::StatusCode::from_u16(e.status_code()),
            ) {
                options.set_status(status);
            }
        }
    }
    out
}

pub(crate) async fn session() -> Result<Session, ApiError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this request");
        ApiError::Internal
    })
}

fn session_error(e: tower_sessions::session::Error) -> ApiError {
    tracing::error!(error = %e, "session store error");
    ApiError::Internal
}

/// Starts a fresh session for `user` (a new id, so a planted id is worthless).
pub async fn begin_session(session: &Session, user: &User) -> Result<(), ApiError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(USER_ID_KEY, user.id.0)
        .await
        .map_err(session_error)?;
    session
        .insert(EPOCH_KEY, user.session_epoch)
        .await
        .map_err(session_error)
}

pub(crate) async fn end_session(session: &Session) -> Result<(), ApiError> {
    session.flush().await.map_err(session_error)
}

/// The signed-in user of `session` for routes outside Leptos (the event stream):
/// `None` when signed out, disabled, or the session cannot be read.
pub async fn session_user(state: &AppState, session: &Session) -> Option<User> {
    let id = session.get::<i64>(USER_ID_KEY).await.ok().flatten()?;
    let epoch = session
        .get::<i64>(EPOCH_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    state
        .user(UserId(id))
        .await
        .ok()
        .flatten()
        .filter(|user| !user.disabled && user.session_epoch == epoch && !user.must_change_password)
}

/// The user a stored session record belongs to, when that record has not
/// expired and the user is still enabled (the event stream rechecks this, so
/// signing out or being disabled ends it).
pub async fn user_of_record(
    state: &AppState,
    record: &tower_sessions::session::Record,
) -> Option<User> {
    if record.expiry_date <= tower_sessions::cookie::time::OffsetDateTime::now_utc() {
        return None;
    }
    let id = record.data.get(USER_ID_KEY)?.as_i64()?;
    let epoch = record
        .data
        .get(EPOCH_KEY)
        .and_then(|e| e.as_i64())
        .unwrap_or(0);
    state
        .user(UserId(id))
        .await
        .ok()
        .flatten()
        .filter(|user| !user.disabled && user.session_epoch == epoch)
}

/// The signed-in user, if any. A user disabled since signing in is signed out here,
/// so disabling takes effect on their very next request.
pub(crate) async fn signed_in_user(state: &AppState) -> Result<Option<User>, ApiError> {
    // An `/api/v1` call acts as its token's owner, read again now, so a
    // disabled owner's token stops at once.
    if let Some(caller) = use_context::<super::tokens::TokenCaller>() {
        return Ok(state.user(caller.owner).await?.filter(|u| !u.disabled));
    }
    let session = session().await?;
    let Some(id) = session
        .get::<i64>(USER_ID_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let epoch = session
        .get::<i64>(EPOCH_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    match state.user(UserId(id)).await? {
        Some(user) if !user.disabled && user.session_epoch == epoch => {
            renew(&session).await?;
            Ok(Some(user))
        }
        _ => {
            end_session(&session).await?;
            Ok(None)
        }
    }
}

/// The signed-in user, who must have chosen their own password: after an admin
/// reset, everything but changing it answers 403 until they do.
pub(crate) async fn require_user(state: &AppState) -> Result<User, ApiError> {
    let user = signed_in_user(state).await?.ok_or(ApiError::Unauthorized)?;
    if user.must_change_password {
        return Err(ApiError::Forbidden(
            "Choose a new password first: an admin reset yours.".to_owned(),
        ));
    }
    Ok(user)
}

/// Keeps the current session signed in after its user's epoch moved (their own
/// password change), while every other session of theirs ends.
pub(crate) async fn keep_session(session: &Session, user: &User) -> Result<(), ApiError> {
    session
        .insert(EPOCH_KEY, user.session_epoch)
        .await
        .map_err(session_error)
}

/// The signed-in user when they may change things (responders and admins); viewers get 403.
pub(crate) async fn require_writer(state: &AppState) -> Result<User, ApiError> {
    let user = require_user(state).await?;
    if use_context::<super::tokens::TokenCaller>().is_some_and(|c| !c.can_write) {
        return Err(ApiError::Forbidden(
            "This API token is read-only.".to_owned(),
        ));
    }
    if user.org_role == OrgRole::Viewer {
        Err(ApiError::Forbidden(
            "Viewers can read incidents but not change them.".to_owned(),
        ))
    } else {
        Ok(user)
    }
}

/// The signed-in admin; anyone else gets 403.
pub(crate) async fn require_admin(state: &AppState) -> Result<User, ApiError> {
    let user = require_user(state).await?;
    // Administration stays with people at the screen: no route of `/api/v1`
    // needs it, and a leaked admin token must not manage users.
    if use_context::<super::tokens::TokenCaller>().is_some() {
        return Err(ApiError::Forbidden(
            "API tokens cannot administer the instance.".to_owned(),
        ));
    }
    if user.org_role == OrgRole::Admin {
        Ok(user)
    } else {
        Err(ApiError::Forbidden(
            "Only admins can manage users.".to_owned(),
        ))
    }
}

/// The address the request came from: the TCP peer, or, when the peer is a
/// trusted proxy, the nearest address in `X-Forwarded-For` that is not one.
pub(crate) async fn client_address(state: &AppState) -> Option<IpAddr> {
    let peer = leptos_axum::extract::<axum::extract::ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|info| info.0.ip())?;
    if !state.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.ok()?;
    Some(forwarded_client(&headers, peer, &state.trusted_proxies))
}

/// Walks `X-Forwarded-For` from the right (the entries our proxies appended),
/// skipping trusted proxies; the first other address is the client.
pub fn forwarded_client(
    headers: &axum::http::HeaderMap,
    peer: IpAddr,
    trusted: &[IpAddr],
) -> IpAddr {
    let mut client = peer;
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> axum::http::HeaderMap {
        let mut headers = axum::http::HeaderMap::new();
        if let Ok(value) = value.parse() {
            headers.insert("x-forwarded-for", value);
        }
        headers
    }

    #[test]
    fn the_client_is_the_nearest_forwarded_address_that_is_not_a_trusted_proxy() {
        let proxy: IpAddr = [10, 0, 0, 2].into();
        let trusted = [proxy];
        // A client cannot pretend by writing its own X-Forwarded-For first.
        let client = forwarded_client(&forwarded("1.2.3.4, 203.0.113.9"), proxy, &trusted);
        assert_eq!(client, IpAddr::from([203, 0, 113, 9]));
        let chained = forwarded_client(&forwarded("203.0.113.9, 10.0.0.2"), proxy, &trusted);
        assert_eq!(chained, IpAddr::from([203, 0, 113, 9]));
        assert_eq!(forwarded_client(&forwarded(""), proxy, &trusted), proxy);
    }
}
