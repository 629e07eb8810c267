//! The public face: the status page, its feeds and the Statuspage-compatible
//! JSON, all served from bytes rendered once per change (never a database
//! query per request), and the outbound webhooks.

mod feeds;
mod page;
mod statuspage;

use app::live::Events;
use app::store::status::PublicSnapshot;
use app::store::{Db, StoreError};
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How the public page introduces itself.
#[derive(Clone, Debug)]
pub struct PublicSettings {
    /// The page heading and feed title.
    pub title: String,
    /// Absolute URL of this instance, for links in feeds and JSON.
    pub base_url: String,
}

/// Rebuild at least this often, so maintenance windows start and end on time.
const MAX_AGE: Duration = Duration::from_secs(30);

/// Everything the public routes answer, rendered from one snapshot.
pub struct Rendered {
    generation: u64,
    built: Instant,
    pub html: Bytes,
    pub atom: Bytes,
    pub rss: Bytes,
    pub summary: Bytes,
    pub status: Bytes,
    pub components: Bytes,
    pub incidents: Bytes,
    pub unresolved: Bytes,
    pub maintenances: Bytes,
    pub upcoming: Bytes,
    pub active: Bytes,
}

/// The public site: settings plus the rendered-bytes cache.
#[derive(Clone)]
pub struct PublicSite {
    settings: Arc<PublicSettings>,
    current: Arc<RwLock<Option<Arc<Rendered>>>>,
    rebuilding: Arc<Mutex<()>>,
}

impl std::fmt::Debug for PublicSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicSite")
            .field("settings", &self.settings)
            .finish()
    }
}

impl PublicSite {
    pub fn new(settings: PublicSettings) -> Self {
        PublicSite {
            settings: Arc::new(settings),
            current: Arc::new(RwLock::new(None)),
            rebuilding: Arc::new(Mutex::new(())),
        }
    }

    fn current(&self) -> Option<Arc<Rendered>> {
        self.current.read().ok()?.clone()
    }

    /// The rendered site. Readers never wait on a rebuild: when a public change
    /// was announced since (or the copy is older than [`MAX_AGE`]), one rebuild
    /// starts in the background and everyone is served the last good copy
    /// meanwhile. Only the very first request, before any copy exists, waits.
    pub async fn rendered(&self, db: &Db, events: &Events) -> Result<Arc<Rendered>, StoreError> {
        let generation = events.public_generation();
        match self.current() {
            Some(current) => {
                if current.generation != generation || current.built.elapsed() >= MAX_AGE {
                    self.rebuild_in_background(db, events);
                }
                Ok(current)
            }
            None => {
                let _guard = self.rebuilding.lock().await;
                if let Some(current) = self.current() {
                    return Ok(current);
                }
                self.rebuild(db, generation).await
            }
        }
    }

    /// Starts one rebuild unless one is already running.
    fn rebuild_in_background(&self, db: &Db, events: &Events) {
        let Ok(guard) = self.rebuilding.clone().try_lock_owned() else {
            return;
        };
        let site = self.clone();
        let db = db.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let _guard = guard;
            // Changes announced during a rebuild are caught by the next round.
            loop {
                let generation = events.public_generation();
                if let Err(e) = site.rebuild(&db, generation).await {
                    tracing::warn!(error = %e, "public status: rebuild failed; serving the last good copy");
                    break;
                }
                if events.public_generation() == generation {
                    break;
                }
            }
        });
    }

    /// Rebuilds in the background as soon as a public change is announced, so
    /// the first reader after a change already gets the new copy.
    pub fn follow(&self, db: Db, events: Events) -> tokio::task::JoinHandle<()> {
        let site = self.clone();
        let mut changes = events.subscribe();
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(logged) if !logged.change.is_public() => {}
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        site.rebuild_in_background(&db, &events);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }

    /// Reads the snapshot, renders it off the async threads, and keeps it.
    async fn rebuild(&self, db: &Db, generation: u64) -> Result<Arc<Rendered>, StoreError> {
        let snapshot = app::store::status::public_snapshot(db, Utc::now()).await?;
        let site = self.clone();
        let rendered = tokio::task::spawn_blocking(move || site.render(&snapshot, generation))
            .await
            .map(Arc::new)
            .map_err(|e| StoreError::Corrupt(format!("rendering the status page failed: {e}")))?;
        if let Ok(mut current) = self.current.write() {
            *current = Some(rendered.clone());
        }
        Ok(rendered)
    }

    fn render(&self, snapshot: &PublicSnapshot, generation: u64) -> Rendered {
        let s = &self.settings;
        let json = statuspage::Documents::new(snapshot, s);
        Rendered {
            generation,
            built: Instant::now(),
            html: page::render(snapshot, s).into(),
            atom: feeds::atom(snapshot, s).into(),
            rss: feeds::rss(snapshot, s).into(),
            summary: json.summary().into(),
            status: json.status().into(),
            components: json.components().into(),
            incidents: json.incidents().into(),
            unresolved: json.unresolved().into(),
            maintenances: json.maintenances().into(),
            upcoming: json.upcoming().into(),
            active: json.active().into(),
        }
    }
}

/// What the public handlers need.
#[derive(Clone, Debug)]
pub struct PublicState {
    pub db: Db,
    pub events: Events,
    pub site: PublicSite,
}

/// The public routes. No session, no cookies; the JSON is readable from any origin.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PublicState: FromRef<S>,
{
    Router::new()
        .route("/status", get(|s: State<PublicState>| serve(s, Kind::Html)))
        .route(
            "/status/history.atom",
            get(|s: State<PublicState>| serve(s, Kind::Atom)),
        )
        .route(
            "/status/history.rss",
            get(|s: State<PublicState>| serve(s, Kind::Rss)),
        )
        .route(
            "/api/v2/summary.json",
            get(|s: State<PublicState>| serve(s, Kind::Summary)),
        )
        .route(
            "/api/v2/status.json",
            get(|s: State<PublicState>| serve(s, Kind::Status)),
        )
        .route(
            "/api/v2/components.json",
            get(|s: State<PublicState>| serve(s, Kind::Components)),
        )
        .route(
            "/api/v2/incidents.json",
            get(|s: State<PublicState>| serve(s, Kind::Incidents)),
        )
        .route(
            "/api/v2/incidents/unresolved.json",
            get(|s: State<PublicState>| serve(s, Kind::Unresolved)),
        )
        .route(
            "/api/v2/scheduled-maintenances.json",
            get(|s: State<PublicState>| serve(s, Kind::Maintenances)),
        )
        .route(
            "/api/v2/scheduled-maintenances/upcoming.json",
            get(|s: State<PublicState>| serve(s, Kind::Upcoming)),
        )
        .route(
            "/api/v2/scheduled-maintenances/active.json",
            get(|s: State<PublicState>| serve(s, Kind::Active)),
        )
}

#[derive(Clone, Copy)]
enum Kind {
    Html,
    Atom,
    Rss,
    Summary,
    Status,
    Components,
    Incidents,
    Unresolved,
    Maintenances,
    Upcoming,
    Active,
}

async fn serve(State(state): State<PublicState>, kind: Kind) -> Response {
    let rendered = match state.site.rendered(&state.db, &state.events).await {
        Ok(rendered) => rendered,
        Err(e) => {
            tracing::error!(error = %e, "public status: cannot read the database");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, HeaderValue::from_static("10"))],
                "The status page is briefly unavailable. Try again in a few seconds.\n",
            )
                .into_response();
        }
    };
    let (body, content_type) = match kind {
        Kind::Html => (&rendered.html, "text/html; charset=utf-8"),
        Kind::Atom => (&rendered.atom, "application/atom+xml; charset=utf-8"),
        Kind::Rss => (&rendered.rss, "application/rss+xml; charset=utf-8"),
        Kind::Summary => (&rendered.summary, JSON),
        Kind::Status => (&rendered.status, JSON),
        Kind::Components => (&rendered.components, JSON),
        Kind::Incidents => (&rendered.incidents, JSON),
        Kind::Unresolved => (&rendered.unresolved, JSON),
        Kind::Maintenances => (&rendered.maintenances, JSON),
        Kind::Upcoming => (&rendered.upcoming, JSON),
        Kind::Active => (&rendered.active, JSON),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=10"),
            ),
            // The public page runs no script and loads nothing from elsewhere.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                     base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            ),
        ],
        body.clone(),
    )
        .into_response()
}

const JSON: &str = "application/json";

/// A time as the public formats show it: RFC 3339 in UTC with milliseconds.
fn rfc3339(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
