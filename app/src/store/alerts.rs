//! Integrations, the alert groups their events fold into, and change events.
//!
//! Every event is one transaction. De-duplication comes first: a repeat of
//! an open group only counts (`events`, `last_event_at`) and announces
//! nothing, so a storm about one group costs one row update per event and
//! no live traffic. Only what people can see change (a new group, a state,
//! an alert in the group starting or ending) is announced.

use super::changes::Subject;
use super::tx::{sql, Tx};
use super::{read, Db, StoreError};
use crate::domain::alerts::{
    AlertAction, AlertEvent, AlertGroup, AlertState, ChangeEvent, IntegrationKind, RecentChange,
    SenderSeverity, SeverityMap,
};
use crate::domain::incidents::Severity;
use crate::domain::timeline::Happened;
use crate::domain::users::UserId;
use chrono::{DateTime, Utc};

/// An integration as admins manage it (the secret is never kept, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    pub id: i64,
    pub name: String,
    pub kind: IntegrationKind,
    pub severity_map: SeverityMap,
    pub paused: bool,
    /// Declare an incident for each new group this bad or worse.
    pub auto_declare: Option<Severity>,
    /// The admin who connected it: the declarer of record of what it declares.
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    /// The last event any of its groups received.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Its groups still open.
    pub open_groups: i64,
}

type IntegrationRow = (
    i64,
    String,
    String,
    String,
    bool,
    Option<String>,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    i64,
);

const INTEGRATION_COLUMNS: &str =
    "i.id, i.name, i.kind, i.severity_map, i.paused, i.auto_declare, i.created_by, i.created_at, i.rotated_at, \
     (SELECT MAX(g.last_event_at) FROM alert_groups g WHERE g.integration_id = i.id), \
     (SELECT COUNT(*) FROM alert_groups g WHERE g.integration_id = i.id AND g.state <> 'resolved')";

fn decode_integration(row: IntegrationRow) -> Result<Integration, StoreError> {
    let auto_declare = match row.5.as_deref() {
        None => None,
        Some(raw) => Some(
            Severity::parse("auto_declare", raw)
                .map_err(|_| StoreError::Corrupt(format!("auto_declare {raw:?}")))?,
        ),
    };
    Ok(Integration {
        kind: IntegrationKind::parse("kind", &row.2)
            .map_err(|_| StoreError::Corrupt(format!("integration kind {:?}", row.2)))?,
        severity_map: SeverityMap::from_stored(&row.3)
            .ok_or_else(|| StoreError::Corrupt(format!("severity map {:?}", row.3)))?,
        id: row.0,
        name: row.1,
        paused: row.4,
        auto_declare,
        created_by: UserId(row.6),
        created_at: row.7,
        rotated_at: row.8,
        last_event_at: row.9,
        open_groups: row.10,
    })
}

pub async fn integrations(db: &Db) -> Result<Vec<Integration>, StoreError> {
    let rows: Vec<IntegrationRow> = read!(db, pool => {
        sqlx::query_as(&format!("SELECT {INTEGRATION_COLUMNS} FROM integrations i ORDER BY i.id"))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(decode_integration).collect()
}

/// The integration whose secret hashes to `secret_hash`, of `kind`.
pub async fn integration_by_secret(
    db: &Db,
    kind: IntegrationKind,
    secret_hash: &str,
) -> Result<Option<Integration>, StoreError> {
    let row: Option<IntegrationRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations i WHERE i.secret_hash = $1 AND i.kind = $2"
        ))
        .bind(secret_hash)
        .bind(kind.as_str())
        .fetch_optional(pool)
        .await?
    });
    row.map(decode_integration).transpose()
}

pub async fn integration(db: &Db, id: i64) -> Result<Option<Integration>, StoreError> {
    let row: Option<IntegrationRow> = read!(db, pool => {
        sqlx::query_as(&format!("SELECT {INTEGRATION_COLUMNS} FROM integrations i WHERE i.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    row.map(decode_integration).transpose()
}

/// What an admin chooses for an integration beside its name and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrationSettings {
    pub severity_map: SeverityMap,
    pub auto_declare: Option<Severity>,
}

/// Adds an integration; answers its id.
pub async fn add_integration(
    db: &Db,
    name: &str,
    kind: IntegrationKind,
    settings: IntegrationSettings,
    secret_hash: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    let id: i64 = tx
        .scalar(
            sql("INSERT INTO integrations (name, kind, secret_hash, severity_map, auto_declare, paused, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7) RETURNING id")
            .bind(name)
            .bind(kind.as_str())
            .bind(secret_hash)
            .bind(settings.severity_map.to_stored())
            .bind(settings.auto_declare.map(Severity::as_str))
            .bind(by.0)
            .bind(now),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces an integration's secret; false when there is no such integration.
pub async fn rotate_secret(
    db: &Db,
    id: i64,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            sql("UPDATE integrations SET secret_hash = $1, rotated_at = $2 WHERE id = $3")
                .bind(secret_hash)
                .bind(now)
                .bind(id),
        )
        .await?;
    tx.commit().await?;
    Ok(changed == 1)
}

/// Pauses or resumes an integration and sets what it may do; false when
/// there is no such integration.
pub async fn update_integration(
    db: &Db,
    id: i64,
    paused: bool,
    settings: IntegrationSettings,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            sql("UPDATE integrations SET paused = $1, severity_map = $2, auto_declare = $3 WHERE id = $4")
                .bind(paused)
                .bind(settings.severity_map.to_stored())
                .bind(settings.auto_declare.map(Severity::as_str))
                .bind(id),
        )
        .await?;
    tx.commit().await?;
    Ok(changed == 1)
}

/// What one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Into this group; `changed` when people can see a difference,
    /// `opened` when the event opened it.
    Group {
        id: i64,
        changed: bool,
        opened: bool,
    },
    /// An acknowledge or resolve for a key with no open group: dropped, as
    /// PagerDuty does.
    Dropped,
}

/// Folds one event into its alert group, in one transaction.
pub async fn record_event(
    db: &Db,
    integration: &Integration,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let mut tx = db.begin().await?;
    let recorded = match event.action {
        AlertAction::Trigger => trigger(&mut tx, integration, event, now).await?,
        AlertAction::Acknowledge => acknowledge(&mut tx, integration, event, now).await?,
        AlertAction::Resolve => resolve(&mut tx, integration, event, now).await?,
    };
    tx.commit().await?;
    Ok(recorded)
}

async fn trigger(
    tx: &mut Tx,
    integration: &Integration,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let severity = integration.severity_map.map(event.severity);
    let details = serde_json::to_string(&event.details)
        .map_err(|e| StoreError::Corrupt(format!("alert details: {e}")))?;
    // A repeat of an open group only counts; on PostgreSQL the conflicting
    // row stays locked until commit, so a resolve racing this trigger either
    // comes first (and this opens a new group) or after (and resolves it).
    let (id, events, incident): (i64, i64, Option<i64>) = tx
        .fetch_one(
            sql("INSERT INTO alert_groups (integration_id, dedup_key, state, summary, source, sender_severity, \
                 severity, details, link, started_at, received_at, last_event_at, events) \
                 VALUES ($1, $2, 'firing', $3, $4, $5, $6, $7, $8, $9, $10, $10, 1) \
                 ON CONFLICT (integration_id, dedup_key) WHERE state <> 'resolved' \
                 DO UPDATE SET events = alert_groups.events + 1, last_event_at = excluded.last_event_at \
                 RETURNING id, events, incident_id")
            .bind(integration.id)
            .bind(event.dedup_key.as_str())
            .bind(event.summary.as_str())
            .bind(event.source.as_str())
            .bind(event.severity.as_str())
            .bind(severity.as_str())
            .bind(details)
            .bind(event.link.as_deref())
            .bind(event.started_at.unwrap_or(now).min(now))
            .bind(now),
        )
        .await?;
    let mut changed = events == 1;
    for item in &event.alerts {
        // Inserted, or an alert that started or stopped firing.
        let touched = tx
            .execute(
                sql("INSERT INTO alert_items (group_id, fingerprint, firing, summary, starts_at, ends_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (group_id, fingerprint) DO UPDATE SET firing = excluded.firing, \
                     ends_at = excluded.ends_at WHERE alert_items.firing <> excluded.firing")
                .bind(id)
                .bind(item.fingerprint.as_str())
                .bind(item.firing)
                .bind(item.summary.as_str())
                .bind(item.starts_at)
                .bind(item.ends_at),
            )
            .await?;
        changed |= touched > 0;
    }
    if changed {
        tx.records(Subject::Alerts);
        if let Some(incident) = incident {
            super::incidents::records_incident(tx, crate::domain::incidents::IncidentId(incident))
                .await?;
        }
    }
    Ok(Recorded::Group {
        id,
        changed,
        opened: events == 1,
    })
}

async fn acknowledge(
    tx: &mut Tx,
    integration: &Integration,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let found: Option<(i64, Option<i64>)> = tx
        .fetch_optional(
            sql("UPDATE alert_groups SET events = events + 1, last_event_at = $1, state = 'acknowledged' \
                 WHERE integration_id = $2 AND dedup_key = $3 AND state <> 'resolved' \
                 RETURNING id, incident_id")
            .bind(now)
            .bind(integration.id)
            .bind(event.dedup_key.as_str()),
        )
        .await?;
    let Some((id, incident)) = found else {
        return Ok(Recorded::Dropped);
    };
    // Whether it was firing until now cannot be read back portably; an
    // acknowledge is rare enough to announce every time.
    tx.records(Subject::Alerts);
    if let Some(incident) = incident {
        super::incidents::records_incident(tx, crate::domain::incidents::IncidentId(incident))
            .await?;
    }
    Ok(Recorded::Group {
        id,
        changed: true,
        opened: false,
    })
}

async fn resolve(
    tx: &mut Tx,
    integration: &Integration,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let found: Option<(i64, Option<i64>, String, String)> = tx
        .fetch_optional(
            sql("UPDATE alert_groups SET events = events + 1, last_event_at = $1, state = 'resolved', \
                 resolved_at = $1 WHERE integration_id = $2 AND dedup_key = $3 AND state <> 'resolved' \
                 RETURNING id, incident_id, summary, source")
            .bind(now)
            .bind(integration.id)
            .bind(event.dedup_key.as_str()),
        )
        .await?;
    let Some((id, incident, summary, source)) = found else {
        return Ok(Recorded::Dropped);
    };
    for item in &event.alerts {
        tx.execute(
            sql("UPDATE alert_items SET firing = FALSE, ends_at = $1 WHERE group_id = $2 AND fingerprint = $3")
                .bind(item.ends_at.unwrap_or(now))
                .bind(id)
                .bind(item.fingerprint.as_str()),
        )
        .await?;
    }
    tx.execute(
        sql("UPDATE alert_items SET firing = FALSE, ends_at = COALESCE(ends_at, $1) WHERE group_id = $2 AND firing")
            .bind(now)
            .bind(id),
    )
    .await?;
    tx.records(Subject::Alerts);
    if let Some(incident) = incident {
        super::incidents::records_incident(tx, crate::domain::incidents::IncidentId(incident))
            .await?;
        super::incidents::event(
            tx,
            incident,
            None::<i64>,
            now,
            Happened::AlertResolved { summary, source },
        )
        .await?;
    }
    Ok(Recorded::Group {
        id,
        changed: true,
        opened: false,
    })
}

/// Declares an incident for group `group`, just opened by `integration`,
/// when the integration declares automatically at the group's severity (Sev1
/// is the worst: a threshold of Sev2 takes Sev1 and Sev2). Nobody becomes IC;
/// the integration's owner is the declarer of record. Answers the number.
pub async fn declare_automatically(
    db: &Db,
    integration: &Integration,
    group: i64,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    use super::incidents::{declare, Declaration, IncidentChangeError};
    use crate::domain::incidents::IncidentTitle;
    let Some(threshold) = integration.auto_declare else {
        return Ok(None);
    };
    let Some(found) = self::group(db, group).await? else {
        return Ok(None);
    };
    if found.severity > threshold || found.incident.is_some() {
        return Ok(None);
    }
    let title = IncidentTitle::parse(
        "title",
        &found.summary.chars().take(200).collect::<String>(),
    )
    .or_else(|_| IncidentTitle::parse("title", &format!("Alert from {}", integration.name)))
    .map_err(|e| StoreError::Corrupt(e.message))?;
    let impact = found.impact_text();
    let declaration = Declaration {
        title: &title,
        severity: found.severity,
        impact: &impact,
        best_guess: "",
        bridge_url: "",
        restricted: false,
        alert: Some(group),
        by_integration: Some(&integration.name),
    };
    match declare(db, &declaration, integration.created_by, now).await {
        Ok(incident) => Ok(Some(incident.number)),
        // Attached or dismissed by a person in the meantime.
        Err(IncidentChangeError::Invalid(_)) => Ok(None),
        Err(IncidentChangeError::Store(e)) => Err(e),
        Err(other) => Err(StoreError::Corrupt(other.to_string())),
    }
}

/// Keeps a change event.
pub async fn record_change(
    db: &Db,
    integration: &Integration,
    change: &ChangeEvent,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    let id: i64 = tx
        .scalar(
            sql("INSERT INTO change_events (integration_id, summary, source, link, happened_at, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(integration.id)
            .bind(change.summary.as_str())
            .bind(change.source.as_str())
            .bind(change.link.as_deref())
            .bind(change.happened_at.unwrap_or(now).min(now))
            .bind(now),
        )
        .await?;
    // Open war rooms list recent changes: each of them changed.
    let open: Vec<(i64,)> = tx
        .fetch_all(sql(
            "SELECT number FROM incidents WHERE status <> 'resolved'",
        ))
        .await?;
    for (number,) in open {
        tx.records(Subject::Incident(number));
    }
    tx.commit().await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: i64,
    integration: String,
    kind: String,
    state: String,
    summary: String,
    source: String,
    sender_severity: String,
    severity: String,
    details: String,
    link: Option<String>,
    started_at: DateTime<Utc>,
    last_event_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    events: i64,
    alerts: i64,
    firing: i64,
    incident: Option<i64>,
}

const GROUP_COLUMNS: &str = "g.id, i.name AS integration, i.kind, g.state, g.summary, g.source, \
     g.sender_severity, g.severity, g.details, g.link, g.started_at, g.last_event_at, g.resolved_at, \
     g.events, (SELECT COUNT(*) FROM alert_items a WHERE a.group_id = g.id) AS alerts, \
     (SELECT COUNT(*) FROM alert_items a WHERE a.group_id = g.id AND a.firing) AS firing, \
     (SELECT n.number FROM incidents n WHERE n.id = g.incident_id) AS incident";

fn decode_group(row: GroupRow) -> Result<AlertGroup, StoreError> {
    let id = row.id;
    let corrupt = |what: &str, value: &str| {
        StoreError::Corrupt(format!("alert group {id}: {what} {value:?}"))
    };
    Ok(AlertGroup {
        kind: IntegrationKind::parse("kind", &row.kind).map_err(|_| corrupt("kind", &row.kind))?,
        state: AlertState::parse(&row.state).ok_or_else(|| corrupt("state", &row.state))?,
        sender_severity: SenderSeverity::parse(&row.sender_severity)
            .ok_or_else(|| corrupt("sender severity", &row.sender_severity))?,
        severity: Severity::parse("severity", &row.severity)
            .map_err(|_| corrupt("severity", &row.severity))?,
        details: serde_json::from_str(&row.details)
            .map_err(|_| corrupt("details", &row.details))?,
        id,
        integration: row.integration,
        summary: row.summary,
        source: row.source,
        link: row.link,
        started_at: row.started_at,
        last_event_at: row.last_event_at,
        resolved_at: row.resolved_at,
        events: row.events,
        alerts: row.alerts,
        firing: row.firing,
        incident: row.incident,
    })
}

/// The most groups the inbox lists.
pub const INBOX_AT_MOST: i64 = 200;

/// Open groups tied to no incident and not dismissed, newest first.
pub async fn inbox(db: &Db) -> Result<Vec<AlertGroup>, StoreError> {
    let rows: Vec<GroupRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM alert_groups g JOIN integrations i ON i.id = g.integration_id \
             WHERE g.state <> 'resolved' AND g.incident_id IS NULL AND g.dismissed_at IS NULL \
             ORDER BY g.received_at DESC, g.id DESC LIMIT $1"
        ))
        .bind(INBOX_AT_MOST)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(decode_group).collect()
}

pub async fn group(db: &Db, id: i64) -> Result<Option<AlertGroup>, StoreError> {
    let row: Option<GroupRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM alert_groups g JOIN integrations i ON i.id = g.integration_id WHERE g.id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?
    });
    row.map(decode_group).transpose()
}

/// The groups attached to incident `id`, firing first, then newest.
pub async fn attached(db: &Db, incident: i64) -> Result<Vec<AlertGroup>, StoreError> {
    let rows: Vec<GroupRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM alert_groups g JOIN integrations i ON i.id = g.integration_id \
             WHERE g.incident_id = $1 ORDER BY (g.state = 'resolved'), g.started_at DESC LIMIT 100"
        ))
        .bind(incident)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(decode_group).collect()
}

/// Change events between `from` and `until`, newest first (at most 20).
pub async fn changes_between(
    db: &Db,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<RecentChange>, StoreError> {
    type Row = (String, String, String, Option<String>, DateTime<Utc>);
    let rows: Vec<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT i.name, c.summary, c.source, c.link, c.happened_at FROM change_events c \
             JOIN integrations i ON i.id = c.integration_id \
             WHERE c.happened_at >= $1 AND c.happened_at <= $2 ORDER BY c.happened_at DESC LIMIT 20",
        )
        .bind(from)
        .bind(until)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(integration, summary, source, link, happened_at)| RecentChange {
                integration,
                summary,
                source,
                link,
                happened_at,
            },
        )
        .collect())
}

/// Why a group could not be attached or dismissed.
#[derive(Debug, thiserror::Error)]
pub enum AlertChangeError {
    #[error("no such alert")]
    NotFound,
    /// Already attached to incident number `.0`.
    #[error("the alert is already attached to INC-{0}")]
    Attached(i64),
    #[error("the alert was dismissed")]
    Dismissed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AlertChangeError {
    fn from(e: sqlx::Error) -> Self {
        AlertChangeError::Store(StoreError::Sqlx(e))
    }
}

/// Ties group `group` to incident id `incident` inside `tx` (declare uses it
/// too), and writes the timeline entry, naming `by` or, for an automatic
/// declaration, the integration. A group is attached once.
pub(crate) async fn attach_in(
    tx: &mut Tx,
    group: i64,
    incident: i64,
    by: UserId,
    by_integration: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AlertChangeError> {
    let claimed: Option<(String, String, DateTime<Utc>)> = tx
        .fetch_optional(
            sql(
                "UPDATE alert_groups SET incident_id = $1, attached_at = $2 \
                 WHERE id = $3 AND incident_id IS NULL AND dismissed_at IS NULL \
                 RETURNING summary, source, started_at",
            )
            .bind(incident)
            .bind(now)
            .bind(group),
        )
        .await?;
    let Some((summary, source, fired_at)) = claimed else {
        let found: Option<(Option<i64>, bool)> = tx
            .fetch_optional(
                sql(
                    "SELECT (SELECT n.number FROM incidents n WHERE n.id = g.incident_id), \
                     g.dismissed_at IS NOT NULL FROM alert_groups g WHERE g.id = $1",
                )
                .bind(group),
            )
            .await?;
        return Err(match found {
            None => AlertChangeError::NotFound,
            Some((Some(number), _)) => AlertChangeError::Attached(number),
            Some((None, _)) => AlertChangeError::Dismissed,
        });
    };
    let name = match by_integration {
        Some(integration) => integration.to_owned(),
        None => super::incidents::name_of(tx, by.0).await?,
    };
    super::incidents::event(
        tx,
        incident,
        by_integration.is_none().then_some(by.0),
        now,
        Happened::AlertAttached {
            by: name,
            summary,
            source,
            fired_at,
        },
    )
    .await?;
    tx.records(Subject::Alerts);
    super::incidents::records_incident(tx, crate::domain::incidents::IncidentId(incident)).await?;
    Ok(())
}

/// Attaches a group to an open incident (by number).
pub async fn attach(
    db: &Db,
    group: i64,
    incident_number: i64,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), AlertChangeError> {
    let mut tx = db.begin().await?;
    let incident: Option<i64> = tx
        .scalar_optional(sql("SELECT id FROM incidents WHERE number = $1").bind(incident_number))
        .await?;
    let Some(incident) = incident else {
        return Err(AlertChangeError::NotFound);
    };
    attach_in(&mut tx, group, incident, by, None, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a group out of the inbox with a reason; it keeps counting events
/// until it resolves, and a later trigger after that is new.
pub async fn dismiss(
    db: &Db,
    group: i64,
    reason: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), AlertChangeError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            sql("UPDATE alert_groups SET dismissed_at = $1, dismissed_by = $2, dismiss_reason = $3 \
                 WHERE id = $4 AND incident_id IS NULL AND dismissed_at IS NULL")
            .bind(now)
            .bind(by.0)
            .bind(reason)
            .bind(group),
        )
        .await?;
    if changed == 0 {
        let found: Option<Option<i64>> = tx
            .fetch_optional(
                sql("SELECT (SELECT n.number FROM incidents n WHERE n.id = g.incident_id) FROM alert_groups g WHERE g.id = $1")
                    .bind(group),
            )
            .await?
            .map(|(n,): (Option<i64>,)| n);
        return Err(match found {
            None => AlertChangeError::NotFound,
            Some(Some(number)) => AlertChangeError::Attached(number),
            Some(None) => AlertChangeError::Dismissed,
        });
    }
    tx.records(Subject::Alerts);
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alerts::AlertItem;
    use crate::domain::users::OrgRole;
    use crate::store::testing::{fresh_databases, person};

    async fn pagerduty(db: &Db) -> Integration {
        declaring_from(db, None).await
    }

    /// A PagerDuty integration that declares from `auto_declare` or worse.
    async fn declaring_from(db: &Db, auto_declare: Option<Severity>) -> Integration {
        let admin = person(db, "Ada", OrgRole::Admin).await;
        let id = add_integration(
            db,
            "Uptime",
            IntegrationKind::PagerDuty,
            IntegrationSettings {
                severity_map: SeverityMap::default(),
                auto_declare,
            },
            "hash",
            admin,
            Utc::now(),
        )
        .await
        .expect("integration");
        integration(db, id).await.expect("read").expect("found")
    }

    fn event(action: AlertAction, key: &str) -> AlertEvent {
        AlertEvent {
            action,
            dedup_key: key.to_owned(),
            key_generated: false,
            summary: "API down".to_owned(),
            source: "probe".to_owned(),
            severity: SenderSeverity::Error,
            started_at: None,
            details: vec![("region".to_owned(), "eu".to_owned())],
            link: None,
            alerts: vec![AlertItem {
                fingerprint: key.to_owned(),
                firing: action == AlertAction::Trigger,
                summary: "API down".to_owned(),
                starts_at: None,
                ends_at: None,
            }],
        }
    }

    async fn alerts_announced(db: &Db) -> i64 {
        read!(db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM change_log WHERE kind = 'alerts'")
                .fetch_one(pool)
                .await
                .expect("count")
        })
    }

    #[tokio::test]
    async fn a_storm_about_one_group_changes_one_group_and_announces_it_once() {
        for db in fresh_databases().await {
            let uptime = pagerduty(&db).await;
            for _ in 0..500 {
                record_event(
                    &db,
                    &uptime,
                    &event(AlertAction::Trigger, "api"),
                    Utc::now(),
                )
                .await
                .expect("recorded");
            }
            let open = inbox(&db).await.expect("inbox");
            assert_eq!(open.len(), 1, "{}", db.backend());
            assert_eq!(open[0].events, 500);
            assert_eq!(open[0].severity, Severity::Sev2);
            assert_eq!(alerts_announced(&db).await, 1, "{}", db.backend());
        }
    }

    #[tokio::test]
    async fn a_trigger_and_a_resolve_racing_on_one_key_end_in_one_consistent_state() {
        for db in fresh_databases().await {
            let uptime = pagerduty(&db).await;
            for round in 0..20 {
                let key = format!("race-{round}");
                record_event(&db, &uptime, &event(AlertAction::Trigger, &key), Utc::now())
                    .await
                    .expect("opened");
                let (a, b) = (db.clone(), db.clone());
                let (i1, i2) = (uptime.clone(), uptime.clone());
                let (k1, k2) = (key.clone(), key.clone());
                let trigger = tokio::spawn(async move {
                    record_event(&a, &i1, &event(AlertAction::Trigger, &k1), Utc::now()).await
                });
                let resolve = tokio::spawn(async move {
                    record_event(&b, &i2, &event(AlertAction::Resolve, &k2), Utc::now()).await
                });
                let (t, r) = (
                    trigger.await.expect("joined"),
                    resolve.await.expect("joined"),
                );
                t.expect("the trigger is stored");
                let resolved = r.expect("the resolve is stored");
                assert!(
                    matches!(resolved, Recorded::Group { .. }),
                    "the open group was there to resolve"
                );
                // Either order is fine; what is never fine is two open groups
                // for one key, or a resolved group whose alerts still fire.
                let rows: Vec<(String, i64)> = read!(&db, pool => {
                    sqlx::query_as(
                        "SELECT g.state, (SELECT COUNT(*) FROM alert_items a WHERE a.group_id = g.id AND a.firing) \
                         FROM alert_groups g WHERE g.dedup_key = $1",
                    )
                    .bind(&key)
                    .fetch_all(pool)
                    .await
                    .expect("rows")
                });
                let open = rows.iter().filter(|(state, _)| state != "resolved").count();
                assert!(open <= 1, "{}: {rows:?}", db.backend());
                for (state, firing) in &rows {
                    if state == "resolved" {
                        assert_eq!(*firing, 0, "{}: {rows:?}", db.backend());
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn an_integration_declares_for_new_groups_at_its_severity_and_nobody_becomes_ic() {
        use crate::domain::roles::IncidentRole;
        for db in fresh_databases().await {
            let uptime = declaring_from(&db, Some(Severity::Sev2)).await;
            let mut warning = event(AlertAction::Trigger, "disk");
            warning.severity = SenderSeverity::Warning;
            let Recorded::Group {
                id, opened: true, ..
            } = record_event(&db, &uptime, &warning, Utc::now())
                .await
                .expect("recorded")
            else {
                panic!("a new group");
            };
            let declared = declare_automatically(&db, &uptime, id, Utc::now())
                .await
                .expect("asked");
            assert_eq!(declared, None, "Sev3 is below the Sev2 threshold");

            let Recorded::Group { id, .. } = record_event(
                &db,
                &uptime,
                &event(AlertAction::Trigger, "api"),
                Utc::now(),
            )
            .await
            .expect("recorded") else {
                panic!("a new group");
            };
            let number = declare_automatically(&db, &uptime, id, Utc::now())
                .await
                .expect("declared")
                .expect("Sev2 reaches the threshold");
            let incident = super::super::incidents::find_by_number(&db, number)
                .await
                .expect("read")
                .expect("found");
            assert_eq!(incident.severity, Severity::Sev2);
            assert_eq!(incident.title, "API down");
            let ic =
                super::super::incidents::holder(&db, incident.id, IncidentRole::IncidentCommander)
                    .await
                    .expect("read");
            assert_eq!(
                ic,
                None,
                "{}: an automatic declaration makes nobody IC",
                db.backend()
            );
            let attached = attached(&db, incident.id.0).await.expect("attached");
            assert_eq!(attached.len(), 1);
            // Asking again (a second replica, a retry) declares nothing more.
            assert_eq!(
                declare_automatically(&db, &uptime, id, Utc::now())
                    .await
                    .expect("asked"),
                None
            );
            assert_eq!(
                inbox(&db).await.expect("inbox").len(),
                1,
                "the Sev3 group still waits"
            );
        }
    }

    #[tokio::test]
    async fn acknowledging_or_resolving_an_unknown_key_is_dropped() {
        for db in fresh_databases().await {
            let uptime = pagerduty(&db).await;
            for action in [AlertAction::Acknowledge, AlertAction::Resolve] {
                let recorded = record_event(&db, &uptime, &event(action, "ghost"), Utc::now())
                    .await
                    .expect("answered");
                assert_eq!(recorded, Recorded::Dropped);
            }
            assert!(inbox(&db).await.expect("inbox").is_empty());
        }
    }
}
