//! Server functions of the war room and the dashboard.

use super::ApiError;
use crate::domain::incidents::{IncidentStatus, Severity};
use crate::domain::milestones::Milestone;
use crate::domain::mitigation::{HypothesisStatus, RestoreStep, Safety};
use crate::domain::rhythm::RhythmItem;
use crate::domain::roles::IncidentRole;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::session::{require_user, require_writer, respond, state, AppState},
    super::shared::Shared,
    crate::domain::access::Capability,
    crate::domain::incidents::{bounded_text, IncidentId, IncidentTitle},
    crate::domain::rhythm::{self, ItemState},
    crate::domain::roles::Actor,
    crate::domain::users::{OrgRole, UserId},
    crate::store::changes::Subject,
    crate::store::{self, incidents::IncidentChangeError, users::User},
};

/// One incident on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentCard {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub declared_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Core roles nobody holds.
    pub role_gaps: Vec<IncidentRole>,
    /// Rhythm items past their deadline and not done.
    pub overdue_items: usize,
    pub restricted: bool,
}

/// The roles an incident must fill: the core four, and the Security Lead when restricted.
pub fn required_roles(restricted: bool) -> impl Iterator<Item = IncidentRole> {
    IncidentRole::ALL
        .into_iter()
        .filter(move |r| r.is_core() || (restricted && *r == IncidentRole::SecurityLead))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderView {
    pub user_id: i64,
    pub name: String,
    pub since: DateTime<Utc>,
    pub assigned_by: String,
    pub previous: Option<String>,
    /// How many roles this person holds on the incident.
    pub roles_held: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleView {
    pub role: IncidentRole,
    /// Must be filled: a core role, or the Security Lead of a restricted incident.
    pub required: bool,
    pub holder: Option<HolderView>,
    /// When the seat became empty, for unfilled roles.
    pub open_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RhythmView {
    pub item: RhythmItem,
    pub deadline: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub automatic: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub id: i64,
    pub decided_at: DateTime<Utc>,
    pub decision: String,
    pub reason: String,
    pub owner: String,
    pub result: Option<String>,
    pub result_at: Option<DateTime<Utc>>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub author: Option<String>,
    pub is_event: bool,
    pub body: String,
    pub by_scribe: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
}

/// Everything the war room shows, the same for everyone watching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub impact: String,
    pub best_guess: String,
    pub bridge_url: String,
    pub declared_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub decision_cadence_minutes: i64,
    pub update_cadence_minutes: i64,
    pub next_check_in: DateTime<Utc>,
    pub next_update: Option<DateTime<Utc>>,
    pub roles: Vec<RoleView>,
    pub rhythm: Vec<RhythmView>,
    pub decisions: Vec<DecisionView>,
    pub timeline: Vec<EntryView>,
    pub hypotheses: Vec<HypothesisView>,
    /// Shown while more than three hypotheses are open.
    pub hypothesis_warning: Option<String>,
    pub restore: Vec<RestoreView>,
    pub milestones: Vec<MilestoneView>,
    pub people: Vec<PersonView>,
    /// Possible security impact or data exposure: participants and admins only.
    pub restricted: bool,
    pub postmortem_due_on: Option<chrono::NaiveDate>,
    /// People the IC added as responders (role holders are responders too).
    pub responders: Vec<PersonView>,
    pub approvals: Vec<super::leadership::ApprovalView>,
    pub blockers: Vec<super::leadership::BlockerView>,
    /// Resolved while the public page still shows it ongoing: the resolution is due.
    pub resolution_due: bool,
    /// How many decisions and timeline entries there are in all (the lists
    /// above hold the newest of them).
    pub decision_count: i64,
    pub timeline_count: i64,
    /// Alert groups attached to the incident, firing first.
    pub alerts: Vec<crate::domain::alerts::AlertGroup>,
    /// Change events (deploys, config pushes) from an hour before the
    /// incident started until it resolved: the first suspects.
    pub changes: Vec<crate::domain::alerts::RecentChange>,
}

/// The war room as one person sees it: the shared [`Room`] and what they may
/// do there. Reads of the room's fields go through to it (`view.title`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarRoomView {
    pub room: super::shared::Shared<Room>,
    pub me: i64,
    /// Writes in the responder channel: holds a role, added by the IC, or admin; incident active.
    pub can_edit: bool,
    /// May take an empty role (any responder or admin by org role, while active).
    pub can_join: bool,
    pub commands: bool,
    pub is_ic: bool,
    /// Holds the Tech Lead or IC role: may ask leaders for authorisation.
    pub can_request_approval: bool,
    /// Has the leadership permission: approves and denies.
    pub can_authorise: bool,
    /// Takes and resolves blockers (the permission, or admin).
    pub can_clear_blockers: bool,
}

impl std::ops::Deref for WarRoomView {
    type Target = Room;
    fn deref(&self) -> &Room {
        &self.room
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn refused(e: IncidentChangeError) -> ApiError {
    match e {
        IncidentChangeError::NotFound => ApiError::NotFound,
        IncidentChangeError::Stale => ApiError::Conflict(
            "Someone changed this first. The page now shows their change; check it and try again."
                .to_owned(),
        ),
        IncidentChangeError::Refused(refusal) => ApiError::Forbidden(refusal.message().to_owned()),
        IncidentChangeError::Resolved => {
            ApiError::Conflict("This incident is resolved; its war room is read-only.".to_owned())
        }
        IncidentChangeError::Invalid(message) => ApiError::Conflict(message.to_owned()),
        IncidentChangeError::Store(e) => e.into(),
    }
}

/// Incident `number` as `user` may see it: a restricted incident answers not-found
/// to everyone but its participants and admins, exactly like a missing one.
#[cfg(feature = "ssr")]
pub(crate) async fn visible_incident(
    state: &AppState,
    user: &User,
    number: i64,
) -> Result<store::incidents::Incident, ApiError> {
    Ok(super::access::open(state, user, number).await?.incident)
}

/// The war room of incident `number` as `user` may see it (not-found like [`visible_incident`]).
#[cfg(feature = "ssr")]
pub(crate) async fn visible_room(
    state: &AppState,
    user: &User,
    number: i64,
) -> Result<store::incidents::WarRoom, ApiError> {
    super::access::open(state, user, number).await?;
    store::incidents::war_room(&state.db, number)
        .await?
        .ok_or(ApiError::NotFound)
}

#[cfg(feature = "ssr")]
pub(crate) async fn incident_id(
    state: &AppState,
    user: &User,
    number: i64,
) -> Result<IncidentId, ApiError> {
    Ok(visible_incident(state, user, number).await?.id)
}

#[cfg(feature = "ssr")]
pub(crate) async fn actor(
    state: &AppState,
    user: &User,
    id: IncidentId,
) -> Result<Actor, ApiError> {
    let ic = store::incidents::holder(&state.db, id, IncidentRole::IncidentCommander).await?;
    Ok(Actor {
        user: user.id,
        org_role: user.org_role,
        is_ic: ic == Some(user.id),
    })
}

/// Runs one change of incident `number` as a writer and announces it. The store
/// checks the role rules inside its transaction; use [`change_as`] where the
/// access rule itself decides.
#[cfg(feature = "ssr")]
pub(crate) async fn change<T, F, Fut>(number: i64, work: F) -> Result<T, ApiError>
where
    F: FnOnce(AppState, User, IncidentId) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    change_as(number, Capability::See, work).await
}

/// Runs one change of incident `number` by a writer who may do `what` there,
/// recorded in the change log (heard only by those who may see it).
#[cfg(feature = "ssr")]
pub(crate) async fn change_as<T, F, Fut>(
    number: i64,
    what: Capability,
    work: F,
) -> Result<T, ApiError>
where
    F: FnOnce(AppState, User, IncidentId) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let state = state()?;
    let user = require_writer(&state).await?;
    let access = super::access::open(&state, &user, number).await?;
    access.require(what)?;
    recorded(&[Subject::Incident(number)], work(state, user, access.id())).await
}

/// Runs use case `work`: every transaction it commits also appends `subjects`
/// to the change log (and, for an incident, whether it is restricted and on
/// the public page as of that commit), so live pages and every replica hear
/// of exactly what committed. Wakes this process's log follower at once and
/// waits until it has handed the change out, so this replica's caches and
/// streams have it before the writer hears "done".
#[cfg(feature = "ssr")]
pub(crate) async fn recorded<T>(
    subjects: &[Subject],
    work: impl std::future::Future<Output = T>,
) -> T {
    let (out, committed) = store::changes::recording(subjects, work).await;
    if let (Some(last), Ok(state)) = (committed, state()) {
        state.events.committed(last).await;
    }
    out
}

#[server(endpoint = "declare_incident")]
pub async fn declare_incident(
    title: String,
    severity: String,
    impact: String,
    best_guess: String,
    /// "on" when the declarer ticks possible security impact or data exposure.
    restricted: Option<String>,
    /// The alert group declared from (the inbox's Declare): attached in the
    /// same transaction.
    alert: Option<i64>,
) -> Result<i64, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let title = IncidentTitle::parse("title", &title)?;
        let severity = Severity::parse("severity", &severity)?;
        let impact = bounded_text("impact", &impact, 2000, None)?;
        let best_guess = bounded_text("best_guess", &best_guess, 2000, None)?;
        let declaration = store::incidents::Declaration {
            title: &title,
            severity,
            impact: &impact,
            best_guess: &best_guess,
            bridge_url: "",
            restricted: restricted.is_some_and(|r| !r.is_empty()),
            alert,
            by_integration: None,
        };
        let declaring = store::incidents::declare(&state.db, &declaration, user.id, Utc::now());
        // The store notes the new incident's number for the change log.
        let incident = recorded(&[], declaring).await.map_err(refused)?;
        tracing::info!(number = incident.number, "incident declared");
        leptos_axum::redirect(&format!("/incidents/{}", incident.number));
        Ok(incident.number)
    })
    .await
}

#[server(endpoint = "list_incidents")]
pub async fn list_incidents() -> Result<Vec<IncidentCard>, ApiError> {
    respond(async {
        let state = state()?;
        let user = require_user(&state).await?;
        let now = Utc::now();
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let summaries = store::incidents::list(&state.db).await?;
        Ok(summaries
            .into_iter()
            .filter(|s| !hidden.hides(s.incident.id))
            .map(|s| IncidentCard {
                number: s.incident.number,
                title: s.incident.title,
                severity: s.incident.severity,
                status: s.incident.status,
                declared_at: s.incident.declared_at,
                resolved_at: s.incident.resolved_at,
                role_gaps: required_roles(s.incident.restricted)
                    .filter(|r| !s.filled_roles.contains(r))
                    .collect(),
                restricted: s.incident.restricted,
                overdue_items: if s.incident.status.is_active() {
                    RhythmItem::ALL
                        .into_iter()
                        .filter(|item| !s.ticks.contains(item))
                        .filter(|item| {
                            ItemState::of(*item, s.incident.declared_at, None, now).is_overdue()
                        })
                        .count()
                } else {
                    0
                },
            })
            .collect())
    })
    .await
}

/// How many of the newest decisions and timeline entries a war room shows
/// until someone asks for older ones.
pub const ROOM_WINDOW: i64 = 100;
/// The most a war room shows on request.
pub const ROOM_WINDOW_MAX: i64 = 5_000;

/// The war room of incident `number` with the newest `decisions` decisions
/// and `timeline` timeline entries (100 each when not given). The view is
/// built once per change of the incident and shared by everyone watching;
/// only what the caller may do is worked out per request.
#[server(endpoint = "get_war_room")]
pub async fn get_war_room(
    number: i64,
    decisions: Option<i64>,
    timeline: Option<i64>,
) -> Result<WarRoomView, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_user(&state).await?;
        let shown = |field: &'static str, asked: Option<i64>| match asked {
            None => Ok(ROOM_WINDOW),
            Some(n) if (1..=ROOM_WINDOW_MAX).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid(
                field,
                format!("Show between 1 and {ROOM_WINDOW_MAX}."),
            )),
        };
        let window = store::incidents::Window {
            decisions: shown("decisions", decisions)?,
            timeline: shown("timeline", timeline)?,
        };
        let access = super::access::open_to_read(&state, &user, number).await?;
        if user.org_role == OrgRole::Viewer {
            return Err(ApiError::Forbidden(
                "Stakeholders follow incidents through the status channel.".to_owned(),
            ));
        }
        // Read before building, so a change during the build is not hidden.
        let version = access.last_change();
        let room = state
            .rooms
            .get((number, window), version, || {
                assemble_room(&state, number, window)
            })
            .await?;
        Ok(personalize(room, &user))
    })
    .await
}

/// The shared `room` as `user` sees it: what they may do there, worked out
/// from the room itself.
#[cfg(feature = "ssr")]
fn personalize(room: Shared<Room>, user: &User) -> WarRoomView {
    let me = user.id.0;
    let holds = |role: IncidentRole| {
        room.roles
            .iter()
            .any(|r| r.role == role && r.holder.as_ref().is_some_and(|h| h.user_id == me))
    };
    let is_ic = holds(IncidentRole::IncidentCommander);
    let holds_role = room
        .roles
        .iter()
        .any(|r| r.holder.as_ref().is_some_and(|h| h.user_id == me));
    let added = room.responders.iter().any(|p| p.id == me);
    let standing = crate::domain::leadership::Standing::of(holds_role, added);
    let may_post = crate::domain::leadership::may_post(user.org_role, standing).is_ok();
    let active = room.status.is_active();
    WarRoomView {
        can_request_approval: is_ic || holds(IncidentRole::TechLead),
        me,
        can_edit: may_post && active,
        can_join: user.org_role != OrgRole::Viewer && active,
        commands: is_ic || user.org_role == OrgRole::Admin,
        is_ic,
        can_authorise: user.can_lead,
        can_clear_blockers: user.can_lead || user.org_role == OrgRole::Admin,
        room,
    }
}

/// Builds the war room of incident `number` as everyone watching shares it;
/// [`personalize`] then sets what each watcher may do.
#[cfg(feature = "ssr")]
async fn assemble_room(
    state: &AppState,
    number: i64,
    window: store::incidents::Window,
) -> Result<Shared<Room>, ApiError> {
    {
        let room = store::incidents::war_room_window(&state.db, number, window)
            .await?
            .ok_or(ApiError::NotFound)?;
        let incident = &room.incident;
        let updates = store::updates::for_incident(&state.db, incident.id).await?;
        let tick_of = |item: RhythmItem| {
            room.ticks
                .iter()
                .find(|(i, _)| *i == item)
                .map(|(_, at)| *at)
        };
        let responders = store::leadership::responders_of(&state.db, incident.id).await?;
        let approvals = store::leadership::approvals(&state.db, Some(incident.id), false)
            .await?
            .into_iter()
            .map(super::leadership::approval_view)
            .collect();
        let blockers = store::leadership::blockers(&state.db, Some(incident.id), false)
            .await?
            .into_iter()
            .map(super::leadership::blocker_view)
            .collect();
        let alerts = store::alerts::attached(&state.db, incident.id.0).await?;
        let suspects_from = alerts
            .iter()
            .map(|a| a.started_at)
            .chain([incident.declared_at])
            .min()
            .unwrap_or(incident.declared_at)
            - chrono::Duration::hours(1);
        let changes = store::alerts::changes_between(
            &state.db,
            suspects_from,
            incident.resolved_at.unwrap_or_else(Utc::now),
        )
        .await?;
        let people = store::users::list(&state.db)
            .await?
            .into_iter()
            .filter(|u| !u.disabled && u.org_role != OrgRole::Viewer)
            .map(|u| PersonView {
                id: u.id.0,
                name: u.name,
            })
            .collect();
        Ok(Shared::new(Room {
            number: incident.number,
            title: incident.title.clone(),
            severity: incident.severity,
            status: incident.status,
            impact: incident.impact.clone(),
            best_guess: incident.best_guess.clone(),
            bridge_url: incident.bridge_url.clone(),
            declared_at: incident.declared_at,
            resolved_at: incident.resolved_at,
            version: incident.version,
            decision_cadence_minutes: incident.decision_cadence_minutes,
            update_cadence_minutes: incident.update_cadence_minutes,
            next_check_in: rhythm::next_due(
                incident.declared_at,
                incident.last_check_in_at,
                incident.decision_cadence_minutes,
            ),
            next_update: super::updates::next_update_due(incident, &updates),
            roles: IncidentRole::ALL
                .into_iter()
                .map(|role| RoleView {
                    role,
                    required: required_roles(incident.restricted).any(|r| r == role),
                    holder: room
                        .roles
                        .iter()
                        .find(|h| h.role == role)
                        .map(|h| HolderView {
                            user_id: h.user_id.0,
                            name: h.user_name.clone(),
                            since: h.assigned_at,
                            assigned_by: h.assigned_by_name.clone(),
                            previous: h.previous_name.clone(),
                            roles_held: room
                                .roles
                                .iter()
                                .filter(|o| o.user_id == h.user_id)
                                .count(),
                        }),
                    open_since: room
                        .open_since
                        .iter()
                        .find(|(r, _)| *r == role)
                        .map(|(_, at)| *at),
                })
                .collect(),
            rhythm: RhythmItem::ALL
                .into_iter()
                .map(|item| RhythmView {
                    item,
                    deadline: item.deadline(incident.declared_at),
                    done_at: tick_of(item),
                    automatic: item.is_automatic(),
                })
                .collect(),
            decisions: room
                .decisions
                .iter()
                .map(|d| DecisionView {
                    id: d.id,
                    decided_at: d.decided_at,
                    decision: d.decision.clone(),
                    reason: d.reason.clone(),
                    owner: d.owner_name.clone(),
                    result: d.result.clone(),
                    result_at: d.result_at,
                    version: d.version,
                })
                .collect(),
            timeline: room
                .timeline
                .iter()
                .map(|e| EntryView {
                    id: e.id,
                    at: e.at,
                    author: e.author_name.clone(),
                    is_event: e.is_event,
                    body: e.body.clone(),
                    by_scribe: e.by_scribe,
                })
                .collect(),
            hypotheses: room
                .hypotheses
                .iter()
                .map(|h| HypothesisView {
                    id: h.id,
                    statement: h.statement.clone(),
                    owner_id: h.owner_id.map(|o| o.0),
                    owner: h.owner_name.clone(),
                    status: h.status,
                    evidence: h.evidence.clone(),
                    version: h.version,
                })
                .collect(),
            hypothesis_warning: crate::domain::mitigation::too_many_open(
                room.hypotheses
                    .iter()
                    .filter(|h| h.status == HypothesisStatus::Open)
                    .count(),
            ),
            restore: RestoreStep::ALL
                .into_iter()
                .map(|step| match room.restore.iter().find(|r| r.step == step) {
                    Some(r) => RestoreView {
                        step,
                        tried: r.safety,
                        decided: true,
                        note: r.note.clone(),
                        by: Some(r.by_name.clone()),
                        at: Some(r.at),
                    },
                    None => RestoreView {
                        step,
                        tried: None,
                        decided: false,
                        note: String::new(),
                        by: None,
                        at: None,
                    },
                })
                .collect(),
            milestones: Milestone::ALL
                .into_iter()
                .map(|milestone| {
                    let stamped = store::incidents::stamped(&room, milestone);
                    let correction = room
                        .corrections
                        .iter()
                        .rev()
                        .find(|c| c.milestone == milestone);
                    MilestoneView {
                        milestone,
                        at: crate::domain::milestones::effective(
                            stamped,
                            correction.map(|c| c.new_at),
                        ),
                        stamped,
                        corrected_by: correction.map(|c| c.by_name.clone()),
                        corrected_at: correction.map(|c| c.at),
                    }
                })
                .collect(),
            people,
            restricted: incident.restricted,
            postmortem_due_on: incident.postmortem_due_on,
            responders: responders
                .into_iter()
                .map(|r| PersonView {
                    id: r.user_id.0,
                    name: r.name,
                })
                .collect(),
            approvals,
            blockers,
            resolution_due: !incident.status.is_active()
                && updates
                    .iter()
                    .find(|u| u.kind == crate::domain::updates::TemplateKind::CustomerFacing)
                    .is_some_and(|u| u.public_status != "resolved"),
            decision_count: room.decision_count,
            timeline_count: room.timeline_count,
            alerts,
            changes,
        }))
    }
}

#[server(endpoint = "assign_role")]
pub async fn assign_role(number: i64, role: String, user_id: i64) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let role =
            IncidentRole::parse(&role).ok_or_else(|| ApiError::invalid("role", "Unknown role."))?;
        let actor = actor(&state, &user, id).await?;
        store::incidents::assign_role(&state.db, id, role, UserId(user_id), &actor, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "release_role")]
pub async fn release_role(number: i64, role: String) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let role =
            IncidentRole::parse(&role).ok_or_else(|| ApiError::invalid("role", "Unknown role."))?;
        let actor = actor(&state, &user, id).await?;
        store::incidents::release_role(&state.db, id, role, &actor, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "change_status")]
pub async fn change_status(
    number: i64,
    version: i64,
    status: String,
    severity: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let status = IncidentStatus::parse("status", &status)?;
        let severity = Severity::parse("severity", &severity)?;
        store::incidents::change_status(
            &state.db,
            id,
            version,
            status,
            severity,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)
    }))
    .await
}

/// Sets the decision and update cadences; the IC's call (or an admin's).
#[server(endpoint = "set_cadence")]
pub async fn set_cadence(
    number: i64,
    version: i64,
    decision_minutes: String,
    update_minutes: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let actor = actor(&state, &user, id).await?;
        if !actor.is_ic && user.org_role != OrgRole::Admin {
            return Err(ApiError::Forbidden(
                "Only the Incident Commander sets the cadence.".to_owned(),
            ));
        }
        let decision = rhythm::parse_cadence("decision_minutes", &decision_minutes)?;
        let update = rhythm::parse_cadence("update_minutes", &update_minutes)?;
        store::incidents::set_cadence(
            &state.db,
            id,
            version,
            decision,
            update,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)
    }))
    .await
}

#[server(endpoint = "tick_rhythm_item")]
pub async fn tick_rhythm_item(number: i64, item: String) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let item = RhythmItem::parse(&item)
            .filter(|i| !i.is_automatic())
            .ok_or_else(|| ApiError::invalid("item", "That item is ticked by the system."))?;
        store::incidents::tick_item(&state.db, id, item, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "check_in")]
pub async fn check_in(number: i64) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        store::incidents::check_in(&state.db, id, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "log_decision")]
pub async fn log_decision(
    number: i64,
    decision: String,
    reason: String,
    owner_id: i64,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let decision = bounded_text("decision", &decision, 500, Some("Say what was decided."))?;
        let reason = bounded_text("reason", &reason, 1000, None)?;
        store::incidents::log_decision(
            &state.db,
            id,
            &decision,
            &reason,
            UserId(owner_id),
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)?;
        Ok(())
    }))
    .await
}

#[server(endpoint = "record_decision_result")]
pub async fn record_decision_result(
    number: i64,
    decision_id: i64,
    version: i64,
    result: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let result = bounded_text("result", &result, 1000, Some("Say what happened."))?;
        store::incidents::record_result(
            &state.db,
            id,
            decision_id,
            version,
            &result,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)
    }))
    .await
}

#[server(endpoint = "add_timeline_note")]
pub async fn add_timeline_note(number: i64, body: String) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let body = bounded_text("body", &body, 2000, Some("Write the note first."))?;
        store::incidents::add_note(&state.db, id, &body, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypothesisView {
    pub id: i64,
    pub statement: String,
    pub owner_id: Option<i64>,
    pub owner: Option<String>,
    pub status: HypothesisStatus,
    pub evidence: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreView {
    pub step: RestoreStep,
    /// Tried: with how safely. Not applicable: `None`, with the reason in `note`.
    pub tried: Option<Safety>,
    pub decided: bool,
    pub note: String,
    pub by: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[cfg(feature = "ssr")]
fn owner_from(raw: &str) -> Result<Option<UserId>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        id => id
            .parse::<i64>()
            .map(|id| Some(UserId(id)))
            .map_err(|_| ApiError::invalid("owner_id", "Choose an owner from the list.")),
    }
}

#[server(endpoint = "add_hypothesis")]
pub async fn add_hypothesis(
    number: i64,
    statement: String,
    owner_id: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let statement = bounded_text("statement", &statement, 300, Some("State the hypothesis."))?;
        let owner = owner_from(&owner_id)?;
        store::incidents::add_hypothesis(&state.db, id, &statement, owner, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[server(endpoint = "update_hypothesis")]
pub async fn update_hypothesis(
    number: i64,
    hypothesis_id: i64,
    version: i64,
    status: String,
    evidence: String,
    owner_id: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let status = HypothesisStatus::parse(&status)
            .ok_or_else(|| ApiError::invalid("status", "Choose open, confirmed or ruled out."))?;
        let evidence = bounded_text("evidence", &evidence, 2000, None)?;
        let owner = owner_from(&owner_id)?;
        store::incidents::update_hypothesis(
            &state.db,
            id,
            hypothesis_id,
            version,
            status,
            &evidence,
            owner,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)
    }))
    .await
}

/// Marks a restore-first step tried (with its safety; this logs a decision) or not applicable (with a reason).
#[server(endpoint = "record_restore_step")]
pub async fn record_restore_step(
    number: i64,
    step: String,
    outcome: String,
    safety: String,
    note: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let step =
            RestoreStep::parse(&step).ok_or_else(|| ApiError::invalid("step", "Unknown step."))?;
        let note = bounded_text("note", &note, 500, None)?;
        let outcome = match outcome.as_str() {
            "tried" => store::incidents::RestoreOutcome::Tried {
                safety: Safety::parse(&safety).ok_or_else(|| {
                    ApiError::invalid(
                        "safety",
                        "Say how safely it is applied: staged, canary, limited or untested.",
                    )
                })?,
                detail: &note,
            },
            "not_applicable" if note.is_empty() => {
                return Err(ApiError::invalid(
                    "note",
                    "Say why this step does not apply.",
                ))
            }
            "not_applicable" => store::incidents::RestoreOutcome::NotApplicable { reason: &note },
            _ => {
                return Err(ApiError::invalid(
                    "outcome",
                    "Choose tried or not applicable.",
                ))
            }
        };
        store::incidents::record_restore_step(&state.db, id, step, &outcome, user.id, Utc::now())
            .await
            .map_err(refused)
    }))
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneView {
    pub milestone: Milestone,
    /// The time that counts: the latest correction, else the system stamp.
    pub at: Option<DateTime<Utc>>,
    /// The system stamp, shown beside a correction.
    pub stamped: Option<DateTime<Utc>>,
    /// Who corrected it last, and when.
    pub corrected_by: Option<String>,
    pub corrected_at: Option<DateTime<Utc>>,
}

/// Corrects a milestone time (typed in the caller's zone); only the IC or an admin. The stamp stays on record.
#[server(endpoint = "correct_milestone")]
pub async fn correct_milestone(number: i64, milestone: String, at: String) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let actor = actor(&state, &user, id).await?;
        if !actor.is_ic && user.org_role != OrgRole::Admin {
            return Err(ApiError::Forbidden(
                "Only the Incident Commander corrects milestones.".to_owned(),
            ));
        }
        let milestone = Milestone::parse(&milestone)
            .ok_or_else(|| ApiError::invalid("milestone", "Unknown milestone."))?;
        let now = Utc::now();
        let zone = super::zones::zone_of(&user);
        let at = crate::domain::milestones::parse_correction("at", &at, &zone, now)?;
        store::incidents::correct_milestone(&state.db, number, milestone, at, user.id, now)
            .await
            .map_err(refused)
    }))
    .await
}

/// Posts the initial status or updates it: impact, current best guess, bridge link.
#[server(endpoint = "update_summary")]
pub async fn update_summary(
    number: i64,
    version: i64,
    impact: String,
    best_guess: String,
    bridge_url: String,
) -> Result<(), ApiError> {
    respond(change(number, move |state, user, id| async move {
        let impact = bounded_text("impact", &impact, 2000, None)?;
        let best_guess = bounded_text("best_guess", &best_guess, 2000, None)?;
        let bridge_url = bounded_text("bridge_url", &bridge_url, 500, None)?;
        let is_link = bridge_url.starts_with("https://") || bridge_url.starts_with("http://");
        if !bridge_url.is_empty() && !is_link {
            return Err(ApiError::invalid(
                "bridge_url",
                "Use a link that starts with https://",
            ));
        }
        store::incidents::update_summary(
            &state.db,
            id,
            version,
            &impact,
            &best_guess,
            &bridge_url,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)
    }))
    .await
}
