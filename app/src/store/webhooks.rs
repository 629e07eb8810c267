//! Outbound webhooks and their delivery log. Publishing writes pending
//! deliveries in its own transaction; a background worker sends them.

use super::tx::sql;
use super::{read, Db, StoreError};
use crate::domain::users::UserId;
use crate::domain::webhooks::WebhookKind;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub kind: WebhookKind,
    pub url: String,
    pub secret: String,
    /// Internal updates too, not only customer-facing ones.
    pub all_updates: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The components it follows; empty: every update.
    pub components: Vec<String>,
}

type WebhookRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    bool,
    DateTime<Utc>,
);

const WEBHOOK_COLUMNS: &str =
    "w.id, w.name, w.kind, w.url, w.secret, w.audience, w.active, w.created_at";

fn decode(row: WebhookRow) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        kind: WebhookKind::parse("kind", &row.2)
            .map_err(|_| StoreError::Corrupt(format!("webhook kind {:?}", row.2)))?,
        id: row.0,
        name: row.1,
        url: row.3,
        secret: row.4,
        all_updates: row.5 == "all",
        active: row.6,
        created_at: row.7,
        components: Vec::new(),
    })
}

pub async fn webhooks(db: &Db) -> Result<Vec<Webhook>, StoreError> {
    let (rows, followed): (Vec<WebhookRow>, Vec<(i64, String)>) = read!(db, pool => {
        let rows = sqlx::query_as(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w ORDER BY w.id"))
            .fetch_all(pool)
            .await?;
        let followed = sqlx::query_as(
            "SELECT wc.webhook_id, c.name FROM webhook_components wc \
             JOIN components c ON c.id = wc.component_id ORDER BY c.position, c.id",
        )
        .fetch_all(pool)
        .await?;
        (rows, followed)
    });
    let mut hooks: Vec<Webhook> = rows.into_iter().map(decode).collect::<Result<_, _>>()?;
    for hook in &mut hooks {
        hook.components = followed
            .iter()
            .filter(|(id, _)| *id == hook.id)
            .map(|(_, name)| name.clone())
            .collect();
    }
    Ok(hooks)
}

/// What an admin enters for a new webhook.
pub struct NewWebhook<'a> {
    pub name: &'a str,
    pub kind: WebhookKind,
    pub url: &'a str,
    pub secret: &'a str,
    pub all_updates: bool,
    /// Ids of the components to follow; empty: every update.
    pub components: &'a [i64],
}

/// Why a webhook was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddWebhookError {
    #[error("no such component")]
    UnknownComponent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AddWebhookError {
    fn from(e: sqlx::Error) -> Self {
        AddWebhookError::Store(e.into())
    }
}

pub async fn add_webhook(
    db: &Db,
    new: &NewWebhook<'_>,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<i64, AddWebhookError> {
    let mut tx = db.begin().await?;
    let id: i64 = tx
        .scalar(
            sql("INSERT INTO webhooks (name, kind, url, secret, audience, active, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7) RETURNING id")
            .bind(new.name)
            .bind(new.kind.as_str())
            .bind(new.url)
            .bind(new.secret)
            .bind(if new.all_updates { "all" } else { "customer" })
            .bind(by.0)
            .bind(now),
        )
        .await?;
    for component in new.components {
        let live: i64 = tx
            .scalar(
                sql("SELECT COUNT(*) FROM components WHERE id = $1 AND archived = FALSE")
                    .bind(component),
            )
            .await?;
        if live == 0 {
            return Err(AddWebhookError::UnknownComponent);
        }
        tx.execute(
            sql(
                "INSERT INTO webhook_components (webhook_id, component_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(component),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Turns a webhook on or off; returns false when there is no such webhook.
pub async fn set_active(db: &Db, id: i64, active: bool) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            sql("UPDATE webhooks SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(id),
        )
        .await?;
    tx.commit().await?;
    Ok(changed == 1)
}

/// One delivery of one update or maintenance window to one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    /// The incident whose update it carries, or
    pub incident_number: Option<i64>,
    /// the title of the maintenance window it announces.
    pub maintenance_title: Option<String>,
    /// pending, delivered or failed.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i64>,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The newest deliveries of a webhook.
pub async fn deliveries(db: &Db, webhook_id: i64, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    type Row = (
        i64,
        i64,
        Option<i64>,
        Option<String>,
        String,
        i64,
        DateTime<Utc>,
        Option<i64>,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT d.id, d.webhook_id, i.number, m.title, d.state, d.attempts, d.next_attempt_at, \
             d.last_status, d.last_error, d.created_at, d.finished_at \
             FROM webhook_deliveries d LEFT JOIN stakeholder_updates u ON u.id = d.update_id \
             LEFT JOIN incidents i ON i.id = u.incident_id \
             LEFT JOIN maintenances m ON m.id = d.maintenance_id \
             WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2",
        )
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            id: r.0,
            webhook_id: r.1,
            incident_number: r.2,
            maintenance_title: r.3,
            state: r.4,
            attempts: r.5,
            next_attempt_at: r.6,
            last_status: r.7,
            last_error: r.8,
            created_at: r.9,
            finished_at: r.10,
        })
        .collect())
}

/// A delivery claimed for sending, with what the payload is built from.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub attempts: i64,
    pub webhook: Webhook,
    pub about: About,
}

/// What a delivery tells.
#[derive(Debug, Clone)]
pub enum About {
    Update {
        update: super::updates::PublishedUpdate,
        incident_number: i64,
        incident_title: String,
        severity: String,
    },
    Maintenance(MaintenanceNotice),
}

/// A maintenance window as a webhook announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceNotice {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The names of the components it touches (none: all of them).
    pub components: Vec<String>,
}

/// Claims up to `limit` deliveries due at `now`, leasing each until `lease_until`
/// so a second worker does not send it at the same time.
pub async fn claim_due(
    db: &Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueDelivery>, StoreError> {
    type Row = (i64, i64, Option<i64>, Option<i64>, DateTime<Utc>);
    let due: Vec<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT d.id, d.attempts, d.update_id, d.maintenance_id, d.next_attempt_at \
             FROM webhook_deliveries d \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    let mut claimed = Vec::new();
    for (id, attempts, update_id, maintenance_id, seen) in due {
        let mut tx = db.begin().await?;
        let won = tx
            .execute(
                sql("UPDATE webhook_deliveries SET next_attempt_at = $1 \
                     WHERE id = $2 AND state = 'pending' AND next_attempt_at = $3")
                .bind(lease_until)
                .bind(id)
                .bind(seen),
            )
            .await?;
        tx.commit().await?;
        if won == 0 {
            continue;
        }
        let hooks: Vec<WebhookRow> = read!(db, pool => {
            sqlx::query_as(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks w JOIN webhook_deliveries d ON d.webhook_id = w.id WHERE d.id = $1"
            ))
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let about = match (update_id, maintenance_id) {
            (Some(update), _) => update_about(db, update).await?,
            (None, Some(maintenance)) => maintenance_about(db, maintenance).await?,
            (None, None) => None,
        };
        if let (Some(hook), Some(about)) = (hooks.into_iter().next(), about) {
            claimed.push(DueDelivery {
                id,
                attempts,
                webhook: decode(hook)?,
                about,
            });
        }
    }
    Ok(claimed)
}

/// Update `id` with its incident, as a delivery tells it.
async fn update_about(db: &Db, id: i64) -> Result<Option<About>, StoreError> {
    type UpdateRow = super::updates::UpdateRow;
    let (update, incident): (Vec<UpdateRow>, Vec<(i64, String, String)>) = read!(db, pool => {
        let update = sqlx::query_as(&format!("{} WHERE u.id = $1", super::updates::UPDATE_SELECT))
            .bind(id)
            .fetch_all(pool)
            .await?;
        let incident = sqlx::query_as(
            "SELECT i.number, i.title, i.severity FROM stakeholder_updates u \
             JOIN incidents i ON i.id = u.incident_id WHERE u.id = $1",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        (update, incident)
    });
    let (Some(update), Some((number, title, severity))) =
        (update.into_iter().next(), incident.into_iter().next())
    else {
        return Ok(None);
    };
    Ok(Some(About::Update {
        update: super::updates::decode_update(update)?,
        incident_number: number,
        incident_title: title,
        severity,
    }))
}

/// Maintenance window `id` with the names of its components.
async fn maintenance_about(db: &Db, id: i64) -> Result<Option<About>, StoreError> {
    type WindowRow = (String, String, DateTime<Utc>, DateTime<Utc>);
    let (window, components): (Vec<WindowRow>, Vec<(String,)>) = read!(db, pool => {
        let window = sqlx::query_as(
            "SELECT title, description, starts_at, ends_at FROM maintenances WHERE id = $1",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let components = sqlx::query_as(
            "SELECT c.name FROM maintenance_components mc JOIN components c ON c.id = mc.component_id \
             WHERE mc.maintenance_id = $1 ORDER BY c.position, c.id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        (window, components)
    });
    Ok(window
        .into_iter()
        .next()
        .map(|(title, description, starts_at, ends_at)| {
            About::Maintenance(MaintenanceNotice {
                id,
                title,
                description,
                starts_at,
                ends_at,
                components: components.into_iter().map(|(name,)| name).collect(),
            })
        }))
}

/// How one attempt went.
pub enum Attempt<'a> {
    Delivered {
        status: u16,
    },
    Retry {
        status: Option<u16>,
        error: &'a str,
        at: DateTime<Utc>,
    },
    Failed {
        status: Option<u16>,
        error: &'a str,
    },
}

/// Records an attempt on a claimed delivery.
pub async fn record_attempt(
    db: &Db,
    id: i64,
    attempt: Attempt<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (state, status, error, next, finished) = match attempt {
        Attempt::Delivered { status } => ("delivered", Some(status), "", now, Some(now)),
        Attempt::Retry { status, error, at } => ("pending", status, error, at, None),
        Attempt::Failed { status, error } => ("failed", status, error, now, Some(now)),
    };
    let mut tx = db.begin().await?;
    tx.execute(
        sql(
            "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, last_status = $2, \
             last_error = $3, next_attempt_at = $4, finished_at = $5 WHERE id = $6",
        )
        .bind(state)
        .bind(status.map(i64::from))
        .bind(error)
        .bind(next)
        .bind(finished)
        .bind(id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
