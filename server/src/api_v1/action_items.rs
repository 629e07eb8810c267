//! Postmortem action items through the API: the tracker's list, adding an
//! item to an incident, and moving one along until it is verified. The same
//! server functions as the tracker and the postmortem page, so the same
//! rules (only writers; an item of a hidden incident is not found; verified
//! needs evidence).

use super::{as_caller, body, whole, Number, Problem, Refused};
use crate::ServerState;
use app::api::postmortems::{ItemView, TrackerFilter};
use app::api::ApiError;
use app::domain::postmortems::{ActionKind, ActionStatus};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{request::Parts, StatusCode};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What an action item is for.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    Prevention,
    Detection,
    Mitigation,
    Process,
}

impl Kind {
    fn of(kind: ActionKind) -> Kind {
        match kind {
            ActionKind::Prevention => Kind::Prevention,
            ActionKind::Detection => Kind::Detection,
            ActionKind::Mitigation => Kind::Mitigation,
            ActionKind::Process => Kind::Process,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Prevention => "prevention",
            Kind::Detection => "detection",
            Kind::Mitigation => "mitigation",
            Kind::Process => "process",
        }
    }
}

/// Where an action item stands; verified is the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum ItemStatus {
    Open,
    InProgress,
    Done,
    Verified,
}

impl ItemStatus {
    fn of(status: ActionStatus) -> ItemStatus {
        match status {
            ActionStatus::Open => ItemStatus::Open,
            ActionStatus::InProgress => ItemStatus::InProgress,
            ActionStatus::Done => ItemStatus::Done,
            ActionStatus::Verified => ItemStatus::Verified,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::InProgress => "in_progress",
            ItemStatus::Done => "done",
            ItemStatus::Verified => "verified",
        }
    }
}

/// One action item.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ActionItem {
    id: i64,
    incident_number: i64,
    incident_title: String,
    title: String,
    kind: Kind,
    status: ItemStatus,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    /// YYYY-MM-DD.
    due: Option<NaiveDate>,
    overdue: bool,
    /// How we will know it worked.
    verification: String,
    /// What showed it works (required to verify).
    evidence: String,
    /// Among the postmortem's top items.
    top: bool,
    verified_by: Option<String>,
    verified_at: Option<DateTime<Utc>>,
    /// Pass back when moving it: a change made since is a 409.
    version: i64,
}

impl From<ItemView> for ActionItem {
    fn from(item: ItemView) -> Self {
        ActionItem {
            id: item.id,
            incident_number: item.incident_number,
            incident_title: item.incident_title,
            title: item.title,
            kind: Kind::of(item.kind),
            status: ItemStatus::of(item.status),
            owner_id: item.owner_id,
            owner_name: item.owner_name,
            due: item.due,
            overdue: item.overdue,
            verification: item.verification,
            evidence: item.evidence,
            top: item.top,
            verified_by: item.verified_by,
            verified_at: item.verified_at,
            version: item.version,
        }
    }
}

/// Action items, as the tracker lists them.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ActionItems {
    items: Vec<ActionItem>,
}

/// Which items to list (all of them when nothing is given).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ItemQuery {
    /// Only this incident's items.
    incident: Option<i64>,
    /// Only items in this status; `outstanding` is every status but verified.
    #[param(pattern = "^(open|in_progress|done|verified|outstanding)$")]
    status: Option<String>,
    /// `me`, or a user id: only items this person owns.
    owner: Option<String>,
    /// `overdue`, or `week` (outstanding and due in the next seven days).
    #[param(pattern = "^(overdue|week)$")]
    due: Option<String>,
}

/// Every action item the token's owner may see (a writer's), filtered.
#[utoipa::path(get, path = "/api/v1/action-items", tag = "action items", params(ItemQuery),
    responses(
        (status = 200, description = "The items", body = ActionItems),
        Refused,
    ))]
pub(super) async fn list(
    State(state): State<ServerState>,
    query: Result<Query<ItemQuery>, axum::extract::rejection::QueryRejection>,
    parts: Parts,
) -> Result<Json<ActionItems>, Problem> {
    let Query(query) = query.map_err(|e| {
        Problem::from(ApiError::invalid(
            "query",
            format!("The query could not be read: {}.", e.body_text()),
        ))
    })?;
    let filter = TrackerFilter {
        owner: query.owner.unwrap_or_default(),
        status: query.status.unwrap_or_default(),
        due: match query.due.as_deref() {
            None | Some("overdue" | "week") => query.due.unwrap_or_default(),
            Some(_) => return Err(ApiError::invalid("due", "Use overdue or week.").into()),
        },
        incident: query.incident.map(|n| n.to_string()).unwrap_or_default(),
    };
    let view = as_caller(&state, parts, move || {
        app::api::postmortems::get_action_items(filter)
    })
    .await?;
    Ok(Json(ActionItems {
        items: view.items.into_iter().map(ActionItem::from).collect(),
    }))
}

/// A new action item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewItem {
    /// What will be done: 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    title: String,
    kind: Kind,
    /// How we will know it worked: 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    verification: String,
    /// Who does it (a user id); nobody yet when absent.
    owner_id: Option<i64>,
    /// YYYY-MM-DD, from 2000 to 2199.
    due: Option<NaiveDate>,
    /// Among the postmortem's top items (at most five).
    #[serde(default)]
    top: bool,
}

/// Adds an action item to the incident's postmortem (started on the
/// postmortem page; before that the incident has none: 404).
#[utoipa::path(post, path = "/api/v1/incidents/{number}/action-items", tag = "action items",
    params(("number" = i64, Path, description = "The incident's number", example = 1)),
    request_body = NewItem,
    responses(
        (status = 204, description = "Added"),
        Refused,
    ))]
pub(super) async fn add(
    State(state): State<ServerState>,
    Number(number): Number,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let new: NewItem = body(bytes).await?;
    as_caller(&state, parts, move || {
        app::api::postmortems::add_action_item(
            number,
            new.title,
            new.kind.as_str().to_owned(),
            new.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            new.due.map(|d| d.to_string()).unwrap_or_default(),
            new.verification,
            new.top.then(|| "on".to_owned()),
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A move of an action item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemMove {
    /// One step forward at a time, or back while not verified.
    status: ItemStatus,
    /// What shows it works: required to verify, up to 1,000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    evidence: String,
    /// The item's `version` as last read: a change made since is a 409.
    /// Absent: the current version.
    version: Option<i64>,
}

/// Moves an action item to a status (verifying needs evidence).
#[utoipa::path(post, path = "/api/v1/action-items/{item}/status", tag = "action items",
    params(("item" = i64, Path, description = "The action item's id")),
    request_body = ItemMove,
    responses(
        (status = 204, description = "Moved"),
        Refused,
    ))]
pub(super) async fn move_item(
    State(state): State<ServerState>,
    Path(item): Path<String>,
    parts: Parts,
    bytes: Bytes,
) -> Result<StatusCode, Problem> {
    let item = whole("item", &item)?;
    let change: ItemMove = body(bytes).await?;
    as_caller(&state, parts, move || async move {
        let version = match change.version {
            Some(version) => version,
            None => app::api::postmortems::get_action_items(TrackerFilter::default())
                .await?
                .items
                .into_iter()
                .find(|i| i.id == item)
                .map(|i| i.version)
                .ok_or(ApiError::NotFound)?,
        };
        app::api::postmortems::move_action_item(
            item,
            version,
            change.status.as_str().to_owned(),
            change.evidence,
        )
        .await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
