//! The public status page: components, which incidents affect them,
//! maintenance windows, and the snapshot the public routes are served from.

use super::changes::Subject;
use super::incidents::{
    event, incident_for_change, name_of, require_speaker, Incident, IncidentChangeError,
    IncidentRow, INCIDENT_COLUMNS,
};
use super::tx::sql;
use super::{read, Db, StoreError};
use crate::domain::incidents::{IncidentId, IncidentStatus, Severity};
use crate::domain::status::{ComponentStatus, MaintenanceState};
use crate::domain::timeline::Happened;
use crate::domain::users::UserId;
use chrono::{DateTime, Duration, Utc};

/// How many days of history the public page keeps.
pub const HISTORY_DAYS: i64 = 90;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub id: i64,
    pub name: String,
    pub group_name: String,
    pub description: String,
    pub position: i64,
    /// As an admin set it; the public page shows the worse of this and what
    /// active incidents and maintenance windows say.
    pub status: ComponentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type ComponentRow = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn decode_component(r: ComponentRow) -> Result<Component, StoreError> {
    Ok(Component {
        status: ComponentStatus::parse("status", &r.5)
            .map_err(|_| StoreError::Corrupt(format!("component status {:?}", r.5)))?,
        id: r.0,
        name: r.1,
        group_name: r.2,
        description: r.3,
        position: r.4,
        created_at: r.6,
        updated_at: r.7,
    })
}

const COMPONENT_SELECT: &str =
    "SELECT id, name, group_name, description, position, status, created_at, updated_at \
     FROM components WHERE archived = FALSE ORDER BY position, id";

/// The components customers see, in page order.
pub async fn components(db: &Db) -> Result<Vec<Component>, StoreError> {
    let rows: Vec<ComponentRow> = read!(db, pool => {
        sqlx::query_as(COMPONENT_SELECT).fetch_all(pool).await?
    });
    rows.into_iter().map(decode_component).collect()
}

/// What an admin types for a component.
pub struct ComponentFields<'a> {
    pub name: &'a str,
    pub group_name: &'a str,
    pub description: &'a str,
}

/// Adds a component at the end of the page.
pub async fn add_component(
    db: &Db,
    fields: &ComponentFields<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    tx.records(Subject::Status);
    let position: i64 = tx
        .scalar(sql("SELECT COALESCE(MAX(position), 0) + 1 FROM components"))
        .await?;
    let id: i64 = tx.scalar(
        sql("INSERT INTO components (name, group_name, description, position, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'operational', $5, $5) RETURNING id")
            .bind(fields.name)
            .bind(fields.group_name)
            .bind(fields.description)
            .bind(position)
            .bind(now),
    ).await?;
    log_component_statuses(&mut tx, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes what an admin sees of a component: name, group, description, base
/// status and place. Returns false when there is no such component.
pub async fn update_component(
    db: &Db,
    id: i64,
    fields: &ComponentFields<'_>,
    status: ComponentStatus,
    position: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    tx.records(Subject::Status);
    let changed = tx
        .execute(
            sql(
                "UPDATE components SET name = $1, group_name = $2, description = $3, status = $4, \
             position = $5, updated_at = $6 WHERE id = $7 AND archived = FALSE",
            )
            .bind(fields.name)
            .bind(fields.group_name)
            .bind(fields.description)
            .bind(status.as_str())
            .bind(position)
            .bind(now)
            .bind(id),
        )
        .await?;
    log_component_statuses(&mut tx, now).await?;
    tx.commit().await?;
    Ok(changed == 1)
}

/// Takes a component off the page (its history stays).
pub async fn archive_component(db: &Db, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    tx.records(Subject::Status);
    let changed = tx.execute(
        sql("UPDATE components SET archived = TRUE, updated_at = $1 WHERE id = $2 AND archived = FALSE")
            .bind(now)
            .bind(id),
    ).await?;
    tx.commit().await?;
    Ok(changed == 1)
}

/// The components an incident affects, with the status it gives them.
pub async fn incident_components(
    db: &Db,
    id: IncidentId,
) -> Result<Vec<(i64, ComponentStatus)>, StoreError> {
    let rows: Vec<(i64, String)> = read!(db, pool => {
        sqlx::query_as("SELECT component_id, status FROM incident_components WHERE incident_id = $1")
            .bind(id.0)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter()
        .map(|(c, s)| {
            ComponentStatus::parse("status", &s)
                .map(|s| (c, s))
                .map_err(|_| StoreError::Corrupt(format!("component status {s:?}")))
        })
        .collect()
}

/// Marks a component as affected by an incident (`Some`), or no longer (`None`).
/// Only whoever speaks for the incident may; the change lands on the timeline.
pub async fn set_incident_component(
    db: &Db,
    id: IncidentId,
    component_id: i64,
    status: Option<ComponentStatus>,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let _incident = incident_for_change(&mut tx, id, true).await?;
    require_speaker(&mut tx, id, by).await?;
    let component: Option<String> = tx
        .scalar_optional(
            sql("SELECT name FROM components WHERE id = $1 AND archived = FALSE")
                .bind(component_id),
        )
        .await?;
    let component = component.ok_or(IncidentChangeError::Invalid(
        "That component is not on the status page.",
    ))?;
    let name = name_of(&mut tx, by.0).await?;
    match status {
        Some(ComponentStatus::Operational) | None => {
            tx.execute(
                sql("DELETE FROM incident_components WHERE incident_id = $1 AND component_id = $2")
                    .bind(id.0)
                    .bind(component_id),
            )
            .await?;
            event(
                &mut tx,
                id.0,
                by.0,
                now,
                Happened::ComponentCleared {
                    by: name.clone(),
                    component: component.clone(),
                },
            )
            .await?;
        }
        Some(status) => {
            tx.execute(
                sql("INSERT INTO incident_components (incident_id, component_id, status, updated_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (incident_id, component_id) DO UPDATE SET status = $3, updated_at = $4")
                    .bind(id.0)
                    .bind(component_id)
                    .bind(status.as_str())
                    .bind(now),
            ).await?;
            event(
                &mut tx,
                id.0,
                by.0,
                now,
                Happened::ComponentMarked {
                    by: name.clone(),
                    component: component.clone(),
                    status,
                },
            )
            .await?;
        }
    }
    log_component_statuses(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Logs every component whose status customers see changed: the worse of
/// its base status and what unresolved incidents give it (maintenance
/// windows keep their own times). Every write that can change that calls this
/// in its own transaction, after its change; the lock row keeps two replicas
/// from logging what they read before the other's commit.
pub(crate) async fn log_component_statuses(
    tx: &mut super::tx::Tx,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(sql(
        "UPDATE app_locks SET n = n + 1 WHERE name = 'component_status'",
    ))
    .await?;
    let bases: Vec<(i64, String)> = tx
        .fetch_all(sql(
            "SELECT id, status FROM components WHERE archived = FALSE",
        ))
        .await?;
    let links: Vec<(i64, String)> = tx
        .fetch_all(sql(
            "SELECT c.component_id, c.status FROM incident_components c \
             JOIN incidents i ON i.id = c.incident_id WHERE i.status <> 'resolved'",
        ))
        .await?;
    let logged: Vec<(i64, String)> = tx
        .fetch_all(sql(
            "SELECT l.component_id, l.status FROM component_status_log l \
             WHERE l.id = (SELECT MAX(m.id) FROM component_status_log m WHERE m.component_id = l.component_id)",
        ))
        .await?;
    let parse = |raw: &str| {
        ComponentStatus::parse("status", raw)
            .map_err(|_| StoreError::Corrupt(format!("component status {raw:?}")))
    };
    for (component, base) in &bases {
        let mut shown = parse(base)?;
        for (linked, status) in &links {
            if linked == component {
                shown = shown.worst(parse(status)?);
            }
        }
        let last = logged
            .iter()
            .find(|(c, _)| c == component)
            .map(|(_, s)| s.as_str());
        if last != Some(shown.as_str()) {
            tx.execute(
                sql("INSERT INTO component_status_log (component_id, status, at) VALUES ($1, $2, $3)")
                    .bind(*component)
                    .bind(shown.as_str())
                    .bind(now),
            )
            .await?;
        }
    }
    Ok(())
}

/// Each component's logged status changes since `since` (and the one in
/// force at `since`), oldest first.
pub async fn status_history(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<Vec<(i64, crate::domain::uptime::StatusChange)>, StoreError> {
    let rows: Vec<(i64, String, DateTime<Utc>)> = read!(db, pool => {
        sqlx::query_as(
            "SELECT l.component_id, l.status, l.at FROM component_status_log l \
             WHERE l.at >= $1 OR l.id = (SELECT MAX(m.id) FROM component_status_log m \
                 WHERE m.component_id = l.component_id AND m.at < $1) \
             ORDER BY l.component_id, l.at, l.id",
        )
        .bind(since)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(component, status, at)| {
            let status = ComponentStatus::parse("status", &status)
                .map_err(|_| StoreError::Corrupt(format!("component status {status:?}")))?;
            Ok((
                component,
                crate::domain::uptime::StatusChange { at, status },
            ))
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub components: Vec<i64>,
}

impl Maintenance {
    pub fn state(&self, now: DateTime<Utc>) -> MaintenanceState {
        MaintenanceState::at(self.starts_at, self.ends_at, now)
    }
}

/// Maintenance windows ending after `since`, soonest first (cancelled ones too).
pub async fn maintenances(db: &Db, since: DateTime<Utc>) -> Result<Vec<Maintenance>, StoreError> {
    type Row = (
        i64,
        String,
        String,
        DateTime<Utc>,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let (rows, links): (Vec<Row>, Vec<(i64, i64)>) = read!(db, pool => {
        let rows = sqlx::query_as(
            "SELECT id, title, description, starts_at, ends_at, created_at, cancelled_at \
             FROM maintenances WHERE ends_at >= $1 ORDER BY starts_at, id",
        )
        .bind(since)
        .fetch_all(pool)
        .await?;
        let links = sqlx::query_as("SELECT maintenance_id, component_id FROM maintenance_components")
            .fetch_all(pool)
            .await?;
        (rows, links)
    });
    Ok(rows
        .into_iter()
        .map(|r| Maintenance {
            components: links.iter().filter(|l| l.0 == r.0).map(|l| l.1).collect(),
            id: r.0,
            title: r.1,
            description: r.2,
            starts_at: r.3,
            ends_at: r.4,
            created_at: r.5,
            cancelled_at: r.6,
        })
        .collect())
}

/// Schedules a maintenance window over some components.
pub async fn schedule_maintenance(
    db: &Db,
    title: &str,
    description: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
    components: &[i64],
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    tx.records(Subject::Status);
    let id: i64 = tx.scalar(
        sql("INSERT INTO maintenances (title, description, starts_at, ends_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(title)
            .bind(description)
            .bind(window.0)
            .bind(window.1)
            .bind(by.0)
            .bind(now),
    ).await?;
    for component in components {
        tx.execute(
            sql(
                "INSERT INTO maintenance_components (maintenance_id, component_id) \
             SELECT $1, id FROM components WHERE id = $2 AND archived = FALSE",
            )
            .bind(id)
            .bind(component),
        )
        .await?;
    }
    if window.1 > now {
        // Subscribers following one of its components, or everything, hear of it.
        super::subscriptions::queue_maintenance(&mut tx, id, "maintenance", now).await?;
        super::updates::send_maintenance_out(&mut tx, id, now).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Cancels a window; it leaves the public page.
pub async fn cancel_maintenance(db: &Db, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    tx.records(Subject::Status);
    let changed = tx
        .execute(
            sql("UPDATE maintenances SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL")
                .bind(now)
                .bind(id),
        )
        .await?;
    tx.commit().await?;
    Ok(changed == 1)
}

/// A customer-facing update as the public sees it: no names, no internals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUpdate {
    pub id: i64,
    pub status: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// An incident as the public sees it: only what customer-facing updates said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIncident {
    pub number: i64,
    /// The title of its newest customer-facing update.
    pub name: String,
    /// The status its newest customer-facing update gave.
    pub status: String,
    pub severity: Severity,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub monitoring_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Still being worked on inside (its components count toward the page status).
    pub active: bool,
    pub components: Vec<(i64, ComponentStatus)>,
    /// Newest first.
    pub updates: Vec<PublicUpdate>,
}

impl PublicIncident {
    /// Neither resolved nor past it (a postmortem summary follows resolution).
    pub fn is_unresolved(&self) -> bool {
        !matches!(self.status.as_str(), "resolved" | "postmortem")
    }
}

/// Everything the public routes show, read at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicSnapshot {
    pub taken_at: DateTime<Utc>,
    /// With the status customers see now.
    pub components: Vec<Component>,
    /// Newest first: unresolved ones and those updated within the history window.
    pub incidents: Vec<PublicIncident>,
    /// Not cancelled, ending within the history window or later; soonest first.
    pub maintenances: Vec<Maintenance>,
    /// Per component id, the last [`HISTORY_DAYS`] UTC days, oldest first.
    pub uptime: Vec<(i64, Vec<crate::domain::uptime::DayUptime>)>,
}

impl PublicSnapshot {
    /// The days of one component, oldest first (empty when unknown).
    pub fn uptime_of(&self, component: i64) -> &[crate::domain::uptime::DayUptime] {
        self.uptime
            .iter()
            .find(|(c, _)| *c == component)
            .map_or(&[], |(_, days)| days.as_slice())
    }

    /// The page-wide indicator: the worst component, or the impact of an unresolved incident.
    pub fn indicator(&self) -> crate::domain::status::Indicator {
        let statuses: Vec<ComponentStatus> = self.components.iter().map(|c| c.status).collect();
        let impacts: Vec<crate::domain::status::Impact> = self
            .incidents
            .iter()
            .filter(|i| i.is_unresolved())
            .map(|i| crate::domain::status::Impact::of(i.severity))
            .collect();
        crate::domain::status::overall(&statuses, &impacts)
    }
}

/// Reads the public page's data. Only customer-facing updates are read.
pub async fn public_snapshot(db: &Db, now: DateTime<Utc>) -> Result<PublicSnapshot, StoreError> {
    let since = now - Duration::days(HISTORY_DAYS);
    // Incidents with a customer-facing update in the window, or still open.
    const SHOWN: &str =
        "SELECT s.incident_id FROM stakeholder_updates s JOIN incidents j ON j.id = s.incident_id \
         WHERE s.audience = 'customer' AND (s.published_at >= $1 OR j.status <> 'resolved')";
    type UpdateRow = (i64, i64, String, String, String, DateTime<Utc>);
    type Rows = (
        Vec<UpdateRow>,
        Vec<IncidentRow>,
        Vec<(i64, i64, String)>,
        Vec<ComponentRow>,
    );
    let (updates, incidents, links, component_rows): Rows = read!(db, pool => {
        let updates = sqlx::query_as(&format!(
            "SELECT id, incident_id, title, body, public_status, published_at FROM stakeholder_updates \
             WHERE audience = 'customer' AND incident_id IN ({SHOWN}) ORDER BY id DESC"
        ))
        .bind(since)
        .fetch_all(pool)
        .await?;
        let incidents = sqlx::query_as(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id IN ({SHOWN})"
        ))
        .bind(since)
        .fetch_all(pool)
        .await?;
        let links = sqlx::query_as(
            "SELECT c.incident_id, c.component_id, c.status FROM incident_components c \
             JOIN incidents i ON i.id = c.incident_id WHERE i.status <> 'resolved'",
        )
        .fetch_all(pool)
        .await?;
        let component_rows = sqlx::query_as(COMPONENT_SELECT).fetch_all(pool).await?;
        (updates, incidents, links, component_rows)
    });
    let maintenances: Vec<Maintenance> = maintenances(db, since)
        .await?
        .into_iter()
        .filter(|m| m.cancelled_at.is_none())
        .collect();
    let links: Vec<(i64, i64, ComponentStatus)> = links
        .into_iter()
        .map(|(i, c, s)| {
            ComponentStatus::parse("status", &s)
                .map(|s| (i, c, s))
                .map_err(|_| StoreError::Corrupt(format!("component status {s:?}")))
        })
        .collect::<Result<_, _>>()?;

    let mut public = Vec::new();
    for row in incidents {
        let incident = Incident::try_from(row)?;
        let mine: Vec<&UpdateRow> = updates.iter().filter(|u| u.1 == incident.id.0).collect();
        let (Some(newest), Some(oldest)) = (mine.first(), mine.last()) else {
            continue;
        };
        let first_with = |status: &str| mine.iter().rev().find(|u| u.4 == status).map(|u| u.5);
        let status = newest.4.clone();
        public.push(PublicIncident {
            number: incident.number,
            name: newest.2.clone(),
            resolved_at: matches!(status.as_str(), "resolved" | "postmortem").then(|| {
                // The latest resolution (newest first), not the summary after it.
                mine.iter()
                    .find(|u| u.4 == "resolved")
                    .map_or(newest.5, |u| u.5)
            }),
            status,
            severity: incident.severity,
            created_at: oldest.5,
            updated_at: newest.5,
            monitoring_at: first_with("monitoring"),
            active: incident.status != IncidentStatus::Resolved,
            components: links
                .iter()
                .filter(|l| l.0 == incident.id.0)
                .map(|l| (l.1, l.2))
                .collect(),
            updates: mine
                .iter()
                .map(|u| PublicUpdate {
                    id: u.0,
                    status: u.4.clone(),
                    body: u.3.clone(),
                    at: u.5,
                })
                .collect(),
        });
    }
    public.sort_by_key(|i| std::cmp::Reverse(i.updated_at));

    let components = component_rows
        .into_iter()
        .map(|row| {
            let mut component = decode_component(row)?;
            for (_, c, status) in &links {
                if *c == component.id {
                    component.status = component.status.worst(*status);
                }
            }
            let in_maintenance = maintenances.iter().any(|m| {
                m.state(now) == MaintenanceState::InProgress && m.components.contains(&component.id)
            });
            if in_maintenance {
                component.status = component.status.worst(ComponentStatus::UnderMaintenance);
            }
            Ok(component)
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let history = status_history(db, since).await?;
    let uptime = components
        .iter()
        .map(|component| {
            let changes: Vec<_> = history
                .iter()
                .filter(|(c, _)| *c == component.id)
                .map(|(_, change)| *change)
                .collect();
            let windows: Vec<_> = maintenances
                .iter()
                .filter(|m| m.components.contains(&component.id))
                .map(|m| (m.starts_at, m.ends_at))
                .collect();
            let days = u32::try_from(HISTORY_DAYS).unwrap_or(90);
            (
                component.id,
                crate::domain::uptime::daily(&changes, &windows, days, now),
            )
        })
        .collect();
    Ok(PublicSnapshot {
        taken_at: now,
        components,
        incidents: public,
        maintenances,
        uptime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::updates::TemplateKind;
    use crate::domain::users::OrgRole;
    use crate::store::testing::{declared, fresh_databases, person};
    use crate::store::updates::{publish, Publication};

    fn fields(name: &str) -> ComponentFields<'_> {
        ComponentFields {
            name,
            group_name: "",
            description: "",
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[tokio::test]
    async fn uptime_follows_incidents_across_midnight_and_a_month_end_and_leaves_maintenance_out() {
        for db in fresh_databases().await {
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let api = add_component(&db, &fields("API"), at("2026-11-30T22:00:00Z"))
                .await
                .expect("api");
            let incident = declared(&db, ic, Severity::Sev2).await;
            set_incident_component(
                &db,
                incident.id,
                api,
                Some(ComponentStatus::PartialOutage),
                ic,
                at("2026-11-30T23:30:00Z"),
            )
            .await
            .expect("mark");
            // Marking it again with the same status logs nothing new.
            set_incident_component(
                &db,
                incident.id,
                api,
                Some(ComponentStatus::PartialOutage),
                ic,
                at("2026-11-30T23:40:00Z"),
            )
            .await
            .expect("mark again");
            crate::store::incidents::change_status(
                &db,
                incident.id,
                incident.version,
                IncidentStatus::Resolved,
                Severity::Sev2,
                ic,
                at("2026-12-01T00:30:00Z"),
            )
            .await
            .expect("resolve");
            // Planned work: down by hand inside a window, which does not count.
            schedule_maintenance(
                &db,
                "Upgrade",
                "",
                (at("2026-12-01T02:00:00Z"), at("2026-12-01T03:00:00Z")),
                &[api],
                ic,
                at("2026-11-30T12:00:00Z"),
            )
            .await
            .expect("maintenance");
            update_component(
                &db,
                api,
                &fields("API"),
                ComponentStatus::MajorOutage,
                1,
                at("2026-12-01T02:10:00Z"),
            )
            .await
            .expect("down");
            update_component(
                &db,
                api,
                &fields("API"),
                ComponentStatus::Operational,
                1,
                at("2026-12-01T02:50:00Z"),
            )
            .await
            .expect("back up");

            let history = status_history(&db, at("2026-09-01T00:00:00Z"))
                .await
                .expect("history");
            let statuses: Vec<ComponentStatus> =
                history.iter().map(|(_, change)| change.status).collect();
            assert_eq!(
                statuses,
                [
                    ComponentStatus::Operational,
                    ComponentStatus::PartialOutage,
                    ComponentStatus::Operational,
                    ComponentStatus::MajorOutage,
                    ComponentStatus::Operational,
                ],
                "{}",
                db.backend()
            );

            let snapshot = public_snapshot(&db, at("2026-12-01T12:00:00Z"))
                .await
                .expect("snapshot");
            let days = snapshot.uptime_of(api);
            assert_eq!(days.len(), 90);
            let nov30 = days[days.len() - 2];
            assert_eq!(nov30.date.to_string(), "2026-11-30");
            assert_eq!(nov30.worst, Some(ComponentStatus::PartialOutage));
            assert_eq!(nov30.observed_ms, 2 * 3_600_000, "it exists from 22:00");
            assert_eq!(nov30.operational_ms, 90 * 60_000);
            let dec1 = days[days.len() - 1];
            assert_eq!(dec1.worst, Some(ComponentStatus::PartialOutage));
            assert_eq!(dec1.maintenance_ms, 3_600_000);
            assert_eq!(
                dec1.observed_ms - dec1.operational_ms,
                30 * 60_000,
                "the outage inside the window is not downtime"
            );
            assert_eq!(days[0].worst, None, "before the component existed");
        }
    }

    #[tokio::test]
    async fn a_component_shows_the_worst_of_its_base_its_incidents_and_maintenance_until_they_end()
    {
        for db in fresh_databases().await {
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let now = Utc::now();
            let api = add_component(&db, &fields("API"), now).await.expect("api");
            let web = add_component(&db, &fields("Web"), now).await.expect("web");
            let incident = declared(&db, ic, Severity::Sev2).await;
            set_incident_component(
                &db,
                incident.id,
                api,
                Some(ComponentStatus::MajorOutage),
                ic,
                now,
            )
            .await
            .expect("mark");
            schedule_maintenance(
                &db,
                "Upgrade",
                "",
                (now - Duration::minutes(5), now + Duration::hours(1)),
                &[web],
                ic,
                now,
            )
            .await
            .expect("maintenance");

            let snapshot = public_snapshot(&db, now).await.expect("snapshot");
            let status_of = |s: &PublicSnapshot, id: i64| {
                s.components.iter().find(|c| c.id == id).map(|c| c.status)
            };
            assert_eq!(
                status_of(&snapshot, api),
                Some(ComponentStatus::MajorOutage),
                "{}",
                db.backend()
            );
            assert_eq!(
                status_of(&snapshot, web),
                Some(ComponentStatus::UnderMaintenance)
            );
            assert!(
                snapshot.incidents.is_empty(),
                "no customer update yet, so no public incident"
            );

            // A customer update makes the incident public; resolving it frees the component.
            publish(
                &db,
                incident.id,
                &Publication {
                    kind: TemplateKind::CustomerFacing,
                    title: "API errors",
                    body: "Some calls fail.",
                    overridden: &[],
                },
                ic,
                now,
            )
            .await
            .expect("publish");
            let snapshot = public_snapshot(&db, now).await.expect("snapshot");
            assert_eq!(snapshot.incidents.len(), 1);
            assert_eq!(snapshot.incidents[0].name, "API errors");
            assert!(snapshot.incidents[0].is_unresolved());

            crate::store::incidents::change_status(
                &db,
                incident.id,
                incident.version,
                IncidentStatus::Resolved,
                Severity::Sev2,
                ic,
                now,
            )
            .await
            .expect("resolve");
            let later = now + Duration::hours(2);
            let snapshot = public_snapshot(&db, later).await.expect("snapshot");
            assert_eq!(
                status_of(&snapshot, api),
                Some(ComponentStatus::Operational)
            );
            assert_eq!(
                status_of(&snapshot, web),
                Some(ComponentStatus::Operational),
                "the window ended"
            );
        }
    }
}
