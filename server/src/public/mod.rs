//! The public face: the status page, its feeds and the Statuspage-compatible
//! JSON, all served from bytes rendered once per change (never a database
//! query per request), and the outbound webhooks.

mod badge;
mod feeds;
mod page;
mod statuspage;
mod subscribe;

use crate::assets::{Effort, Encoded};
use app::live::Events;
use app::store::status::PublicSnapshot;
use app::store::{Db, StoreError};
use axum::body::Bytes;
use axum::extract::{FromRef, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
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
    /// Mail can be sent: the page offers e-mail subscriptions.
    pub subscriptions: bool,
}

/// Rebuild at least this often, so maintenance windows start and end on time.
const MAX_AGE: Duration = Duration::from_secs(30);

/// Everything the public routes answer, rendered from one snapshot, each with
/// its brotli and gzip copies: a rush of readers costs no compression.
pub struct Rendered {
    generation: u64,
    built: Instant,
    pub html: Encoded,
    pub atom: Encoded,
    pub rss: Encoded,
    pub summary: Encoded,
    pub status: Encoded,
    pub components: Encoded,
    pub incidents: Encoded,
    pub unresolved: Encoded,
    pub maintenances: Encoded,
    pub upcoming: Encoded,
    pub active: Encoded,
    /// Per component id, its SVG badge.
    pub badges: Vec<(i64, Encoded)>,
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

    pub fn settings(&self) -> &PublicSettings {
        &self.settings
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
        let pack = |body: String, kind: Kind| {
            Encoded::new(Bytes::from(body), kind.content_type(), Effort::Quick)
        };
        Rendered {
            generation,
            built: Instant::now(),
            html: pack(page::render(snapshot, s), Kind::Html),
            atom: pack(feeds::atom(snapshot, s), Kind::Atom),
            rss: pack(feeds::rss(snapshot, s), Kind::Rss),
            summary: pack(json.summary(), Kind::Summary),
            status: pack(json.status(), Kind::Status),
            components: pack(json.components(), Kind::Components),
            incidents: pack(json.incidents(), Kind::Incidents),
            unresolved: pack(json.unresolved(), Kind::Unresolved),
            maintenances: pack(json.maintenances(), Kind::Maintenances),
            upcoming: pack(json.upcoming(), Kind::Upcoming),
            active: pack(json.active(), Kind::Active),
            badges: snapshot
                .components
                .iter()
                .map(|c| {
                    let svg = badge::svg(c, snapshot.uptime_of(c.id));
                    (c.id, pack(svg, Kind::Badge(c.id)))
                })
                .collect(),
        }
    }
}

/// What the public handlers need.
#[derive(Clone, Debug)]
pub struct PublicState {
    pub db: Db,
    pub events: Events,
    pub site: PublicSite,
    /// Proxies whose `X-Forwarded-For` is believed (sign-up throttling).
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
}

/// The public routes. No session, no cookies; the JSON is readable from any origin.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PublicState: FromRef<S>,
{
    Router::new()
        .route(
            "/status",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Html)),
        )
        .route(
            "/status/history.atom",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Atom)),
        )
        .route(
            "/status/history.rss",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Rss)),
        )
        .route(
            "/api/v2/summary.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Summary)),
        )
        .route(
            "/api/v2/status.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Status)),
        )
        .route(
            "/api/v2/components.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Components)),
        )
        .route(
            "/api/v2/incidents.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Incidents)),
        )
        .route(
            "/api/v2/incidents/unresolved.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Unresolved)),
        )
        .route(
            "/api/v2/scheduled-maintenances.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| {
                serve(s, m, h, Kind::Maintenances)
            }),
        )
        .route(
            "/api/v2/scheduled-maintenances/upcoming.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Upcoming)),
        )
        .route(
            "/api/v2/scheduled-maintenances/active.json",
            get(|s: State<PublicState>, m: Method, h: HeaderMap| serve(s, m, h, Kind::Active)),
        )
        .merge(subscribe::routes())
        .route(
            "/status/badge/{file}",
            get(
                |s: State<PublicState>,
                 Path(file): Path<String>,
                 m: Method,
                 h: HeaderMap| async move {
                    // `<component id>.svg`; anything else is not a badge.
                    match file.strip_suffix(".svg").and_then(|id| id.parse().ok()) {
                        Some(id) => serve(s, m, h, Kind::Badge(id)).await,
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                },
            ),
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
    /// The badge of the component with this id.
    Badge(i64),
}

async fn serve(
    State(state): State<PublicState>,
    method: Method,
    headers: HeaderMap,
    kind: Kind,
) -> Response {
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
    let body = match kind {
        Kind::Html => &rendered.html,
        Kind::Atom => &rendered.atom,
        Kind::Rss => &rendered.rss,
        Kind::Summary => &rendered.summary,
        Kind::Status => &rendered.status,
        Kind::Components => &rendered.components,
        Kind::Incidents => &rendered.incidents,
        Kind::Unresolved => &rendered.unresolved,
        Kind::Maintenances => &rendered.maintenances,
        Kind::Upcoming => &rendered.upcoming,
        Kind::Active => &rendered.active,
        Kind::Badge(id) => match rendered.badges.iter().find(|(c, _)| *c == id) {
            Some((_, badge)) => badge,
            None => return (StatusCode::NOT_FOUND, "No such component.\n").into_response(),
        },
    };
    let mut response = body.answer(&method, &headers, kind.content_type(), "public, max-age=10");
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    // The public page runs no script and loads nothing from elsewhere.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Html => "text/html; charset=utf-8",
            Kind::Atom => "application/atom+xml; charset=utf-8",
            Kind::Rss => "application/rss+xml; charset=utf-8",
            Kind::Badge(_) => "image/svg+xml",
            _ => JSON,
        }
    }
}

const JSON: &str = "application/json";

/// A time as the public formats show it: RFC 3339 in UTC with milliseconds.
fn rfc3339(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
