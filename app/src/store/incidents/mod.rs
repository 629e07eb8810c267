//! Incidents and everything the war room shows: roles, rhythm ticks, decisions, timeline.
//!
//! Every change is one transaction that also writes its timeline entry, and
//! changes to a versioned row are refused when the caller saw an older version.

use super::changes::Subject;
use super::tx::{sql, Tx};
use super::{read, Db, StoreError};
use crate::domain::incidents::{IncidentId, IncidentStatus, IncidentTitle, Severity};
use crate::domain::milestones::Milestone;
use crate::domain::mitigation::{self, HypothesisStatus, RestoreStep, Safety};
use crate::domain::rhythm::{self, RhythmItem};
use crate::domain::roles::{self, Actor, IncidentRole, RoleRefusal};
use crate::domain::timeline::Happened;
use crate::domain::users::UserId;
use chrono::{DateTime, NaiveDate, Utc};

/// An incident row, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: IncidentId,
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub impact: String,
    pub best_guess: String,
    pub bridge_url: String,
    pub decision_cadence_minutes: i64,
    pub update_cadence_minutes: i64,
    pub declared_at: DateTime<Utc>,
    pub last_check_in_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
    /// Possible security impact or data exposure: seen by participants and admins only.
    pub restricted: bool,
    /// Set on resolve, by severity.
    pub postmortem_due_on: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct IncidentRow {
    id: i64,
    number: i64,
    title: String,
    severity: String,
    status: String,
    impact: String,
    best_guess: String,
    bridge_url: String,
    decision_cadence_minutes: i64,
    update_cadence_minutes: i64,
    declared_at: DateTime<Utc>,
    last_check_in_at: Option<DateTime<Utc>>,
    mitigated_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    version: i64,
    restricted: bool,
    postmortem_due_on: Option<NaiveDate>,
}

pub(crate) const INCIDENT_COLUMNS: &str = "id, number, title, severity, status, impact, best_guess, bridge_url, \
     decision_cadence_minutes, update_cadence_minutes, declared_at, last_check_in_at, mitigated_at, resolved_at, version, \
     restricted, postmortem_due_on";

impl TryFrom<IncidentRow> for Incident {
    type Error = StoreError;

    fn try_from(row: IncidentRow) -> Result<Self, StoreError> {
        let severity = Severity::parse("severity", &row.severity)
            .map_err(|_| StoreError::Corrupt(format!("severity {:?}", row.severity)))?;
        let status = IncidentStatus::parse("status", &row.status)
            .map_err(|_| StoreError::Corrupt(format!("status {:?}", row.status)))?;
        Ok(Incident {
            id: IncidentId(row.id),
            number: row.number,
            title: row.title,
            severity,
            status,
            impact: row.impact,
            best_guess: row.best_guess,
            bridge_url: row.bridge_url,
            decision_cadence_minutes: row.decision_cadence_minutes,
            update_cadence_minutes: row.update_cadence_minutes,
            declared_at: row.declared_at,
            last_check_in_at: row.last_check_in_at,
            mitigated_at: row.mitigated_at,
            resolved_at: row.resolved_at,
            version: row.version,
            restricted: row.restricted,
            postmortem_due_on: row.postmortem_due_on,
        })
    }
}

/// Who holds a role now, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolder {
    pub role: IncidentRole,
    pub user_id: UserId,
    pub user_name: String,
    pub assigned_at: DateTime<Utc>,
    pub assigned_by_name: String,
    pub previous_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub id: i64,
    pub decided_at: DateTime<Utc>,
    pub decision: String,
    pub reason: String,
    pub owner_id: UserId,
    pub owner_name: String,
    pub result: Option<String>,
    pub result_at: Option<DateTime<Utc>>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub author_name: Option<String>,
    pub is_event: bool,
    /// What kind of automatic entry it is (`domain::timeline::Happened::kind`).
    pub event_kind: Option<String>,
    pub body: String,
    pub by_scribe: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hypothesis {
    pub id: i64,
    pub statement: String,
    pub owner_id: Option<UserId>,
    pub owner_name: Option<String>,
    pub status: HypothesisStatus,
    pub evidence: String,
    pub version: i64,
}

/// A restore-first step that was tried or set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreRecord {
    pub step: RestoreStep,
    /// `Some` when tried (with how safely); `None` when not applicable.
    pub safety: Option<Safety>,
    pub note: String,
    pub by_name: String,
    pub at: DateTime<Utc>,
}

/// What happened to a restore-first step.
pub enum RestoreOutcome<'a> {
    Tried { safety: Safety, detail: &'a str },
    NotApplicable { reason: &'a str },
}

/// Everything one war room shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarRoom {
    pub incident: Incident,
    pub roles: Vec<RoleHolder>,
    /// When each unfilled role became open (declaration, or its last release).
    pub open_since: Vec<(IncidentRole, DateTime<Utc>)>,
    pub ticks: Vec<(RhythmItem, DateTime<Utc>)>,
    pub decisions: Vec<Decision>,
    pub timeline: Vec<TimelineEntry>,
    pub hypotheses: Vec<Hypothesis>,
    pub restore: Vec<RestoreRecord>,
    /// Corrections, oldest first.
    pub corrections: Vec<MilestoneCorrection>,
    /// How many decisions and timeline entries the incident has in all (the
    /// lists above may hold only the newest of them).
    pub decision_count: i64,
    pub timeline_count: i64,
}

/// How many of the newest decisions and timeline entries to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub decisions: i64,
    pub timeline: i64,
}

impl Window {
    /// Every decision and the newest 300 entries (postmortem drafts, tests).
    pub const FULL: Window = Window {
        decisions: i64::MAX,
        timeline: 300,
    };
}

/// An IC's correction of a milestone time; the system stamp stays on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneCorrection {
    pub milestone: Milestone,
    pub old_at: Option<DateTime<Utc>>,
    pub new_at: DateTime<Utc>,
    pub by_name: String,
    pub at: DateTime<Utc>,
}

/// What the dashboard lists per incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSummary {
    pub incident: Incident,
    pub filled_roles: Vec<IncidentRole>,
    pub ticks: Vec<RhythmItem>,
}

/// Why a change to an incident was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncidentChangeError {
    #[error("no such incident")]
    NotFound,
    #[error("someone else changed this first")]
    Stale,
    #[error("{}", .0.message())]
    Refused(RoleRefusal),
    #[error("the incident is resolved")]
    Resolved,
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IncidentChangeError {
    fn from(e: sqlx::Error) -> Self {
        IncidentChangeError::Store(StoreError::Sqlx(e))
    }
}

/// The fields of a declaration, already parsed.
pub struct Declaration<'a> {
    pub title: &'a IncidentTitle,
    pub severity: Severity,
    pub impact: &'a str,
    pub best_guess: &'a str,
    pub bridge_url: &'a str,
    /// Possible security impact or data exposure.
    pub restricted: bool,
    /// An alert group to attach in the same transaction.
    pub alert: Option<i64>,
    /// Declared by this integration, not by a person: nobody becomes IC
    /// (the role shows as an open gap) and `by` is the integration's owner.
    pub by_integration: Option<&'a str>,
}

/// The display name of a user, inside a transaction.
pub(crate) async fn name_of(tx: &mut Tx, user: i64) -> Result<String, sqlx::Error> {
    tx.scalar(sql("SELECT name FROM users WHERE id = $1").bind(user))
        .await
}

/// Writes an automatic timeline entry, inside a transaction. The author is a
/// user id, or `None` for an entry a sender wrote (an alert resolving).
pub(crate) async fn event(
    tx: &mut Tx,
    incident: i64,
    author: impl Into<crate::store::tx::Arg>,
    at: DateTime<Utc>,
    happened: Happened,
) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("INSERT INTO timeline_entries (incident_id, at, author_id, kind, event_kind, body, by_scribe) \
             VALUES ($1, $2, $3, 'event', $4, $5, FALSE)")
        .bind(incident)
        .bind(at)
        .bind(author)
        .bind(happened.kind())
        .bind(happened.text()),
    )
    .await?;
    Ok(())
}

/// Ticks a rhythm item once (later ticks keep the first time), inside a transaction.
pub(crate) async fn tick(
    tx: &mut Tx,
    incident: i64,
    item: RhythmItem,
    by: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("INSERT INTO rhythm_ticks (incident_id, item, done_at, done_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (incident_id, item) DO NOTHING")
        .bind(incident)
        .bind(item.as_str())
        .bind(at)
        .bind(by),
    )
    .await?;
    Ok(())
}

/// Loads the incident row for a change; refuses a resolved incident when `open_only`.
pub(crate) async fn incident_for_change(
    tx: &mut Tx,
    id: IncidentId,
    open_only: bool,
) -> Result<Incident, IncidentChangeError> {
    let row: Option<IncidentRow> = tx
        .fetch_optional(
            sql(format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"
            ))
            .bind(id.0),
        )
        .await?;
    let incident = Incident::try_from(row.ok_or(IncidentChangeError::NotFound)?)?;
    if open_only && !incident.status.is_active() {
        return Err(IncidentChangeError::Resolved);
    }
    // Whatever the transaction goes on to write, it changes this incident.
    tx.records(Subject::Incident(incident.number));
    Ok(incident)
}

/// Notes that the transaction changes incident `id` (for writes that need
/// nothing else of it).
pub(crate) async fn records_incident(tx: &mut Tx, id: IncidentId) -> Result<(), sqlx::Error> {
    let number: Option<i64> = tx
        .scalar_optional(sql("SELECT number FROM incidents WHERE id = $1").bind(id.0))
        .await?;
    if let Some(number) = number {
        tx.records(Subject::Incident(number));
    }
    Ok(())
}

/// Takes the incident row for an edit made against `seen` version: bumps the
/// version only if it is still `seen`, so of two concurrent edits one wins and
/// the other is refused as stale (on PostgreSQL the second waits on the row
/// lock, then finds the version moved).
pub(crate) async fn claim_version(
    tx: &mut Tx,
    id: IncidentId,
    seen: i64,
) -> Result<(), IncidentChangeError> {
    let claimed = tx
        .execute(
            sql("UPDATE incidents SET version = version + 1 WHERE id = $1 AND version = $2")
                .bind(id.0)
                .bind(seen),
        )
        .await?;
    if claimed == 0 {
        return Err(IncidentChangeError::Stale);
    }
    Ok(())
}

/// Who holds a role on an incident now.
pub(crate) const HOLDER_SQL: &str =
    "SELECT user_id FROM role_assignments WHERE incident_id = $1 AND role = $2 AND released_at IS NULL";

/// The current holder of `role` on incident `id`, inside a transaction.
pub(crate) async fn holder_in(
    tx: &mut Tx,
    id: IncidentId,
    role: IncidentRole,
) -> Result<Option<i64>, sqlx::Error> {
    tx.scalar_optional(sql(HOLDER_SQL).bind(id.0).bind(role.as_str()))
        .await
}

/// Refuses `by` unless they speak for incident `id` (the Comms Lead, or the
/// IC while nobody holds Comms Lead), inside a transaction.
pub(crate) async fn require_speaker(
    tx: &mut Tx,
    id: IncidentId,
    by: UserId,
) -> Result<(), IncidentChangeError> {
    let comms = holder_in(tx, id, IncidentRole::CommsLead)
        .await?
        .map(UserId);
    let ic = holder_in(tx, id, IncidentRole::IncidentCommander)
        .await?
        .map(UserId);
    crate::domain::roles::may_speak(by, comms, ic).map_err(IncidentChangeError::Refused)
}

/// Refuses `user` unless they write in incident `id`'s responder channel: they hold
/// a role, the IC added them, or they are an admin (observers and viewers are refused).
pub(crate) async fn require_responder(
    tx: &mut Tx,
    id: IncidentId,
    user: UserId,
) -> Result<(), IncidentChangeError> {
    let (org_role, holds, added): (String, i64, i64) = tx
        .fetch_one(
            sql("SELECT u.org_role, \
                 (SELECT COUNT(*) FROM role_assignments r WHERE r.incident_id = $1 AND r.user_id = u.id AND r.released_at IS NULL), \
                 (SELECT COUNT(*) FROM incident_responders m WHERE m.incident_id = $1 AND m.user_id = u.id AND m.removed_at IS NULL) \
                 FROM users u WHERE u.id = $2")
            .bind(id.0)
            .bind(user.0),
        )
        .await?;
    let org_role = crate::domain::users::OrgRole::parse("org_role", &org_role)
        .map_err(|_| StoreError::Corrupt(format!("org_role {org_role:?}")))?;
    crate::domain::leadership::may_post(
        org_role,
        crate::domain::leadership::Standing::of(holds > 0, added > 0),
    )
    .map_err(IncidentChangeError::Refused)
}

/// Whether `user` exists and is not disabled, inside a transaction.
pub(crate) async fn is_active_user(tx: &mut Tx, user: UserId) -> Result<bool, sqlx::Error> {
    let disabled: Option<bool> = tx
        .scalar_optional(sql("SELECT disabled FROM users WHERE id = $1").bind(user.0))
        .await?;
    Ok(disabled == Some(false))
}

/// Bumps the incident version so stale edits of its fields are caught.
pub(crate) async fn bump(tx: &mut Tx, id: IncidentId) -> Result<(), sqlx::Error> {
    tx.execute(sql("UPDATE incidents SET version = version + 1 WHERE id = $1").bind(id.0))
        .await?;
    Ok(())
}

/// Ticks "core roles assigned" once every core role has a holder.
pub(crate) async fn tick_if_core_filled(
    tx: &mut Tx,
    id: IncidentId,
    by: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let filled: i64 = tx
        .scalar(
            sql("SELECT COUNT(*) FROM role_assignments WHERE incident_id = $1 AND released_at IS NULL \
                 AND role IN ('ic', 'tech_lead', 'comms_lead', 'scribe')")
            .bind(id.0),
        )
        .await?;
    if filled == 4 {
        tick(tx, id.0, RhythmItem::CoreRolesAssigned, by, at).await?;
    }
    Ok(())
}

// One file per area; the helpers above are visible in each.
mod assignments;
mod decisions;
mod hypotheses;
mod status_rhythm;
mod summary;
pub use assignments::*;
pub use decisions::*;
pub use hypotheses::*;
pub use status_rhythm::*;
pub use summary::*;

/// Declares an incident: the declarer becomes IC. Returns the new incident.
pub async fn declare(
    db: &Db,
    declaration: &Declaration<'_>,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<Incident, IncidentChangeError> {
    let update_cadence = rhythm::default_update_cadence(declaration.severity);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result: Result<Incident, IncidentChangeError> = async {
            let mut tx = db.begin().await?;
            let next: i64 = tx.scalar(sql("SELECT COALESCE(MAX(number), 0) + 1 FROM incidents")).await?;
            let row: IncidentRow = tx.fetch_one(
                sql(format!(
                "INSERT INTO incidents (number, title, severity, status, impact, best_guess, bridge_url, \
                 decision_cadence_minutes, update_cadence_minutes, declared_by, declared_at, restricted) \
                 VALUES ($1, $2, $3, 'investigating', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {INCIDENT_COLUMNS}"
            ))
                    .bind(next)
                    .bind(declaration.title.as_str())
                    .bind(declaration.severity.as_str())
                    .bind(declaration.impact)
                    .bind(declaration.best_guess)
                    .bind(declaration.bridge_url)
                    .bind(rhythm::DEFAULT_DECISION_CADENCE)
                    .bind(update_cadence)
                    .bind(by.0)
                    .bind(now)
                    .bind(declaration.restricted),
            ).await?;
            let incident = Incident::try_from(row)?;
            tx.records(Subject::Incident(incident.number));
            if declaration.by_integration.is_none() {
                tx.execute(sql("INSERT INTO role_assignments (incident_id, role, user_id, assigned_by, assigned_at) \
                     VALUES ($1, 'ic', $2, $2, $3)",).bind(incident.id.0).bind(by.0).bind(now)).await?;
            }
            tick(&mut tx, incident.id.0, RhythmItem::Declared, by.0, now).await?;
            if !declaration.impact.is_empty() && !declaration.best_guess.is_empty() {
                tick(&mut tx, incident.id.0, RhythmItem::InitialStatusPosted, by.0, now).await?;
            }
            let declared = match declaration.by_integration {
                Some(integration) => Happened::DeclaredFromAlert {
                    integration: integration.to_owned(),
                    number: incident.number,
                    severity: declaration.severity,
                },
                None => Happened::Declared {
                    by: name_of(&mut tx, by.0).await?,
                    number: incident.number,
                    severity: declaration.severity,
                },
            };
            event(&mut tx, incident.id.0, by.0, now, declared).await?;
            if declaration.restricted {
                event(&mut tx, incident.id.0, by.0, now, Happened::DeclaredRestricted).await?;
            }
            if let Some(group) = declaration.alert {
                super::alerts::attach_in(&mut tx, group, incident.id.0, by, declaration.by_integration, now)
                    .await
                    .map_err(|e| match e {
                        super::alerts::AlertChangeError::Store(e) => IncidentChangeError::Store(e),
                        super::alerts::AlertChangeError::Attached(_) => {
                            IncidentChangeError::Invalid("This alert is already attached to an incident.")
                        }
                        _ => IncidentChangeError::Invalid("This alert is no longer in the inbox."),
                    })?;
            }
            tx.commit().await?;
            Ok(incident)
        }
        .await;
        match result {
            Err(IncidentChangeError::Store(e)) if e.is_unique_violation() && attempts < 5 => {
                continue
            }
            other => return other,
        }
    }
}

pub async fn find_by_number(db: &Db, number: i64) -> Result<Option<Incident>, StoreError> {
    let row: Option<IncidentRow> = read!(db, pool => {
        sqlx::query_as(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE number = $1"))
            .bind(number)
            .fetch_optional(pool)
            .await?
    });
    row.map(Incident::try_from).transpose()
}

/// Who holds `role` on incident `id` now.
pub async fn holder(
    db: &Db,
    id: IncidentId,
    role: IncidentRole,
) -> Result<Option<UserId>, StoreError> {
    let user: Option<i64> = read!(db, pool => {
        sqlx::query_scalar(HOLDER_SQL)
        .bind(id.0)
        .bind(role.as_str())
        .fetch_optional(pool)
        .await?
    });
    Ok(user.map(UserId))
}

/// All incidents, newest first, with what the dashboard needs to flag gaps.
pub async fn list(db: &Db) -> Result<Vec<IncidentSummary>, StoreError> {
    type Pairs = Vec<(i64, String)>;
    let (rows, roles, ticks): (Vec<IncidentRow>, Pairs, Pairs) = read!(db, pool => {
        let rows = sqlx::query_as(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY declared_at DESC, id DESC"
        ))
        .fetch_all(pool)
        .await?;
        let roles = sqlx::query_as(
            "SELECT incident_id, role FROM role_assignments WHERE released_at IS NULL",
        )
        .fetch_all(pool)
        .await?;
        let ticks = sqlx::query_as("SELECT incident_id, item FROM rhythm_ticks")
            .fetch_all(pool)
            .await?;
        (rows, roles, ticks)
    });
    rows.into_iter()
        .map(|row| {
            let incident = Incident::try_from(row)?;
            let id = incident.id.0;
            Ok(IncidentSummary {
                filled_roles: roles
                    .iter()
                    .filter(|(i, _)| *i == id)
                    .filter_map(|(_, r)| IncidentRole::parse(r))
                    .collect(),
                ticks: ticks
                    .iter()
                    .filter(|(i, _)| *i == id)
                    .filter_map(|(_, t)| RhythmItem::parse(t))
                    .collect(),
                incident,
            })
        })
        .collect()
}

/// Everything the war room of incident `number` shows.
pub async fn war_room(db: &Db, number: i64) -> Result<Option<WarRoom>, StoreError> {
    war_room_window(db, number, Window::FULL).await
}

/// The war room with only the newest decisions and timeline entries `window` names.
pub async fn war_room_window(
    db: &Db,
    number: i64,
    window: Window,
) -> Result<Option<WarRoom>, StoreError> {
    let Some(incident) = find_by_number(db, number).await? else {
        return Ok(None);
    };
    let id = incident.id.0;
    type RoleRow = (String, i64, String, DateTime<Utc>, String, Option<String>);
    type DecisionRow = (
        i64,
        DateTime<Utc>,
        String,
        String,
        i64,
        String,
        Option<String>,
        Option<DateTime<Utc>>,
        i64,
    );
    type EntryRow = (
        i64,
        DateTime<Utc>,
        Option<String>,
        String,
        Option<String>,
        String,
        bool,
    );
    type Stamps = Vec<(String, DateTime<Utc>)>;
    type HypothesisRow = (
        i64,
        String,
        Option<i64>,
        Option<String>,
        String,
        String,
        i64,
    );
    type RestoreRow = (String, Option<String>, String, String, DateTime<Utc>);
    type CorrectionRow = (
        String,
        Option<DateTime<Utc>>,
        DateTime<Utc>,
        String,
        DateTime<Utc>,
    );
    type Rows = (
        Vec<RoleRow>,
        Stamps,
        Stamps,
        Vec<DecisionRow>,
        Vec<EntryRow>,
        Vec<HypothesisRow>,
        Vec<RestoreRow>,
        Vec<CorrectionRow>,
        (i64, i64),
    );
    let (
        role_rows,
        releases,
        tick_rows,
        decision_rows,
        entry_rows,
        hypothesis_rows,
        restore_rows,
        correction_rows,
        (decision_count, timeline_count),
    ): Rows = read!(db, pool => {
        let roles = sqlx::query_as(
            "SELECT r.role, r.user_id, u.name, r.assigned_at, b.name, p.name FROM role_assignments r \
             JOIN users u ON u.id = r.user_id JOIN users b ON b.id = r.assigned_by \
             LEFT JOIN users p ON p.id = r.previous_user_id \
             WHERE r.incident_id = $1 AND r.released_at IS NULL",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let releases = sqlx::query_as(
            "SELECT role, MAX(released_at) FROM role_assignments \
             WHERE incident_id = $1 AND released_at IS NOT NULL GROUP BY role",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let ticks = sqlx::query_as("SELECT item, done_at FROM rhythm_ticks WHERE incident_id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?;
        let decisions = sqlx::query_as(
            "SELECT d.id, d.decided_at, d.decision, d.reason, d.owner_id, u.name, d.result, d.result_at, d.version \
             FROM decisions d JOIN users u ON u.id = d.owner_id \
             WHERE d.incident_id = $1 ORDER BY d.decided_at DESC, d.id DESC LIMIT $2",
        )
        .bind(id)
        .bind(window.decisions)
        .fetch_all(pool)
        .await?;
        let entries = sqlx::query_as(
            "SELECT t.id, t.at, u.name, t.kind, t.event_kind, t.body, t.by_scribe FROM timeline_entries t \
             LEFT JOIN users u ON u.id = t.author_id \
             WHERE t.incident_id = $1 ORDER BY t.id DESC LIMIT $2",
        )
        .bind(id)
        .bind(window.timeline)
        .fetch_all(pool)
        .await?;
        let hypotheses: Vec<HypothesisRow> = sqlx::query_as(
            "SELECT h.id, h.statement, h.owner_id, u.name, h.status, h.evidence, h.version FROM hypotheses h \
             LEFT JOIN users u ON u.id = h.owner_id WHERE h.incident_id = $1 ORDER BY h.id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let restore: Vec<RestoreRow> = sqlx::query_as(
            "SELECT r.step, r.safety, r.note, u.name, r.decided_at FROM restore_steps r \
             JOIN users u ON u.id = r.decided_by WHERE r.incident_id = $1",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let corrections: Vec<CorrectionRow> = sqlx::query_as(
            "SELECT c.milestone, c.old_at, c.new_at, u.name, c.corrected_at FROM milestone_corrections c \
             JOIN users u ON u.id = c.corrected_by WHERE c.incident_id = $1 ORDER BY c.id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let counts: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM decisions WHERE incident_id = $1), \
             (SELECT COUNT(*) FROM timeline_entries WHERE incident_id = $1)",
        )
        .bind(id)
        .fetch_one(pool)
        .await?;
        (roles, releases, ticks, decisions, entries, hypotheses, restore, corrections, counts)
    });
    let roles: Vec<RoleHolder> = role_rows
        .into_iter()
        .filter_map(
            |(role, user_id, user_name, assigned_at, assigned_by_name, previous_name)| {
                Some(RoleHolder {
                    role: IncidentRole::parse(&role)?,
                    user_id: UserId(user_id),
                    user_name,
                    assigned_at,
                    assigned_by_name,
                    previous_name,
                })
            },
        )
        .collect();
    let open_since = IncidentRole::ALL
        .into_iter()
        .filter(|role| !roles.iter().any(|h| h.role == *role))
        .map(|role| {
            let released = releases
                .iter()
                .filter(|(r, _)| IncidentRole::parse(r) == Some(role))
                .map(|(_, at)| *at)
                .max();
            (role, released.unwrap_or(incident.declared_at))
        })
        .collect();
    Ok(Some(WarRoom {
        roles,
        open_since,
        ticks: tick_rows
            .into_iter()
            .filter_map(|(item, at)| Some((RhythmItem::parse(&item)?, at)))
            .collect(),
        decisions: decision_rows
            .into_iter()
            .map(
                |(
                    id,
                    decided_at,
                    decision,
                    reason,
                    owner_id,
                    owner_name,
                    result,
                    result_at,
                    version,
                )| Decision {
                    id,
                    decided_at,
                    decision,
                    reason,
                    owner_id: UserId(owner_id),
                    owner_name,
                    result,
                    result_at,
                    version,
                },
            )
            .collect(),
        timeline: entry_rows
            .into_iter()
            .map(
                |(id, at, author_name, kind, event_kind, body, by_scribe)| TimelineEntry {
                    id,
                    at,
                    author_name,
                    is_event: kind == "event",
                    event_kind,
                    body,
                    by_scribe,
                },
            )
            .collect(),
        hypotheses: hypothesis_rows
            .into_iter()
            .filter_map(
                |(id, statement, owner_id, owner_name, status, evidence, version)| {
                    Some(Hypothesis {
                        id,
                        statement,
                        owner_id: owner_id.map(UserId),
                        owner_name,
                        status: HypothesisStatus::parse(&status)?,
                        evidence,
                        version,
                    })
                },
            )
            .collect(),
        restore: restore_rows
            .into_iter()
            .filter_map(|(step, safety, note, by_name, at)| {
                Some(RestoreRecord {
                    step: RestoreStep::parse(&step)?,
                    safety: safety.as_deref().and_then(Safety::parse),
                    note,
                    by_name,
                    at,
                })
            })
            .collect(),
        corrections: correction_rows
            .into_iter()
            .filter_map(|(milestone, old_at, new_at, by_name, at)| {
                Some(MilestoneCorrection {
                    milestone: Milestone::parse(&milestone)?,
                    old_at,
                    new_at,
                    by_name,
                    at,
                })
            })
            .collect(),
        decision_count,
        timeline_count,
        incident,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::users::OrgRole;
    use crate::store::testing::{add_responder, declared, fresh_databases, person};

    fn actor(user: UserId, is_ic: bool) -> Actor {
        Actor {
            user,
            org_role: OrgRole::Responder,
            is_ic,
        }
    }

    #[tokio::test]
    async fn owned_hypotheses_tick_the_rhythm_and_trying_a_restore_step_writes_a_decision() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let bob = person(&db, "Bob", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev1).await;
            add_responder(&db, &incident, ada, bob).await;
            let now = Utc::now();
            add_hypothesis(&db, incident.id, "Bad deploy 4.2", None, ada, now)
                .await
                .expect("add");
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            assert!(!room
                .ticks
                .iter()
                .any(|(i, _)| *i == RhythmItem::HypothesesWithOwners));
            let h = &room.hypotheses[0];
            update_hypothesis(
                &db,
                incident.id,
                h.id,
                h.version,
                HypothesisStatus::Open,
                "",
                Some(bob),
                ada,
                now,
            )
            .await
            .expect("own it");
            let stale = update_hypothesis(
                &db,
                incident.id,
                h.id,
                h.version,
                HypothesisStatus::RuledOut,
                "",
                Some(bob),
                ada,
                now,
            )
            .await;
            assert!(
                matches!(stale, Err(IncidentChangeError::Stale)),
                "{}",
                db.backend()
            );

            record_restore_step(
                &db,
                incident.id,
                RestoreStep::Rollback,
                &RestoreOutcome::Tried {
                    safety: Safety::Canary,
                    detail: "to 4.1",
                },
                bob,
                now,
            )
            .await
            .expect("try");
            record_restore_step(
                &db,
                incident.id,
                RestoreStep::CapacityAdd,
                &RestoreOutcome::NotApplicable {
                    reason: "CPU is idle",
                },
                bob,
                now,
            )
            .await
            .expect("set aside");
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            assert!(
                room.ticks
                    .iter()
                    .any(|(i, _)| *i == RhythmItem::HypothesesWithOwners),
                "{}",
                db.backend()
            );
            assert_eq!(room.hypotheses[0].owner_name.as_deref(), Some("Bob"));
            assert_eq!(room.decisions.len(), 1);
            assert_eq!(room.decisions[0].decision, "Roll back: to 4.1 (canary)");
            let rollback = room
                .restore
                .iter()
                .find(|r| r.step == RestoreStep::Rollback)
                .expect("rollback");
            assert_eq!(rollback.safety, Some(Safety::Canary));
            let capacity = room
                .restore
                .iter()
                .find(|r| r.step == RestoreStep::CapacityAdd)
                .expect("capacity");
            assert_eq!(
                (capacity.safety, capacity.note.as_str()),
                (None, "CPU is idle")
            );
        }
    }

    #[tokio::test]
    async fn mitigation_is_stamped_once_and_a_correction_keeps_the_stamp_beside_it() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev2).await;
            let t0 = Utc::now();
            change_status(
                &db,
                incident.id,
                incident.version,
                IncidentStatus::Monitoring,
                Severity::Sev2,
                ada,
                t0,
            )
            .await
            .expect("monitoring");
            let back = find_by_number(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            change_status(
                &db,
                incident.id,
                back.version,
                IncidentStatus::Mitigating,
                Severity::Sev2,
                ada,
                t0 + chrono::Duration::minutes(5),
            )
            .await
            .expect("regress");
            let again = find_by_number(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            change_status(
                &db,
                incident.id,
                again.version,
                IncidentStatus::Monitoring,
                Severity::Sev2,
                ada,
                t0 + chrono::Duration::minutes(9),
            )
            .await
            .expect("monitoring again");
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            let stamp = stamped(&room, Milestone::Mitigated).expect("stamped");
            assert!(
                (stamp - t0).num_milliseconds().abs() < 1,
                "{}: the first mitigation counts",
                db.backend()
            );

            let corrected_to = t0 - chrono::Duration::minutes(3);
            correct_milestone(
                &db,
                incident.number,
                Milestone::Mitigated,
                corrected_to,
                ada,
                Utc::now(),
            )
            .await
            .expect("correct");
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            assert_eq!(room.corrections.len(), 1);
            let correction = &room.corrections[0];
            assert!((correction.new_at - corrected_to).num_milliseconds().abs() < 1);
            assert!(correction
                .old_at
                .is_some_and(|old| (old - t0).num_milliseconds().abs() < 1));
            assert_eq!(correction.by_name, "Ada");
            assert!(
                stamped(&room, Milestone::Mitigated).is_some(),
                "the stamp is kept"
            );
        }
    }

    #[tokio::test]
    async fn declaring_numbers_incidents_and_makes_the_declarer_ic() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let first = declared(&db, ada, Severity::Sev1).await;
            let second = declared(&db, ada, Severity::Sev3).await;
            assert_eq!((first.number, second.number), (1, 2), "{}", db.backend());
            assert_eq!(first.update_cadence_minutes, 15);
            assert_eq!(second.update_cadence_minutes, 30);
            let room = war_room(&db, 1).await.expect("load").expect("found");
            assert_eq!(room.roles.len(), 1);
            assert_eq!(room.roles[0].role, IncidentRole::IncidentCommander);
            assert_eq!(room.roles[0].user_id, ada);
            assert_eq!(room.open_since.len(), 6);
            assert!(room.ticks.iter().any(|(i, _)| *i == RhythmItem::Declared));
            assert!(room.timeline[0].body.contains("declared INC-1 (Sev1)"));
        }
    }

    #[tokio::test]
    async fn filling_every_core_role_ticks_the_rhythm_item_and_hand_offs_are_recorded() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let bob = person(&db, "Bob", OrgRole::Responder).await;
            let cy = person(&db, "Cy", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev1).await;
            let ic = actor(ada, true);
            let now = Utc::now();
            assign_role(&db, incident.id, IncidentRole::TechLead, bob, &ic, now)
                .await
                .expect("tl");
            assign_role(&db, incident.id, IncidentRole::CommsLead, bob, &ic, now)
                .await
                .expect("comms");
            assign_role(&db, incident.id, IncidentRole::Scribe, cy, &ic, now)
                .await
                .expect("scribe");
            assign_role(&db, incident.id, IncidentRole::CommsLead, cy, &ic, now)
                .await
                .expect("hand-off");
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            let comms = room
                .roles
                .iter()
                .find(|h| h.role == IncidentRole::CommsLead)
                .expect("comms");
            assert_eq!(comms.user_id, cy);
            assert_eq!(comms.previous_name.as_deref(), Some("Bob"));
            assert!(
                room.ticks
                    .iter()
                    .any(|(i, _)| *i == RhythmItem::CoreRolesAssigned),
                "{}",
                db.backend()
            );
            assert!(room
                .timeline
                .iter()
                .any(|e| e.body == "Ada handed Comms Lead from Bob to Cy"));
        }
    }

    #[tokio::test]
    async fn a_non_ic_cannot_reassign_a_held_role_but_may_take_an_empty_one() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let bob = person(&db, "Bob", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev2).await;
            let now = Utc::now();
            let refused = assign_role(
                &db,
                incident.id,
                IncidentRole::IncidentCommander,
                bob,
                &actor(bob, false),
                now,
            )
            .await;
            assert!(matches!(
                refused,
                Err(IncidentChangeError::Refused(RoleRefusal::OnlyIcReassigns))
            ));
            assign_role(
                &db,
                incident.id,
                IncidentRole::Scribe,
                bob,
                &actor(bob, false),
                now,
            )
            .await
            .expect("take an empty role");
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            assert!(
                room.timeline.iter().any(|e| e.body == "Bob took Scribe"),
                "{}",
                db.backend()
            );
        }
    }

    #[tokio::test]
    async fn a_stale_status_change_is_refused_and_nothing_is_written() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let bob = person(&db, "Bob", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev1).await;
            add_responder(&db, &incident, ada, bob).await;
            let seen = incident.version;
            let now = Utc::now();
            let (first, second) = tokio::join!(
                change_status(
                    &db,
                    incident.id,
                    seen,
                    IncidentStatus::Mitigating,
                    Severity::Sev1,
                    ada,
                    now
                ),
                change_status(
                    &db,
                    incident.id,
                    seen,
                    IncidentStatus::Monitoring,
                    Severity::Sev2,
                    bob,
                    now
                ),
            );
            let outcomes = [first.is_ok(), second.is_ok()];
            assert_eq!(
                outcomes.iter().filter(|ok| **ok).count(),
                1,
                "exactly one wins on {}",
                db.backend()
            );
            assert!(matches!(
                if first.is_ok() { second } else { first },
                Err(IncidentChangeError::Stale)
            ));
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            let status_events = room
                .timeline
                .iter()
                .filter(|e| e.body.contains("changed status"))
                .count();
            assert_eq!(status_events, 1);
        }
    }

    #[tokio::test]
    async fn a_resolved_incident_refuses_status_changes_and_role_changes() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev3).await;
            let now = Utc::now();
            change_status(
                &db,
                incident.id,
                incident.version,
                IncidentStatus::Resolved,
                Severity::Sev3,
                ada,
                now,
            )
            .await
            .expect("resolve");
            let resolved = find_by_number(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            assert_eq!(resolved.status, IncidentStatus::Resolved);
            assert!(resolved.resolved_at.is_some());
            let again = change_status(
                &db,
                incident.id,
                resolved.version,
                IncidentStatus::Monitoring,
                Severity::Sev3,
                ada,
                now,
            )
            .await;
            assert!(
                matches!(again, Err(IncidentChangeError::Resolved)),
                "{}",
                db.backend()
            );
        }
    }

    #[tokio::test]
    async fn decisions_get_results_once_per_version_and_notes_by_the_scribe_are_marked() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let cy = person(&db, "Cy", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev1).await;
            add_responder(&db, &incident, ada, cy).await;
            let now = Utc::now();
            let decision = log_decision(
                &db,
                incident.id,
                "Roll back 4.2",
                "errors began with the deploy",
                cy,
                ada,
                now,
            )
            .await
            .expect("log");
            record_result(
                &db,
                incident.id,
                decision,
                1,
                "error rate back to normal",
                cy,
                now,
            )
            .await
            .expect("result");
            let stale = record_result(&db, incident.id, decision, 1, "overwrite", ada, now).await;
            assert!(
                matches!(stale, Err(IncidentChangeError::Stale)),
                "{}",
                db.backend()
            );

            assign_role(
                &db,
                incident.id,
                IncidentRole::Scribe,
                cy,
                &actor(ada, true),
                now,
            )
            .await
            .expect("scribe");
            add_note(&db, incident.id, "dashboards green", cy, now)
                .await
                .expect("note");
            add_note(&db, incident.id, "thanks all", ada, now)
                .await
                .expect("note");
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("found");
            assert_eq!(
                room.decisions[0].result.as_deref(),
                Some("error rate back to normal")
            );
            assert_eq!(room.decisions[0].owner_name, "Cy");
            let scribe_note = room
                .timeline
                .iter()
                .find(|e| e.body == "dashboards green")
                .expect("note");
            assert!(scribe_note.by_scribe && !scribe_note.is_event);
            let other = room
                .timeline
                .iter()
                .find(|e| e.body == "thanks all")
                .expect("note");
            assert!(!other.by_scribe);
        }
    }
}
