//! The Calmroom HTTP server: configuration, the router, and routes outside Leptos.

pub mod alerts;
pub mod allocator;
pub mod api_v1;
pub mod assets;
pub mod chat;
pub mod closing;
pub mod config;
pub mod mail;
pub mod oidc;
mod plain_page;
pub mod postmortems;
pub mod public;
pub mod tokens_page;
pub mod webhooks;

use app::api::AppState;
use app::live::Change;
use app::store::changes::{self, Logged};
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

/// mimalloc, with blocks of megabytes mapped from the system
/// ([`allocator`]), in every binary that links the server.
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "calmroom_session";

/// Everything the router's handlers share.
#[derive(Clone, Debug)]
pub struct ServerState {
    pub leptos_options: LeptosOptions,
    pub app: AppState,
    pub public: public::PublicSite,
    /// The built site (bundle, styles, icons), served from memory.
    pub assets: assets::Assets,
    /// How fast each alert integration may send.
    pub intake: alerts::Intake,
    /// Company sign-in's identity provider, when one is configured.
    pub oidc: Option<Arc<oidc::Provider>>,
    /// Set when the server shuts down: open event streams end.
    pub closing: closing::Closing,
}

impl FromRef<ServerState> for public::PublicState {
    fn from_ref(state: &ServerState) -> Self {
        public::PublicState {
            db: state.app.db.clone(),
            events: state.app.events.clone(),
            site: state.public.clone(),
            trusted_proxies: state.app.trusted_proxies.clone(),
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
    let asset_urls = state.assets.urls();
    let provide_state = move || {
        provide_context(context_state.clone());
        provide_context(asset_urls.clone());
    };
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
        .merge(alerts::routes())
        .merge(api_v1::routes())
        .merge(tokens_page::routes())
        .merge(oidc::routes())
        .leptos_routes_with_context(&state, routes, provide_state.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(site_or_not_found(provide_state))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page_zone,
        ))
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
        // Brotli or gzip, as the client accepts, for pages, JSON, the browser
        // bundle and styles. The default predicate leaves the event stream,
        // images and tiny bodies alone. Level 1: a 5,000-entry war room goes
        // from 111 KB to 10 KB for 0.2 ms (level 4 made it 8 KB for 0.6 ms,
        // repeated for every watcher's refetch).
        .layer(
            tower_http::compression::CompressionLayer::new()
                .br(true)
                .gzip(true)
                .quality(tower_http::CompressionLevel::Precise(1)),
        )
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

/// A file of the built site from memory; anything else is the app's 404 page.
fn site_or_not_found(
    provide_state: impl Fn() + Clone + Send + Sync + 'static,
) -> impl Fn(
    axum::http::Uri,
    State<ServerState>,
    axum::extract::Request,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static {
    let pages = leptos_axum::file_and_error_handler_with_context::<ServerState, _>(
        provide_state,
        app::shell,
    );
    move |uri, State(state): State<ServerState>, request| {
        let pages = pages.clone();
        Box::pin(async move {
            match state
                .assets
                .answer(request.method(), uri.path(), request.headers())
                .await
            {
                Some(file) => file,
                None => pages(uri, State(state), request).await,
            }
        })
    }
}

/// The largest request body accepted: the longest form (a postmortem with every
/// section full) with room to spare. Larger bodies answer 413.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Puts the signed-in reader's time zone into a page request, so the page is
/// rendered in it from the first byte (`app::api::zones::starting_zone`).
/// Requests that render no page of the app (the public site, the bundle,
/// server functions, the event stream) skip the session lookup.
async fn page_zone(
    State(state): State<ServerState>,
    session: tower_sessions::Session,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() == axum::http::Method::GET && renders_app_page(request.uri().path()) {
        if let Some(user) = app::api::session_user(&state.app, &session).await {
            let zone = app::api::zones::zone_of(&user);
            request
                .extensions_mut()
                .insert(app::api::zones::PageZone(zone));
        }
    }
    next.run(request).await
}

/// Whether a GET of `path` may render a page of the app in the reader's zone.
fn renders_app_page(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    !matches!(first, "api" | "pkg" | "status" | "healthz" | "events")
}

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
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // Site files say how they may be kept (`assets`); everything else a
    // signed-in person gets is never stored.
    if signed_in && !headers.contains_key(header::CACHE_CONTROL) {
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

/// How many missed changes a reconnecting browser is sent one by one; past
/// that it refetches everything.
const REPLAY_AT_MOST: i64 = 500;

/// Live changes for signed-in browsers, each with `id: <sequence>` from the
/// change log. A browser that reconnects with `Last-Event-ID` gets exactly the
/// changes it missed, from whichever replica it lands on; without one (or when
/// the gap is no longer in the log) it gets a `resync` and refetches. A
/// browser hears only about incidents its user may see, and the stream ends
/// once the session is signed out, expires or its user is disabled, and when
/// the server shuts down.
async fn events(
    State(state): State<ServerState>,
    Extension(sessions): Extension<Sessions>,
    headers: axum::http::HeaderMap,
    session: tower_sessions::Session,
) -> Response {
    let (Some(user), Some(id)) = (
        app::api::session_user(&state.app, &session).await,
        session.id(),
    ) else {
        return (StatusCode::UNAUTHORIZED, "sign in to follow live changes\n").into_response();
    };
    // Subscribe before reading the log, so nothing falls between the two.
    let changes = BroadcastStream::new(state.app.events.subscribe());
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut follower = Follower {
        closing: state.closing.watch(),
        app: state.app.clone(),
        sessions,
        id,
        user,
        changes,
        recheck,
        checked: std::time::Instant::now(),
        cursor: 0,
        backlog: std::collections::VecDeque::new(),
    };
    follower.start(resume).await;
    let changes = futures::stream::unfold(follower, |mut follower| async move {
        follower
            .next_event()
            .await
            .map(|event| (Ok::<_, std::convert::Infallible>(event), follower))
    });
    let mut response = Sse::new(changes)
        .keep_alive(KeepAlive::default())
        .into_response();
    // Proxies (nginx) must pass each event on at once.
    response.headers_mut().insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    response
}

/// One open event stream and whose it is.
struct Follower {
    /// Shutdown ends the stream; the browser reconnects with `Last-Event-ID`.
    closing: tokio::sync::watch::Receiver<bool>,
    app: AppState,
    sessions: Sessions,
    id: tower_sessions::session::Id,
    user: app::store::users::User,
    changes: BroadcastStream<Logged>,
    recheck: tokio::time::Interval,
    checked: std::time::Instant,
    /// The last sequence this browser has been sent (or told to resync at).
    cursor: i64,
    /// Events to send before anything new.
    backlog: std::collections::VecDeque<Event>,
}

impl Follower {
    /// Queues what the browser must hear first: what it missed since `resume`,
    /// or a `resync` at the current end of the log.
    async fn start(&mut self, resume: Option<i64>) {
        match resume {
            Some(seen) => self.replay_since(seen).await,
            None => self.resync("connected").await,
        }
    }

    /// Queues the changes after `seen`, or a resync when they are not known.
    async fn replay_since(&mut self, seen: i64) {
        match changes::missed_since(&self.app.db, seen, REPLAY_AT_MOST).await {
            Ok(Some(missed)) => {
                self.cursor = self.cursor.max(seen);
                for logged in missed {
                    if let Some(event) = self.visible(logged).await {
                        self.backlog.push_back(event);
                    }
                }
            }
            Ok(None) => self.resync("gap").await,
            Err(e) => {
                tracing::warn!(error = %e, "event stream: cannot read the change log");
                self.resync("gap").await;
            }
        }
    }

    /// Queues a `resync` at the end of the log as this replica knows it.
    async fn resync(&mut self, why: &'static str) {
        let at = self.app.events.seen().max(self.cursor);
        self.cursor = at;
        self.backlog.push_back(
            Event::default()
                .event("resync")
                .id(at.to_string())
                .data(why),
        );
    }

    /// The event for `logged` if this user may hear of it (advances the cursor
    /// either way); `None` for what is already sent or not theirs to know.
    async fn visible(&mut self, logged: Logged) -> Option<Event> {
        if logged.seq <= self.cursor {
            return None;
        }
        self.cursor = logged.seq;
        if let Change::Restricted(number) = logged.change {
            if !app::api::may_see_incident(&self.app, &self.user, number).await {
                return None;
            }
        }
        let wire = logged.change.wire()?;
        Some(
            Event::default()
                .event("change")
                .id(logged.seq.to_string())
                .data(wire),
        )
    }

    /// The next event this user may hear; `None` ends the stream.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.backlog.pop_front() {
                return Some(event);
            }
            if *self.closing.borrow() {
                return None;
            }
            tokio::select! {
                changed = self.closing.changed() => {
                    // A dropped sender means no server is left to say so.
                    if changed.is_err() {
                        return None;
                    }
                }
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
                        // This connection fell behind: catch up from the log.
                        Err(_) => self.replay_since(self.cursor).await,
                        Ok(logged) => {
                            // This person's account changed (signed out on any
                            // replica, disabled, new password): check at once.
                            if logged.change == Change::Account(self.user.id.0)
                                && !self.still_signed_in().await
                            {
                                return None;
                            }
                            if let Some(event) = self.visible(logged).await {
                                return Some(event);
                            }
                        }
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

/// How long the change log keeps entries: a browser away for longer refetches
/// everything when it reconnects.
pub const CHANGE_LOG_KEPT: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Holds the lock that makes an SQLite database one server's: a second server
/// on the same file gets a message saying so. Keep the answer for as long as
/// the server runs; `None` for PostgreSQL, which any number of replicas share.
pub fn hold_sqlite(database_url: &str) -> Result<Option<std::fs::File>, String> {
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return Ok(None);
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(None);
    }
    let lock_path = format!("{path}.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open the lock file {lock_path}: {e}"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another Calmroom server is already running on {path}. SQLite serves one \
             server process: stop the other one, or use PostgreSQL \
             (CALMROOM_DATABASE_URL=postgres://...) to run several replicas"
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {lock_path}: {e}")),
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

#[cfg(test)]
mod tests {
    use super::{hold_sqlite, renders_app_page};

    #[test]
    fn only_pages_of_the_app_look_up_the_readers_zone() {
        for page in [
            "/",
            "/incidents/12",
            "/account",
            "/incidents/3/postmortem/print",
        ] {
            assert!(renders_app_page(page), "{page}");
        }
        for other in [
            "/status",
            "/status/zone",
            "/api/v2/summary.json",
            "/api/sign_in",
            "/pkg/calmroom.wasm",
            "/healthz",
            "/events",
        ] {
            assert!(!renders_app_page(other), "{other}");
        }
    }

    #[test]
    fn a_second_server_on_one_sqlite_file_is_refused_with_a_clear_message() {
        let dir = std::env::temp_dir().join(format!(
            "calmroom-lock-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        let url = format!("sqlite://{}", dir.join("calmroom.db").display());
        let first = hold_sqlite(&url).expect("the first server holds the file");
        assert!(first.is_some());
        let second = hold_sqlite(&url).expect_err("a second server is refused");
        assert!(second.contains("already running"), "{second}");
        assert!(second.contains("PostgreSQL"), "{second}");
        // Once the first server is gone, a new one starts.
        drop(first);
        assert!(hold_sqlite(&url).expect("free again").is_some());
        assert!(matches!(hold_sqlite("postgres://db/calmroom"), Ok(None)));
        let _ = std::fs::remove_dir_all(dir);
    }
}
