//! The Calmroom HTTP server: configuration, the router, and routes outside Leptos.

pub mod config;
pub mod postmortems;
pub mod public;
pub mod webhooks;

use app::api::AppState;
use app::store::sessions::Sessions;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::StreamExt;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
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
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    /// Send the cookie only over https.
    pub secure: bool,
    /// End a session after this many minutes without a request.
    pub idle_minutes: i64,
}

/// The whole application: pages, server functions, health check, static files.
pub fn router(state: ServerState, sessions: Sessions, settings: SessionSettings) -> Router {
    let routes = generate_route_list(app::App);
    let context_state = state.app.clone();
    let provide_state = move || provide_context(context_state.clone());
    let options = state.leptos_options.clone();
    let session_layer = SessionManagerLayer::new(sessions)
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
        .layer(session_layer)
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

/// Live changes for signed-in browsers. Each connection starts with a
/// `resync` event, so a browser that reconnects refetches what it missed.
async fn events(State(state): State<ServerState>, session: tower_sessions::Session) -> Response {
    if app::api::session_user(&state.app, &session).await.is_none() {
        return (StatusCode::UNAUTHORIZED, "sign in to follow live changes\n").into_response();
    }
    let changes = BroadcastStream::new(state.app.events.subscribe()).map(|change| {
        Ok::<_, std::convert::Infallible>(match change {
            Ok(change) => Event::default().event("change").data(change.wire()),
            // This connection fell behind: tell the browser to refetch everything.
            Err(_) => Event::default().event("resync").data("lagged"),
        })
    });
    let first = futures::stream::once(async {
        Ok::<_, std::convert::Infallible>(Event::default().event("resync").data("connected"))
    });
    Sse::new(first.chain(changes))
        .keep_alive(KeepAlive::default())
        .into_response()
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
