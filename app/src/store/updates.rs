//! Stakeholder updates, the templates they are written from, and the question queue.
//!
//! Publishing is one transaction: the update, the rhythm tick, the timeline
//! entry and one pending delivery per matching webhook.

use super::incidents::{
    event, incident_for_change, name_of, records_incident, require_speaker, tick, Incident,
    IncidentChangeError,
};
use super::tx::{sql, Tx};
use super::{read, Db, StoreError};
use crate::domain::incidents::IncidentId;
use crate::domain::rhythm::RhythmItem;
use crate::domain::roles::{self, IncidentRole};
use crate::domain::updates::{Audience, QuestionState, Template, TemplateField, TemplateKind};
use crate::domain::users::UserId;
use chrono::{DateTime, Duration, Utc};

/// A template as stored, with the version an edit must have seen (0: the shipped default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTemplate {
    pub template: Template,
    pub version: i64,
}

/// The current templates, the shipped default where an admin changed nothing.
pub async fn templates(db: &Db) -> Result<Vec<StoredTemplate>, StoreError> {
    let rows: Vec<(String, String, String, i64)> = read!(db, pool => {
        sqlx::query_as("SELECT kind, fields, body, version FROM update_templates")
            .fetch_all(pool)
            .await?
    });
    TemplateKind::ALL
        .into_iter()
        .map(|kind| match rows.iter().find(|r| r.0 == kind.as_str()) {
            Some((_, fields, body, version)) => {
                let fields: Vec<TemplateField> = serde_json::from_str(fields)
                    .map_err(|e| StoreError::Corrupt(format!("template fields: {e}")))?;
                Ok(StoredTemplate {
                    template: Template {
                        kind,
                        fields,
                        body: body.clone(),
                    },
                    version: *version,
                })
            }
            None => Ok(StoredTemplate {
                template: Template::default_for(kind),
                version: 0,
            }),
        })
        .collect()
}

/// The current template of one kind.
pub async fn template(db: &Db, kind: TemplateKind) -> Result<StoredTemplate, StoreError> {
    templates(db)
        .await?
        .into_iter()
        .find(|t| t.template.kind == kind)
        .ok_or_else(|| StoreError::Corrupt(format!("template {} missing", kind.as_str())))
}

/// Why saving a template failed.
#[derive(Debug, thiserror::Error)]
pub enum TemplateSaveError {
    #[error("someone else changed this template first")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TemplateSaveError {
    fn from(e: sqlx::Error) -> Self {
        TemplateSaveError::Store(StoreError::Sqlx(e))
    }
}

/// Saves an admin's edit made against version `seen`.
pub async fn save_template(
    db: &Db,
    template: &Template,
    seen: i64,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), TemplateSaveError> {
    let fields = serde_json::to_string(&template.fields)
        .map_err(|e| StoreError::Corrupt(format!("template fields: {e}")))?;
    let mut tx = db.begin().await?;
    let saved = if seen == 0 {
        tx.execute(
            sql("INSERT INTO update_templates (kind, fields, body, version, updated_by, updated_at) \
             VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (kind) DO NOTHING")
                .bind(template.kind.as_str())
                .bind(&fields)
                .bind(&template.body)
                .bind(by.0)
                .bind(now),
        ).await?
    } else {
        tx.execute(
            sql(
                "UPDATE update_templates SET fields = $1, body = $2, version = version + 1, \
             updated_by = $3, updated_at = $4 WHERE kind = $5 AND version = $6",
            )
            .bind(&fields)
            .bind(&template.body)
            .bind(by.0)
            .bind(now)
            .bind(template.kind.as_str())
            .bind(seen),
        )
        .await?
    };
    if saved == 0 {
        return Err(TemplateSaveError::Stale);
    }
    tx.commit().await?;
    Ok(())
}

/// A published update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedUpdate {
    pub id: i64,
    pub incident_id: IncidentId,
    pub kind: TemplateKind,
    pub title: String,
    pub body: String,
    /// investigating, identified, monitoring or resolved.
    pub public_status: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub next_update_at: Option<DateTime<Utc>>,
    /// Guard warnings the publisher chose to override, one per line.
    pub overridden: String,
}

pub(crate) type UpdateRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
);

pub(crate) const UPDATE_SELECT: &str =
    "SELECT u.id, u.incident_id, u.kind, u.title, u.body, u.public_status, \
     p.name, u.published_at, u.next_update_at, u.overridden \
     FROM stakeholder_updates u JOIN users p ON p.id = u.published_by";

pub(crate) fn decode_update(row: UpdateRow) -> Result<PublishedUpdate, StoreError> {
    let kind = TemplateKind::parse("kind", &row.2)
        .map_err(|_| StoreError::Corrupt(format!("update kind {:?}", row.2)))?;
    Ok(PublishedUpdate {
        id: row.0,
        incident_id: IncidentId(row.1),
        kind,
        title: row.3,
        body: row.4,
        public_status: row.5,
        published_by: row.6,
        published_at: row.7,
        next_update_at: row.8,
        overridden: row.9,
    })
}

/// What the publisher wrote, rendered and checked.
pub struct Publication<'a> {
    pub kind: TemplateKind,
    /// The public title (the customer template's issue); empty for internal updates.
    pub title: &'a str,
    pub body: &'a str,
    pub overridden: &'a [String],
}

/// One update as stored.
pub(crate) struct Row<'a> {
    pub incident: IncidentId,
    pub kind: TemplateKind,
    pub title: &'a str,
    pub body: &'a str,
    /// The public status word it gives the incident.
    pub public_status: &'a str,
    pub next_update_at: Option<DateTime<Utc>>,
    pub overridden: &'a [String],
}

/// Stores an update; returns its id.
pub(crate) async fn insert(
    tx: &mut Tx,
    row: &Row<'_>,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let audience = match row.kind.audience() {
        Audience::Internal => "internal",
        Audience::Customer => "customer",
    };
    tx.scalar(
        sql("INSERT INTO stakeholder_updates (incident_id, kind, audience, title, body, public_status, \
         published_by, published_at, next_update_at, overridden) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(row.incident.0)
        .bind(row.kind.as_str())
        .bind(audience)
        .bind(row.title)
        .bind(row.body)
        .bind(row.public_status)
        .bind(by.0)
        .bind(now)
        .bind(row.next_update_at)
        .bind(row.overridden.join("\n")),
    )
    .await
}

/// Queues an update for the webhooks and mail subscribers who should hear of
/// it, in the publishing transaction.
pub(crate) async fn send_out(
    tx: &mut Tx,
    update_id: i64,
    incident: &Incident,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let customer = audience == Audience::Customer;
    tx.execute(
        sql("INSERT INTO webhook_deliveries (webhook_id, update_id, state, attempts, next_attempt_at, created_at) \
             SELECT w.id, $1, 'pending', 0, $2, $2 FROM webhooks w \
             WHERE w.active = TRUE AND ($3 OR (w.audience = 'all' AND NOT $4)) \
             AND (NOT EXISTS (SELECT 1 FROM webhook_components wc WHERE wc.webhook_id = w.id) \
                  OR EXISTS (SELECT 1 FROM webhook_components wc \
                             JOIN incident_components ic ON ic.component_id = wc.component_id \
                             WHERE wc.webhook_id = w.id AND ic.incident_id = $5))")
        .bind(update_id)
        .bind(now)
        .bind(customer)
        // Internal updates of a restricted incident stay inside it: no company-wide channel.
        .bind(incident.restricted)
        // A webhook following components hears of incidents that affect one of them.
        .bind(incident.id.0),
    )
    .await?;
    if customer {
        super::subscriptions::queue_update(tx, update_id, incident.id.0, now).await?;
    }
    Ok(())
}

/// Queues a newly scheduled maintenance window for every active webhook
/// that follows one of its components, or everything.
pub(crate) async fn send_maintenance_out(
    tx: &mut Tx,
    maintenance_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("INSERT INTO webhook_deliveries (webhook_id, maintenance_id, state, attempts, next_attempt_at, created_at) \
             SELECT w.id, $1, 'pending', 0, $2, $2 FROM webhooks w \
             WHERE w.active = TRUE \
             AND (NOT EXISTS (SELECT 1 FROM webhook_components wc WHERE wc.webhook_id = w.id) \
                  OR EXISTS (SELECT 1 FROM webhook_components wc \
                             JOIN maintenance_components mc ON mc.component_id = wc.component_id \
                             WHERE wc.webhook_id = w.id AND mc.maintenance_id = $1))")
        .bind(maintenance_id)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Publishes an update as `by`, who must be allowed to speak for the incident.
/// Returns the update and the incident it belongs to.
pub async fn publish(
    db: &Db,
    id: IncidentId,
    publication: &Publication<'_>,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(PublishedUpdate, Incident), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let incident = incident_for_change(&mut tx, id, false).await?;
    require_speaker(&mut tx, id, by).await?;
    let next_update_at = incident
        .status
        .is_active()
        .then(|| now + Duration::minutes(incident.update_cadence_minutes));
    let update_id = insert(
        &mut tx,
        &Row {
            incident: id,
            kind: publication.kind,
            title: publication.title,
            body: publication.body,
            public_status: crate::domain::status::public_status(incident.status),
            next_update_at,
            overridden: publication.overridden,
        },
        by,
        now,
    )
    .await?;
    tick(&mut tx, id.0, RhythmItem::FirstStakeholderUpdate, by.0, now).await?;
    let name = name_of(&mut tx, by.0).await?;
    let entry = crate::domain::timeline::Happened::UpdatePublished {
        by: name,
        kind: publication.kind,
        overridden: publication.overridden.to_vec(),
    };
    event(&mut tx, id.0, by.0, now, entry).await?;
    send_out(
        &mut tx,
        update_id,
        &incident,
        publication.kind.audience(),
        now,
    )
    .await?;
    let row: UpdateRow = tx
        .fetch_one(sql(format!("{UPDATE_SELECT} WHERE u.id = $1")).bind(update_id))
        .await?;
    let out = (decode_update(row)?, incident);
    tx.commit().await?;
    Ok(out)
}

/// Every update of an incident, newest first.
pub async fn for_incident(db: &Db, id: IncidentId) -> Result<Vec<PublishedUpdate>, StoreError> {
    let rows: Vec<UpdateRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "{UPDATE_SELECT} WHERE u.incident_id = $1 ORDER BY u.id DESC"
        ))
        .bind(id.0)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(decode_update).collect()
}

/// A stakeholder's question and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    pub asked_by: UserId,
    pub asked_by_name: String,
    pub asked_at: DateTime<Utc>,
    pub question: String,
    pub state: QuestionState,
    pub answer: String,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
}

/// Queues a question for the Comms Lead. It never reaches the responder timeline.
pub async fn ask(
    db: &Db,
    id: IncidentId,
    by: UserId,
    question: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    records_incident(&mut tx, id).await?;
    let question_id: i64 = tx.scalar(
        sql("INSERT INTO stakeholder_questions (incident_id, asked_by, asked_at, question, state) \
         VALUES ($1, $2, $3, $4, 'open') RETURNING id")
            .bind(id.0)
            .bind(by.0)
            .bind(now)
            .bind(question),
    ).await?;
    tx.commit().await?;
    Ok(question_id)
}

/// Every question on an incident, oldest first.
pub async fn questions(db: &Db, id: IncidentId) -> Result<Vec<Question>, StoreError> {
    type Row = (
        i64,
        i64,
        String,
        DateTime<Utc>,
        String,
        String,
        String,
        Option<String>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT q.id, q.asked_by, a.name, q.asked_at, q.question, q.state, q.answer, h.name, q.handled_at \
             FROM stakeholder_questions q JOIN users a ON a.id = q.asked_by \
             LEFT JOIN users h ON h.id = q.handled_by \
             WHERE q.incident_id = $1 ORDER BY q.id",
        )
        .bind(id.0)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|r| {
            Ok(Question {
                id: r.0,
                asked_by: UserId(r.1),
                asked_by_name: r.2,
                asked_at: r.3,
                question: r.4,
                state: QuestionState::parse(&r.5)
                    .ok_or_else(|| StoreError::Corrupt(format!("question state {:?}", r.5)))?,
                answer: r.6,
                handled_by: r.7,
                handled_at: r.8,
            })
        })
        .collect()
}

/// Answers (`Some`) or dismisses (`None`) an open question, as someone who may
/// speak for the incident.
pub async fn handle_question(
    db: &Db,
    id: IncidentId,
    question_id: i64,
    answer: Option<&str>,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    records_incident(&mut tx, id).await?;
    require_speaker(&mut tx, id, by).await?;
    let state = match answer {
        Some(_) => QuestionState::Answered,
        None => QuestionState::Dismissed,
    };
    let handled = tx.execute(
        sql("UPDATE stakeholder_questions SET state = $1, answer = $2, handled_by = $3, handled_at = $4 \
         WHERE id = $5 AND incident_id = $6 AND state = 'open'")
            .bind(state.as_str())
            .bind(answer.unwrap_or(""))
            .bind(by.0)
            .bind(now)
            .bind(question_id)
            .bind(id.0),
    ).await?;
    if handled == 0 {
        let exists: Option<i64> = tx
            .scalar_optional(
                sql("SELECT id FROM stakeholder_questions WHERE id = $1 AND incident_id = $2")
                    .bind(question_id)
                    .bind(id.0),
            )
            .await?;
        return Err(match exists {
            Some(_) => IncidentChangeError::Stale,
            None => IncidentChangeError::NotFound,
        });
    }
    tx.commit().await?;
    Ok(())
}

/// Whether `user` may speak for incident `id` now (for showing the composer).
pub async fn may_speak(db: &Db, id: IncidentId, user: UserId) -> Result<bool, StoreError> {
    let comms = super::incidents::holder(db, id, IncidentRole::CommsLead).await?;
    let ic = super::incidents::holder(db, id, IncidentRole::IncidentCommander).await?;
    Ok(roles::may_speak(user, comms, ic).is_ok())
}
