//! Postmortems: the document drafted from a resolved incident, its timeline
//! lines, action items tracked until verified, the figures insights draw, and
//! the private calendar token each user subscribes to.
//!
//! Every change is one transaction that also writes the incident's timeline
//! entry where the change matters to the record.

use super::changes::Subject;
use super::incidents::{
    event, holder_in, incident_for_change, name_of, Incident, IncidentChangeError, IncidentRow,
    INCIDENT_COLUMNS,
};
use super::tx::{sql, Tx};
use super::{read, Db, StoreError};
use crate::domain::incidents::{IncidentId, IncidentStatus, Severity};
use crate::domain::milestones::Milestone;
use crate::domain::postmortems::{
    ActionItem, ActionKind, ActionStatus, ItemDraft, Milestones, PostmortemStatus, Section,
};
use crate::domain::roles::{IncidentRole, RoleRefusal};
use crate::domain::timeline::Happened;
use crate::domain::users::UserId;
use chrono::{DateTime, NaiveDate, Utc};

/// One line of the drafted timeline; left-out lines stay, marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub body: String,
    pub excluded: bool,
}

/// An action item with where it came from and who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub incident_number: i64,
    pub incident_title: String,
    pub title: String,
    pub kind: ActionKind,
    pub owner_id: Option<UserId>,
    pub owner_name: Option<String>,
    pub due: Option<NaiveDate>,
    pub verification: String,
    pub status: ActionStatus,
    pub top: bool,
    pub finished_on: Option<NaiveDate>,
    pub evidence: String,
    pub verified_by_name: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Item {
    /// The item as the domain rules see it.
    pub fn rules(&self) -> ActionItem {
        ActionItem {
            title: self.title.clone(),
            kind: self.kind,
            owner: self.owner_name.clone(),
            due: self.due,
            verification: self.verification.clone(),
            status: self.status,
            top: self.top,
        }
    }
}

/// The numbers that make customer impact concrete (free text: "~4,000", "3.2 %").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImpactNumbers {
    pub users_affected: String,
    pub failed_requests: String,
    pub slo_budget_spent: String,
}

/// A postmortem with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postmortem {
    pub id: i64,
    pub incident: Incident,
    pub status: PostmortemStatus,
    /// The text of each section, in `Section::ALL` order.
    pub sections: Vec<(Section, String)>,
    pub numbers: ImpactNumbers,
    pub impact_started_at: Option<DateTime<Utc>>,
    pub milestones: Milestones,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub published_by: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// Lint checks the publisher overrode, one per line.
    pub lint_overridden: String,
    pub meeting_at: Option<DateTime<Utc>>,
    pub attendees: String,
    pub version: i64,
    pub lines: Vec<Line>,
    pub items: Vec<Item>,
}

impl Postmortem {
    pub fn section(&self, section: Section) -> &str {
        self.sections
            .iter()
            .find(|(s, _)| *s == section)
            .map(|(_, text)| text.as_str())
            .unwrap_or("")
    }
}

/// An edit of the written parts, made against `version`.
pub struct DocumentEdit<'a> {
    pub version: i64,
    pub sections: &'a [(Section, String)],
    pub numbers: &'a ImpactNumbers,
    pub impact_started_at: Option<DateTime<Utc>>,
}

/// What a user may do to the postmortem as a whole.
#[derive(Debug, Clone, Copy)]
pub struct Steward {
    pub user: UserId,
    pub is_admin: bool,
}

/// Refuses `by` unless they command incident `id` or are an admin, inside a transaction.
async fn require_steward(
    tx: &mut Tx,
    id: IncidentId,
    by: Steward,
) -> Result<(), IncidentChangeError> {
    let ic = holder_in(tx, id, IncidentRole::IncidentCommander).await?;
    if !by.is_admin && ic != Some(by.user.0) {
        return Err(IncidentChangeError::Refused(
            RoleRefusal::OnlyIcStewardsPostmortem,
        ));
    }
    Ok(())
}

/// The postmortem of incident `id` for a change, refusing a published one when `editable`.
async fn postmortem_for_change(
    tx: &mut Tx,
    id: IncidentId,
    editable: bool,
) -> Result<(i64, PostmortemStatus), IncidentChangeError> {
    let row: Option<(i64, String, i64)> = tx
        .fetch_optional(
            sql("SELECT p.id, p.status, i.number FROM postmortems p \
                 JOIN incidents i ON i.id = p.incident_id WHERE p.incident_id = $1")
            .bind(id.0),
        )
        .await?;
    let (pm, status, number) = row.ok_or(IncidentChangeError::NotFound)?;
    tx.records(Subject::Incident(number));
    let status = PostmortemStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("postmortem status {status:?}")))?;
    if editable && !status.is_editable() {
        return Err(IncidentChangeError::Invalid(
            "This postmortem is published; its text no longer changes.",
        ));
    }
    Ok((pm, status))
}

/// Starts the postmortem of a resolved incident and drafts its timeline from
/// the milestones, the decision log and the war room's automatic entries.
pub async fn start(
    db: &Db,
    number: i64,
    by: Steward,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let room = super::incidents::war_room(db, number)
        .await?
        .ok_or(IncidentChangeError::NotFound)?;
    let mut lines: Vec<(DateTime<Utc>, String)> = Vec::new();
    for milestone in Milestone::ALL {
        if let Some(at) = super::incidents::stamped(&room, milestone) {
            lines.push((at, format!("Milestone: {}", milestone.label())));
        }
    }
    for d in &room.decisions {
        let mut line = format!(
            "Decision: {} Reason: {} (owner {})",
            sentence(&d.decision),
            sentence(&d.reason),
            d.owner_name
        );
        if let Some(result) = &d.result {
            line.push_str(&format!(" Result: {}", sentence(result)));
        }
        lines.push((d.decided_at, line));
    }
    // When each attached alert started firing: detection, measured by the sender.
    for alert in super::alerts::attached(db, room.incident.id.0).await? {
        lines.push((
            alert.started_at,
            format!(
                "Alert fired: \"{}\" from {} ({})",
                alert.summary, alert.source, alert.integration
            ),
        ));
    }
    for entry in room.timeline.iter().filter(|e| e.is_event) {
        let kind = entry.event_kind.as_deref().unwrap_or_default();
        if crate::domain::timeline::belongs_in_postmortem(kind) {
            lines.push((entry.at, entry.body.clone()));
        }
    }
    lines.sort_by_key(|(at, _)| *at);
    let id = room.incident.id;
    let mut tx = db.begin().await?;
    let incident = incident_for_change(&mut tx, id, false).await?;
    if incident.status != IncidentStatus::Resolved {
        return Err(IncidentChangeError::Invalid(
            "Resolve the incident before starting its postmortem.",
        ));
    }
    require_steward(&mut tx, id, by).await?;
    let exists: Option<i64> = tx
        .scalar_optional(sql("SELECT id FROM postmortems WHERE incident_id = $1").bind(id.0))
        .await?;
    if exists.is_some() {
        return Err(IncidentChangeError::Invalid(
            "This incident's postmortem is already started.",
        ));
    }
    let pm: i64 = tx.scalar(
        sql("INSERT INTO postmortems (incident_id, status, customer_impact, started_by, started_at) \
         VALUES ($1, 'draft', $2, $3, $4) RETURNING id")
            .bind(id.0)
            .bind(&incident.impact)
            .bind(by.user.0)
            .bind(now),
    ).await?;
    for (at, body) in &lines {
        tx.execute(
            sql("INSERT INTO postmortem_lines (postmortem_id, at, body) VALUES ($1, $2, $3)")
                .bind(pm)
                .bind(at)
                .bind(body),
        )
        .await?;
    }
    let name = name_of(&mut tx, by.user.0).await?;
    event(
        &mut tx,
        id.0,
        by.user.0,
        now,
        Happened::PostmortemStarted { by: name },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a fragment with a full stop so joined fragments read as sentences.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// Where incident `id`'s postmortem stands, if started.
pub async fn status_of(db: &Db, id: IncidentId) -> Result<Option<PostmortemStatus>, StoreError> {
    let status: Option<String> = read!(db, pool => {
        sqlx::query_scalar("SELECT status FROM postmortems WHERE incident_id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await?
    });
    status
        .map(|s| {
            PostmortemStatus::parse(&s)
                .ok_or_else(|| StoreError::Corrupt(format!("postmortem status {s:?}")))
        })
        .transpose()
}

#[derive(sqlx::FromRow)]
struct PostmortemRow {
    id: i64,
    status: String,
    summary: String,
    customer_impact: String,
    root_causes: String,
    factors_technical: String,
    factors_process: String,
    detection_response: String,
    went_well: String,
    got_lucky: String,
    users_affected: String,
    failed_requests: String,
    slo_budget_spent: String,
    impact_started_at: Option<DateTime<Utc>>,
    started_by: String,
    started_at: DateTime<Utc>,
    published_by: Option<String>,
    published_at: Option<DateTime<Utc>>,
    lint_overridden: String,
    meeting_at: Option<DateTime<Utc>>,
    attendees: String,
    version: i64,
}

/// The postmortem of incident `number`, if started.
pub async fn find(db: &Db, number: i64) -> Result<Option<Postmortem>, StoreError> {
    let Some(room) = super::incidents::war_room(db, number).await? else {
        return Ok(None);
    };
    let row: Option<PostmortemRow> = read!(db, pool => {
        sqlx::query_as(
            "SELECT p.id, p.status, p.summary, p.customer_impact, p.root_causes, p.factors_technical, \
             p.factors_process, p.detection_response, p.went_well, p.got_lucky, p.users_affected, \
             p.failed_requests, p.slo_budget_spent, p.impact_started_at, s.name AS started_by, p.started_at, \
             pb.name AS published_by, p.published_at, p.lint_overridden, p.meeting_at, p.attendees, p.version \
             FROM postmortems p JOIN users s ON s.id = p.started_by \
             LEFT JOIN users pb ON pb.id = p.published_by WHERE p.incident_id = $1",
        )
        .bind(room.incident.id.0)
        .fetch_optional(pool)
        .await?
    });
    let Some(r) = row else {
        return Ok(None);
    };
    let status = PostmortemStatus::parse(&r.status)
        .ok_or_else(|| StoreError::Corrupt(format!("postmortem status {:?}", r.status)))?;
    let texts = [
        r.summary,
        r.customer_impact,
        r.root_causes,
        r.factors_technical,
        r.factors_process,
        r.detection_response,
        r.went_well,
        r.got_lucky,
    ];
    let sections = Section::ALL.into_iter().zip(texts).collect();
    let lines: Vec<(i64, DateTime<Utc>, String, bool)> = read!(db, pool => {
        sqlx::query_as(
            "SELECT id, at, body, excluded FROM postmortem_lines WHERE postmortem_id = $1 ORDER BY at, id",
        )
        .bind(r.id)
        .fetch_all(pool)
        .await?
    });
    let items = items_where(db, "p.id = $1", Some(r.id)).await?;
    let stamped = |m| super::incidents::stamped(&room, m);
    let milestones = Milestones {
        impact_started: r.impact_started_at,
        declared: stamped(Milestone::Declared),
        roles_assigned: stamped(Milestone::CoreRolesAssigned),
        first_update: stamped(Milestone::FirstUpdate),
        mitigated: stamped(Milestone::Mitigated),
        resolved: stamped(Milestone::Resolved),
    };
    Ok(Some(Postmortem {
        id: r.id,
        incident: room.incident,
        status,
        sections,
        numbers: ImpactNumbers {
            users_affected: r.users_affected,
            failed_requests: r.failed_requests,
            slo_budget_spent: r.slo_budget_spent,
        },
        impact_started_at: r.impact_started_at,
        milestones,
        started_by: r.started_by,
        started_at: r.started_at,
        published_by: r.published_by,
        published_at: r.published_at,
        lint_overridden: r.lint_overridden,
        meeting_at: r.meeting_at,
        attendees: r.attendees,
        version: r.version,
        lines: lines
            .into_iter()
            .map(|(id, at, body, excluded)| Line {
                id,
                at,
                body,
                excluded,
            })
            .collect(),
        items,
    }))
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    incident_number: i64,
    incident_title: String,
    title: String,
    kind: String,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    due_on: Option<NaiveDate>,
    verification: String,
    status: String,
    top: bool,
    finished_on: Option<NaiveDate>,
    evidence: String,
    verified_by_name: Option<String>,
    verified_at: Option<DateTime<Utc>>,
    confirmed_at: Option<DateTime<Utc>>,
    version: i64,
}

/// Action items matching `filter` (SQL over `a`, `p`, `i`), by due date then id.
async fn items_where(db: &Db, filter: &str, arg: Option<i64>) -> Result<Vec<Item>, StoreError> {
    let sql = format!(
        "SELECT a.id, i.number AS incident_number, i.title AS incident_title, a.title, a.kind, a.owner_id, \
         o.name AS owner_name, a.due_on, a.verification, a.status, a.top, a.finished_on, a.evidence, \
         v.name AS verified_by_name, a.verified_at, a.confirmed_at, a.version \
         FROM action_items a JOIN postmortems p ON p.id = a.postmortem_id \
         JOIN incidents i ON i.id = p.incident_id \
         LEFT JOIN users o ON o.id = a.owner_id LEFT JOIN users v ON v.id = a.verified_by \
         WHERE {filter} ORDER BY a.due_on IS NULL, a.due_on, a.id"
    );
    let rows: Vec<ItemRow> = read!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        if let Some(arg) = arg {
            q = q.bind(arg);
        }
        q.fetch_all(pool).await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(Item {
                id: r.id,
                incident_number: r.incident_number,
                incident_title: r.incident_title,
                title: r.title,
                kind: ActionKind::parse(&r.kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("action kind {:?}", r.kind)))?,
                owner_id: r.owner_id.map(UserId),
                owner_name: r.owner_name,
                due: r.due_on,
                verification: r.verification,
                status: ActionStatus::parse(&r.status)
                    .ok_or_else(|| StoreError::Corrupt(format!("action status {:?}", r.status)))?,
                top: r.top,
                finished_on: r.finished_on,
                evidence: r.evidence,
                verified_by_name: r.verified_by_name,
                verified_at: r.verified_at,
                confirmed_at: r.confirmed_at,
                version: r.version,
            })
        })
        .collect()
}

/// Every action item across incidents (the tracker filters them).
pub async fn all_items(db: &Db) -> Result<Vec<Item>, StoreError> {
    items_where(db, "1 = 1", None).await
}

/// The action items `owner` holds.
pub async fn items_of(db: &Db, owner: UserId) -> Result<Vec<Item>, StoreError> {
    items_where(db, "a.owner_id = $1", Some(owner.0)).await
}

/// Saves the written parts of a draft or in-review postmortem.
pub async fn save_document(
    db: &Db,
    id: IncidentId,
    edit: &DocumentEdit<'_>,
) -> Result<(), IncidentChangeError> {
    let text = |s: Section| {
        edit.sections
            .iter()
            .find(|(x, _)| *x == s)
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    };
    let mut tx = db.begin().await?;
    let (pm, _) = postmortem_for_change(&mut tx, id, true).await?;
    let changed = tx
        .execute(
            sql(
                "UPDATE postmortems SET summary = $3, customer_impact = $4, root_causes = $5, \
         factors_technical = $6, factors_process = $7, detection_response = $8, went_well = $9, \
         got_lucky = $10, users_affected = $11, failed_requests = $12, slo_budget_spent = $13, \
         impact_started_at = $14, version = version + 1 WHERE id = $1 AND version = $2",
            )
            .bind(pm)
            .bind(edit.version)
            .bind(text(Section::Summary))
            .bind(text(Section::CustomerImpact))
            .bind(text(Section::RootCauses))
            .bind(text(Section::FactorsTechnical))
            .bind(text(Section::FactorsProcess))
            .bind(text(Section::DetectionResponse))
            .bind(text(Section::WentWell))
            .bind(text(Section::GotLucky))
            .bind(&edit.numbers.users_affected)
            .bind(&edit.numbers.failed_requests)
            .bind(&edit.numbers.slo_budget_spent)
            .bind(edit.impact_started_at),
        )
        .await?;
    if changed == 0 {
        return Err(IncidentChangeError::Stale);
    }
    tx.commit().await?;
    Ok(())
}

/// Leaves a timeline line out of the document, or puts it back.
pub async fn set_line_excluded(
    db: &Db,
    id: IncidentId,
    line: i64,
    excluded: bool,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (pm, _) = postmortem_for_change(&mut tx, id, true).await?;
    let changed = tx
        .execute(
            sql("UPDATE postmortem_lines SET excluded = $3 WHERE id = $2 AND postmortem_id = $1")
                .bind(pm)
                .bind(line)
                .bind(excluded),
        )
        .await?;
    if changed == 0 {
        return Err(IncidentChangeError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Checks inside a transaction that an owner exists and is not disabled.
async fn require_active_owner(
    tx: &mut Tx,
    owner: Option<UserId>,
) -> Result<(), IncidentChangeError> {
    if let Some(owner) = owner {
        let disabled: Option<bool> = tx
            .scalar_optional(sql("SELECT disabled FROM users WHERE id = $1").bind(owner.0))
            .await?;
        if disabled != Some(false) {
            return Err(IncidentChangeError::Invalid(
                "Choose an owner who can sign in.",
            ));
        }
    }
    Ok(())
}

/// Adds an action item to the postmortem of incident `id`. Returns its id.
pub async fn add_item(
    db: &Db,
    id: IncidentId,
    draft: &ItemDraft,
    owner: Option<UserId>,
    top: bool,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (pm, _) = postmortem_for_change(&mut tx, id, false).await?;
    require_active_owner(&mut tx, owner).await?;
    let item: i64 = tx.scalar(
        sql("INSERT INTO action_items (postmortem_id, title, kind, owner_id, due_on, verification, status, \
         top, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9) RETURNING id")
            .bind(pm)
            .bind(&draft.title)
            .bind(draft.kind.as_str())
            .bind(owner.map(|o| o.0))
            .bind(draft.due)
            .bind(&draft.verification)
            .bind(top)
            .bind(by.0)
            .bind(now),
    ).await?;
    tx.commit().await?;
    Ok(item)
}

/// The incident an action item belongs to, with the item's status, inside a transaction.
async fn item_for_change(
    tx: &mut Tx,
    item: i64,
    seen: i64,
) -> Result<(IncidentId, ActionStatus, i64), IncidentChangeError> {
    let row: Option<(i64, String, i64, i64)> = tx
        .fetch_optional(
            sql("SELECT p.incident_id, a.status, a.version, i.number FROM action_items a \
                 JOIN postmortems p ON p.id = a.postmortem_id JOIN incidents i ON i.id = p.incident_id \
                 WHERE a.id = $1")
            .bind(item),
        )
        .await?;
    let (incident, status, version, number) = row.ok_or(IncidentChangeError::NotFound)?;
    tx.records(Subject::Incident(number));
    if version != seen {
        return Err(IncidentChangeError::Stale);
    }
    let status = ActionStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("action status {status:?}")))?;
    Ok((IncidentId(incident), status, number))
}

/// Changes who owns an item, when it is due, and whether it is a top item
/// (the review meeting's corrections). Returns the incident number.
pub async fn reassign_item(
    db: &Db,
    item: i64,
    seen_version: i64,
    owner: Option<UserId>,
    due: Option<NaiveDate>,
    top: bool,
) -> Result<i64, IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (_, _, number) = item_for_change(&mut tx, item, seen_version).await?;
    require_active_owner(&mut tx, owner).await?;
    tx.execute(
        sql(
            "UPDATE action_items SET owner_id = $2, due_on = $3, top = $4, confirmed_at = NULL, \
         version = version + 1 WHERE id = $1",
        )
        .bind(item)
        .bind(owner.map(|o| o.0))
        .bind(due)
        .bind(top),
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// Moves an item one step. Verifying needs `evidence` and records who verified.
/// Returns the incident number.
pub async fn move_item(
    db: &Db,
    item: i64,
    seen_version: i64,
    next: ActionStatus,
    evidence: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (incident, status, number) = item_for_change(&mut tx, item, seen_version).await?;
    if !status.can_move_to(next) {
        return Err(IncidentChangeError::Invalid(
            "An item moves one step at a time, and a verified item stays verified.",
        ));
    }
    let evidence = evidence.trim();
    if next == ActionStatus::Verified && evidence.is_empty() {
        return Err(IncidentChangeError::Invalid(
            "Say what shows it works before marking it verified.",
        ));
    }
    let finished_on = (!next.is_outstanding()).then(|| now.date_naive());
    let verified = next == ActionStatus::Verified;
    tx.execute(
        sql("UPDATE action_items SET status = $2, \
         finished_on = CASE WHEN $3 THEN COALESCE(finished_on, $4) ELSE NULL END, \
         evidence = CASE WHEN $5 THEN $6 ELSE evidence END, \
         verified_by = CASE WHEN $5 THEN $7 ELSE verified_by END, \
         verified_at = CASE WHEN $5 THEN $8 ELSE verified_at END, \
         version = version + 1 WHERE id = $1")
        .bind(item)
        .bind(next.as_str())
        .bind(finished_on.is_some())
        .bind(finished_on)
        .bind(verified)
        .bind(evidence)
        .bind(by.0)
        .bind(now),
    )
    .await?;
    if verified {
        let name = name_of(&mut tx, by.0).await?;
        let title: String = tx
            .scalar(sql("SELECT title FROM action_items WHERE id = $1").bind(item))
            .await?;
        event(
            &mut tx,
            incident.0,
            by.0,
            now,
            Happened::ActionItemVerified {
                by: name,
                title,
                evidence: evidence.to_string(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(number)
}

/// Marks an item's owner and due date as confirmed in the review meeting.
pub async fn confirm_item(
    db: &Db,
    item: i64,
    seen_version: i64,
    now: DateTime<Utc>,
) -> Result<i64, IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (_, _, number) = item_for_change(&mut tx, item, seen_version).await?;
    let owned: (Option<i64>, Option<NaiveDate>) = tx
        .fetch_one(sql("SELECT owner_id, due_on FROM action_items WHERE id = $1").bind(item))
        .await?;
    if owned.0.is_none() || owned.1.is_none() {
        return Err(IncidentChangeError::Invalid(
            "Give the item an owner and a due date before confirming them.",
        ));
    }
    tx.execute(
        sql("UPDATE action_items SET confirmed_at = $2, version = version + 1 WHERE id = $1")
            .bind(item)
            .bind(now),
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// Sends a draft for review, or takes it back to draft.
pub async fn set_review(
    db: &Db,
    id: IncidentId,
    in_review: bool,
    by: Steward,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (pm, status) = postmortem_for_change(&mut tx, id, true).await?;
    require_steward(&mut tx, id, by).await?;
    let next = if in_review {
        PostmortemStatus::InReview
    } else {
        PostmortemStatus::Draft
    };
    if status == next {
        return Ok(());
    }
    tx.execute(
        sql("UPDATE postmortems SET status = $2, version = version + 1 WHERE id = $1")
            .bind(pm)
            .bind(next.as_str()),
    )
    .await?;
    let name = name_of(&mut tx, by.user.0).await?;
    let body = if in_review {
        Happened::PostmortemSentForReview { by: name }
    } else {
        Happened::PostmortemBackToDraft { by: name }
    };
    event(&mut tx, id.0, by.user.0, now, body).await?;
    tx.commit().await?;
    Ok(())
}

/// Records the review meeting: when it was held and who attended.
pub async fn record_meeting(
    db: &Db,
    id: IncidentId,
    held_at: DateTime<Utc>,
    attendees: &str,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (pm, _) = postmortem_for_change(&mut tx, id, true).await?;
    tx.execute(
        sql("UPDATE postmortems SET meeting_at = $2, attendees = $3, version = version + 1 WHERE id = $1")
            .bind(pm)
            .bind(held_at)
            .bind(attendees),
    ).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the postmortem; `overridden` names the failing checks the
/// publisher chose to publish past (recorded with it and on the timeline).
pub async fn publish(
    db: &Db,
    id: IncidentId,
    seen_version: i64,
    overridden: &[String],
    by: Steward,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (pm, _) = postmortem_for_change(&mut tx, id, true).await?;
    require_steward(&mut tx, id, by).await?;
    let changed = tx.execute(
        sql("UPDATE postmortems SET status = 'published', published_by = $3, published_at = $4, \
         lint_overridden = $5, version = version + 1 WHERE id = $1 AND version = $2")
            .bind(pm)
            .bind(seen_version)
            .bind(by.user.0)
            .bind(now)
            .bind(overridden.join("\n")),
    ).await?;
    if changed == 0 {
        return Err(IncidentChangeError::Stale);
    }
    let name = name_of(&mut tx, by.user.0).await?;
    let body = Happened::PostmortemPublished {
        by: name,
        overridden: overridden.to_vec(),
    };
    event(&mut tx, id.0, by.user.0, now, body).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the customer-facing summary of a published postmortem, by its
/// IC or an admin: an update with the public status `postmortem`, which the
/// public page, feeds and JSON show with the incident, and which webhooks,
/// chat and mail subscribers get like any customer-facing update.
pub async fn publish_public_summary(
    db: &Db,
    id: IncidentId,
    title: &str,
    body: &str,
    overridden: &[String],
    by: Steward,
    now: DateTime<Utc>,
) -> Result<super::updates::PublishedUpdate, IncidentChangeError> {
    let mut tx = db.begin().await?;
    let (_, status) = postmortem_for_change(&mut tx, id, false).await?;
    if status != PostmortemStatus::Published {
        return Err(IncidentChangeError::Invalid(
            "Publish the postmortem first; its public summary follows.",
        ));
    }
    require_steward(&mut tx, id, by).await?;
    let incident = incident_for_change(&mut tx, id, false).await?;
    let kind = crate::domain::updates::TemplateKind::CustomerFacing;
    let update_id = super::updates::insert(
        &mut tx,
        &super::updates::Row {
            incident: id,
            kind,
            title,
            body,
            public_status: "postmortem",
            next_update_at: None,
            overridden,
        },
        by.user,
        now,
    )
    .await?;
    let name = name_of(&mut tx, by.user.0).await?;
    let entry = Happened::UpdatePublished {
        by: name,
        kind,
        overridden: overridden.to_vec(),
    };
    event(&mut tx, id.0, by.user.0, now, entry).await?;
    super::updates::send_out(&mut tx, update_id, &incident, kind.audience(), now).await?;
    let row = tx
        .fetch_one(
            sql(format!("{} WHERE u.id = $1", super::updates::UPDATE_SELECT)).bind(update_id),
        )
        .await?;
    let update = super::updates::decode_update(row)?;
    tx.commit().await?;
    Ok(update)
}

/// A resolved incident whose prevention work is not all verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtRisk {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `None` while no postmortem is started.
    pub postmortem: Option<PostmortemStatus>,
    /// Prevention items not yet verified.
    pub unverified_prevention: usize,
}

/// Resolved incidents at recurrence risk, newest first.
pub async fn at_recurrence_risk(db: &Db) -> Result<Vec<AtRisk>, StoreError> {
    let incidents: Vec<IncidentRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE status = 'resolved' ORDER BY resolved_at DESC, id DESC"
        ))
        .fetch_all(pool)
        .await?
    });
    let postmortems: Vec<(i64, String)> = read!(db, pool => {
        sqlx::query_as("SELECT incident_id, status FROM postmortems")
            .fetch_all(pool)
            .await?
    });
    let items = all_items(db).await?;
    let mut out = Vec::new();
    for row in incidents {
        let incident = Incident::try_from(row)?;
        let mine: Vec<ActionItem> = items
            .iter()
            .filter(|i| i.incident_number == incident.number)
            .map(Item::rules)
            .collect();
        if !crate::domain::postmortems::at_recurrence_risk(&mine) {
            continue;
        }
        out.push(AtRisk {
            number: incident.number,
            title: incident.title,
            severity: incident.severity,
            resolved_at: incident.resolved_at,
            postmortem: postmortems
                .iter()
                .find(|(i, _)| *i == incident.id.0)
                .and_then(|(_, s)| PostmortemStatus::parse(s)),
            unverified_prevention: mine
                .iter()
                .filter(|i| i.kind == ActionKind::Prevention && i.status != ActionStatus::Verified)
                .count(),
        });
    }
    Ok(out)
}

/// What insights need of one incident declared in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFigures {
    pub severity: Severity,
    pub milestones: Milestones,
}

/// The raw material of the insights page for incidents declared in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InsightData {
    pub incidents: Vec<IncidentFigures>,
    /// (due, published) of each stakeholder update that had a due time.
    pub updates: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub items: Vec<Item>,
}

/// Loads what insights draw for incidents declared in `[from, to)`, leaving
/// out the restricted incidents in `hidden` (those the reader may not see).
pub async fn insight_data(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    hidden: &super::leadership::Hidden,
) -> Result<InsightData, StoreError> {
    type Row = (
        i64,
        i64,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT i.id, i.number, i.severity, i.declared_at, i.mitigated_at, i.resolved_at, \
             (SELECT done_at FROM rhythm_ticks t WHERE t.incident_id = i.id AND t.item = 'core_roles_assigned'), \
             (SELECT done_at FROM rhythm_ticks t WHERE t.incident_id = i.id AND t.item = 'first_stakeholder_update'), \
             (SELECT impact_started_at FROM postmortems p WHERE p.incident_id = i.id) \
             FROM incidents i WHERE i.declared_at >= $1 AND i.declared_at < $2 ORDER BY i.id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?
    });
    let rows: Vec<Row> = rows
        .into_iter()
        .filter(|r| !hidden.hides(IncidentId(r.0)))
        .collect();
    let mut incidents = Vec::new();
    for r in &rows {
        incidents.push(IncidentFigures {
            severity: Severity::parse("severity", &r.2)
                .map_err(|_| StoreError::Corrupt(format!("severity {:?}", r.2)))?,
            milestones: Milestones {
                impact_started: r.8,
                declared: Some(r.3),
                roles_assigned: r.6,
                first_update: r.7,
                mitigated: r.4,
                resolved: r.5,
            },
        });
    }
    let published: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = read!(db, pool => {
        sqlx::query_as(
            "SELECT u.incident_id, u.published_at, u.next_update_at FROM stakeholder_updates u \
             JOIN incidents i ON i.id = u.incident_id \
             WHERE i.declared_at >= $1 AND i.declared_at < $2 ORDER BY u.incident_id, u.id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?
    });
    let published: Vec<_> = published
        .into_iter()
        .filter(|u| !hidden.hides(IncidentId(u.0)))
        .collect();
    let mut updates = Vec::new();
    for pair in published.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        if let (true, Some(due)) = (prev.0 == next.0, prev.2) {
            updates.push((due, next.1));
        }
    }
    let numbers: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let items = all_items(db)
        .await?
        .into_iter()
        .filter(|i| numbers.contains(&i.incident_number))
        .collect();
    Ok(InsightData {
        incidents,
        updates,
        items,
    })
}

/// The user's private calendar token, made on first use.
pub async fn calendar_token(
    db: &Db,
    user: UserId,
    fresh: String,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let mut tx = db.begin().await?;
    tx.execute(
        sql(
            "INSERT INTO calendar_tokens (user_id, token, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.0)
        .bind(&fresh)
        .bind(now),
    )
    .await?;
    let token: String = tx
        .scalar(sql("SELECT token FROM calendar_tokens WHERE user_id = $1").bind(user.0))
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// Replaces the user's calendar token, so an old subscription URL stops working.
pub async fn reset_calendar_token(
    db: &Db,
    user: UserId,
    fresh: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    tx.execute(
        sql(
            "INSERT INTO calendar_tokens (user_id, token, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET token = $2, created_at = $3",
        )
        .bind(user.0)
        .bind(&fresh)
        .bind(now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The active user a calendar token belongs to.
pub async fn calendar_owner(db: &Db, token: &str) -> Result<Option<UserId>, StoreError> {
    let id: Option<i64> = read!(db, pool => {
        sqlx::query_scalar(
            "SELECT c.user_id FROM calendar_tokens c JOIN users u ON u.id = c.user_id \
             WHERE c.token = $1 AND u.disabled = FALSE",
        )
        .bind(token)
        .fetch_optional(pool)
        .await?
    });
    Ok(id.map(UserId))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::postmortems::{lint, LintInput, LintRule};
    use crate::domain::users::OrgRole;
    use crate::store::incidents::{change_status, find_by_number, log_decision, record_result};
    use crate::store::testing::{declared, fresh_databases, person};

    fn draft(title: &str, kind: ActionKind) -> ItemDraft {
        ItemDraft {
            title: title.to_owned(),
            kind,
            due: NaiveDate::from_ymd_opt(2026, 12, 10),
            verification: "Shown in a game day".to_owned(),
        }
    }

    async fn resolved(db: &Db, ic: UserId) -> Incident {
        let incident = declared(db, ic, Severity::Sev1).await;
        let now = Utc::now();
        let decision = log_decision(
            db,
            incident.id,
            "Roll back release 4.2",
            "Errors began with it",
            ic,
            ic,
            now,
        )
        .await
        .expect("decision");
        record_result(
            db,
            incident.id,
            decision,
            1,
            "Errors back to normal",
            ic,
            now,
        )
        .await
        .expect("result");
        let version = find_by_number(db, incident.number)
            .await
            .expect("find")
            .expect("incident")
            .version;
        change_status(
            db,
            incident.id,
            version,
            IncidentStatus::Resolved,
            Severity::Sev1,
            ic,
            now,
        )
        .await
        .expect("resolve");
        incident
    }

    /// Ivy (IC) and Otto, with Ivy's resolved incident and its postmortem started.
    async fn started(db: &Db) -> (UserId, UserId, Incident) {
        let ic = person(db, "Ivy", OrgRole::Responder).await;
        let owner = person(db, "Otto", OrgRole::Responder).await;
        let incident = resolved(db, ic).await;
        let ivy = Steward {
            user: ic,
            is_admin: false,
        };
        start(db, incident.number, ivy, Utc::now())
            .await
            .expect("start");
        (ic, owner, incident)
    }

    #[tokio::test]
    async fn only_the_ic_or_an_admin_starts_a_postmortem_and_only_once_resolved() {
        for db in fresh_databases().await {
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let other = person(&db, "Otto", OrgRole::Responder).await;
            let admin = person(&db, "Ada", OrgRole::Admin).await;
            let open = declared(&db, ic, Severity::Sev2).await;
            let now = Utc::now();
            let ivy = Steward {
                user: ic,
                is_admin: false,
            };
            assert!(matches!(
                start(&db, open.number, ivy, now).await,
                Err(IncidentChangeError::Invalid(_))
            ));
            let incident = resolved(&db, ic).await;
            assert!(matches!(
                start(
                    &db,
                    incident.number,
                    Steward {
                        user: other,
                        is_admin: false
                    },
                    now
                )
                .await,
                Err(IncidentChangeError::Refused(
                    RoleRefusal::OnlyIcStewardsPostmortem
                ))
            ));
            start(
                &db,
                incident.number,
                Steward {
                    user: admin,
                    is_admin: true,
                },
                now,
            )
            .await
            .expect("an admin starts it");
            assert!(matches!(
                start(&db, incident.number, ivy, now).await,
                Err(IncidentChangeError::Invalid(_))
            ));
        }
    }

    #[tokio::test]
    async fn an_entry_worded_like_a_tick_or_a_decision_still_reaches_the_draft_timeline() {
        for db in fresh_databases().await {
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let incident = declared(&db, ic, Severity::Sev2).await;
            let now = Utc::now();
            // Before kinds were kept, " ticked: " in any sentence dropped it from the draft.
            crate::store::incidents::add_hypothesis(
                &db,
                incident.id,
                "The cron job ticked: twice after the deploy",
                Some(ic),
                ic,
                now,
            )
            .await
            .expect("hypothesis");
            crate::store::incidents::tick_item(
                &db,
                incident.id,
                crate::domain::rhythm::RhythmItem::SignalsChecked,
                ic,
                now,
            )
            .await
            .expect("tick");
            let version = find_by_number(&db, incident.number)
                .await
                .expect("find")
                .expect("incident")
                .version;
            change_status(
                &db,
                incident.id,
                version,
                IncidentStatus::Resolved,
                Severity::Sev2,
                ic,
                now,
            )
            .await
            .expect("resolve");
            start(
                &db,
                incident.number,
                Steward {
                    user: ic,
                    is_admin: false,
                },
                now,
            )
            .await
            .expect("start");
            let pm = find(&db, incident.number)
                .await
                .expect("find")
                .expect("started");
            assert!(
                pm.lines
                    .iter()
                    .any(|l| l.body.contains("The cron job ticked: twice")),
                "{}: {:?}",
                db.backend(),
                pm.lines
            );
            // A real tick stays out.
            let tick = crate::domain::rhythm::RhythmItem::SignalsChecked.label();
            assert!(
                !pm.lines.iter().any(|l| l.body.ends_with(tick)),
                "{:?}",
                pm.lines
            );
        }
    }

    #[tokio::test]
    async fn the_draft_timeline_holds_the_decision_with_reason_and_result_and_lines_can_be_left_out(
    ) {
        for db in fresh_databases().await {
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let incident = resolved(&db, ic).await;
            let now = Utc::now();
            start(
                &db,
                incident.number,
                Steward {
                    user: ic,
                    is_admin: false,
                },
                now,
            )
            .await
            .expect("start");
            let pm = find(&db, incident.number)
                .await
                .expect("find")
                .expect("started");
            assert_eq!(pm.status, PostmortemStatus::Draft);
            assert_eq!(
                pm.section(Section::CustomerImpact),
                "EU customers cannot pay"
            );
            let decision = pm
                .lines
                .iter()
                .find(|l| l.body.starts_with("Decision: Roll back release 4.2."))
                .expect("decision line");
            assert!(decision.body.contains("Reason: Errors began with it."));
            assert!(decision.body.contains("Result: Errors back to normal."));
            assert!(pm.lines.iter().any(|l| l.body == "Milestone: Resolved"));
            assert!(pm.lines.iter().any(|l| l
                .body
                .contains("changed status from Investigating to Resolved")));
            assert!(
                !pm.lines
                    .iter()
                    .any(|l| l.body.contains("recorded a result")),
                "the result is on the decision line, not twice"
            );
            assert!(pm.milestones.resolved.is_some());

            set_line_excluded(&db, incident.id, decision.id, true)
                .await
                .expect("exclude");
            let pm = find(&db, incident.number)
                .await
                .expect("find")
                .expect("started");
            let line = pm
                .lines
                .iter()
                .find(|l| l.id == decision.id)
                .expect("still there");
            assert!(line.excluded, "left out, not deleted");
        }
    }

    #[tokio::test]
    async fn a_verified_item_needs_evidence_records_who_and_clears_recurrence_risk() {
        for db in fresh_databases().await {
            let (ic, owner, incident) = started(&db).await;
            let now = Utc::now();
            let at_risk = |list: Vec<AtRisk>| list.iter().any(|r| r.number == incident.number);
            assert!(at_risk(at_recurrence_risk(&db).await.expect("risk")));
            let item = add_item(
                &db,
                incident.id,
                &draft("Canary stage for config", ActionKind::Prevention),
                Some(owner),
                true,
                ic,
                now,
            )
            .await
            .expect("add");
            assert_eq!(items_of(&db, owner).await.expect("mine").len(), 1);
            move_item(&db, item, 1, ActionStatus::InProgress, "", owner, now)
                .await
                .expect("start work");
            move_item(&db, item, 2, ActionStatus::Done, "", owner, now)
                .await
                .expect("done");
            assert!(matches!(
                move_item(&db, item, 3, ActionStatus::Verified, "  ", ic, now).await,
                Err(IncidentChangeError::Invalid(_))
            ));
            assert!(at_risk(at_recurrence_risk(&db).await.expect("risk")));
            assert!(matches!(
                move_item(&db, item, 2, ActionStatus::Verified, "x", ic, now).await,
                Err(IncidentChangeError::Stale)
            ));
            move_item(
                &db,
                item,
                3,
                ActionStatus::Verified,
                "Bad config stopped at canary in drill",
                ic,
                now,
            )
            .await
            .expect("verify");
            let mine = items_of(&db, owner).await.expect("mine");
            assert_eq!(mine[0].status, ActionStatus::Verified);
            assert_eq!(mine[0].verified_by_name.as_deref(), Some("Ivy"));
            assert_eq!(mine[0].finished_on, Some(now.date_naive()));
            assert!(!at_risk(at_recurrence_risk(&db).await.expect("risk")));
            assert!(matches!(
                move_item(&db, item, 4, ActionStatus::Done, "", ic, now).await,
                Err(IncidentChangeError::Invalid(_))
            ));
        }
    }

    #[tokio::test]
    async fn publishing_records_the_overridden_checks_and_freezes_the_text() {
        for db in fresh_databases().await {
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let other = person(&db, "Otto", OrgRole::Responder).await;
            let incident = resolved(&db, ic).await;
            let now = Utc::now();
            let ivy = Steward {
                user: ic,
                is_admin: false,
            };
            start(&db, incident.number, ivy, now).await.expect("start");
            add_item(
                &db,
                incident.id,
                &draft("Canary stage", ActionKind::Prevention),
                Some(ic),
                false,
                ic,
                now,
            )
            .await
            .expect("add");
            let pm = find(&db, incident.number).await.expect("find").expect("pm");
            let items: Vec<ActionItem> = pm.items.iter().map(Item::rules).collect();
            let failing: Vec<String> = lint(&LintInput {
                items: &items,
                customer_impact: pm.section(Section::CustomerImpact),
                root_causes: pm.section(Section::RootCauses),
                people: &[],
            })
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| c.rule.label().to_owned())
            .collect();
            assert_eq!(failing, vec![LintRule::HasDetection.label().to_owned()]);
            assert!(matches!(
                publish(
                    &db,
                    incident.id,
                    pm.version,
                    &failing,
                    Steward {
                        user: other,
                        is_admin: false
                    },
                    now
                )
                .await,
                Err(IncidentChangeError::Refused(_))
            ));
            publish(&db, incident.id, pm.version, &failing, ivy, now)
                .await
                .expect("publish");
            let pm = find(&db, incident.number).await.expect("find").expect("pm");
            assert_eq!(pm.status, PostmortemStatus::Published);
            assert_eq!(pm.lint_overridden, LintRule::HasDetection.label());
            assert_eq!(pm.published_by.as_deref(), Some("Ivy"));
            let edit = save_document(
                &db,
                incident.id,
                &DocumentEdit {
                    version: pm.version,
                    sections: &[(Section::Summary, "Changed".to_owned())],
                    numbers: &ImpactNumbers::default(),
                    impact_started_at: None,
                },
            )
            .await;
            assert!(matches!(edit, Err(IncidentChangeError::Invalid(_))));
            let room = crate::store::incidents::war_room(&db, incident.number)
                .await
                .expect("room")
                .expect("room");
            assert!(room.timeline.iter().any(|e| e
                .body
                .contains("published the postmortem past failing checks")));
        }
    }

    #[tokio::test]
    async fn confirming_in_review_needs_an_owner_and_a_date_and_a_change_asks_again() {
        for db in fresh_databases().await {
            let (ic, owner, incident) = started(&db).await;
            let now = Utc::now();
            let unowned = ItemDraft {
                due: None,
                ..draft("Runbook for failover", ActionKind::Process)
            };
            let item = add_item(&db, incident.id, &unowned, None, false, ic, now)
                .await
                .expect("add");
            assert!(matches!(
                confirm_item(&db, item, 1, now).await,
                Err(IncidentChangeError::Invalid(_))
            ));
            let due = NaiveDate::from_ymd_opt(2026, 12, 14);
            reassign_item(&db, item, 1, Some(owner), due, true)
                .await
                .expect("reassign");
            confirm_item(&db, item, 2, now).await.expect("confirm");
            let mine = items_of(&db, owner).await.expect("mine");
            assert!(mine[0].confirmed_at.is_some() && mine[0].top && mine[0].due == due);
            reassign_item(
                &db,
                item,
                3,
                Some(owner),
                NaiveDate::from_ymd_opt(2026, 12, 21),
                true,
            )
            .await
            .expect("move the date");
            let mine = items_of(&db, owner).await.expect("mine");
            assert!(
                mine[0].confirmed_at.is_none(),
                "a new date is confirmed again"
            );
        }
    }

    #[tokio::test]
    async fn insight_data_pairs_each_update_with_the_time_the_one_before_promised() {
        use crate::domain::updates::TemplateKind;
        use crate::store::updates::{publish, Publication};
        for db in fresh_databases().await {
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let incident = declared(&db, ic, Severity::Sev2).await;
            let cadence = chrono::Duration::minutes(incident.update_cadence_minutes);
            let first = incident.declared_at + chrono::Duration::minutes(5);
            let update = |at| {
                let db = db.clone();
                async move {
                    publish(
                        &db,
                        incident.id,
                        &Publication {
                            kind: TemplateKind::OngoingInternal,
                            title: "",
                            body: "Still working on it",
                            overridden: &[],
                        },
                        ic,
                        at,
                    )
                    .await
                    .expect("publish")
                }
            };
            update(first).await;
            let on_time = first + cadence - chrono::Duration::minutes(1);
            update(on_time).await;
            let late = on_time + cadence + chrono::Duration::minutes(4);
            update(late).await;
            let day = chrono::Duration::days(1);
            let data = insight_data(
                &db,
                incident.declared_at - day,
                incident.declared_at + day,
                &Default::default(),
            )
            .await
            .expect("data");
            assert_eq!(data.incidents.len(), 1);
            assert_eq!(data.incidents[0].severity, Severity::Sev2);
            assert_eq!(
                data.updates,
                vec![(first + cadence, on_time), (on_time + cadence, late)]
            );
            assert_eq!(
                crate::domain::postmortems::punctuality(&data.updates),
                Some(0.5)
            );
            let later = insight_data(
                &db,
                incident.declared_at + day,
                incident.declared_at + day * 2,
                &Default::default(),
            )
            .await
            .expect("data");
            assert!(later.incidents.is_empty() && later.updates.is_empty());
        }
    }

    #[tokio::test]
    async fn a_calendar_token_is_stable_until_reset_and_names_its_owner() {
        for db in fresh_databases().await {
            let owner = person(&db, "Otto", OrgRole::Responder).await;
            let now = Utc::now();
            let first = calendar_token(&db, owner, "aaa".to_owned(), now)
                .await
                .expect("token");
            let again = calendar_token(&db, owner, "bbb".to_owned(), now)
                .await
                .expect("token");
            assert_eq!(first, again);
            assert_eq!(
                calendar_owner(&db, "aaa").await.expect("owner"),
                Some(owner)
            );
            reset_calendar_token(&db, owner, "ccc".to_owned(), now)
                .await
                .expect("reset");
            assert_eq!(calendar_owner(&db, "aaa").await.expect("owner"), None);
            assert_eq!(
                calendar_owner(&db, "ccc").await.expect("owner"),
                Some(owner)
            );
        }
    }
}
