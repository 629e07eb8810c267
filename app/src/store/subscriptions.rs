//! E-mail subscribers and their outbox. Signing up, confirming, choosing
//! components and leaving each take one transaction; publishing a
//! customer-facing update or scheduling maintenance queues mail in the
//! publishing transaction, and a background worker sends it.

use super::tx::{sql, Tx};
use super::updates::PublishedUpdate;
use super::{read, Db, StoreError};
use crate::domain::subscriptions::SubscriberEmail;
use chrono::{DateTime, Duration, Utc};

/// Why a sign-up or a change of components was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("no such component")]
    UnknownComponent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SubscribeError {
    fn from(e: sqlx::Error) -> Self {
        SubscribeError::Store(e.into())
    }
}

/// 32 random bytes in hex: a capability that cannot be guessed.
fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn check_components(tx: &mut Tx, components: &[i64]) -> Result<(), SubscribeError> {
    for component in components {
        let live: i64 = tx
            .scalar(
                sql("SELECT COUNT(*) FROM components WHERE id = $1 AND archived = FALSE")
                    .bind(*component),
            )
            .await?;
        if live == 0 {
            return Err(SubscribeError::UnknownComponent);
        }
    }
    Ok(())
}

async fn set_components(
    tx: &mut Tx,
    subscriber: i64,
    components: &[i64],
) -> Result<(), SubscribeError> {
    tx.execute(
        sql("UPDATE subscribers SET all_components = $1 WHERE id = $2")
            .bind(components.is_empty())
            .bind(subscriber),
    )
    .await?;
    tx.execute(sql("DELETE FROM subscriber_components WHERE subscriber_id = $1").bind(subscriber))
        .await?;
    for component in components {
        tx.execute(
            sql(
                "INSERT INTO subscriber_components (subscriber_id, component_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(subscriber)
            .bind(*component),
        )
        .await?;
    }
    Ok(())
}

async fn queue(
    tx: &mut Tx,
    subscriber: i64,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("INSERT INTO mail_outbox (subscriber_id, kind, state, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, 'pending', 0, $3, $3)")
        .bind(subscriber)
        .bind(kind)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Signs `email` up for `components` (none: everything). A new or lapsed
/// address gets a confirmation mail and nothing else until it is confirmed;
/// an address already subscribed gets a mail with its own links and keeps
/// what it follows, so a stranger's form changes nothing. The caller answers
/// the same in every case.
pub async fn subscribe(
    db: &Db,
    email: &SubscriberEmail,
    components: &[i64],
    now: DateTime<Utc>,
) -> Result<(), SubscribeError> {
    let mut tx = db.begin().await?;
    check_components(&mut tx, components).await?;
    tx.execute(
        sql("INSERT INTO subscribers (email, token, confirm_token, state, all_components, created_at) \
             VALUES ($1, $2, $3, 'pending', TRUE, $4) ON CONFLICT (email) DO NOTHING")
        .bind(email.as_str())
        .bind(new_token())
        .bind(new_token())
        .bind(now),
    )
    .await?;
    let (id, state): (i64, String) = tx
        .fetch_one(sql("SELECT id, state FROM subscribers WHERE email = $1").bind(email.as_str()))
        .await?;
    if state == "confirmed" {
        queue(&mut tx, id, "already", now).await?;
    } else {
        tx.execute(
            sql("UPDATE subscribers SET state = 'pending', confirm_token = $1, unsubscribed_at = NULL \
                 WHERE id = $2")
            .bind(new_token())
            .bind(id),
        )
        .await?;
        set_components(&mut tx, id, components).await?;
        queue(&mut tx, id, "confirm", now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Confirms the subscription whose confirmation link carried `token`. A
/// forged, reused or superseded token confirms nothing.
pub async fn confirm(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let mut tx = db.begin().await?;
    let manage: Option<String> = tx
        .scalar_optional(
            sql("UPDATE subscribers SET state = 'confirmed', confirm_token = NULL, confirmed_at = $1 \
                 WHERE confirm_token = $2 AND state = 'pending' RETURNING token")
            .bind(now)
            .bind(token),
        )
        .await?;
    tx.commit().await?;
    Ok(manage)
}

/// A subscription as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub email: String,
    /// pending, confirmed or unsubscribed.
    pub state: String,
    /// Component ids; empty means everything.
    pub components: Vec<i64>,
}

/// The subscription `token` manages, if any.
pub async fn subscription(db: &Db, token: &str) -> Result<Option<Subscription>, StoreError> {
    type Found = Option<(i64, String, String, bool)>;
    let (found, components): (Found, Vec<(i64, i64)>) = read!(db, pool => {
        let found = sqlx::query_as(
            "SELECT id, email, state, all_components FROM subscribers WHERE token = $1",
        )
        .bind(token)
        .fetch_optional(pool)
        .await?;
        let components = sqlx::query_as(
            "SELECT sc.subscriber_id, sc.component_id FROM subscriber_components sc \
             JOIN subscribers s ON s.id = sc.subscriber_id WHERE s.token = $1",
        )
        .bind(token)
        .fetch_all(pool)
        .await?;
        (found, components)
    });
    Ok(found.map(|(_, email, state, all)| Subscription {
        email,
        state,
        components: if all {
            Vec::new()
        } else {
            components.into_iter().map(|(_, c)| c).collect()
        },
    }))
}

/// Sets what a confirmed subscription follows; false when `token` manages
/// no confirmed subscription.
pub async fn follow(db: &Db, token: &str, components: &[i64]) -> Result<bool, SubscribeError> {
    let mut tx = db.begin().await?;
    check_components(&mut tx, components).await?;
    let id: Option<i64> = tx
        .scalar_optional(
            sql("SELECT id FROM subscribers WHERE token = $1 AND state = 'confirmed'").bind(token),
        )
        .await?;
    let Some(id) = id else {
        return Ok(false);
    };
    set_components(&mut tx, id, components).await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends the subscription `token` manages and drops its unsent mail. Saying
/// it twice is fine; false only when no subscription has that token.
pub async fn unsubscribe(db: &Db, token: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let id: Option<i64> = tx
        .scalar_optional(sql("SELECT id FROM subscribers WHERE token = $1").bind(token))
        .await?;
    let Some(id) = id else {
        return Ok(false);
    };
    tx.execute(
        sql(
            "UPDATE subscribers SET state = 'unsubscribed', confirm_token = NULL, \
             unsubscribed_at = COALESCE(unsubscribed_at, $1) WHERE id = $2",
        )
        .bind(now)
        .bind(id),
    )
    .await?;
    tx.execute(
        sql("UPDATE mail_outbox SET state = 'dropped' WHERE subscriber_id = $1 AND state = 'pending'")
            .bind(id),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Queues a customer-facing update for every confirmed subscriber who follows
/// everything or a component the incident affects. Inside the publishing
/// transaction, so an update and its mail exist together or not at all.
pub(crate) async fn queue_update(
    tx: &mut Tx,
    update_id: i64,
    incident_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("INSERT INTO mail_outbox (subscriber_id, kind, update_id, state, attempts, next_attempt_at, created_at) \
             SELECT s.id, 'update', $1, 'pending', 0, $2, $2 FROM subscribers s \
             WHERE s.state = 'confirmed' AND (s.all_components OR EXISTS ( \
                 SELECT 1 FROM subscriber_components sc \
                 JOIN incident_components ic ON ic.component_id = sc.component_id \
                 WHERE sc.subscriber_id = s.id AND ic.incident_id = $3)) \
             ON CONFLICT DO NOTHING")
        .bind(update_id)
        .bind(now)
        .bind(incident_id),
    )
    .await?;
    Ok(())
}

/// Queues a maintenance notice (`kind` maintenance or reminder) for every
/// confirmed subscriber who follows everything or one of its components.
pub(crate) async fn queue_maintenance(
    tx: &mut Tx,
    maintenance_id: i64,
    kind: &'static str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        sql("INSERT INTO mail_outbox (subscriber_id, kind, maintenance_id, state, attempts, next_attempt_at, created_at) \
             SELECT s.id, $1, $2, 'pending', 0, $3, $3 FROM subscribers s \
             WHERE s.state = 'confirmed' AND (s.all_components OR EXISTS ( \
                 SELECT 1 FROM subscriber_components sc \
                 JOIN maintenance_components mc ON mc.component_id = sc.component_id \
                 WHERE sc.subscriber_id = s.id AND mc.maintenance_id = $2)) \
             ON CONFLICT DO NOTHING")
        .bind(kind)
        .bind(maintenance_id)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Queues the reminder of every window starting within `ahead` of `now`,
/// once: the first replica to mark a window reminded queues its mail.
pub async fn queue_reminders(
    db: &Db,
    now: DateTime<Utc>,
    ahead: Duration,
) -> Result<usize, StoreError> {
    let soon: Vec<(i64,)> = read!(db, pool => {
        sqlx::query_as(
            "SELECT id FROM maintenances WHERE reminded_at IS NULL AND cancelled_at IS NULL \
             AND starts_at > $1 AND starts_at <= $2",
        )
        .bind(now)
        .bind(now + ahead)
        .fetch_all(pool)
        .await?
    });
    let mut queued = 0;
    for (id,) in soon {
        let mut tx = db.begin().await?;
        let won = tx
            .execute(
                sql("UPDATE maintenances SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
                    .bind(now)
                    .bind(id),
            )
            .await?;
        if won == 1 {
            queue_maintenance(&mut tx, id, "reminder", now).await?;
            queued += 1;
        }
        tx.commit().await?;
    }
    Ok(queued)
}

/// What one queued mail is about.
#[derive(Debug, Clone)]
pub enum MailContent {
    /// The double opt-in mail, with the confirmation token.
    Confirm {
        confirm_token: String,
    },
    /// A sign-up for an address that is already subscribed.
    Already,
    Update(PublishedUpdate),
    Maintenance {
        title: String,
        description: String,
        window: (DateTime<Utc>, DateTime<Utc>),
        reminder: bool,
    },
}

/// A mail claimed for sending.
#[derive(Debug, Clone)]
pub struct DueMail {
    pub id: i64,
    pub attempts: i64,
    pub email: String,
    /// The subscriber's manage token, for the links and List-Unsubscribe.
    pub token: String,
    pub content: MailContent,
}

type DueRow = (
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    DateTime<Utc>,
    String,
    String,
    Option<String>,
);

/// Claims up to `limit` mails due at `now`, leasing each until `lease_until`
/// so another replica does not send it too. Mail for an address that left,
/// or whose content is gone, is dropped instead.
pub async fn claim_due(
    db: &Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueMail>, StoreError> {
    let due: Vec<DueRow> = read!(db, pool => {
        sqlx::query_as(
            "SELECT o.id, o.attempts, o.kind, o.update_id, o.maintenance_id, o.next_attempt_at, \
             s.email, s.token, s.confirm_token \
             FROM mail_outbox o JOIN subscribers s ON s.id = o.subscriber_id \
             WHERE o.state = 'pending' AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at, o.id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    let mut claimed = Vec::new();
    for (id, attempts, kind, update_id, maintenance_id, seen, email, token, confirm_token) in due {
        let mut tx = db.begin().await?;
        let won = tx
            .execute(
                sql("UPDATE mail_outbox SET next_attempt_at = $1 \
                     WHERE id = $2 AND state = 'pending' AND next_attempt_at = $3")
                .bind(lease_until)
                .bind(id)
                .bind(seen),
            )
            .await?;
        if won == 0 {
            tx.commit().await?;
            continue;
        }
        let content = match (kind.as_str(), update_id, maintenance_id) {
            ("confirm", _, _) => {
                confirm_token.map(|confirm_token| MailContent::Confirm { confirm_token })
            }
            ("already", _, _) => Some(MailContent::Already),
            ("update", Some(update), _) => {
                let row = tx
                    .fetch_optional(
                        sql(format!("{} WHERE u.id = $1", super::updates::UPDATE_SELECT))
                            .bind(update),
                    )
                    .await?;
                row.map(super::updates::decode_update)
                    .transpose()?
                    .map(MailContent::Update)
            }
            (kind @ ("maintenance" | "reminder"), _, Some(maintenance)) => {
                let row: Option<(String, String, DateTime<Utc>, DateTime<Utc>)> = tx
                    .fetch_optional(
                        sql(
                            "SELECT title, description, starts_at, ends_at FROM maintenances \
                             WHERE id = $1 AND cancelled_at IS NULL",
                        )
                        .bind(maintenance),
                    )
                    .await?;
                row.map(
                    |(title, description, starts, ends)| MailContent::Maintenance {
                        title,
                        description,
                        window: (starts, ends),
                        reminder: kind == "reminder",
                    },
                )
            }
            _ => None,
        };
        match content {
            Some(content) => claimed.push(DueMail {
                id,
                attempts,
                email,
                token,
                content,
            }),
            None => {
                tx.execute(
                    sql("UPDATE mail_outbox SET state = 'dropped', last_error = $1 WHERE id = $2")
                        .bind(
                            "nothing left to send (confirmed already, or the window was cancelled)",
                        )
                        .bind(id),
                )
                .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(claimed)
}

/// How sending one mail went.
pub enum MailAttempt<'a> {
    Sent,
    Retry { error: &'a str, at: DateTime<Utc> },
    Failed { error: &'a str },
}

/// Records an attempt on a claimed mail.
pub async fn record_attempt(
    db: &Db,
    id: i64,
    attempt: MailAttempt<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (state, error, next, sent) = match attempt {
        MailAttempt::Sent => ("sent", "", now, Some(now)),
        MailAttempt::Retry { error, at } => ("pending", error, at, None),
        MailAttempt::Failed { error } => ("failed", error, now, None),
    };
    let mut tx = db.begin().await?;
    tx.execute(
        sql(
            "UPDATE mail_outbox SET state = $1, attempts = attempts + 1, last_error = $2, \
             next_attempt_at = $3, sent_at = $4 WHERE id = $5",
        )
        .bind(state)
        .bind(error)
        .bind(next)
        .bind(sent)
        .bind(id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What admins see of subscriptions and their mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailSummary {
    pub confirmed: i64,
    pub pending: i64,
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    /// The newest failures: (address, kind, error, when).
    pub failures: Vec<(String, String, String, DateTime<Utc>)>,
}

pub async fn summary(db: &Db) -> Result<MailSummary, StoreError> {
    type Counts = Vec<(String, i64)>;
    type Failures = Vec<(String, String, String, DateTime<Utc>)>;
    let (people, mail, failures): (Counts, Counts, Failures) = read!(db, pool => {
        let people = sqlx::query_as("SELECT state, COUNT(*) FROM subscribers GROUP BY state")
            .fetch_all(pool)
            .await?;
        let mail = sqlx::query_as("SELECT state, COUNT(*) FROM mail_outbox GROUP BY state")
            .fetch_all(pool)
            .await?;
        let failures = sqlx::query_as(
            "SELECT s.email, o.kind, o.last_error, o.created_at FROM mail_outbox o \
             JOIN subscribers s ON s.id = o.subscriber_id \
             WHERE o.state = 'failed' OR (o.state = 'pending' AND o.attempts > 0) \
             ORDER BY o.id DESC LIMIT 10",
        )
        .fetch_all(pool)
        .await?;
        (people, mail, failures)
    });
    let count =
        |list: &Counts, state: &str| list.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
    Ok(MailSummary {
        confirmed: count(&people, "confirmed"),
        pending: count(&people, "pending"),
        queued: count(&mail, "pending"),
        sent: count(&mail, "sent"),
        failed: count(&mail, "failed"),
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incidents::Severity;
    use crate::domain::status::ComponentStatus;
    use crate::domain::updates::TemplateKind;
    use crate::domain::users::OrgRole;
    use crate::store::status::{add_component, set_incident_component, ComponentFields};
    use crate::store::testing::{declared, fresh_databases, person};
    use crate::store::updates::{publish, Publication};

    fn address(text: &str) -> SubscriberEmail {
        SubscriberEmail::parse("email", text).expect("address")
    }

    /// (address, kind, state) of every queued mail, oldest first.
    async fn outbox(db: &Db) -> Vec<(String, String, String)> {
        read!(db, pool => {
            sqlx::query_as(
                "SELECT s.email, o.kind, o.state FROM mail_outbox o \
                 JOIN subscribers s ON s.id = o.subscriber_id ORDER BY o.id",
            )
            .fetch_all(pool)
            .await
            .expect("outbox")
        })
    }

    async fn confirm_token(db: &Db, email: &str) -> String {
        let token: Option<String> = read!(db, pool => {
            sqlx::query_scalar("SELECT confirm_token FROM subscribers WHERE email = $1")
                .bind(email)
                .fetch_one(pool)
                .await
                .expect("subscriber")
        });
        token.expect("a pending subscriber has a confirmation token")
    }

    /// Components API and Web, added at `now`.
    async fn api_and_web(db: &Db, now: DateTime<Utc>) -> (i64, i64) {
        let fields = |name| ComponentFields {
            name,
            group_name: "",
            description: "",
        };
        let api = add_component(db, &fields("API"), now).await.expect("api");
        let web = add_component(db, &fields("Web"), now).await.expect("web");
        (api, web)
    }

    #[tokio::test]
    async fn only_confirmed_subscribers_get_updates_of_what_they_follow_until_they_leave() {
        for db in fresh_databases().await {
            let now = Utc::now();
            let ic = person(&db, "Ivy", OrgRole::Responder).await;
            let (api, web) = api_and_web(&db, now).await;

            subscribe(&db, &address("ann@example.com"), &[api], now)
                .await
                .expect("ann");
            subscribe(&db, &address("bob@example.com"), &[web], now)
                .await
                .expect("bob");
            subscribe(&db, &address("cat@example.com"), &[], now)
                .await
                .expect("cat");
            assert!(matches!(
                subscribe(&db, &address("dan@example.com"), &[9999], now).await,
                Err(SubscribeError::UnknownComponent)
            ));
            assert_eq!(
                outbox(&db).await.len(),
                3,
                "{}: one confirmation each",
                db.backend()
            );

            assert_eq!(confirm(&db, "forged", now).await.expect("forged"), None);
            let ann_token = confirm_token(&db, "ann@example.com").await;
            let manage = confirm(&db, &ann_token, now).await.expect("confirm");
            assert!(manage.is_some());
            assert_eq!(
                confirm(&db, &ann_token, now).await.expect("again"),
                None,
                "a used confirmation link does nothing"
            );
            let bob_token = confirm_token(&db, "bob@example.com").await;
            confirm(&db, &bob_token, now).await.expect("bob");
            // Cat never confirms.

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
            let publication = |kind| Publication {
                kind,
                title: "API errors",
                body: "Some calls fail.",
                overridden: &[],
            };
            publish(
                &db,
                incident.id,
                &publication(TemplateKind::CustomerFacing),
                ic,
                now,
            )
            .await
            .expect("publish");
            publish(
                &db,
                incident.id,
                &publication(TemplateKind::OngoingInternal),
                ic,
                now,
            )
            .await
            .expect("internal");
            let updates: Vec<String> = outbox(&db)
                .await
                .into_iter()
                .filter(|(_, kind, _)| kind == "update")
                .map(|(email, _, _)| email)
                .collect();
            assert_eq!(
                updates,
                ["ann@example.com"],
                "only Ann follows the API and confirmed"
            );

            // A stranger signing Ann up again changes nothing she follows.
            subscribe(&db, &address("ann@example.com"), &[web], now)
                .await
                .expect("again");
            let manage = manage.unwrap_or_default();
            let ann = subscription(&db, &manage)
                .await
                .expect("read")
                .expect("ann");
            assert_eq!(
                (ann.state.as_str(), ann.components),
                ("confirmed", vec![api])
            );
            assert_eq!(
                outbox(&db).await.last().map(|m| m.1.clone()).as_deref(),
                Some("already")
            );

            assert!(unsubscribe(&db, &manage, now).await.expect("leave"));
            assert!(outbox(&db)
                .await
                .iter()
                .filter(|(email, _, _)| email == "ann@example.com")
                .all(|(_, _, state)| state != "pending"));
            publish(
                &db,
                incident.id,
                &publication(TemplateKind::CustomerFacing),
                ic,
                now,
            )
            .await
            .expect("publish again");
            let to_ann = outbox(&db)
                .await
                .iter()
                .filter(|(email, kind, _)| email == "ann@example.com" && kind == "update")
                .count();
            assert_eq!(to_ann, 1, "nothing more after leaving");
            assert!(!unsubscribe(&db, "forged", now).await.expect("forged"));
        }
    }

    #[tokio::test]
    async fn a_maintenance_notice_reaches_followers_of_its_components_and_its_reminder_is_queued_once(
    ) {
        for db in fresh_databases().await {
            let now = Utc::now();
            let admin = person(&db, "Ada", OrgRole::Admin).await;
            let (api, web) = api_and_web(&db, now).await;
            for (email, follows) in [
                ("ann@example.com", vec![api]),
                ("bob@example.com", vec![web]),
            ] {
                subscribe(&db, &address(email), &follows, now)
                    .await
                    .expect("subscribe");
                let token = confirm_token(&db, email).await;
                confirm(&db, &token, now).await.expect("confirm");
            }
            let starts = now + Duration::minutes(90);
            crate::store::status::schedule_maintenance(
                &db,
                "Database upgrade",
                "",
                (starts, starts + Duration::hours(1)),
                &[api],
                admin,
                now,
            )
            .await
            .expect("schedule");
            let notices = |kind: &'static str| {
                let db = db.clone();
                async move {
                    outbox(&db)
                        .await
                        .into_iter()
                        .filter(|(_, k, _)| k == kind)
                        .map(|(email, _, _)| email)
                        .collect::<Vec<_>>()
                }
            };
            assert_eq!(
                notices("maintenance").await,
                ["ann@example.com"],
                "{}",
                db.backend()
            );

            let hour = Duration::hours(1);
            assert_eq!(queue_reminders(&db, now, hour).await.expect("too early"), 0);
            let soon = starts - Duration::minutes(30);
            assert_eq!(queue_reminders(&db, soon, hour).await.expect("remind"), 1);
            assert_eq!(
                queue_reminders(&db, soon, hour).await.expect("again"),
                0,
                "once"
            );
            assert_eq!(notices("reminder").await, ["ann@example.com"]);

            // The worker's view of the queue: the reminder reads as one.
            let due = claim_due(&db, soon, soon + Duration::minutes(2), 20)
                .await
                .expect("claim");
            assert!(due.iter().any(|m| matches!(
                &m.content,
                MailContent::Maintenance { reminder: true, title, .. } if title == "Database upgrade"
            )));
        }
    }
}
