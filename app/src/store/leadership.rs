//! The leadership layer's storage: restricted incidents and who may see them,
//! responders added by the IC, authorisation requests, blockers, and postmortem
//! deadlines. Every change is one transaction with its timeline entry.

use super::incidents::{
    event, holder_in, incident_for_change, is_active_user, name_of, require_responder,
    IncidentChangeError, IncidentRow, INCIDENT_COLUMNS,
};
use super::tx::{sql, Tx};
use super::users::User;
use super::{read, Db, StoreError};
use crate::domain::access::Involvement;
use crate::domain::incidents::{IncidentId, Severity};
use crate::domain::leadership::{self, ApprovalStatus, DeadlineDays};
use crate::domain::postmortems::PostmortemStatus;
use crate::domain::roles::{Actor, IncidentRole};
use crate::domain::timeline::Happened;
use crate::domain::users::{OrgRole, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashSet;

pub(crate) fn days_from(rows: &[(String, i64)]) -> DeadlineDays {
    let mut days = DeadlineDays::default();
    for (severity, n) in rows {
        let n = u32::try_from(*n).unwrap_or(1);
        match Severity::parse("severity", severity) {
            Ok(Severity::Sev1) => days.sev1 = n,
            Ok(Severity::Sev2) => days.sev2 = n,
            Ok(Severity::Sev3) => days.sev3 = n,
            Ok(Severity::Sev4) => days.sev4 = n,
            Err(_) => {}
        }
    }
    days
}

/// The postmortem deadlines, inside a transaction.
pub(crate) async fn deadline_days_in(tx: &mut Tx) -> Result<DeadlineDays, StoreError> {
    let rows: Vec<(String, i64)> = tx
        .fetch_all(sql(
            "SELECT severity, business_days FROM postmortem_deadlines",
        ))
        .await?;
    Ok(days_from(&rows))
}

pub async fn deadline_days(db: &Db) -> Result<DeadlineDays, StoreError> {
    let rows: Vec<(String, i64)> = read!(db, pool => {
        sqlx::query_as("SELECT severity, business_days FROM postmortem_deadlines")
            .fetch_all(pool)
            .await?
    });
    Ok(days_from(&rows))
}

/// Sets the business days per severity; incidents already resolved keep their date.
pub async fn set_deadline_days(db: &Db, days: &DeadlineDays) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for severity in Severity::ALL {
        tx.execute(
            sql(
                "INSERT INTO postmortem_deadlines (severity, business_days) VALUES ($1, $2) \
             ON CONFLICT (severity) DO UPDATE SET business_days = excluded.business_days",
            )
            .bind(severity.as_str())
            .bind(i64::from(days.for_severity(severity))),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether `$user` (a bound `i64` placeholder) takes part in incident `i`.
const PARTICIPANT_SQL: &str = "(EXISTS (SELECT 1 FROM role_assignments r WHERE r.incident_id = i.id AND r.user_id = $1) \
     OR EXISTS (SELECT 1 FROM incident_responders m WHERE m.incident_id = i.id AND m.user_id = $1 AND m.removed_at IS NULL))";

/// The restricted incidents one user may not see.
#[derive(Debug, Clone, Default)]
pub struct Hidden {
    ids: HashSet<i64>,
    numbers: HashSet<i64>,
}

impl Hidden {
    pub fn hides(&self, id: IncidentId) -> bool {
        self.ids.contains(&id.0)
    }

    pub fn hides_number(&self, number: i64) -> bool {
        self.numbers.contains(&number)
    }
}

/// Restricted incidents `user` does not take part in (none for an admin).
pub async fn hidden_from(db: &Db, user: &User) -> Result<Hidden, StoreError> {
    if user.org_role == OrgRole::Admin {
        return Ok(Hidden::default());
    }
    let rows: Vec<(i64, i64)> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT i.id, i.number FROM incidents i WHERE i.restricted = TRUE AND NOT {PARTICIPANT_SQL}"
        ))
        .bind(user.id.0)
        .fetch_all(pool)
        .await?
    });
    Ok(Hidden {
        ids: rows.iter().map(|(id, _)| *id).collect(),
        numbers: rows.iter().map(|(_, n)| *n).collect(),
    })
}

/// Whether `user` may see incident `id` at all: the access rule on their involvement.
pub async fn can_see(db: &Db, id: IncidentId, user: &User) -> Result<bool, StoreError> {
    let person = crate::domain::access::Person {
        org_role: user.org_role,
        can_lead: user.can_lead,
    };
    Ok(involvement(db, id, user.id).await?.is_some_and(|on| {
        crate::domain::access::decide(person, on, crate::domain::access::Capability::See).is_ok()
    }))
}

/// Where a person (`$1`) stands on incident `i`, as named columns of one
/// query; [`Standing`] reads them.
const STANDING_SQL: &str = "EXISTS (SELECT 1 FROM role_assignments r WHERE r.incident_id = i.id AND r.user_id = $1 AND r.released_at IS NULL) AS holds_role, \
     EXISTS (SELECT 1 FROM incident_responders m WHERE m.incident_id = i.id AND m.user_id = $1 AND m.removed_at IS NULL) AS added, \
     EXISTS (SELECT 1 FROM role_assignments r WHERE r.incident_id = i.id AND r.user_id = $1 AND r.role = 'ic' AND r.released_at IS NULL) AS is_ic, \
     EXISTS (SELECT 1 FROM role_assignments r WHERE r.incident_id = i.id AND r.user_id = $1 AND r.role = 'comms_lead' AND r.released_at IS NULL) AS is_comms_lead, \
     EXISTS (SELECT 1 FROM role_assignments r WHERE r.incident_id = i.id AND r.role = 'comms_lead' AND r.released_at IS NULL) AS comms_lead_filled";

/// The columns of [`STANDING_SQL`], with `participant` from [`PARTICIPANT_SQL`].
#[derive(sqlx::FromRow)]
struct Standing {
    participant: bool,
    holds_role: bool,
    added: bool,
    is_ic: bool,
    is_comms_lead: bool,
    comms_lead_filled: bool,
}

impl Standing {
    fn on(self, restricted: bool) -> Involvement {
        Involvement {
            restricted,
            participant: self.participant,
            holds_role: self.holds_role,
            added: self.added,
            is_ic: self.is_ic,
            is_comms_lead: self.is_comms_lead,
            comms_lead_filled: self.comms_lead_filled,
            owns_item: false,
        }
    }
}

#[derive(sqlx::FromRow)]
struct OpenedRow {
    #[sqlx(flatten)]
    incident: IncidentRow,
    #[sqlx(flatten)]
    standing: Standing,
    last_change: Option<i64>,
}

/// An incident opened for one person: the incident, where they stand on it,
/// and its last change-log sequence (what a shared view of it is keyed by).
#[derive(Debug, Clone)]
pub struct Opened {
    pub incident: super::incidents::Incident,
    pub on: Involvement,
    pub last_change: Option<i64>,
}

/// Incident `number` with where `user` stands on it and its last change, in
/// one query (every incident-scoped request asks this; `None`: no such incident).
pub async fn open(db: &Db, number: i64, user: UserId) -> Result<Option<Opened>, StoreError> {
    let row: Option<OpenedRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {columns}, {PARTICIPANT_SQL} AS participant, {STANDING_SQL}, \
             (SELECT MAX(c.seq) FROM change_log c WHERE c.incident_number = i.number) AS last_change \
             FROM incidents i WHERE i.number = $2",
            columns = INCIDENT_COLUMNS,
        ))
        .bind(user.0)
        .bind(number)
        .fetch_optional(pool)
        .await?
    });
    row.map(|row| {
        let incident: super::incidents::Incident = row.incident.try_into()?;
        Ok(Opened {
            on: row.standing.on(incident.restricted),
            incident,
            last_change: row.last_change,
        })
    })
    .transpose()
}

/// Where `user` stands on incident `id` (`None` when there is no such incident).
pub async fn involvement(
    db: &Db,
    id: IncidentId,
    user: UserId,
) -> Result<Option<Involvement>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        restricted: bool,
        #[sqlx(flatten)]
        standing: Standing,
    }
    let row: Option<Row> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT i.restricted, {PARTICIPANT_SQL} AS participant, {STANDING_SQL} \
             FROM incidents i WHERE i.id = $2"
        ))
        .bind(user.0)
        .bind(id.0)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(|row| row.standing.on(row.restricted)))
}

/// The incident an action item belongs to, and its owner (`None`: no such item).
pub async fn item_incident(
    db: &Db,
    item: i64,
) -> Result<Option<(IncidentId, i64, Option<UserId>)>, StoreError> {
    let row: Option<(i64, i64, Option<i64>)> = read!(db, pool => {
        sqlx::query_as(
            "SELECT i.id, i.number, a.owner_id FROM action_items a \
             JOIN postmortems p ON p.id = a.postmortem_id \
             JOIN incidents i ON i.id = p.incident_id WHERE a.id = $1",
        )
        .bind(item)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(|(id, number, owner)| (IncidentId(id), number, owner.map(UserId))))
}

/// Someone the IC added as a responder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    pub user_id: UserId,
    pub name: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

pub async fn responders_of(db: &Db, id: IncidentId) -> Result<Vec<Responder>, StoreError> {
    let rows: Vec<(i64, String, String, DateTime<Utc>)> = read!(db, pool => {
        sqlx::query_as(
            "SELECT m.user_id, u.name, b.name, m.added_at FROM incident_responders m \
             JOIN users u ON u.id = m.user_id JOIN users b ON b.id = m.added_by \
             WHERE m.incident_id = $1 AND m.removed_at IS NULL ORDER BY u.name, m.id",
        )
        .bind(id.0)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(user_id, name, added_by, added_at)| Responder {
            user_id: UserId(user_id),
            name,
            added_by,
            added_at,
        })
        .collect())
}

/// The IC (or an admin) adds `target` as a responder of incident `id`.
pub async fn add_responder(
    db: &Db,
    id: IncidentId,
    target: UserId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    leadership::may_manage_responders(actor).map_err(IncidentChangeError::Refused)?;
    if !is_active_user(&mut tx, target).await? {
        return Err(IncidentChangeError::Invalid(
            "Choose someone who can sign in.",
        ));
    }
    let already: i64 = tx.scalar(
        sql("SELECT COUNT(*) FROM incident_responders WHERE incident_id = $1 AND user_id = $2 AND removed_at IS NULL")
            .bind(id.0)
            .bind(target.0),
    ).await?;
    if already > 0 {
        return Ok(());
    }
    tx.execute(
        sql("INSERT INTO incident_responders (incident_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4)")
            .bind(id.0)
            .bind(target.0)
            .bind(actor.user.0)
            .bind(now),
    ).await?;
    let actor_name = name_of(&mut tx, actor.user.0).await?;
    let target_name = name_of(&mut tx, target.0).await?;
    event(
        &mut tx,
        id.0,
        actor.user.0,
        now,
        Happened::ResponderAdded {
            by: actor_name,
            who: target_name,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The IC (or an admin) makes `target` an observer again (a role they hold stays theirs).
pub async fn remove_responder(
    db: &Db,
    id: IncidentId,
    target: UserId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    leadership::may_manage_responders(actor).map_err(IncidentChangeError::Refused)?;
    let removed = tx
        .execute(
            sql(
                "UPDATE incident_responders SET removed_at = $3, removed_by = $4 \
         WHERE incident_id = $1 AND user_id = $2 AND removed_at IS NULL",
            )
            .bind(id.0)
            .bind(target.0)
            .bind(now)
            .bind(actor.user.0),
        )
        .await?;
    if removed > 0 {
        let actor_name = name_of(&mut tx, actor.user.0).await?;
        let target_name = name_of(&mut tx, target.0).await?;
        event(
            &mut tx,
            id.0,
            actor.user.0,
            now,
            Happened::ResponderRemoved {
                by: actor_name,
                who: target_name,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks incident `id` as possibly touching security or data: restricted from now on.
pub async fn flag_restricted(
    db: &Db,
    id: IncidentId,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let incident = incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, by).await?;
    if incident.restricted {
        return Ok(());
    }
    tx.execute(
        sql("UPDATE incidents SET restricted = TRUE, version = version + 1 WHERE id = $1")
            .bind(id.0),
    )
    .await?;
    let name = name_of(&mut tx, by.0).await?;
    event(&mut tx, id.0, by.0, now, Happened::Restricted { by: name }).await?;
    tx.commit().await?;
    Ok(())
}

/// A request to authorise a high-impact mitigation, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub id: i64,
    pub incident_id: IncidentId,
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

type ApprovalRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    String,
);

/// Requests of one incident (or of all), newest first; pending ones only when `pending_only`.
pub async fn approvals(
    db: &Db,
    incident: Option<IncidentId>,
    pending_only: bool,
) -> Result<Vec<Approval>, StoreError> {
    let rows: Vec<ApprovalRow> = read!(db, pool => {
        sqlx::query_as(
            "SELECT a.id, a.incident_id, i.number, i.title, a.mitigation, a.reason, r.name, a.requested_at, \
             a.status, d.name, a.decided_at, a.note FROM approvals a \
             JOIN incidents i ON i.id = a.incident_id JOIN users r ON r.id = a.requested_by \
             LEFT JOIN users d ON d.id = a.decided_by \
             WHERE (a.incident_id = $1 OR $2) AND (a.status = 'pending' OR NOT $3) \
             ORDER BY a.requested_at DESC, a.id DESC",
        )
        .bind(incident.map_or(0, |i| i.0))
        .bind(incident.is_none())
        .bind(pending_only)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(
            |(
                id,
                incident_id,
                number,
                title,
                mitigation,
                reason,
                requested_by,
                requested_at,
                status,
                decided_by,
                decided_at,
                note,
            )| {
                Some(Approval {
                    id,
                    incident_id: IncidentId(incident_id),
                    number,
                    title,
                    mitigation,
                    reason,
                    requested_by,
                    requested_at,
                    status: ApprovalStatus::parse(&status)?,
                    decided_by,
                    decided_at,
                    note,
                })
            },
        )
        .collect())
}

/// The Tech Lead or IC asks leaders to authorise `mitigation`, saying why.
pub async fn request_approval(
    db: &Db,
    id: IncidentId,
    mitigation: &str,
    reason: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    let ic = holder_in(&mut tx, id, IncidentRole::IncidentCommander).await?;
    let tech_lead = holder_in(&mut tx, id, IncidentRole::TechLead).await?;
    leadership::may_request_approval(ic == Some(by.0), tech_lead == Some(by.0))
        .map_err(IncidentChangeError::Refused)?;
    let approval_id: i64 = tx.scalar(
        sql("INSERT INTO approvals (incident_id, mitigation, reason, requested_by, requested_at, status) \
         VALUES ($1, $2, $3, $4, $5, 'pending') RETURNING id")
            .bind(id.0)
            .bind(mitigation)
            .bind(reason)
            .bind(by.0)
            .bind(now),
    ).await?;
    let name = name_of(&mut tx, by.0).await?;
    event(
        &mut tx,
        id.0,
        by.0,
        now,
        Happened::ApprovalAsked {
            by: name,
            mitigation: mitigation.to_string(),
            reason: reason.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(approval_id)
}

/// Takes a pending request for a decision, inside a transaction: its mitigation,
/// reason and requester, or why it cannot be decided.
async fn pending_request(
    tx: &mut Tx,
    id: IncidentId,
    approval: i64,
) -> Result<(String, String, i64), IncidentChangeError> {
    let row: Option<(String, String, i64, String)> = tx
        .fetch_optional(
            sql("SELECT mitigation, reason, requested_by, status FROM approvals WHERE id = $1 AND incident_id = $2")
                .bind(approval)
                .bind(id.0),
        )
        .await?;
    let (mitigation, reason, requested_by, status) = row.ok_or(IncidentChangeError::NotFound)?;
    if status != ApprovalStatus::Pending.as_str() {
        return Err(IncidentChangeError::Invalid(
            "That request was already decided; the page now shows the outcome.",
        ));
    }
    Ok((mitigation, reason, requested_by))
}

/// Writes the outcome of a request as a decision in the log, inside a transaction.
async fn log_outcome(
    tx: &mut Tx,
    id: IncidentId,
    decision: &str,
    reason: &str,
    owner: i64,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("INSERT INTO decisions (incident_id, decided_at, decision, reason, owner_id, logged_by) \
             VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.0)
        .bind(now)
        .bind(decision)
        .bind(reason)
        .bind(owner)
        .bind(by.0),
    )
    .await?;
    let owner = name_of(tx, owner).await?;
    let decided = Happened::Decided {
        decision: decision.to_string(),
        owner,
    };
    event(tx, id.0, by.0, now, decided).await
}

/// A leader approves or denies a pending request, with a note; the outcome is
/// logged as a decision that names them.
pub async fn decide_approval(
    db: &Db,
    id: IncidentId,
    approval_id: i64,
    approve: bool,
    note: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    let can_lead: bool = tx
        .scalar(sql("SELECT can_lead FROM users WHERE id = $1").bind(by.0))
        .await?;
    leadership::may_authorise(can_lead).map_err(IncidentChangeError::Refused)?;
    let (mitigation, reason, requested_by) = pending_request(&mut tx, id, approval_id).await?;
    let status = if approve {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Denied
    };
    tx.execute(
        sql("UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, note = $5 WHERE id = $1")
            .bind(approval_id)
            .bind(status.as_str())
            .bind(by.0)
            .bind(now)
            .bind(note),
    ).await?;
    let name = name_of(&mut tx, by.0).await?;
    let decision = format!("{} by {name}: {mitigation}", status.label());
    let reason = if note.is_empty() {
        reason
    } else {
        format!("{reason}. {name}: {note}")
    };
    log_outcome(&mut tx, id, &decision, &reason, requested_by, by, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The IC goes ahead without waiting for authorisation; recorded as such.
pub async fn override_approval(
    db: &Db,
    id: IncidentId,
    approval_id: i64,
    why: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    let ic = holder_in(&mut tx, id, IncidentRole::IncidentCommander).await?;
    leadership::may_override(ic == Some(by.0)).map_err(IncidentChangeError::Refused)?;
    let (mitigation, _reason, _requested_by) = pending_request(&mut tx, id, approval_id).await?;
    tx.execute(
        sql("UPDATE approvals SET status = 'overridden', decided_by = $2, decided_at = $3, note = $4 WHERE id = $1")
            .bind(approval_id)
            .bind(by.0)
            .bind(now)
            .bind(why),
    ).await?;
    let decision = format!("{}: {mitigation}", ApprovalStatus::Overridden.label());
    let reason = format!("Waiting was worse: {why}");
    log_outcome(&mut tx, id, &decision, &reason, by.0, by, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Something a responder cannot clear alone, and who is on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub id: i64,
    pub incident_id: IncidentId,
    pub number: i64,
    pub title: String,
    pub description: String,
    pub raised_by: String,
    pub raised_at: DateTime<Utc>,
    pub taken_by: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: String,
}

type BlockerRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
    String,
);

/// Blockers of one incident (or of all), oldest first; open ones only when `open_only`.
pub async fn blockers(
    db: &Db,
    incident: Option<IncidentId>,
    open_only: bool,
) -> Result<Vec<Blocker>, StoreError> {
    let rows: Vec<BlockerRow> = read!(db, pool => {
        sqlx::query_as(
            "SELECT b.id, b.incident_id, i.number, i.title, b.description, r.name, b.raised_at, \
             t.name, b.taken_at, s.name, b.resolved_at, b.resolution FROM blockers b \
             JOIN incidents i ON i.id = b.incident_id JOIN users r ON r.id = b.raised_by \
             LEFT JOIN users t ON t.id = b.taken_by LEFT JOIN users s ON s.id = b.resolved_by \
             WHERE (b.incident_id = $1 OR $2) AND (b.resolved_at IS NULL OR NOT $3) \
             ORDER BY b.raised_at, b.id",
        )
        .bind(incident.map_or(0, |i| i.0))
        .bind(incident.is_none())
        .bind(open_only)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                incident_id,
                number,
                title,
                description,
                raised_by,
                raised_at,
                taken_by,
                taken_at,
                resolved_by,
                resolved_at,
                resolution,
            )| Blocker {
                id,
                incident_id: IncidentId(incident_id),
                number,
                title,
                description,
                raised_by,
                raised_at,
                taken_by,
                taken_at,
                resolved_by,
                resolved_at,
                resolution,
            },
        )
        .collect())
}

/// Any responder raises a blocker.
pub async fn raise_blocker(
    db: &Db,
    id: IncidentId,
    description: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, by).await?;
    let blocker_id: i64 = tx.scalar(
        sql("INSERT INTO blockers (incident_id, description, raised_by, raised_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(id.0)
            .bind(description)
            .bind(by.0)
            .bind(now),
    ).await?;
    let name = name_of(&mut tx, by.0).await?;
    event(
        &mut tx,
        id.0,
        by.0,
        now,
        Happened::BlockerRaised {
            by: name,
            description: description.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(blocker_id)
}

/// Refuses `by` unless they lead (the permission) or administer, inside a transaction.
async fn require_leader(tx: &mut Tx, by: UserId) -> Result<(), IncidentChangeError> {
    let (can_lead, org_role): (bool, String) = tx
        .fetch_one(sql("SELECT can_lead, org_role FROM users WHERE id = $1").bind(by.0))
        .await?;
    leadership::may_authorise(can_lead || org_role == OrgRole::Admin.as_str())
        .map_err(IncidentChangeError::Refused)
}

/// The open blocker `blocker` of incident `id`: its description and who took it.
async fn open_blocker(
    tx: &mut Tx,
    id: IncidentId,
    blocker: i64,
) -> Result<(String, Option<i64>), IncidentChangeError> {
    let row: Option<(String, Option<i64>, Option<DateTime<Utc>>)> = tx
        .fetch_optional(
            sql("SELECT description, taken_by, resolved_at FROM blockers WHERE id = $1 AND incident_id = $2")
                .bind(blocker)
                .bind(id.0),
        )
        .await?;
    let (description, taken_by, resolved_at) = row.ok_or(IncidentChangeError::NotFound)?;
    if resolved_at.is_some() {
        return Err(IncidentChangeError::Invalid(
            "That blocker is already resolved.",
        ));
    }
    Ok((description, taken_by))
}

/// A leader takes a blocker: "I'm on it".
pub async fn take_blocker(
    db: &Db,
    id: IncidentId,
    blocker_id: i64,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, false).await?;
    require_leader(&mut tx, by).await?;
    let (description, taken_by) = open_blocker(&mut tx, id, blocker_id).await?;
    if taken_by == Some(by.0) {
        return Ok(());
    }
    if taken_by.is_some() {
        return Err(IncidentChangeError::Invalid(
            "Someone is already on that blocker.",
        ));
    }
    tx.execute(
        sql("UPDATE blockers SET taken_by = $2, taken_at = $3 WHERE id = $1")
            .bind(blocker_id)
            .bind(by.0)
            .bind(now),
    )
    .await?;
    let name = name_of(&mut tx, by.0).await?;
    event(
        &mut tx,
        id.0,
        by.0,
        now,
        Happened::BlockerTaken {
            by: name,
            description: description.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A leader resolves a blocker with a note of what cleared it.
pub async fn resolve_blocker(
    db: &Db,
    id: IncidentId,
    blocker_id: i64,
    note: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, false).await?;
    require_leader(&mut tx, by).await?;
    let (description, _taken_by) = open_blocker(&mut tx, id, blocker_id).await?;
    tx.execute(
        sql(
            "UPDATE blockers SET resolved_by = $2, resolved_at = $3, resolution = $4, \
         taken_by = COALESCE(taken_by, $2), taken_at = COALESCE(taken_at, $3) WHERE id = $1",
        )
        .bind(blocker_id)
        .bind(by.0)
        .bind(now)
        .bind(note),
    )
    .await?;
    let name = name_of(&mut tx, by.0).await?;
    event(
        &mut tx,
        id.0,
        by.0,
        now,
        Happened::BlockerResolved {
            by: name,
            description: description.to_string(),
            note: note.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An active incident as the leadership view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardIncident {
    pub incident: crate::store::incidents::Incident,
    /// Current holders by role, with their names.
    pub holders: Vec<(IncidentRole, String)>,
}

/// The active incidents with who holds which role.
pub async fn active_incidents(db: &Db) -> Result<Vec<BoardIncident>, StoreError> {
    type Rows = (Vec<IncidentRow>, Vec<(i64, String, String)>);
    let (rows, holders): Rows = read!(db, pool => {
        let rows = sqlx::query_as(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status <> 'resolved' ORDER BY declared_at, id"
        ))
        .fetch_all(pool)
        .await?;
        let holders = sqlx::query_as(
            "SELECT r.incident_id, r.role, u.name FROM role_assignments r JOIN users u ON u.id = r.user_id \
             JOIN incidents i ON i.id = r.incident_id WHERE r.released_at IS NULL AND i.status <> 'resolved'",
        )
        .fetch_all(pool)
        .await?;
        (rows, holders)
    });
    rows.into_iter()
        .map(|row| {
            let incident = crate::store::incidents::Incident::try_from(row)?;
            Ok(BoardIncident {
                holders: holders
                    .iter()
                    .filter(|(i, _, _)| *i == incident.id.0)
                    .filter_map(|(_, role, name)| Some((IncidentRole::parse(role)?, name.clone())))
                    .collect(),
                incident,
            })
        })
        .collect()
}

/// A resolved incident whose postmortem is not published yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePostmortem {
    pub incident_id: IncidentId,
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub due: NaiveDate,
    /// The IC at resolution (the role is not released on resolve).
    pub ic: Option<(UserId, String)>,
    pub status: Option<PostmortemStatus>,
}

/// Postmortems owed: resolved incidents with a due date and no published postmortem, soonest first.
pub async fn postmortems_due(db: &Db) -> Result<Vec<DuePostmortem>, StoreError> {
    type Row = (
        i64,
        i64,
        String,
        String,
        NaiveDate,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT i.id, i.number, i.title, i.severity, i.postmortem_due_on, r.user_id, u.name, p.status \
             FROM incidents i \
             LEFT JOIN role_assignments r ON r.incident_id = i.id AND r.role = 'ic' AND r.released_at IS NULL \
             LEFT JOIN users u ON u.id = r.user_id \
             LEFT JOIN postmortems p ON p.incident_id = i.id \
             WHERE i.status = 'resolved' AND i.postmortem_due_on IS NOT NULL \
             AND (p.status IS NULL OR p.status <> 'published') \
             ORDER BY i.postmortem_due_on, i.id",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, number, title, severity, due, ic_id, ic_name, status)| {
                Some(DuePostmortem {
                    incident_id: IncidentId(id),
                    number,
                    title,
                    severity: Severity::parse("severity", &severity).ok()?,
                    due,
                    ic: ic_id.map(UserId).zip(ic_name),
                    status: status.as_deref().and_then(PostmortemStatus::parse),
                })
            },
        )
        .collect())
}

/// Grants or takes away the leadership permission.
pub async fn set_can_lead(db: &Db, user: UserId, can_lead: bool) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            sql("UPDATE users SET can_lead = $2 WHERE id = $1")
                .bind(user.0)
                .bind(can_lead),
        )
        .await?;
    // No such user: nothing changed, so nothing is logged.
    if changed > 0 {
        tx.records(super::changes::Subject::Account(user.0));
    }
    tx.commit().await?;
    Ok(changed > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incidents::IncidentStatus;
    use crate::domain::roles::RoleRefusal;
    use crate::store::incidents::{add_note, assign_role, change_status, find_by_number, war_room};
    use crate::store::testing::{add_responder as added, declared, fresh_databases, person};

    async fn user(db: &Db, id: UserId) -> User {
        crate::store::users::find(db, id)
            .await
            .expect("find")
            .expect("user")
    }

    fn ic(user: UserId) -> Actor {
        Actor {
            user,
            org_role: OrgRole::Responder,
            is_ic: true,
        }
    }

    #[tokio::test]
    async fn a_store_write_is_logged_even_when_no_use_case_names_it() {
        use crate::live::Change;
        use crate::store::changes::{after, head};
        for db in fresh_databases().await {
            let backend = db.backend();
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev2).await;
            let before = head(&db).await.expect("head");
            add_note(&db, incident.id, "Error rate is flat", ada, Utc::now())
                .await
                .expect("note");
            let logged = after(&db, before, 10).await.expect("log");
            assert_eq!(
                logged.iter().map(|l| l.change).collect::<Vec<_>>(),
                vec![Change::Incident(incident.number)],
                "{backend}"
            );
            // A refused write logs nothing.
            let obi = person(&db, "Obi", OrgRole::Viewer).await;
            assert!(add_note(&db, incident.id, "hello", obi, Utc::now())
                .await
                .is_err());
            assert_eq!(head(&db).await.expect("head"), before + 1, "{backend}");
        }
    }

    #[tokio::test]
    async fn opening_an_incident_reads_it_where_the_person_stands_and_its_last_change() {
        use crate::store::changes::{last_of_incident, recording, Subject};
        for db in fresh_databases().await {
            let backend = db.backend();
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let obi = person(&db, "Obi", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev2).await;
            let noting = add_note(&db, incident.id, "Error rate is flat", ada, Utc::now());
            let (noted, committed) = recording(&[Subject::Incident(incident.number)], noting).await;
            noted.expect("note");
            assert!(committed.is_some(), "{backend}");

            let ic = open(&db, incident.number, ada)
                .await
                .expect("open")
                .expect("found");
            assert_eq!(ic.incident.id, incident.id, "{backend}");
            assert!(
                ic.on.is_ic && ic.on.holds_role && ic.on.participant,
                "{backend}"
            );
            assert!(!ic.on.restricted && !ic.on.comms_lead_filled, "{backend}");
            let last = last_of_incident(&db, incident.number).await.expect("last");
            assert!(last.is_some(), "{backend}");
            assert_eq!(ic.last_change, last, "{backend}");

            let outsider = open(&db, incident.number, obi)
                .await
                .expect("open")
                .expect("found");
            assert!(!outsider.on.participant && !outsider.on.is_ic, "{backend}");
            assert!(!outsider.on.holds_role && !outsider.on.added, "{backend}");
            assert!(open(&db, incident.number + 1, ada)
                .await
                .expect("open")
                .is_none());
        }
    }

    #[tokio::test]
    async fn an_observer_writes_nothing_until_the_ic_adds_them() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let obi = person(&db, "Obi", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev2).await;
            let now = Utc::now();
            let refused = add_note(&db, incident.id, "I think it is DNS", obi, now).await;
            assert!(
                matches!(
                    refused,
                    Err(IncidentChangeError::Refused(
                        RoleRefusal::OnlyRespondersPost
                    ))
                ),
                "{}",
                db.backend()
            );
            let not_ic = Actor {
                user: obi,
                org_role: OrgRole::Responder,
                is_ic: false,
            };
            assert!(matches!(
                add_responder(&db, incident.id, obi, &not_ic, now).await,
                Err(IncidentChangeError::Refused(
                    RoleRefusal::OnlyIcManagesResponders
                ))
            ));
            added(&db, &incident, ada, obi).await;
            add_note(&db, incident.id, "I think it is DNS", obi, now)
                .await
                .expect("a responder posts");
            remove_responder(&db, incident.id, obi, &ic(ada), now)
                .await
                .expect("remove");
            assert!(add_note(&db, incident.id, "again", obi, now).await.is_err());
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("room");
            let notes: Vec<&str> = room
                .timeline
                .iter()
                .filter(|e| !e.is_event)
                .map(|e| e.body.as_str())
                .collect();
            assert_eq!(notes, ["I think it is DNS"], "{}", db.backend());
        }
    }

    #[tokio::test]
    async fn an_approval_is_logged_as_a_decision_naming_the_approver_and_needs_the_permission() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let tess = person(&db, "Tess", OrgRole::Responder).await;
            let lee = person(&db, "Lee", OrgRole::Viewer).await;
            let incident = declared(&db, ada, Severity::Sev1).await;
            let now = Utc::now();
            let refused =
                request_approval(&db, incident.id, "shift traffic", "eu is down", tess, now).await;
            assert!(matches!(
                refused,
                Err(IncidentChangeError::Refused(
                    RoleRefusal::OnlyLeadsRequestApproval
                ))
            ));
            assign_role(
                &db,
                incident.id,
                IncidentRole::TechLead,
                tess,
                &ic(ada),
                now,
            )
            .await
            .expect("tech lead");
            let asked = request_approval(
                &db,
                incident.id,
                "shift traffic to the secondary region",
                "the primary region is failing",
                tess,
                now,
            )
            .await
            .expect("ask");
            assert_eq!(approvals(&db, None, true).await.expect("pending").len(), 1);
            let without = decide_approval(&db, incident.id, asked, true, "", lee, now).await;
            assert!(matches!(
                without,
                Err(IncidentChangeError::Refused(
                    RoleRefusal::NeedsLeadershipPermission
                ))
            ));
            assert!(set_can_lead(&db, lee, true).await.expect("grant"));
            decide_approval(&db, incident.id, asked, true, "go", lee, now)
                .await
                .expect("approve");
            let twice = decide_approval(&db, incident.id, asked, false, "no", lee, now).await;
            assert!(matches!(twice, Err(IncidentChangeError::Invalid(_))));
            assert!(approvals(&db, None, true)
                .await
                .expect("pending")
                .is_empty());
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("room");
            let decision = &room.decisions[0];
            assert_eq!(
                decision.decision,
                "Approved by Lee: shift traffic to the secondary region",
                "{}",
                db.backend()
            );
            assert_eq!(decision.owner_name, "Tess");
            assert!(decision.reason.contains("Lee: go"));
        }
    }

    #[tokio::test]
    async fn the_ic_goes_ahead_without_approval_on_record_and_nobody_else_does() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let tess = person(&db, "Tess", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev1).await;
            let now = Utc::now();
            assign_role(
                &db,
                incident.id,
                IncidentRole::TechLead,
                tess,
                &ic(ada),
                now,
            )
            .await
            .expect("tech lead");
            let asked = request_approval(&db, incident.id, "turn off search", "cpu", tess, now)
                .await
                .expect("ask");
            let by_tl = override_approval(&db, incident.id, asked, "now", tess, now).await;
            assert!(matches!(
                by_tl,
                Err(IncidentChangeError::Refused(RoleRefusal::OnlyIcOverrides))
            ));
            override_approval(
                &db,
                incident.id,
                asked,
                "checkout is down for everyone",
                ada,
                now,
            )
            .await
            .expect("override");
            let all = approvals(&db, Some(incident.id), false).await.expect("all");
            assert_eq!(all[0].status, ApprovalStatus::Overridden);
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("room");
            assert_eq!(
                room.decisions[0].decision,
                "Went ahead without approval: turn off search"
            );
            // The postmortem's timeline carries the override with its reason.
            change_status(
                &db,
                incident.id,
                room.incident.version,
                IncidentStatus::Resolved,
                Severity::Sev1,
                ada,
                now,
            )
            .await
            .expect("resolve");
            let steward = crate::store::postmortems::Steward {
                user: ada,
                is_admin: false,
            };
            crate::store::postmortems::start(&db, incident.number, steward, now)
                .await
                .expect("start");
            let pm = crate::store::postmortems::find(&db, incident.number)
                .await
                .expect("find")
                .expect("postmortem");
            assert!(
                pm.lines.iter().any(|l| l
                    .body
                    .contains("Went ahead without approval: turn off search")
                    && l.body.contains("checkout is down for everyone")),
                "{:?}",
                pm.lines
            );
        }
    }

    #[tokio::test]
    async fn a_blocker_is_raised_by_a_responder_taken_and_resolved_by_a_leader() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let lee = person(&db, "Lee", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev2).await;
            let now = Utc::now();
            let raised = raise_blocker(&db, incident.id, "need vendor escalation", ada, now)
                .await
                .expect("raise");
            assert!(matches!(
                take_blocker(&db, incident.id, raised, lee, now).await,
                Err(IncidentChangeError::Refused(
                    RoleRefusal::NeedsLeadershipPermission
                ))
            ));
            set_can_lead(&db, lee, true).await.expect("grant");
            take_blocker(&db, incident.id, raised, lee, now)
                .await
                .expect("take");
            let open = blockers(&db, None, true).await.expect("open");
            assert_eq!(open[0].taken_by.as_deref(), Some("Lee"), "{}", db.backend());
            resolve_blocker(&db, incident.id, raised, "vendor called back", lee, now)
                .await
                .expect("resolve");
            assert!(blockers(&db, None, true).await.expect("open").is_empty());
            let room = war_room(&db, incident.number)
                .await
                .expect("load")
                .expect("room");
            let events: Vec<&str> = room.timeline.iter().map(|e| e.body.as_str()).collect();
            assert!(events.iter().any(|b| b.contains("Ada raised a blocker")));
            assert!(events.iter().any(|b| b.contains("Lee is on the blocker")));
            assert!(events.iter().any(|b| b
                .contains("Lee resolved the blocker: need vendor escalation. vendor called back")));
        }
    }

    #[tokio::test]
    async fn a_restricted_incident_is_hidden_from_everyone_but_participants_and_admins() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let obi = person(&db, "Obi", OrgRole::Responder).await;
            let root = person(&db, "Root", OrgRole::Admin).await;
            let incident = declared(&db, ada, Severity::Sev1).await;
            let now = Utc::now();
            assert!(can_see(&db, incident.id, &user(&db, obi).await)
                .await
                .expect("see"));
            flag_restricted(&db, incident.id, ada, now)
                .await
                .expect("flag");
            let obi_user = user(&db, obi).await;
            assert!(!can_see(&db, incident.id, &obi_user).await.expect("see"));
            assert!(hidden_from(&db, &obi_user)
                .await
                .expect("hidden")
                .hides(incident.id));
            assert!(can_see(&db, incident.id, &user(&db, ada).await)
                .await
                .expect("see"));
            assert!(can_see(&db, incident.id, &user(&db, root).await)
                .await
                .expect("see"));
            added(&db, &incident, ada, obi).await;
            assert!(can_see(&db, incident.id, &obi_user).await.expect("see"));
        }
    }

    #[tokio::test]
    async fn resolving_sets_the_postmortem_due_date_from_the_admins_deadlines() {
        for db in fresh_databases().await {
            let ada = person(&db, "Ada", OrgRole::Responder).await;
            let incident = declared(&db, ada, Severity::Sev2).await;
            set_deadline_days(
                &db,
                &DeadlineDays {
                    sev2: 1,
                    ..DeadlineDays::default()
                },
            )
            .await
            .expect("set");
            // A Thursday: one business day later is the Friday.
            let resolved_at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 26, 12, 0, 0)
                .single()
                .expect("time");
            change_status(
                &db,
                incident.id,
                incident.version,
                IncidentStatus::Resolved,
                Severity::Sev2,
                ada,
                resolved_at,
            )
            .await
            .expect("resolve");
            let after = find_by_number(&db, incident.number)
                .await
                .expect("find")
                .expect("incident");
            assert_eq!(
                after.postmortem_due_on,
                NaiveDate::from_ymd_opt(2026, 11, 27)
            );
            let due = postmortems_due(&db).await.expect("due");
            assert_eq!(due.len(), 1, "{}", db.backend());
            assert_eq!(due[0].ic.as_ref().map(|(_, n)| n.as_str()), Some("Ada"));
        }
    }
}
