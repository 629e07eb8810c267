//! `/api/v1`: the JSON API for scripts and bots, described in OpenAPI 3.1 at
//! `/api/v1/openapi.json` (generated from these types with `utoipa`).
//!
//! Every call carries an API token (`Authorization: Bearer calmroom_…`) and
//! acts as the token's owner: the handlers run the same server functions the
//! pages call, with the token's owner where a session's user would be
//! (`app::api::tokens::TokenCaller`), so the one access rule, the role
//! rules and the guards hold here too, and a read-only token cannot write.
//! Cookies are not read here: a browser cannot be tricked into a call.
//!
//! Every refusal is a problem body (RFC 9457) naming the field when one
//! field is wrong.

use crate::ServerState;
use app::api::tokens::{token_caller, TokenCaller};
use app::api::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use leptos::prelude::provide_context;
use leptos::reactive::{computed::ScopedFuture, owner::Owner};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::future::Future;
use std::sync::OnceLock;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

mod action_items;
mod reference;

/// The routes of `/api/v1`.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/api/v1", get(reference_page))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/me", get(me))
        .route("/api/v1/incidents", get(list_incidents).post(declare))
        .route("/api/v1/incidents/{number}", get(incident))
        .route("/api/v1/incidents/{number}/status", post(set_status))
        .route("/api/v1/incidents/{number}/timeline", post(add_note))
        .route("/api/v1/incidents/{number}/decisions", post(log_decision))
        .route(
            "/api/v1/incidents/{number}/decisions/{decision}/result",
            post(record_result),
        )
        .route("/api/v1/incidents/{number}/roles", post(assign_role))
        .route(
            "/api/v1/incidents/{number}/roles/{role}",
            delete(release_role),
        )
        .route(
            "/api/v1/incidents/{number}/hypotheses",
            post(add_hypothesis),
        )
        .route("/api/v1/incidents/{number}/updates", post(publish_update))
        .route(
            "/api/v1/incidents/{number}/action-items",
            post(action_items::add),
        )
        .route("/api/v1/action-items", get(action_items::list))
        .route(
            "/api/v1/action-items/{item}/status",
            post(action_items::move_item),
        )
        // What a token reads is its owner's: never kept by a proxy.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Calmroom API",
        version = "1",
        description = "Declare and run incidents from scripts and bots. Every call acts as the owner of its API token (made on the account page), with the owner's permissions; read-only tokens cannot change anything. Refusals are problem bodies (RFC 9457) that name the field at fault."
    ),
    paths(
        me,
        list_incidents,
        declare,
        incident,
        set_status,
        add_note,
        log_decision,
        record_result,
        assign_role,
        release_role,
        add_hypothesis,
        publish_update,
        action_items::add,
        action_items::list,
        action_items::move_item
    ),
    components(schemas(Problem)),
    modifiers(&BearerToken),
    security(("token" = []))
)]
struct ApiDoc;

/// The bearer scheme every operation uses.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from the account page: calmroom_ and 64 hex digits.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document, made once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}

async fn openapi_json() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        document(),
    )
        .into_response()
}

/// The reference page, made once from the document.
async fn reference_page() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        serde_json::from_str(document())
            .map(|document| reference::page(&document))
            .unwrap_or_default()
    });
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                 form-action 'none'; frame-ancestors 'none'",
            ),
        ],
        page.as_str(),
    )
        .into_response()
}

/// A refusal (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// What kind of refusal, in a few words ("Invalid input", "Not found").
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What to do about it, in a sentence.
    pub detail: String,
    /// The input field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What the update guards found (an update not published until sent
    /// again with `confirm`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<GuardWarning>,
}

/// One thing an update guard found, in the field it was found in.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuardWarning {
    pub field: String,
    pub message: String,
}

impl From<ApiError> for Problem {
    fn from(error: ApiError) -> Self {
        let status = error.status_code();
        let title = match status {
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not found",
            409 => "Conflict",
            413 => "Too large",
            422 => "Invalid input",
            429 => "Too many requests",
            _ => "Server error",
        };
        let field = match &error {
            ApiError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        let detail = match &error {
            ApiError::Unauthorized => {
                "Send a live API token: Authorization: Bearer calmroom_… (made on the account page)."
                    .to_owned()
            }
            other => other.to_string(),
        };
        Problem {
            title: title.to_owned(),
            status,
            detail,
            field,
            warnings: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The incident number in a path; anything but a whole number is a 422 at
/// `number`.
struct Number(i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Number {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|Path(number)| Number(number))
            .map_err(|_| {
                ApiError::invalid("number", "An incident number is a whole number.").into()
            })
    }
}

/// What a change of an incident may be refused with, each a [`Problem`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only described: handlers answer with `Problem`.
enum Refused {
    /// No live token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Not allowed to do that there (a read-only token, a viewer's, or the role rules).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such incident, or one the owner may not see.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The incident is resolved, or the change breaks a rule.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// A field is wrong.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// The secret of `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, secret) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(secret.trim())
}

/// Runs `work` as the caller the request's token stands for, in a reactive
/// owner with what server functions read from their context.
async fn as_caller<T, F, Fut>(state: &ServerState, parts: Parts, work: F) -> Result<T, Problem>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let secret = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
    let caller: TokenCaller = token_caller(&state.app, secret).await?;
    let app = state.app.clone();
    let owner = Owner::new();
    owner
        .with(|| {
            ScopedFuture::new(async move {
                provide_context(app);
                provide_context(caller);
                provide_context(parts);
                provide_context(leptos_axum::ResponseOptions::default());
                work().await
            })
        })
        .await
        .map_err(Problem::from)
}

/// A JSON body read into `T`; what does not decode is a 422 at the field at
/// fault (`serde_path_to_error` names where decoding stopped; a missing or
/// unknown field is named by serde's message).
fn decode<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Problem> {
    let mut decoder = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut decoder).map_err(|e| {
        let message = e.inner().to_string();
        let path = e.path().to_string();
        let named = |text: &str| {
            text.split('`')
                .nth(1)
                .filter(|f| {
                    !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                .map(str::to_owned)
        };
        let field = if message.starts_with("missing field") || message.starts_with("unknown field")
        {
            named(&message)
        } else {
            path.split(['.', '['])
                .next()
                .filter(|f| !f.is_empty() && *f != "?")
                .map(str::to_owned)
        };
        Problem::from(ApiError::invalid(
            field.as_deref().unwrap_or("request"),
            format!("The JSON body could not be read: {message}."),
        ))
    })
}

/// Bodies up to this size are decoded on the request's thread; larger ones
/// (up to the 1 MB limit) on a blocking thread, off the async workers.
const DECODE_INLINE_UP_TO: usize = 16 * 1024;

/// [`decode`], on a blocking thread for a large body.
async fn body<T: DeserializeOwned + Send + 'static>(bytes: Bytes) -> Result<T, Problem> {
    if bytes.len() <= DECODE_INLINE_UP_TO {
        return decode(&bytes);
    }
    tokio::task::spawn_blocking(move || decode(&bytes))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "decoding a body failed");
            Problem::from(ApiError::Internal)
        })?
}

/// Who a token acts as.
#[derive(Debug, Serialize, ToSchema)]
struct Me {
    id: i64,
    name: String,
    email: String,
    /// admin, responder or viewer.
    org_role: String,
    /// Whether this token may change things.
    can_write: bool,
}

/// Who the token acts as, and whether it may write.
#[utoipa::path(get, path = "/api/v1/me", tag = "tokens",
    responses(
        (status = 200, description = "The token's owner", body = Me),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
    ))]
async fn me(State(state): State<ServerState>, parts: Parts) -> Result<Json<Me>, Problem> {
    as_caller(&state, parts, || async {
        let user = app::api::tokens::token_owner().await?;
        let can_write = leptos::prelude::use_context::<TokenCaller>().is_some_and(|c| c.can_write);
        Ok(Me {
            id: user.id,
            name: user.name,
            email: user.email,
            org_role: user.org_role.as_str().to_owned(),
            can_write,
        })
    })
    .await
    .map(Json)
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    fn of(severity: app::domain::incidents::Severity) -> Severity {
        use app::domain::incidents::Severity as S;
        match severity {
            S::Sev1 => Severity::Sev1,
            S::Sev2 => Severity::Sev2,
            S::Sev3 => Severity::Sev3,
            S::Sev4 => Severity::Sev4,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Status {
    Investigating,
    Mitigating,
    Monitoring,
    Resolved,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Investigating => "investigating",
            Status::Mitigating => "mitigating",
            Status::Monitoring => "monitoring",
            Status::Resolved => "resolved",
        }
    }

    fn of(status: app::domain::incidents::IncidentStatus) -> Status {
        use app::domain::incidents::IncidentStatus as S;
        match status {
            S::Investigating => Status::Investigating,
            S::Mitigating => Status::Mitigating,
            S::Monitoring => Status::Monitoring,
            S::Resolved => Status::Resolved,
        }
    }
}

/// An incident in a list.
#[derive(Debug, Serialize, ToSchema)]
struct IncidentSummary {
    /// The incident's number: INC-`number`.
    number: i64,
    title: String,
    severity: Severity,
    status: Status,
    declared_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    /// Possible security impact or data exposure: seen by its participants and admins only.
    restricted: bool,
    /// Core roles nobody holds (ic, tech_lead, comms_lead, scribe; security_lead when restricted).
    role_gaps: Vec<String>,
}

/// A page of incidents, newest first.
#[derive(Debug, Serialize, ToSchema)]
struct IncidentPage {
    incidents: Vec<IncidentSummary>,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// At most this many (1 to 200, default 50).
    limit: Option<i64>,
    /// Only incidents numbered below this (the previous page's `next_before`).
    before: Option<i64>,
    /// Only incidents declared at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only open incidents (not resolved) when true.
    open: Option<bool>,
}

/// The incidents the token's owner may see, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery),
    responses(
        (status = 200, description = "A page of incidents", body = IncidentPage),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is out of range", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_incidents(
    State(state): State<ServerState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    parts: Parts,
) -> Result<Json<IncidentPage>, Problem> {
    let Query(query) = query.map_err(|e| {
        Problem::from(ApiError::invalid(
            "query",
            format!("The query could not be read: {}.", e.body_text()),
        ))
    })?;
    let limit = match query.limit {
        None => 50,
        Some(n) if (1..=200).contains(&n) => n as usize,
        Some(_) => return Err(ApiError::invalid("limit", "Ask for 1 to 200.").into()),
    };
    let cards = as_caller(&state, parts, app::api::incidents::list_incidents).await?;
    let mut matching: Vec<_> = cards
        .into_iter()
        .filter(|c| {
            query.before.is_none_or(|b| c.number < b)
                && query.since.is_none_or(|s| c.declared_at >= s)
                && (query.open != Some(true) || c.status.is_active())
        })
        .collect();
    matching.sort_by_key(|c| std::cmp::Reverse(c.number));
    let more = matching.len() > limit;
    let incidents: Vec<IncidentSummary> = matching
        .into_iter()
        .take(limit)
        .map(|c| IncidentSummary {
            number: c.number,
            title: c.title,
            severity: Severity::of(c.severity),
            status: Status::of(c.status),
            declared_at: c.declared_at,
            resolved_at: c.resolved_at,
            restricted: c.restricted,
            role_gaps: c.role_gaps.iter().map(|r| r.as_str().to_owned()).collect(),
        })
        .collect();
    let next_before = incidents.last().filter(|_| more).map(|last| last.number);
    Ok(Json(IncidentPage {
        incidents,
        next_before,
    }))
}

/// A new incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewIncident {
    /// What is broken, for whom: 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    title: String,
    severity: Severity,
    /// Who is affected and how, as known now (up to 2,000 characters).
    #[serde(default)]
    #[schema(max_length = 2000)]
    impact: String,
    /// The current best guess at the cause (up to 2,000 characters).
    #[serde(default)]
    #[schema(max_length = 2000)]
    best_guess: String,
    /// Possible security impact or data exposure: restricts who sees it.
    #[serde(default)]
    restricted: bool,
}

/// The number of an incident just declared.
#[derive(Debug, Serialize, ToSchema)]
struct Declared {
    number: i64,
    /// The war room, relative to the server.
    path: String,
}

/// Declares an incident, with the token's owner as its declarer.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = NewIncident,
    responses(
        (status = 201, description = "Declared", body = Declared),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A read-only token, or a viewer's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong", body = Problem, content_type = "application/problem+json"),
    ))]
async fn declare(
    State(state): State<ServerState>,
    parts: Parts,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let new: NewIncident = body(bytes).await?;
    let number = as_caller(&state, parts, move || {
        app::api::incidents::declare_incident(
            new.title,
            new.severity.as_str().to_owned(),
            new.impact,
            new.best_guess,
            new.restricted.then(|| "on".to_owned()),
            None,
        )
    })
    .await?;
    let path = format!("/incidents/{number}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/incidents/{number}"))],
        Json(Declared { number, path }),
    )
        .into_response())
}

/// A role on an incident and who holds it.
#[derive(Debug, Serialize, ToSchema)]
struct RoleSeat {
    /// ic, tech_lead, comms_lead, scribe, ops_lead, support_liaison or security_lead.
    role: String,
    required: bool,
    holder_id: Option<i64>,
    holder_name: Option<String>,
}

/// A logged decision.
#[derive(Debug, Serialize, ToSchema)]
struct Decision {
    id: i64,
    decided_at: DateTime<Utc>,
    decision: String,
    reason: String,
    owner: String,
    result: Option<String>,
    result_at: Option<DateTime<Utc>>,
}

/// A timeline entry: a note someone wrote, or an event the system recorded.
#[derive(Debug, Serialize, ToSchema)]
struct TimelineEntry {
    id: i64,
    at: DateTime<Utc>,
    author: Option<String>,
    is_event: bool,
    body: String,
}

/// One incident with its roles and the newest decisions and timeline entries.
#[derive(Debug, Serialize, ToSchema)]
struct Incident {
    number: i64,
    title: String,
    severity: Severity,
    status: Status,
    impact: String,
    best_guess: String,
    declared_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    restricted: bool,
    /// Changes with every change of the incident.
    version: i64,
    roles: Vec<RoleSeat>,
    /// The newest 100, newest first.
    decisions: Vec<Decision>,
    decision_count: i64,
    /// The newest 100, oldest first.
    timeline: Vec<TimelineEntry>,
    timeline_count: i64,
    hypotheses: Vec<Hypothesis>,
}

/// A hypothesis about the cause.
#[derive(Debug, Serialize, ToSchema)]
struct Hypothesis {
    id: i64,
    statement: String,
    owner: Option<String>,
    /// open, confirmed or ruled_out.
    status: String,
    evidence: String,
}

async fn room(number: i64) -> Result<app::api::incidents::WarRoomView, ApiError> {
    app::api::incidents::get_war_room(number, None, None).await
}

/// One incident the token's owner may see (viewers follow incidents on the
/// status channel and get 403).
#[utoipa::path(get, path = "/api/v1/incidents/{number}", tag = "incidents",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    responses(
        (status = 200, description = "The incident", body = Incident),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer's token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident, or one the owner may not see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The number is not a whole number", body = Problem, content_type = "application/problem+json"),
    ))]
async fn incident(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
) -> Result<Json<Incident>, Problem> {
    let view = as_caller(&state, parts, move || room(number)).await?;
    let r = &view.room;
    Ok(Json(Incident {
        number: r.number,
        title: r.title.clone(),
        severity: Severity::of(r.severity),
        status: Status::of(r.status),
        impact: r.impact.clone(),
        best_guess: r.best_guess.clone(),
        declared_at: r.declared_at,
        resolved_at: r.resolved_at,
        restricted: r.restricted,
        version: r.version,
        roles: r
            .roles
            .iter()
            .map(|seat| RoleSeat {
                role: seat.role.as_str().to_owned(),
                required: seat.required,
                holder_id: seat.holder.as_ref().map(|h| h.user_id),
                holder_name: seat.holder.as_ref().map(|h| h.name.clone()),
            })
            .collect(),
        decisions: r
            .decisions
            .iter()
            .map(|d| Decision {
                id: d.id,
                decided_at: d.decided_at,
                decision: d.decision.clone(),
                reason: d.reason.clone(),
                owner: d.owner.clone(),
                result: d.result.clone(),
                result_at: d.result_at,
            })
            .collect(),
        decision_count: r.decision_count,
        timeline: r
            .timeline
            .iter()
            .map(|e| TimelineEntry {
                id: e.id,
                at: e.at,
                author: e.author.clone(),
                is_event: e.is_event,
                body: e.body.clone(),
            })
            .collect(),
        timeline_count: r.timeline_count,
        hypotheses: r
            .hypotheses
            .iter()
            .map(|h| Hypothesis {
                id: h.id,
                statement: h.statement.clone(),
                owner: h.owner.clone(),
                status: h.status.as_str().to_owned(),
                evidence: h.evidence.clone(),
            })
            .collect(),
    }))
}

/// A change of status (and severity).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: Status,
    /// Unchanged when absent.
    severity: Option<Severity>,
    /// The incident's `version` as last read: a change made since is a 409
    /// instead of being overwritten. Absent: the current version.
    version: Option<i64>,
}

/// Moves the incident to a status (resolving it follows the same rules as in
/// the war room).
#[utoipa::path(post, path = "/api/v1/incidents/{number}/status", tag = "incidents",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    request_body = StatusChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to change it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident, or one the owner may not see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since `version`, or the change breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_status(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let change: StatusChange = body(bytes).await?;
    as_caller(&state, parts, move || async move {
        let (version, severity) = match (change.version, change.severity) {
            (Some(version), Some(severity)) => (version, severity),
            (version, severity) => {
                let view = room(number).await?;
                (
                    version.unwrap_or(view.room.version),
                    severity.unwrap_or(Severity::of(view.room.severity)),
                )
            }
        };
        app::api::incidents::change_status(
            number,
            version,
            change.status.as_str().to_owned(),
            severity.as_str().to_owned(),
        )
        .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A note for the timeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Note {
    /// 1 to 2,000 characters.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    body: String,
}

/// Adds a note to the incident's timeline, by the token's owner.
#[utoipa::path(post, path = "/api/v1/incidents/{number}/timeline", tag = "incidents",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    request_body = Note,
    responses(
        (status = 204, description = "Added"),
        Refused,
    ))]
async fn add_note(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let note: Note = body(bytes).await?;
    as_caller(&state, parts, move || {
        app::api::incidents::add_timeline_note(number, note.body)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A decision for the log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewDecision {
    /// What was decided: 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    decision: String,
    /// Why (up to 1,000 characters).
    #[serde(default)]
    #[schema(max_length = 1000)]
    reason: String,
    /// Who carries it out (a user id); the token's owner when absent.
    owner_id: Option<i64>,
}

/// Logs a decision, by the token's owner.
#[utoipa::path(post, path = "/api/v1/incidents/{number}/decisions", tag = "incidents",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    request_body = NewDecision,
    responses(
        (status = 204, description = "Logged"),
        Refused,
    ))]
async fn log_decision(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let decision: NewDecision = body(bytes).await?;
    as_caller(&state, parts, move || async move {
        let owner = match decision.owner_id {
            Some(id) => id,
            None => app::api::tokens::token_owner().await?.id,
        };
        app::api::incidents::log_decision(number, decision.decision, decision.reason, owner).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The result of a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionResult {
    /// What happened: 1 to 1,000 characters.
    #[schema(min_length = 1, max_length = 1000, pattern = r"\S")]
    result: String,
    /// The decision's version as last read; absent: the current one.
    version: Option<i64>,
}

/// Records what came of a decision.
#[utoipa::path(post, path = "/api/v1/incidents/{number}/decisions/{decision}/result", tag = "incidents",
    params(
        ("number" = i64, Path, description = "The incident's number", example = 1),
        ("decision" = i64, Path, description = "The decision's id"),
    ),
    request_body = DecisionResult,
    responses(
        (status = 204, description = "Recorded"),
        Refused,
    ))]
async fn record_result(
    State(state): State<ServerState>,
    Path(path): Path<(String, String)>,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let (number, decision) = (whole("number", &path.0)?, whole("decision", &path.1)?);
    let body: DecisionResult = body(bytes).await?;
    as_caller(&state, parts, move || async move {
        let version = match body.version {
            Some(version) => version,
            None => {
                let view = app::api::incidents::get_war_room(
                    number,
                    Some(app::api::incidents::ROOM_WINDOW_MAX),
                    Some(1),
                )
                .await?;
                let found = view.room.decisions.iter().find(|d| d.id == decision);
                found
                    .map(|d| d.version)
                    .ok_or_else(|| ApiError::invalid("decision", "No such decision here."))?
            }
        };
        app::api::incidents::record_decision_result(number, decision, version, body.result).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A number in the path, or a 422 at its name.
fn whole(field: &str, raw: &str) -> Result<i64, Problem> {
    raw.parse()
        .map_err(|_| ApiError::invalid(field, "This is a whole number.").into())
}

/// Someone to seat in a role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Seat {
    /// ic, tech_lead, comms_lead, scribe, ops_lead, support_liaison or security_lead.
    role: String,
    /// The person's user id.
    user_id: i64,
}

/// Seats a person in a role (the same rules as the war room's role board).
#[utoipa::path(post, path = "/api/v1/incidents/{number}/roles", tag = "incidents",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    request_body = Seat,
    responses(
        (status = 204, description = "Seated"),
        Refused,
    ))]
async fn assign_role(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let seat: Seat = body(bytes).await?;
    as_caller(&state, parts, move || {
        app::api::incidents::assign_role(number, seat.role, seat.user_id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Empties a role's seat.
#[utoipa::path(delete, path = "/api/v1/incidents/{number}/roles/{role}", tag = "incidents",
    params(
        ("number" = i64, Path, description = "The incident's number", example = 1),
        ("role" = String, Path, description = "The role: ic, tech_lead, comms_lead, scribe, ops_lead, support_liaison or security_lead"),
    ),
    responses(
        (status = 204, description = "Released"),
        Refused,
    ))]
async fn release_role(
    State(state): State<ServerState>,
    Path(path): Path<(String, String)>,
    parts: Parts,
) -> Result<StatusCode, Problem> {
    let number = whole("number", &path.0)?;
    let role = path.1;
    as_caller(&state, parts, move || {
        app::api::incidents::release_role(number, role)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A hypothesis about the cause.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewHypothesis {
    /// 1 to 300 characters.
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    statement: String,
    /// Who checks it (a user id); nobody yet when absent.
    owner_id: Option<i64>,
}

/// Adds a hypothesis.
#[utoipa::path(post, path = "/api/v1/incidents/{number}/hypotheses", tag = "incidents",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    request_body = NewHypothesis,
    responses(
        (status = 204, description = "Added"),
        Refused,
    ))]
async fn add_hypothesis(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let new: NewHypothesis = body(bytes).await?;
    let owner = new.owner_id.map(|id| id.to_string()).unwrap_or_default();
    as_caller(&state, parts, move || {
        app::api::incidents::add_hypothesis(number, new.statement, owner)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stakeholder update, written as the Comms page writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewUpdate {
    /// initial_internal, ongoing_internal or customer.
    kind: String,
    /// The template's fields by key. initial_internal: severity, impact,
    /// status, known, next_steps. ongoing_internal: impact_trend, changes,
    /// hypothesis, mitigation, risks. customer: the fields of the customer
    /// template. The time and the next update are stamped on publishing.
    values: std::collections::BTreeMap<String, String>,
    /// Publish although the guards warned (each warning is kept with the update).
    #[serde(default)]
    confirm: bool,
}

/// The id of a published update.
#[derive(Debug, Serialize, ToSchema)]
struct Published {
    id: i64,
}

/// Publishes a stakeholder update: only the Comms Lead (or the IC while
/// nobody holds it), and the same guards as the Comms page. When a guard
/// warns, nothing is published: the answer is a 409 listing the warnings,
/// and the same call with `confirm` publishes.
#[utoipa::path(post, path = "/api/v1/incidents/{number}/updates", tag = "incidents",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    request_body = NewUpdate,
    responses(
        (status = 201, description = "Published", body = Published),
        Refused,
    ))]
async fn publish_update(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
    bytes: Bytes,
) -> Result<Response, Problem> {
    use app::api::updates::PublishOutcome;
    let update: NewUpdate = body(bytes).await?;
    let outcome = as_caller(&state, parts, move || {
        app::api::updates::publish_update(number, update.kind, update.values, update.confirm)
    })
    .await?;
    match outcome {
        PublishOutcome::Published { id } => {
            Ok((StatusCode::CREATED, Json(Published { id })).into_response())
        }
        PublishOutcome::NeedsConfirmation { warnings } => Err(Problem {
            title: "Conflict".to_owned(),
            status: 409,
            detail: "The update guards warned; nothing was published. Send it again with \"confirm\": true to publish anyway.".to_owned(),
            field: None,
            warnings: warnings
                .into_iter()
                .map(|w| GuardWarning {
                    field: w.field,
                    message: w.message,
                })
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_route_and_the_bearer_scheme() {
        let doc: serde_json::Value = serde_json::from_str(document()).expect("json");
        assert!(doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")));
        for path in [
            "/api/v1/me",
            "/api/v1/incidents",
            "/api/v1/incidents/{number}",
            "/api/v1/incidents/{number}/status",
            "/api/v1/incidents/{number}/timeline",
            "/api/v1/incidents/{number}/decisions",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is described");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["token"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn a_body_that_misses_a_field_is_refused_at_that_field() {
        let refused = decode::<Note>(&Bytes::from_static(b"{}")).expect_err("refused");
        assert_eq!(
            (refused.status, refused.field.as_deref()),
            (422, Some("body"))
        );
        let unknown = decode::<Note>(&Bytes::from_static(b"{\"body\":\"x\",\"extra\":1}"))
            .expect_err("refused");
        assert_eq!(unknown.field.as_deref(), Some("extra"));
    }
}
