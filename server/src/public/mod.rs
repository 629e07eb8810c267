//! The public face: the status page, its feeds and the Statuspage-compatible
//! JSON, all served from bytes rendered once per change (never a database
//! query per request), and the outbound webhooks.

mod badge;
mod feeds;
pub(crate) mod page;
mod statuspage;
mod subscribe;

use crate::assets::{Effort, Encoded};
use app::domain::zones::ZoneRules;
use app::live::Events;
use app::store::status::PublicSnapshot;
use app::store::{Db, StoreError};
use axum::body::Bytes;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
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
    /// What was rendered, for pages in a reader's zone.
    snapshot: Arc<PublicSnapshot>,
}

/// Pages in zones readers asked for (`/status?tz=…`), each valid for the
/// copy it was rendered from; at most [`ZONED_AT_MOST`] are kept.
type Zoned = std::collections::HashMap<String, (usize, Arc<Encoded>)>;
const ZONED_AT_MOST: usize = 64;

/// The public site: settings plus the rendered-bytes cache.
#[derive(Clone)]
pub struct PublicSite {
    settings: Arc<PublicSettings>,
    current: Arc<RwLock<Option<Arc<Rendered>>>>,
    rebuilding: Arc<Mutex<()>>,
    zoned: Arc<std::sync::Mutex<Zoned>>,
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
            zoned: Arc::default(),
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
        let rendered = tokio::task::spawn_blocking(move || site.render(snapshot, generation))
            .await
            .map(Arc::new)
            .map_err(|e| StoreError::Corrupt(format!("rendering the status page failed: {e}")))?;
        if let Ok(mut current) = self.current.write() {
            *current = Some(rendered.clone());
        }
        Ok(rendered)
    }

    fn render(&self, snapshot: PublicSnapshot, generation: u64) -> Rendered {
        let s = &self.settings;
        let snapshot = Arc::new(snapshot);
        let json = statuspage::Documents::new(&snapshot, s);
        let pack = |body: String, kind: Kind| {
            Encoded::new(Bytes::from(body), kind.content_type(), Effort::Quick)
        };
        Rendered {
            generation,
            built: Instant::now(),
            html: pack(page::render(&snapshot, s, &ZoneRules::utc()), Kind::Html),
            atom: pack(feeds::atom(&snapshot, s), Kind::Atom),
            rss: pack(feeds::rss(&snapshot, s), Kind::Rss),
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
            snapshot: snapshot.clone(),
        }
    }

    /// The page of `rendered` with its times in `zone`: kept per zone until
    /// the next copy, rendered off the async threads.
    async fn in_zone(&self, rendered: &Arc<Rendered>, zone: ZoneRules) -> Option<Arc<Encoded>> {
        let copy = Arc::as_ptr(rendered) as usize;
        let kept = |zoned: &Zoned| {
            zoned
                .get(&zone.name)
                .filter(|(of, _)| *of == copy)
                .map(|(_, page)| page.clone())
        };
        if let Some(page) = self.zoned.lock().ok().and_then(|z| kept(&z)) {
            return Some(page);
        }
        let (site, snapshot, name) = (self.clone(), rendered.snapshot.clone(), zone.name.clone());
        let page = tokio::task::spawn_blocking(move || {
            let html = page::render(&snapshot, &site.settings, &zone);
            Arc::new(Encoded::new(
                Bytes::from(html),
                Kind::Html.content_type(),
                Effort::Quick,
            ))
        })
        .await
        .ok()?;
        if let Ok(mut zoned) = self.zoned.lock() {
            if zoned.len() >= ZONED_AT_MOST {
                zoned.clear();
            }
            zoned.insert(name, (copy, page.clone()));
        }
        Some(page)
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
            get(
                |s: State<PublicState>, m: Method, h: HeaderMap, q: Query<ZoneQuery>| async move {
                    match q.0.tz.filter(|tz| !tz.trim().is_empty()) {
                        Some(tz) => serve_in_zone(s, m, h, &tz).await,
                        None => serve(s, m, h, Kind::Html).await,
                    }
                },
            ),
        )
        .route(
            "/status/zone",
            get(|s: State<PublicState>| async move {
                let names = tokio::task::spawn_blocking(app::domain::zones::names)
                    .await
                    .unwrap_or_default();
                let mut response =
                    Html(page::zone_picker(&s.site.settings().title, &names)).into_response();
                public_headers(&mut response);
                response
            }),
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

/// `/status?tz=Europe/Berlin`: the page in the reader's zone.
#[derive(serde::Deserialize)]
struct ZoneQuery {
    tz: Option<String>,
}

/// The copy the public routes answer from, or the answer when there is none.
async fn rendered_or_unavailable(state: &PublicState) -> Result<Arc<Rendered>, Response> {
    state
        .site
        .rendered(&state.db, &state.events)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "public status: cannot read the database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, HeaderValue::from_static("10"))],
                "The status page is briefly unavailable. Try again in a few seconds.\n",
            )
                .into_response()
        })
}

async fn serve_in_zone(
    State(state): State<PublicState>,
    method: Method,
    headers: HeaderMap,
    tz: &str,
) -> Response {
    let Ok(zone) = app::domain::zones::lookup(tz) else {
        let page = page::document(
            &state.site.settings().title,
            "Unknown time zone",
            "<p class=\"error\">That is not a time zone we know. \
             <a href=\"/status/zone\">Choose one from the list</a>, or read the page in <a href=\"/status\">UTC</a>.</p>",
        );
        let mut response = (StatusCode::BAD_REQUEST, Html(page)).into_response();
        public_headers(&mut response);
        return response;
    };
    let rendered = match rendered_or_unavailable(&state).await {
        Ok(rendered) => rendered,
        Err(response) => return response,
    };
    let Some(page) = state.site.in_zone(&rendered, zone).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let mut response = page.answer(
        &method,
        &headers,
        Kind::Html.content_type(),
        "public, max-age=10",
    );
    public_headers(&mut response);
    response
}

async fn serve(
    State(state): State<PublicState>,
    method: Method,
    headers: HeaderMap,
    kind: Kind,
) -> Response {
    let rendered = match rendered_or_unavailable(&state).await {
        Ok(rendered) => rendered,
        Err(response) => return response,
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
    public_headers(&mut response);
    response
}

/// What every public answer carries: readable from any origin, no script.
fn public_headers(response: &mut Response) {
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
