//! Server functions of the leadership layer: authorisation requests, blockers,
//! responders, restricted incidents, postmortem deadlines and the leadership view.

use super::postmortems::{ItemView, RiskView};
use super::ApiError;
use crate::domain::incidents::{IncidentStatus, Severity};
use crate::domain::leadership::{ApprovalStatus, DeadlineDays};
use crate::domain::postmortems::PostmortemStatus;
use crate::domain::roles::IncidentRole;
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::incidents::{actor, change, recorded, refused},
    super::session::{require_admin, require_user, respond, state},
    crate::domain::incidents::bounded_text,
    crate::domain::leadership,
    crate::domain::users::UserId,
    crate::store::changes::Subject,
    crate::store::{self, users::User},
};

/// A request to authorise a high-impact mitigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub mitigation: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub status: ApprovalStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: String,
}

/// A blocker and who is on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerView {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub description: String,
    pub raised_by: String,
    pub raised_at: DateTime<Utc>,
    pub taken_by: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: String,
}

#[cfg(feature = "ssr")]
pub(crate) fn approval_view(a: store::leadership::Approval) -> ApprovalView {
    ApprovalView {
        id: a.id,
        number: a.number,
        title: a.title,
        mitigation: a.mitigation,
        reason: a.reason,
        requested_by: a.requested_by,
        requested_at: a.requested_at,
        status: a.status,
        decided_by: a.decided_by,
        decided_at: a.decided_at,
        note: a.note,
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn blocker_view(b: store::leadership::Blocker) -> BlockerView {
    BlockerView {
        id: b.id,
        number: b.number,
        title: b.title,
        description: b.description,
        raised_by: b.raised_by,
        raised_at: b.raised_at,
        taken_by: b.taken_by,
        resolved_by: b.resolved_by,
        resolved_at: b.resolved_at,
        resolution: b.resolution,
    }
}

/// The signed-in user when they see the leadership view (the permission, or admin).
#[cfg(feature = "ssr")]
async fn require_leadership(state: &super::session::AppState) -> Result<User, ApiError> {
    let user = require_user(state).await?;
    if user.can_lead || user.org_role == crate::domain::users::OrgRole::Admin {
        Ok(user)
    } else {
        Err(ApiError::Forbidden(
            "The leadership view is for people with the leadership permission and admins."
                .to_owned(),
        ))
    }
}

/// Runs one leadership change of incident `number` for any signed-in user (a
/// leader may be a viewer by org role); the store checks the permission.
#[cfg(feature = "ssr")]
async fn lead<T, F, Fut>(number: i64, work: F) -> Result<T, ApiError>
where
    F: FnOnce(super::session::AppState, User, crate::domain::incidents::IncidentId) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let state = state()?;
    let user = require_user(&state).await?;
    let id = super::incidents::incident_id(&state, &user, number).await?;
    recorded(&[Subject::Incident(number)], work(state, user, id)).await
}

/// Pending requests the signed-in leader can see, oldest first; empty for
/// everyone without the permission (the banner on every page asks this).
#[server(endpoint = "pending_approvals")]
pub async fn pending_approvals() -> Result<Vec<ApprovalView>, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_user(&state).await?;
        if !user.can_lead {
            return Ok(Vec::new());
        }
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let mut pending: Vec<ApprovalView> = store::leadership::approvals(&state.db, None, true)
            .await?
            .into_iter()
            .filter(|a| !hidden.hides(a.incident_id))
            .map(approval_view)
            .collect();
        pending.reverse();
        Ok(pending)
    })
    .await
}

#[server(endpoint = "request_approval")]
pub async fn request_approval(
    number: i64,
    mitigation: String,
    reason: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let mitigation = bounded_text(
            "mitigation",
            &mitigation,
            300,
            Some("Say what you want to do, e.g. shift traffic to the secondary region."),
        )?;
        let reason = bounded_text(
            "reason",
            &reason,
            1000,
            Some("Say why it is needed and what it risks."),
        )?;
        store::leadership::request_approval(
            &state.db,
            id,
            &mitigation,
            &reason,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)?;
        Ok(())
    }))
    .await
}

/// A leader approves (`approve`) or denies a request, with an optional note.
#[server(endpoint = "decide_approval")]
pub async fn decide_approval(
    number: i64,
    approval_id: i64,
    approve: bool,
    note: String,
) -> Result<(), ApiError> {
    respond(lead(number, move |state, user, id| async move {
        let note = bounded_text("note", &note, 1000, None)?;
        if !approve && note.is_empty() {
            return Err(ApiError::invalid(
                "note",
                "Say why it is denied, so the team can look for another way.",
            ));
        }
        store::leadership::decide_approval(
            &state.db,
            id,
            approval_id,
            approve,
            &note,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)
    }))
    .await
}

/// The IC goes ahead without waiting; the reason is required and recorded.
#[server(endpoint = "override_approval")]
pub async fn override_approval(
    number: i64,
    approval_id: i64,
    reason: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let reason = bounded_text(
            "override_reason",
            &reason,
            1000,
            Some("Say why waiting is worse than going ahead."),
        )?;
        store::leadership::override_approval(
            &state.db,
            id,
            approval_id,
            &reason,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)
    }))
    .await
}

#[server(endpoint = "raise_blocker")]
pub async fn raise_blocker(number: i64, description: String) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let description = bounded_text(
            "description",
            &description,
            300,
            Some("Say what is in the way, e.g. need write access to the payments database."),
        )?;
        store::leadership::raise_blocker(&state.db, id, &description, user.id, Utc::now())
            .await
            .map_err(refused)?;
        Ok(())
    }))
    .await
}

/// A leader takes a blocker ("I'm on it").
#[server(endpoint = "take_blocker")]
pub async fn take_blocker(number: i64, blocker_id: i64) -> Result<(), ApiError> {
    respond(lead(number, move |state, user, id| async move {
        store::leadership::take_blocker(&state.db, id, blocker_id, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "resolve_blocker")]
pub async fn resolve_blocker(number: i64, blocker_id: i64, note: String) -> Result<(), ApiError> {
    respond(lead(number, move |state, user, id| async move {
        let note = bounded_text("resolution", &note, 1000, Some("Say what cleared it."))?;
        store::leadership::resolve_blocker(&state.db, id, blocker_id, &note, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "add_responder")]
pub async fn add_responder(number: i64, user_id: i64) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let actor = actor(&state, &user, id).await?;
        store::leadership::add_responder(&state.db, id, UserId(user_id), &actor, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "remove_responder")]
pub async fn remove_responder(number: i64, user_id: i64) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let actor = actor(&state, &user, id).await?;
        store::leadership::remove_responder(&state.db, id, UserId(user_id), &actor, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

/// Flags possible security impact or data exposure: restricts the incident.
#[server(endpoint = "flag_restricted")]
pub async fn flag_restricted(number: i64) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        store::leadership::flag_restricted(&state.db, id, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

/// Admins set the postmortem deadline per severity, in business days.
#[server(endpoint = "set_postmortem_deadlines")]
pub async fn set_postmortem_deadlines(
    sev1_days: String,
    sev2_days: String,
    sev3_days: String,
    sev4_days: String,
) -> Result<DeadlineDays, ApiError> {
    respond(async move {
        let state = state()?;
        require_admin(&state).await?;
        let days = DeadlineDays {
            sev1: leadership::parse_deadline_days("sev1_days", &sev1_days)?,
            sev2: leadership::parse_deadline_days("sev2_days", &sev2_days)?,
            sev3: leadership::parse_deadline_days("sev3_days", &sev3_days)?,
            sev4: leadership::parse_deadline_days("sev4_days", &sev4_days)?,
        };
        store::leadership::set_deadline_days(&state.db, &days).await?;
        Ok(days)
    })
    .await
}

/// One active incident at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardRow {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub declared_at: DateTime<Utc>,
    pub restricted: bool,
    pub ic: Option<String>,
    /// Required roles nobody holds (core, plus Security Lead when restricted).
    pub gaps: Vec<IncidentRole>,
    pub required: usize,
    pub last_update_at: Option<DateTime<Utc>>,
    pub next_update_due: Option<DateTime<Utc>>,
    /// Authorisation requests waiting, and blockers open.
    pub pending: usize,
    pub blockers: usize,
}

/// A postmortem owed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueView {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub due: NaiveDate,
    pub overdue: bool,
    pub ic: Option<String>,
    pub status: Option<PostmortemStatus>,
}

/// Overdue action items of one owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerItems {
    pub owner: String,
    pub items: Vec<ItemView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadershipView {
    pub incidents: Vec<BoardRow>,
    pub approvals: Vec<ApprovalView>,
    pub blockers: Vec<BlockerView>,
    pub postmortems: Vec<DueView>,
    pub overdue_items: Vec<OwnerItems>,
    pub at_risk: Vec<RiskView>,
    /// Whether the viewer may approve (the permission, not admin alone).
    pub can_authorise: bool,
    /// The deadlines, for admins to change.
    pub deadlines: Option<DeadlineDays>,
}

#[cfg(feature = "ssr")]
pub(crate) fn due_view(p: store::leadership::DuePostmortem, today: NaiveDate) -> DueView {
    DueView {
        number: p.number,
        title: p.title,
        severity: p.severity,
        due: p.due,
        overdue: leadership::postmortem_overdue(p.due, false, today),
        ic: p.ic.map(|(_, name)| name),
        status: p.status,
    }
}

#[server(endpoint = "get_leadership")]
pub async fn get_leadership() -> Result<LeadershipView, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_leadership(&state).await?;
        let today = Utc::now().date_naive();
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let mut incidents = Vec::new();
        for board in store::leadership::active_incidents(&state.db).await? {
            let incident = board.incident;
            if hidden.hides(incident.id) {
                continue;
            }
            let updates = store::updates::for_incident(&state.db, incident.id).await?;
            let holds = |role: IncidentRole| board.holders.iter().any(|(r, _)| *r == role);
            let required: Vec<IncidentRole> =
                super::incidents::required_roles(incident.restricted).collect();
            incidents.push(BoardRow {
                number: incident.number,
                title: incident.title.clone(),
                severity: incident.severity,
                status: incident.status,
                declared_at: incident.declared_at,
                restricted: incident.restricted,
                ic: board
                    .holders
                    .iter()
                    .find(|(r, _)| *r == IncidentRole::IncidentCommander)
                    .map(|(_, name)| name.clone()),
                gaps: required.iter().copied().filter(|r| !holds(*r)).collect(),
                required: required.len(),
                last_update_at: updates.first().map(|u| u.published_at),
                next_update_due: super::updates::next_update_due(&incident, &updates),
                pending: 0,
                blockers: 0,
            });
        }
        let active: std::collections::HashSet<i64> = incidents.iter().map(|i| i.number).collect();
        let approvals: Vec<ApprovalView> = store::leadership::approvals(&state.db, None, true)
            .await?
            .into_iter()
            .filter(|a| active.contains(&a.number))
            .rev()
            .map(approval_view)
            .collect();
        let blockers: Vec<BlockerView> = store::leadership::blockers(&state.db, None, true)
            .await?
            .into_iter()
            .filter(|b| !hidden.hides(b.incident_id))
            .map(blocker_view)
            .collect();
        for row in &mut incidents {
            row.pending = approvals.iter().filter(|a| a.number == row.number).count();
            row.blockers = blockers.iter().filter(|b| b.number == row.number).count();
        }
        let postmortems = store::leadership::postmortems_due(&state.db)
            .await?
            .into_iter()
            .filter(|p| !hidden.hides(p.incident_id))
            .map(|p| due_view(p, today))
            .collect();
        let mut overdue_items: Vec<OwnerItems> = Vec::new();
        for item in super::postmortems::tracker_items(&state, &hidden, today).await? {
            if !item.overdue {
                continue;
            }
            let owner = item
                .owner_name
                .clone()
                .unwrap_or_else(|| "No owner".to_owned());
            match overdue_items.iter_mut().find(|o| o.owner == owner) {
                Some(group) => group.items.push(item),
                None => overdue_items.push(OwnerItems {
                    owner,
                    items: vec![item],
                }),
            }
        }
        overdue_items.sort_by(|a, b| {
            b.items
                .len()
                .cmp(&a.items.len())
                .then(a.owner.cmp(&b.owner))
        });
        let at_risk = super::postmortems::risks(&state, &hidden).await?;
        Ok(LeadershipView {
            incidents,
            approvals,
            blockers,
            postmortems,
            overdue_items,
            at_risk,
            can_authorise: user.can_lead,
            deadlines: if user.org_role == crate::domain::users::OrgRole::Admin {
                Some(store::leadership::deadline_days(&state.db).await?)
            } else {
                None
            },
        })
    })
    .await
}
