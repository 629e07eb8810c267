//! Sends published updates to outbound webhooks: Slack-compatible bodies, or
//! our JSON signed with HMAC-SHA256. Runs beside the server, so a slow or
//! failing receiver never holds up publishing; failures are retried with backoff.

use crate::chat;
use app::domain::status::public_status_label;
use app::domain::subscriptions::stamp;
use app::domain::updates::Audience;
use app::domain::webhooks::{is_public_address, is_retryable, retry_delay_seconds, WebhookKind};
use app::live::Events;
use app::store::updates::PublishedUpdate;
use app::store::webhooks::{
    claim_due, record_attempt, About, Attempt, DueDelivery, MaintenanceNotice,
};
use app::store::{Db, StoreError};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// Header carrying `sha256=<hex HMAC of the body>` on JSON deliveries.
pub const SIGNATURE_HEADER: &str = "x-calmroom-signature";
/// Header carrying the delivery id (the same on every retry).
pub const DELIVERY_HEADER: &str = "x-calmroom-delivery";

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often the worker looks for due retries when nothing is published.
const POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// RFC 3339 in UTC, to the second.
fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The body sent for one delivery.
pub fn payload(d: &DueDelivery) -> Vec<u8> {
    match &d.about {
        About::Update {
            update,
            incident_number,
            incident_title,
            severity,
        } => update_payload(d, update, *incident_number, incident_title, severity),
        About::Maintenance(window) => maintenance_payload(d, window),
    }
}

/// A scheduled maintenance window: chat says when and what it touches; JSON
/// carries the window as the status page's JSON does.
fn maintenance_payload(d: &DueDelivery, window: &MaintenanceNotice) -> Vec<u8> {
    let touches = if window.components.is_empty() {
        "All components".to_owned()
    } else {
        window.components.join(", ")
    };
    let mut text = format!(
        "From {} to {}.\nAffects: {touches}.",
        stamp(window.starts_at),
        stamp(window.ends_at)
    );
    if !window.description.is_empty() {
        text = format!("{}\n{text}", window.description);
    }
    let headline = format!("Scheduled maintenance: {}", window.title);
    let card = format!("maintenance-{}", window.id);
    let starts = stamp(window.starts_at);
    let message = chat::Message {
        card: &card,
        headline: &headline,
        body: &text,
        kind: "Maintenance",
        status: "Scheduled",
        published_at: &rfc3339(window.starts_at),
        published: &starts,
        next_update: None,
        resolved: false,
    };
    let body = match d.webhook.kind {
        WebhookKind::Json => json!({
            "event": "maintenance.scheduled",
            "delivery_id": d.id.to_string(),
            "maintenance": {
                "id": window.id.to_string(),
                "title": window.title,
                "description": window.description,
                "scheduled_for": rfc3339(window.starts_at),
                "scheduled_until": rfc3339(window.ends_at),
                "components": window.components,
            },
        }),
        kind => chat_body(kind, &message),
    };
    body.to_string().into_bytes()
}

/// `message` in the format of chat platform `kind`.
fn chat_body(kind: WebhookKind, message: &chat::Message<'_>) -> serde_json::Value {
    match kind {
        WebhookKind::Teams => chat::teams(message),
        WebhookKind::Mattermost => chat::mattermost(message),
        WebhookKind::Discord => chat::discord(message),
        WebhookKind::GoogleChat => chat::google_chat(message),
        WebhookKind::Slack | WebhookKind::Json => chat::slack(message),
    }
}

fn update_payload(
    d: &DueDelivery,
    update: &PublishedUpdate,
    incident_number: i64,
    incident_title: &str,
    severity: &str,
) -> Vec<u8> {
    let customer = update.kind.audience() == Audience::Customer;
    // Customer-facing deliveries carry only what the update itself says.
    let headline = if customer {
        update.title.clone()
    } else {
        format!("INC-{incident_number} {incident_title}")
    };
    let published = stamp(update.published_at);
    let next_update = update.next_update_at.map(stamp);
    let card = format!("update-{}", update.id);
    let message = chat::Message {
        card: &card,
        headline: &headline,
        body: &update.body,
        kind: update.kind.label(),
        status: public_status_label(&update.public_status),
        published_at: &rfc3339(update.published_at),
        published: &published,
        next_update: next_update.as_deref(),
        resolved: update.public_status == "resolved",
    };
    let body = match d.webhook.kind {
        WebhookKind::Json => json!({
            "event": "update.published",
            "delivery_id": d.id.to_string(),
            "incident": {
                "number": incident_number,
                "title": if customer { update.title.as_str() } else { incident_title },
                "severity": if customer { None } else { Some(severity) },
            },
            "update": {
                "id": update.id.to_string(),
                "kind": update.kind.as_str(),
                "audience": if customer { "customer" } else { "internal" },
                "status": update.public_status,
                "title": update.title,
                "body": update.body,
                "published_at": rfc3339(update.published_at),
                "next_update_at": update.next_update_at.map(rfc3339),
            },
        }),
        kind => chat_body(kind, &message),
    };
    body.to_string().into_bytes()
}

/// Resolves webhook hosts to public addresses only (checked at connect time,
/// so a name that later resolves to an inside address is refused too).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> =
                found.filter(|a| is_public_address(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} is not a public address", name.as_str()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Why a target is refused before anything is sent: an IP literal inside the
/// network (names are checked by [`PublicOnly`] when connecting).
fn refused_target(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let ip = match parsed.host()? {
        url::Host::Ipv4(ip) => std::net::IpAddr::V4(ip),
        url::Host::Ipv6(ip) => std::net::IpAddr::V6(ip),
        url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
            return Some("refused: localhost is not a public address".to_owned())
        }
        url::Host::Domain(_) => return None,
    };
    (!is_public_address(ip)).then(|| format!("refused: {ip} is not a public address"))
}

/// Sends due deliveries.
#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    client: reqwest::Client,
    /// `CALMROOM_WEBHOOK_PRIVATE_TARGETS`: the operator lets webhooks reach
    /// loopback and private addresses (a chat server inside the network).
    allow_private: bool,
}

impl Deliverer {
    /// A sender that never follows redirects (a 307 would re-send the signed
    /// body elsewhere) and, unless `allow_private`, reaches public addresses only.
    pub fn new(db: Db, allow_private: bool) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Calmroom/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        Ok(Deliverer {
            db,
            client: builder.build()?,
            allow_private,
        })
    }

    /// Sends every delivery due at `now` once; returns how many were tried.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let due = claim_due(&self.db, now, now + Duration::minutes(2), 20).await?;
        let count = due.len();
        for delivery in due {
            self.send(&delivery).await?;
        }
        Ok(count)
    }

    async fn send(&self, d: &DueDelivery) -> Result<(), StoreError> {
        if !self.allow_private {
            if let Some(error) = refused_target(&d.webhook.url) {
                tracing::warn!(delivery = d.id, webhook = d.webhook.id, %error, "webhook target refused");
                let attempt = Attempt::Failed {
                    status: None,
                    error: &error,
                };
                return record_attempt(&self.db, d.id, attempt, Utc::now()).await;
            }
        }
        let body = payload(d);
        let mut request = self
            .client
            .post(&d.webhook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, d.id.to_string());
        if d.webhook.kind == WebhookKind::Json {
            request = request.header(SIGNATURE_HEADER, signature(&d.webhook.secret, &body));
        }
        let (status, error) = match request.body(body).send().await {
            Ok(response) => {
                let status = response.status();
                let error = if status.is_success() {
                    String::new()
                } else if status.is_redirection() {
                    format!(
                        "the receiver redirected ({}); redirects are not followed",
                        status.as_u16()
                    )
                } else {
                    format!("the receiver answered {}", status.as_u16())
                };
                (Some(status.as_u16()), error)
            }
            Err(e) if e.is_timeout() => (None, "no answer within 10 seconds".to_owned()),
            Err(e) if e.is_connect() && format!("{e:?}").contains("not a public address") => (
                None,
                "refused: the host resolves to an address that is not public".to_owned(),
            ),
            Err(e) if e.is_connect() => (None, "could not connect".to_owned()),
            Err(_) => (None, "the request failed".to_owned()),
        };
        let now = Utc::now();
        let attempt_number = d.attempts + 1;
        let attempt = match status {
            Some(code) if (200..300).contains(&code) => Attempt::Delivered { status: code },
            _ if is_retryable(status) => match retry_delay_seconds(attempt_number) {
                Some(delay) => Attempt::Retry {
                    status,
                    error: &error,
                    at: now + Duration::seconds(delay),
                },
                None => Attempt::Failed {
                    status,
                    error: &error,
                },
            },
            _ => Attempt::Failed {
                status,
                error: &error,
            },
        };
        if !matches!(attempt, Attempt::Delivered { .. }) {
            tracing::warn!(delivery = d.id, webhook = d.webhook.id, %error, "webhook delivery failed");
        }
        record_attempt(&self.db, d.id, attempt, now).await
    }

    /// Runs forever: after every announced change, and every few seconds for retries.
    pub fn spawn(self, events: Events) {
        tokio::spawn(async move {
            let mut changes = events.subscribe();
            loop {
                if let Err(e) = self.deliver_due(Utc::now()).await {
                    tracing::error!(error = %e, "webhook worker: cannot read deliveries");
                }
                tokio::select! {
                    _ = changes.recv() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::incidents::IncidentId;
    use app::domain::updates::TemplateKind;
    use app::store::updates::PublishedUpdate;
    use app::store::webhooks::Webhook;

    fn delivery(kind: WebhookKind, template: TemplateKind) -> DueDelivery {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-26T14:05:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        DueDelivery {
            id: 7,
            attempts: 0,
            webhook: Webhook {
                id: 1,
                name: "hook".to_owned(),
                kind,
                url: "http://127.0.0.1:9/hook".to_owned(),
                secret: "s3cret".to_owned(),
                all_updates: true,
                active: true,
                created_at: at,
                components: Vec::new(),
            },
            about: About::Update {
                update: PublishedUpdate {
                    id: 3,
                    incident_id: IncidentId(1),
                    kind: template,
                    title: "Card payments failing".to_owned(),
                    body: "Some payments fail <sometimes> & retry works.".to_owned(),
                    public_status: "investigating".to_owned(),
                    published_by: "Cal".to_owned(),
                    published_at: at,
                    next_update_at: None,
                    overridden: String::new(),
                },
                incident_number: 12,
                incident_title: "pg-primary-2 disk full".to_owned(),
                severity: "sev2".to_owned(),
            },
        }
    }

    fn maintenance(kind: WebhookKind) -> DueDelivery {
        let mut d = delivery(kind, TemplateKind::CustomerFacing);
        let at = |raw: &str| {
            chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        };
        d.about = About::Maintenance(MaintenanceNotice {
            id: 5,
            title: "Database upgrade".to_owned(),
            description: "Short read-only periods <@everyone>.".to_owned(),
            starts_at: at("2026-12-01T22:00:00Z"),
            ends_at: at("2026-12-01T23:30:00Z"),
            components: vec!["Payments".to_owned(), "API".to_owned()],
        });
        d
    }

    #[test]
    fn a_maintenance_window_reaches_json_and_chat_with_its_times_in_utc() {
        let body: serde_json::Value =
            serde_json::from_slice(&payload(&maintenance(WebhookKind::Json))).expect("json");
        assert_eq!(body["event"], "maintenance.scheduled");
        assert_eq!(body["maintenance"]["scheduled_for"], "2026-12-01T22:00:00Z");
        assert_eq!(body["maintenance"]["components"][1], "API");
        let slack = String::from_utf8(payload(&maintenance(WebhookKind::Slack))).expect("utf-8");
        assert!(
            slack.contains("Scheduled maintenance: Database upgrade"),
            "{slack}"
        );
        assert!(slack.contains("22:00 UTC, 1 Dec 2026"), "{slack}");
        assert!(slack.contains("Affects: Payments, API."), "{slack}");
        assert!(!slack.contains("<@everyone>"), "{slack}");
        let teams = String::from_utf8(payload(&maintenance(WebhookKind::Teams))).expect("utf-8");
        assert!(
            teams.contains("Database upgrade") && teams.contains("23:30 UTC"),
            "{teams}"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body_in_hex() {
        assert_eq!(
            signature("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn a_slack_body_has_text_and_blocks_with_escaped_markup() {
        let body: serde_json::Value = serde_json::from_slice(&payload(&delivery(
            WebhookKind::Slack,
            TemplateKind::CustomerFacing,
        )))
        .expect("json");
        assert!(body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Card payments failing")));
        assert_eq!(body["blocks"][0]["type"], "header");
        assert_eq!(
            body["blocks"][1]["text"]["text"],
            "Some payments fail &lt;sometimes&gt; &amp; retry works."
        );
    }

    /// Each chat platform's body for one update, against the file under
    /// `server/tests/golden/`. `CALMROOM_BLESS=1` writes the files anew; read
    /// the diff before committing it.
    #[test]
    fn every_chat_platform_gets_the_body_in_its_golden_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        for kind in WebhookKind::ALL {
            if kind == WebhookKind::Json {
                continue;
            }
            let mut d = delivery(kind, TemplateKind::CustomerFacing);
            if let About::Update { update, .. } = &mut d.about {
                update.next_update_at = Some(update.published_at + Duration::minutes(30));
            }
            let body: serde_json::Value = serde_json::from_slice(&payload(&d)).expect("json");
            let pretty = format!("{}\n", serde_json::to_string_pretty(&body).expect("json"));
            let file = dir.join(format!("{}.json", kind.as_str()));
            if std::env::var_os("CALMROOM_BLESS").is_some() {
                std::fs::create_dir_all(&dir).expect("golden dir");
                std::fs::write(&file, &pretty).expect("write golden");
            }
            let golden = std::fs::read_to_string(&file).expect("golden file");
            assert_eq!(
                pretty,
                golden,
                "{} differs from {}",
                kind.as_str(),
                file.display()
            );
        }
    }

    #[test]
    fn a_customer_delivery_carries_no_internal_title_or_severity() {
        let customer = String::from_utf8(payload(&delivery(
            WebhookKind::Json,
            TemplateKind::CustomerFacing,
        )))
        .expect("utf-8");
        assert!(!customer.contains("pg-primary-2"));
        assert!(customer.contains("\"severity\":null"));
        let internal = String::from_utf8(payload(&delivery(
            WebhookKind::Json,
            TemplateKind::OngoingInternal,
        )))
        .expect("utf-8");
        assert!(internal.contains("pg-primary-2 disk full"));
    }
}
