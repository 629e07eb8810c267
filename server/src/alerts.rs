//! Alerts in, as monitoring sends them: PagerDuty Events API v2
//! (`/v2/enqueue`, change events at `/v2/change/enqueue`) and the
//! Alertmanager webhook, which Grafana's webhook contact point also speaks
//! (`/hooks/alertmanager/<integration>`, bearer token). Answers are the
//! ones senders expect: 202 with `dedup_key`, 400 with `errors` naming each
//! field, 429 with `Retry-After` past an integration's rate.

use crate::ServerState;
use app::api::alerts::secret_hash;
use app::domain::alerts::{
    parse_alertmanager, parse_pagerduty, parse_pagerduty_change, secret_from, EventErrors,
    IntegrationKind, MAX_EVENT_BYTES,
};
use app::store::alerts::{self as store, Integration, Recorded};
use app::store::changes;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/v2/enqueue", post(enqueue))
        .route("/v2/change/enqueue", post(change_enqueue))
        .route("/hooks/alertmanager/{integration}", post(alertmanager))
}

/// Events each integration may send per second on this replica, and the
/// burst it may save up (ten seconds' worth).
#[derive(Clone, Debug)]
pub struct Intake {
    per_second: f64,
    buckets: Arc<Mutex<HashMap<i64, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Intake {
    pub fn new(per_second: u32) -> Intake {
        Intake {
            per_second: f64::from(per_second.max(1)),
            buckets: Arc::default(),
        }
    }

    /// Takes one event's room, or says how long to wait for it.
    fn admit(&self, integration: i64) -> Result<(), Duration> {
        let burst = self.per_second * 10.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(integration).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(Duration::from_secs_f64(wait.max(1.0)))
        }
    }
}

impl Default for Intake {
    fn default() -> Self {
        Intake::new(DEFAULT_EVENTS_PER_SECOND)
    }
}

/// The default of `CALMROOM_ALERT_EVENTS_PER_SECOND`.
pub const DEFAULT_EVENTS_PER_SECOND: u32 = 100;

/// Bodies larger than this are parsed off the async threads.
const PARSE_INLINE_UP_TO: usize = 16 * 1024;

fn invalid(errors: EventErrors) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": errors.0,
        })),
    )
        .into_response()
}

fn refused(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": "invalid event", "message": message, "errors": [message] })),
    )
        .into_response()
}

fn throttled(wait: Duration) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({
            "status": "throttle event",
            "message": "Events for this integration are arriving too quickly. Retry later.",
        })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn server_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "alert intake failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "status": "error", "message": "The event could not be stored; retry." })),
    )
        .into_response()
}

/// The body as JSON, within the size limit; large bodies parse on a blocking thread.
async fn body_json(request: Request) -> Result<Value, Response> {
    let bytes: Bytes =
        match axum::body::to_bytes(request.into_body(), MAX_EVENT_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({
                    "status": "invalid event",
                    "message": "Event object is too large",
                    "errors": [format!("The body is larger than {} KB", MAX_EVENT_BYTES / 1024)],
                })),
            )
                .into_response()),
        };
    // serde_json refuses nesting deeper than 128 levels on its own.
    let parsed = if bytes.len() <= PARSE_INLINE_UP_TO {
        serde_json::from_slice::<Value>(&bytes)
    } else {
        tokio::task::spawn_blocking(move || serde_json::from_slice::<Value>(&bytes))
            .await
            .map_err(server_error)?
    };
    parsed.map_err(|e| {
        invalid(EventErrors(vec![format!(
            "The body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )]))
    })
}

/// A new `dedup_key` for a trigger that came without one.
fn generated_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    secret_from(bytes)
}

/// The PagerDuty integration for a routing key, if it may send now.
async fn pagerduty_integration(state: &ServerState, key: &str) -> Result<Integration, Response> {
    let found =
        store::integration_by_secret(&state.app.db, IntegrationKind::PagerDuty, &secret_hash(key))
            .await
            .map_err(server_error)?;
    let integration = found.ok_or_else(|| {
        invalid(EventErrors(vec![
            "'routing_key' does not belong to any integration here".to_owned(),
        ]))
    })?;
    if integration.paused {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "'routing_key' belongs to a paused integration; an admin can resume it",
        ));
    }
    state.intake.admit(integration.id).map_err(throttled)?;
    Ok(integration)
}

/// Runs a write and announces what it changed to live pages.
async fn announced<T>(state: &ServerState, work: impl std::future::Future<Output = T>) -> T {
    let (out, committed) = changes::recording(&[], work).await;
    if let Some(last) = committed {
        state.app.events.committed(last).await;
    }
    out
}

async fn enqueue(State(state): State<ServerState>, request: Request) -> Response {
    let body = match body_json(request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let now = Utc::now();
    let (key, event) = match parse_pagerduty(&body, &generated_key(), now) {
        Ok(parsed) => parsed,
        Err(errors) => return invalid(errors),
    };
    let integration = match pagerduty_integration(&state, &key).await {
        Ok(integration) => integration,
        Err(response) => return response,
    };
    match record(&state, &integration, &event, now).await {
        Ok(_) => accepted(&event.dedup_key),
        Err(response) => response,
    }
}

/// Stores one event, then, when it opened a group of an integration that
/// declares automatically, declares the incident (a second operation: should
/// it fail, the group waits in the inbox and the event stays accepted).
async fn record(
    state: &ServerState,
    integration: &Integration,
    event: &app::domain::alerts::AlertEvent,
    now: chrono::DateTime<Utc>,
) -> Result<Recorded, Response> {
    let recorded = announced(
        state,
        store::record_event(&state.app.db, integration, event, now),
    )
    .await
    .map_err(server_error)?;
    if let Recorded::Group {
        id,
        changed: true,
        opened,
    } = recorded
    {
        tracing::info!(
            integration = integration.id,
            group = id,
            action = event.action.as_str(),
            "alert event"
        );
        if opened && integration.auto_declare.is_some() {
            match announced(
                state,
                store::declare_automatically(&state.app.db, integration, id, now),
            )
            .await
            {
                Ok(Some(number)) => {
                    tracing::info!(number, group = id, "incident declared from an alert")
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, group = id, "declaring from an alert failed"),
            }
        }
    }
    Ok(recorded)
}

fn accepted(dedup_key: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "status": "success",
            "message": "Event processed",
            "dedup_key": dedup_key,
        })),
    )
        .into_response()
}

async fn change_enqueue(State(state): State<ServerState>, request: Request) -> Response {
    let body = match body_json(request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let now = Utc::now();
    let (key, change) = match parse_pagerduty_change(&body, now) {
        Ok(parsed) => parsed,
        Err(errors) => return invalid(errors),
    };
    let integration = match pagerduty_integration(&state, &key).await {
        Ok(integration) => integration,
        Err(response) => return response,
    };
    match announced(
        &state,
        store::record_change(&state.app.db, &integration, &change, now),
    )
    .await
    {
        Ok(_) => (
            StatusCode::ACCEPTED,
            Json(json!({ "status": "success", "message": "Change event processed" })),
        )
            .into_response(),
        Err(e) => server_error(e),
    }
}

/// The bearer token (or the password of basic auth) a request carries.
fn token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return text
            .split_once(':')
            .map(|(_, password)| password.to_owned());
    }
    None
}

async fn alertmanager(
    State(state): State<ServerState>,
    Path(integration_id): Path<String>,
    request: Request,
) -> Response {
    let unauthorized = || {
        let mut response = refused(
            StatusCode::UNAUTHORIZED,
            "Send this integration's token as 'Authorization: Bearer <token>'",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    };
    let Ok(integration_id) = integration_id.parse::<i64>() else {
        return refused(StatusCode::NOT_FOUND, "There is no such integration");
    };
    let Some(token) = token(request.headers()) else {
        return unauthorized();
    };
    let found = match store::integration_by_secret(
        &state.app.db,
        IntegrationKind::Alertmanager,
        &secret_hash(&token),
    )
    .await
    {
        Ok(found) => found,
        Err(e) => return server_error(e),
    };
    let Some(integration) = found.filter(|i| i.id == integration_id) else {
        return unauthorized();
    };
    if integration.paused {
        return refused(
            StatusCode::FORBIDDEN,
            "This integration is paused; an admin can resume it",
        );
    }
    if let Err(wait) = state.intake.admit(integration.id) {
        return throttled(wait);
    }
    let body = match body_json(request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let now = Utc::now();
    let event = match parse_alertmanager(&body, now) {
        Ok(event) => event,
        Err(errors) => return invalid(errors),
    };
    match record(&state, &integration, &event, now).await {
        Ok(recorded) => {
            let group = match recorded {
                Recorded::Group { id, .. } => Some(id),
                Recorded::Dropped => None,
            };
            (
                StatusCode::ACCEPTED,
                Json(json!({ "status": "success", "message": "Notification processed", "group": group })),
            )
                .into_response()
        }
        Err(response) => response,
    }
}
