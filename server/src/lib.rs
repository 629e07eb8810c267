//! The Calmroom HTTP server: configuration, the router, and routes outside Leptos.

pub mod config;
pub mod postmortems;
pub mod public;
pub mod webhooks;

use app::api::AppState;
use app::live::Change;
use app::store::sessions::Sessions;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures::StreamExt;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "calmroom_session";

/// Everything the router's handlers share.
#[derive(Clone, Debug)]
pub struct ServerState {
    pub leptos_options: LeptosOptions,
    pub app: AppState,
    pub public: public::PublicSite,
}

impl FromRef<ServerState> for public::PublicState {
    fn from_ref(state: &ServerState) -> Self {
        public::PublicState {
            db: state.app.db.clone(),
            events: state.app.events.clone(),
            site: state.public.clone(),
        }
    }
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos_options.clone()
    }
}

/// How session cookies behave.
#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// Send the cookie only over https.
    pub secure: bool,
    /// End a session after this many minutes without a request.
    pub idle_minutes: i64,
    /// The public base URL (`CALMROOM_BASE_URL`): a browser page served from it
    /// may write, as may one from the host the request names.
    pub base_url: String,
}

/// The whole application: pages, server functions, health check, static files.
pub fn router(state: ServerState, sessions: Sessions, settings: SessionSettings) -> Router {
    let routes = generate_route_list(app::App);
    let context_state = state.app.clone();
    let provide_state = move || provide_context(context_state.clone());
    let options = state.leptos_options.clone();
    let session_layer = SessionManagerLayer::new(sessions.clone())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure)
        .with_expiry(Expiry::OnInactivity(Duration::minutes(
            settings.idle_minutes,
        )));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/events", get(events))
        .merge(public::routes())
        .merge(postmortems::routes())
        .leptos_routes_with_context(&state, routes, provide_state.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            ServerState,
            _,
        >(provide_state, app::shell))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(session_layer)
        .layer(Extension(sessions))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(origin_of(&settings.base_url)),
            same_origin_writes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            settings.secure,
            private_responses,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

/// The largest request body accepted: the longest form (a postmortem with every
/// section full) with room to spare. Larger bodies answer 413.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A server function that refused before its body ran (arguments that do not
/// decode, a body over the limit) answers with the status its error means,
/// not a blanket 500.
async fn server_fn_status(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::api::ApiError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status_code()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Signed-in answers are never stored by browsers or proxies (a shared computer's
/// back button must not show the war room); over https, browsers are told to
/// use https only.
async fn private_responses(
    State(https): State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let signed_in = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(SESSION_COOKIE));
    let asset = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if signed_in && !asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// `scheme://host[:port]` of a URL, lower-cased, without a path.
fn origin_of(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    match url.find("://") {
        Some(at) => {
            let rest = &url[at + 3..];
            let host = rest.split('/').next().unwrap_or(rest);
            format!("{}://{host}", &url[..at])
        }
        None => url,
    }
}

/// Refuses cross-site writes (CSRF): a state-changing request from a browser must
/// come from a page of this instance (its `Origin` is the base URL, or the host
/// the request was sent to, and `Sec-Fetch-Site` is not cross-site or same-site),
/// and server functions take only form or JSON bodies, never `text/plain`.
/// Clients that are not browsers send neither header and are not affected.
async fn same_origin_writes(
    State(base_origin): State<Arc<String>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::Method;
    let method = request.method();
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let refuse = |why: &'static str| (StatusCode::FORBIDDEN, why).into_response();
    if let Some(origin) = text(header::ORIGIN) {
        let host = text(header::HOST);
        let origin_host = origin.split_once("://").map(|(_, h)| h.to_owned());
        let same_host = host.is_some() && origin_host == host;
        if origin != *base_origin && !same_host {
            return refuse("Refused: this request came from another site.\n");
        }
    }
    if let Some(site) = text(HeaderName::from_static("sec-fetch-site")) {
        if site == "cross-site" || site == "same-site" {
            return refuse("Refused: this request came from another site.\n");
        }
    }
    if request.uri().path().starts_with("/api/") {
        // No type at all is a call without arguments; `text/plain` and the like
        // are what a cross-site form or beacon would send.
        let content_type = text(header::CONTENT_TYPE);
        let accepted = [
            "application/x-www-form-urlencoded",
            "application/json",
            "multipart/form-data",
        ];
        if content_type.is_some_and(|t| !accepted.iter().any(|a| t.starts_with(a))) {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the fields as a form or as JSON.\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// How often an open event stream checks that its session is still signed in.
const RECHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Live changes for signed-in browsers. Each connection starts with a
/// `resync` event, so a browser that reconnects refetches what it missed.
/// A browser hears only about incidents its user may see, and the stream ends
/// once the session is signed out, expires or its user is disabled.
async fn events(
    State(state): State<ServerState>,
    Extension(sessions): Extension<Sessions>,
    session: tower_sessions::Session,
) -> Response {
    let (Some(user), Some(id)) = (
        app::api::session_user(&state.app, &session).await,
        session.id(),
    ) else {
        return (StatusCode::UNAUTHORIZED, "sign in to follow live changes\n").into_response();
    };
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let follower = Follower {
        app: state.app.clone(),
        sessions,
        id,
        user,
        changes: BroadcastStream::new(state.app.events.subscribe()),
        recheck,
        checked: std::time::Instant::now(),
    };
    let first = futures::stream::once(async {
        Ok::<_, std::convert::Infallible>(Event::default().event("resync").data("connected"))
    });
    let changes = futures::stream::unfold(follower, |mut follower| async move {
        follower
            .next_event()
            .await
            .map(|event| (Ok::<_, std::convert::Infallible>(event), follower))
    });
    Sse::new(first.chain(changes))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// One open event stream and whose it is.
struct Follower {
    app: AppState,
    sessions: Sessions,
    id: tower_sessions::session::Id,
    user: app::store::users::User,
    changes: BroadcastStream<Change>,
    recheck: tokio::time::Interval,
    checked: std::time::Instant,
}

impl Follower {
    /// The next event this user may hear; `None` ends the stream.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            tokio::select! {
                _ = self.recheck.tick() => {
                    if !self.still_signed_in().await {
                        return None;
                    }
                }
                change = self.changes.next() => {
                    // Every change is checked against a session at most a second old.
                    if self.checked.elapsed() >= std::time::Duration::from_secs(1)
                        && !self.still_signed_in().await
                    {
                        return None;
                    }
                    match change? {
                        // This connection fell behind: tell the browser to refetch everything.
                        Err(_) => return Some(Event::default().event("resync").data("lagged")),
                        Ok(Change::Restricted(number))
                            if !app::api::may_see_incident(&self.app, &self.user, number).await => {}
                        Ok(change) => return Some(Event::default().event("change").data(change.wire())),
                    }
                }
            }
        }
    }

    /// Reloads the session from the store: signed out, expired or disabled is false.
    async fn still_signed_in(&mut self) -> bool {
        use tower_sessions::SessionStore;
        self.checked = std::time::Instant::now();
        let record = match self.sessions.load(&self.id).await {
            Ok(Some(record)) => record,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "event stream: cannot reload its session");
                return true;
            }
        };
        match app::api::user_of_record(&self.app, &record).await {
            Some(user) if user.id == self.user.id => {
                self.user = user;
                true
            }
            _ => false,
        }
    }
}

/// 200 when the database answers, 503 when it does not.
async fn healthz(State(state): State<ServerState>) -> (StatusCode, &'static str) {
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
