//! Alerts from monitoring: the two formats senders speak (PagerDuty Events v2
//! and the Alertmanager webhook, which Grafana also sends), how a sender's
//! severity maps to ours, and the one shape both fold into before anything is
//! stored. Parsing names the field that is wrong, as the senders expect.

use super::incidents::{bounded_text, Severity};
use super::users::FieldError;
use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest body a sender may post (PagerDuty's own limit).
pub const MAX_EVENT_BYTES: usize = 512 * 1024;
/// The most alerts one Alertmanager notification may carry.
pub const MAX_ALERTS_PER_NOTICE: usize = 1000;
/// Labels and details kept per alert; more are dropped, not refused.
pub const MAX_DETAILS: usize = 40;

/// Which format an integration speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntegrationKind {
    /// `POST /v2/enqueue` with a routing key in the body.
    PagerDuty,
    /// `POST /hooks/alertmanager/<id>` with a bearer token (Grafana too).
    Alertmanager,
}

impl IntegrationKind {
    pub const ALL: [IntegrationKind; 2] =
        [IntegrationKind::PagerDuty, IntegrationKind::Alertmanager];

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::PagerDuty => "pagerduty",
            IntegrationKind::Alertmanager => "alertmanager",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IntegrationKind::PagerDuty => "PagerDuty Events v2",
            IntegrationKind::Alertmanager => "Alertmanager / Grafana webhook",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "Choose PagerDuty Events v2 or Alertmanager / Grafana.",
                )
            })
    }
}

/// An integration's name, as the inbox shows it: 1 to 80 characters.
pub fn integration_name(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let name = bounded_text(
        field,
        raw,
        80,
        Some("Name the sender, for example \"Prometheus\"."),
    )?;
    if name.contains('\n') {
        return Err(FieldError::new(field, "Keep the name on one line."));
    }
    Ok(name)
}

/// The severities senders use, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SenderSeverity {
    Critical,
    Error,
    Warning,
    Info,
}

impl SenderSeverity {
    pub const ALL: [SenderSeverity; 4] = [
        SenderSeverity::Critical,
        SenderSeverity::Error,
        SenderSeverity::Warning,
        SenderSeverity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SenderSeverity::Critical => "critical",
            SenderSeverity::Error => "error",
            SenderSeverity::Warning => "warning",
            SenderSeverity::Info => "info",
        }
    }

    /// PagerDuty's four values, exactly.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// An Alertmanager `severity` label, which is free text: the usual words
    /// map to their level, and anything else (or no label) is a warning.
    pub fn from_label(raw: Option<&str>) -> Self {
        match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            Some(
                "critical" | "crit" | "page" | "fatal" | "emergency" | "alert" | "disaster" | "p1",
            ) => SenderSeverity::Critical,
            Some("error" | "err" | "high" | "major" | "p2") => SenderSeverity::Error,
            Some("info" | "information" | "low" | "minor" | "none" | "ok" | "p4" | "p5") => {
                SenderSeverity::Info
            }
            _ => SenderSeverity::Warning,
        }
    }
}

/// Which of our severities each sender severity becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityMap {
    pub critical: Severity,
    pub error: Severity,
    pub warning: Severity,
    pub info: Severity,
}

impl Default for SeverityMap {
    fn default() -> Self {
        SeverityMap {
            critical: Severity::Sev1,
            error: Severity::Sev2,
            warning: Severity::Sev3,
            info: Severity::Sev4,
        }
    }
}

impl SeverityMap {
    pub fn map(&self, sender: SenderSeverity) -> Severity {
        match sender {
            SenderSeverity::Critical => self.critical,
            SenderSeverity::Error => self.error,
            SenderSeverity::Warning => self.warning,
            SenderSeverity::Info => self.info,
        }
    }

    /// Stored as "sev1,sev2,sev3,sev4" (critical, error, warning, info).
    pub fn to_stored(&self) -> String {
        [self.critical, self.error, self.warning, self.info]
            .map(Severity::as_str)
            .join(",")
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        let mut parts = raw.split(',').map(|p| Severity::parse("severity", p).ok());
        let map = SeverityMap {
            critical: parts.next()??,
            error: parts.next()??,
            warning: parts.next()??,
            info: parts.next()??,
        };
        parts.next().is_none().then_some(map)
    }
}

/// What an event asks of its alert group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertAction {
    /// Open the group, or keep it open (a repeat is a duplicate).
    Trigger,
    /// Someone is on it: the group stays open.
    Acknowledge,
    Resolve,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Trigger => "trigger",
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::Resolve => "resolve",
        }
    }
}

/// Where an alert group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertState {
    Firing,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AlertState::Firing => "Firing",
            AlertState::Acknowledged => "Acknowledged",
            AlertState::Resolved => "Resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            AlertState::Firing,
            AlertState::Acknowledged,
            AlertState::Resolved,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// The state after `action`. A resolved group stays resolved: a new
    /// trigger with its key opens a new group instead.
    pub fn after(self, action: AlertAction) -> AlertState {
        match (self, action) {
            (AlertState::Resolved, _) => AlertState::Resolved,
            (_, AlertAction::Resolve) => AlertState::Resolved,
            (AlertState::Acknowledged, AlertAction::Trigger) => AlertState::Acknowledged,
            (_, AlertAction::Acknowledge) => AlertState::Acknowledged,
            (AlertState::Firing, AlertAction::Trigger) => AlertState::Firing,
        }
    }
}

/// One alert inside a group (Alertmanager's `fingerprint`; a PagerDuty event
/// is a group of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertItem {
    pub fingerprint: String,
    pub firing: bool,
    pub summary: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

/// Every sender's event, folded into one shape. Keys and texts are bounded
/// and trimmed; nothing here is stored yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvent {
    pub action: AlertAction,
    /// Identifies the group: PagerDuty's `dedup_key` or Alertmanager's `groupKey`.
    pub dedup_key: String,
    /// Whether the sender left the key to us (PagerDuty trigger without one).
    pub key_generated: bool,
    pub summary: String,
    pub source: String,
    pub severity: SenderSeverity,
    /// When the sender says the problem started.
    pub started_at: Option<DateTime<Utc>>,
    /// Labels, annotations and details as "name: value" pairs.
    pub details: Vec<(String, String)>,
    pub link: Option<String>,
    pub alerts: Vec<AlertItem>,
}

/// A change event (a deploy, a config push): a suspect for "what changed?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    pub summary: String,
    pub source: String,
    pub happened_at: Option<DateTime<Utc>>,
    pub link: Option<String>,
}

/// Why an event was refused, one line per problem, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventErrors(pub Vec<String>);

impl EventErrors {
    fn one(message: impl Into<String>) -> Self {
        EventErrors(vec![message.into()])
    }
}

/// A PagerDuty event's routing key and what it carries. `new_key` is used
/// when a trigger comes without a `dedup_key`.
pub fn parse_pagerduty(
    body: &Value,
    new_key: &str,
    now: DateTime<Utc>,
) -> Result<(String, AlertEvent), EventErrors> {
    let object = body
        .as_object()
        .ok_or_else(|| EventErrors::one("The event must be a JSON object."))?;
    let mut errors = Vec::new();
    let routing_key = required_text(object, "routing_key", 64, &mut errors);
    let action = match text_field(object, "event_action", &mut errors).as_deref() {
        Some("trigger") => Some(AlertAction::Trigger),
        Some("acknowledge") => Some(AlertAction::Acknowledge),
        Some("resolve") => Some(AlertAction::Resolve),
        Some(other) => {
            errors.push(format!(
                "'event_action' must be trigger, acknowledge or resolve, not {:?}",
                clip(other, 40)
            ));
            None
        }
        None => {
            errors.push("'event_action' is missing or blank".to_owned());
            None
        }
    };
    let dedup_key = optional_text(object, "dedup_key", 255, &mut errors);
    let mut event = AlertEvent {
        action: action.unwrap_or(AlertAction::Trigger),
        key_generated: dedup_key.is_none(),
        dedup_key: dedup_key.unwrap_or_else(|| new_key.to_owned()),
        summary: String::new(),
        source: String::new(),
        severity: SenderSeverity::Warning,
        started_at: None,
        details: Vec::new(),
        link: None,
        alerts: Vec::new(),
    };
    if action.is_some_and(|a| a != AlertAction::Trigger) && event.key_generated {
        errors.push("'dedup_key' is required to acknowledge or resolve".to_owned());
    }
    if action == Some(AlertAction::Trigger) {
        match object.get("payload") {
            Some(Value::Object(payload)) => {
                event.summary =
                    required_text_at(payload, "payload.summary", "summary", 1024, &mut errors);
                event.source =
                    required_text_at(payload, "payload.source", "source", 255, &mut errors);
                match text_field_at(payload, "payload.severity", "severity", &mut errors).as_deref()
                {
                    Some(raw) => match SenderSeverity::parse(raw) {
                        Some(s) => event.severity = s,
                        None => errors.push(format!(
                            "'payload.severity' must be critical, error, warning or info, not {:?}",
                            clip(raw, 40)
                        )),
                    },
                    None => errors.push("'payload.severity' is missing or blank".to_owned()),
                }
                if let Some(raw) =
                    text_field_at(payload, "payload.timestamp", "timestamp", &mut errors)
                {
                    match timestamp(&raw, now) {
                        Some(at) => event.started_at = Some(at),
                        None => errors.push(
                            "'payload.timestamp' must be an ISO 8601 time within a year of now"
                                .to_owned(),
                        ),
                    }
                }
                for name in ["component", "group", "class"] {
                    if let Some(value) = payload.get(name).and_then(scalar_text) {
                        event.details.push((name.to_owned(), clip(&value, 500)));
                    }
                }
                if let Some(Value::Object(custom)) = payload.get("custom_details") {
                    flatten_details(custom, &mut event.details);
                } else if let Some(value) = payload.get("custom_details").and_then(scalar_text) {
                    event
                        .details
                        .push(("details".to_owned(), clip(&value, 500)));
                }
                event.details.truncate(MAX_DETAILS);
            }
            Some(_) => errors.push("'payload' must be an object".to_owned()),
            None => errors.push("'payload' is missing".to_owned()),
        }
        event.link = first_link(object);
        event.alerts.push(AlertItem {
            fingerprint: event.dedup_key.clone(),
            firing: true,
            summary: event.summary.clone(),
            starts_at: event.started_at,
            ends_at: None,
        });
    }
    if errors.is_empty() {
        Ok((routing_key, event))
    } else {
        Err(EventErrors(errors))
    }
}

/// A PagerDuty change event's routing key and what changed.
pub fn parse_pagerduty_change(
    body: &Value,
    now: DateTime<Utc>,
) -> Result<(String, ChangeEvent), EventErrors> {
    let object = body
        .as_object()
        .ok_or_else(|| EventErrors::one("The event must be a JSON object."))?;
    let mut errors = Vec::new();
    let routing_key = required_text(object, "routing_key", 64, &mut errors);
    let mut change = ChangeEvent {
        summary: String::new(),
        source: String::new(),
        happened_at: None,
        link: first_link(object),
    };
    match object.get("payload") {
        Some(Value::Object(payload)) => {
            change.summary =
                required_text_at(payload, "payload.summary", "summary", 1024, &mut errors);
            change.source = optional_text_at(payload, "payload.source", "source", 255, &mut errors)
                .unwrap_or_default();
            if let Some(raw) = text_field_at(payload, "payload.timestamp", "timestamp", &mut errors)
            {
                match timestamp(&raw, now) {
                    Some(at) => change.happened_at = Some(at),
                    None => errors.push(
                        "'payload.timestamp' must be an ISO 8601 time within a year of now"
                            .to_owned(),
                    ),
                }
            }
        }
        Some(_) => errors.push("'payload' must be an object".to_owned()),
        None => errors.push("'payload' is missing".to_owned()),
    }
    if errors.is_empty() {
        Ok((routing_key, change))
    } else {
        Err(EventErrors(errors))
    }
}

/// An Alertmanager (version "4") or Grafana (version "1") notification: one
/// group and the alerts in it. Unknown fields are ignored.
pub fn parse_alertmanager(body: &Value, now: DateTime<Utc>) -> Result<AlertEvent, EventErrors> {
    let object = body
        .as_object()
        .ok_or_else(|| EventErrors::one("The notification must be a JSON object."))?;
    let mut errors = Vec::new();
    let group_key = required_text(object, "groupKey", 1000, &mut errors);
    let status = text_field(object, "status", &mut errors);
    let resolved = match status.as_deref() {
        Some("firing") => false,
        Some("resolved") => true,
        Some(other) => {
            errors.push(format!(
                "'status' must be firing or resolved, not {:?}",
                clip(other, 40)
            ));
            false
        }
        None => {
            errors.push("'status' is missing or blank".to_owned());
            false
        }
    };
    let common_labels = labels_of(object.get("commonLabels"), "commonLabels", &mut errors);
    let common_annotations = labels_of(
        object.get("commonAnnotations"),
        "commonAnnotations",
        &mut errors,
    );
    let group_labels = labels_of(object.get("groupLabels"), "groupLabels", &mut errors);
    let mut alerts = Vec::new();
    match object.get("alerts") {
        Some(Value::Array(list)) if list.len() > MAX_ALERTS_PER_NOTICE => errors.push(format!(
            "'alerts' holds {} alerts; send at most {MAX_ALERTS_PER_NOTICE} at once",
            list.len()
        )),
        Some(Value::Array(list)) => {
            for (i, alert) in list.iter().enumerate() {
                match alert_item(alert, i, now) {
                    Ok(item) => alerts.push(item),
                    Err(e) => errors.push(e),
                }
            }
        }
        Some(_) => errors.push("'alerts' must be a list".to_owned()),
        None => errors.push("'alerts' is missing".to_owned()),
    }
    if !errors.is_empty() {
        return Err(EventErrors(errors));
    }
    let first_alert = object
        .get("alerts")
        .and_then(|a| a.get(0))
        .and_then(|a| a.get("labels"))
        .and_then(Value::as_object);
    let label = |name: &str| {
        common_labels
            .iter()
            .chain(group_labels.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| first_alert.and_then(|l| l.get(name)).and_then(scalar_text))
    };
    let annotation = |name: &str| {
        common_annotations
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let alertname = label("alertname");
    let summary = annotation("summary")
        .or_else(|| object.get("title").and_then(scalar_text))
        .or_else(|| alertname.clone())
        .unwrap_or_else(|| "Alert".to_owned());
    // The source is what the whole group shares: its instance, else its job.
    let shared = |name: &str| {
        common_labels
            .iter()
            .chain(group_labels.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let source = shared("instance")
        .or_else(|| shared("job"))
        .or_else(|| object.get("receiver").and_then(scalar_text))
        .unwrap_or_else(|| "alertmanager".to_owned());
    let mut details: Vec<(String, String)> = common_labels
        .iter()
        .chain(common_annotations.iter().filter(|(k, _)| k != "summary"))
        .cloned()
        .collect();
    details.truncate(MAX_DETAILS);
    let firing = alerts.iter().any(|a| a.firing);
    let started_at = alerts.iter().filter_map(|a| a.starts_at).min();
    Ok(AlertEvent {
        action: if resolved || !firing {
            AlertAction::Resolve
        } else {
            AlertAction::Trigger
        },
        dedup_key: group_key,
        key_generated: false,
        summary: clip(&summary, 1024),
        source: clip(&source, 255),
        severity: SenderSeverity::from_label(label("severity").as_deref()),
        started_at,
        details,
        link: object
            .get("externalURL")
            .and_then(Value::as_str)
            .and_then(web_link),
        alerts,
    })
}

fn alert_item(alert: &Value, i: usize, now: DateTime<Utc>) -> Result<AlertItem, String> {
    let field = |name: &str| format!("alerts[{i}].{name}");
    let object = alert
        .as_object()
        .ok_or_else(|| format!("'alerts[{i}]' must be an object"))?;
    let fingerprint = object
        .get("fingerprint")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| format!("'{}' is missing or blank", field("fingerprint")))?;
    if fingerprint.chars().count() > 255 {
        return Err(format!(
            "'{}' is longer than 255 characters",
            field("fingerprint")
        ));
    }
    let firing = match object.get("status").and_then(Value::as_str) {
        Some("firing") => true,
        Some("resolved") => false,
        _ => return Err(format!("'{}' must be firing or resolved", field("status"))),
    };
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(raw)) => match DateTime::parse_from_rfc3339(raw.trim()) {
                // Alertmanager sends year 1 for "not yet".
                Ok(at) if at.year() < 2000 => Ok(None),
                Ok(at) => {
                    let at = at.with_timezone(&Utc);
                    within_a_year(at, now)
                        .then_some(Some(at))
                        .ok_or_else(|| format!("'{}' is more than a year away", field(name)))
                }
                Err(_) => Err(format!("'{}' must be an RFC 3339 time", field(name))),
            },
            Some(_) => Err(format!("'{}' must be an RFC 3339 time", field(name))),
        }
    };
    let summary = object
        .get("annotations")
        .and_then(|a| a.get("summary"))
        .and_then(scalar_text)
        .or_else(|| {
            object
                .get("labels")
                .and_then(|l| l.get("alertname"))
                .and_then(scalar_text)
        })
        .unwrap_or_default();
    Ok(AlertItem {
        fingerprint: fingerprint.to_owned(),
        firing,
        summary: clip(&summary, 500),
        starts_at: time("startsAt")?,
        ends_at: time("endsAt")?,
    })
}

fn labels_of(
    value: Option<&Value>,
    field: &str,
    errors: &mut Vec<String>,
) -> Vec<(String, String)> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| Some((clip(k, 100), clip(&scalar_text(v)?, 500))))
            .take(MAX_DETAILS)
            .collect(),
        Some(_) => {
            errors.push(format!("'{field}' must be an object"));
            Vec::new()
        }
    }
}

fn flatten_details(custom: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (key, value) in custom.iter().take(MAX_DETAILS) {
        let text = match value {
            Value::Object(_) | Value::Array(_) => clip(&value.to_string(), 500),
            other => match scalar_text(other) {
                Some(t) => clip(&t, 500),
                None => continue,
            },
        };
        out.push((clip(key, 100), text));
    }
}

/// The first `links[].href` that is a web address.
fn first_link(object: &Map<String, Value>) -> Option<String> {
    let from_links = object
        .get("links")
        .and_then(Value::as_array)
        .and_then(|links| {
            links
                .iter()
                .filter_map(|l| l.get("href").and_then(Value::as_str))
                .find_map(web_link)
        });
    from_links.or_else(|| {
        object
            .get("client_url")
            .and_then(Value::as_str)
            .and_then(web_link)
    })
}

/// An http(s) address without spaces, up to 2000 characters.
fn web_link(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let ok = (raw.starts_with("https://") || raw.starts_with("http://"))
        && raw.len() <= 2000
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| raw.to_owned())
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The first `max` characters, with control characters (but line breaks) dropped.
fn clip(raw: &str, max: usize) -> String {
    raw.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max)
        .collect()
}

fn text_field(object: &Map<String, Value>, name: &str, errors: &mut Vec<String>) -> Option<String> {
    text_field_at(object, name, name, errors)
}

/// The trimmed string at `key`, `None` when absent, null or blank; an error
/// naming `field` when it is not a string.
fn text_field_at(
    object: &Map<String, Value>,
    field: &str,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    match object.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            errors.push(format!("'{field}' must be a string"));
            None
        }
    }
}

fn required_text(
    object: &Map<String, Value>,
    name: &str,
    max: usize,
    errors: &mut Vec<String>,
) -> String {
    required_text_at(object, name, name, max, errors)
}

fn required_text_at(
    object: &Map<String, Value>,
    field: &str,
    key: &str,
    max: usize,
    errors: &mut Vec<String>,
) -> String {
    let before = errors.len();
    match optional_text_at(object, field, key, max, errors) {
        Some(text) => text,
        None => {
            if errors.len() == before {
                errors.push(format!("'{field}' is missing or blank"));
            }
            String::new()
        }
    }
}

fn optional_text(
    object: &Map<String, Value>,
    name: &str,
    max: usize,
    errors: &mut Vec<String>,
) -> Option<String> {
    optional_text_at(object, name, name, max, errors)
}

fn optional_text_at(
    object: &Map<String, Value>,
    field: &str,
    key: &str,
    max: usize,
    errors: &mut Vec<String>,
) -> Option<String> {
    let text = text_field_at(object, field, key, errors)?;
    if text.chars().count() > max {
        errors.push(format!("'{field}' is longer than {max} characters"));
        return None;
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.push(format!("'{field}' holds control characters"));
        return None;
    }
    Some(text)
}

/// An ISO 8601 time: RFC 3339, or with a stray "Z" after its offset (as one
/// Python client writes it), or without an offset (taken as UTC).
fn timestamp(raw: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let at = DateTime::parse_from_rfc3339(raw)
        .or_else(|e| match raw.strip_suffix('Z') {
            Some(bare) if bare.len() > 6 => DateTime::parse_from_rfc3339(bare),
            _ => Err(e),
        })
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })?;
    within_a_year(at, now).then_some(at)
}

fn within_a_year(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    (at - now).abs() <= Duration::days(366)
}

/// A new secret for an integration: 32 lowercase hex characters (PagerDuty's
/// routing-key length), from 16 random bytes.
pub fn secret_from(bytes: [u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An alert group as people see it: in the inbox and in a war room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroup {
    pub id: i64,
    pub integration: String,
    pub kind: IntegrationKind,
    pub state: AlertState,
    pub summary: String,
    pub source: String,
    pub sender_severity: SenderSeverity,
    pub severity: Severity,
    pub details: Vec<(String, String)>,
    pub link: Option<String>,
    pub started_at: DateTime<Utc>,
    pub last_event_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Events received for the group, duplicates included.
    pub events: i64,
    /// Alerts in the group, and how many of them fire.
    pub alerts: i64,
    pub firing: i64,
    /// The incident it is attached to (its number).
    pub incident: Option<i64>,
}

impl AlertGroup {
    /// What the alert says about impact: a first draft of the impact field.
    pub fn impact_text(&self) -> String {
        let mut text = format!(
            "{} (from {}, source {}",
            self.summary, self.integration, self.source
        );
        if self.alerts > 1 {
            text.push_str(&format!(
                ", {} of {} alerts firing",
                self.firing, self.alerts
            ));
        }
        text.push(')');
        text.chars().take(2000).collect()
    }
}

/// A change event shown as a suspect in war rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentChange {
    pub integration: String,
    pub summary: String,
    pub source: String,
    pub link: Option<String>,
    pub happened_at: DateTime<Utc>,
}

/// A reason to dismiss an alert group: 1 to 500 characters.
pub fn dismiss_reason(field: &'static str, raw: &str) -> Result<String, FieldError> {
    bounded_text(
        field,
        raw,
        500,
        Some("Say why, for example \"known flapping check\"."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time")
    }

    fn trigger() -> Value {
        json!({
            "routing_key": "0123456789abcdef0123456789abcdef",
            "event_action": "trigger",
            "dedup_key": "db-primary-cpu",
            "payload": {
                "summary": "CPU on db-primary above 95%",
                "source": "db-primary",
                "severity": "critical",
                "timestamp": "2026-12-02T09:58:00Z",
                "component": "postgres",
                "custom_details": {"load": 12.5, "note": "since the deploy"}
            },
            "links": [{"href": "https://grafana.example.com/d/db", "text": "Dashboard"}]
        })
    }

    #[test]
    fn a_pagerduty_trigger_folds_into_one_event_with_its_details() {
        let (key, event) = parse_pagerduty(&trigger(), "unused", now()).expect("valid");
        assert_eq!(key, "0123456789abcdef0123456789abcdef");
        assert_eq!(event.action, AlertAction::Trigger);
        assert_eq!(event.dedup_key, "db-primary-cpu");
        assert!(!event.key_generated);
        assert_eq!(event.summary, "CPU on db-primary above 95%");
        assert_eq!(event.severity, SenderSeverity::Critical);
        assert_eq!(
            event.started_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-02T09:58:00+00:00")
        );
        assert!(event
            .details
            .contains(&("component".to_owned(), "postgres".to_owned())));
        assert!(event
            .details
            .contains(&("load".to_owned(), "12.5".to_owned())));
        assert_eq!(
            event.link.as_deref(),
            Some("https://grafana.example.com/d/db")
        );
        assert_eq!(event.alerts.len(), 1);
    }

    #[test]
    fn a_trigger_without_a_dedup_key_gets_the_one_we_made() {
        let mut body = trigger();
        body.as_object_mut().map(|o| o.remove("dedup_key"));
        let (_, event) = parse_pagerduty(&body, "generated-key", now()).expect("valid");
        assert_eq!(event.dedup_key, "generated-key");
        assert!(event.key_generated);
    }

    #[test]
    fn resolving_needs_a_dedup_key_but_no_payload() {
        let body =
            json!({"routing_key": "k", "event_action": "resolve", "dedup_key": "db-primary-cpu"});
        let (_, event) = parse_pagerduty(&body, "x", now()).expect("valid");
        assert_eq!(event.action, AlertAction::Resolve);
        let body = json!({"routing_key": "k", "event_action": "acknowledge"});
        let errors = parse_pagerduty(&body, "x", now()).expect_err("no key");
        assert!(
            errors.0.iter().any(|e| e.contains("'dedup_key'")),
            "{errors:?}"
        );
    }

    #[test]
    fn every_missing_or_wrong_field_is_named() {
        let body = json!({"event_action": "explode", "payload": {"summary": 3, "severity": "bad"}});
        let errors = parse_pagerduty(&body, "x", now()).expect_err("invalid").0;
        let all = errors.join("\n");
        assert!(all.contains("'routing_key' is missing"), "{all}");
        assert!(
            all.contains("'event_action' must be trigger, acknowledge or resolve"),
            "{all}"
        );
        let body = json!({"routing_key": "k", "event_action": "trigger", "payload": {"summary": 3, "severity": "bad"}});
        let all = parse_pagerduty(&body, "x", now())
            .expect_err("invalid")
            .0
            .join("\n");
        assert!(all.contains("'payload.summary' must be a string"), "{all}");
        assert!(all.contains("'payload.source' is missing"), "{all}");
        assert!(all.contains("'payload.severity' must be critical"), "{all}");
        let body = json!(["not", "an", "object"]);
        assert!(parse_pagerduty(&body, "x", now()).is_err());
    }

    #[test]
    fn a_summary_longer_than_1024_characters_is_refused() {
        let mut body = trigger();
        body["payload"]["summary"] = json!("x".repeat(1025));
        let all = parse_pagerduty(&body, "x", now())
            .expect_err("too long")
            .0
            .join("\n");
        assert!(
            all.contains("'payload.summary' is longer than 1024"),
            "{all}"
        );
    }

    #[test]
    fn a_timestamp_years_away_is_refused() {
        let mut body = trigger();
        body["payload"]["timestamp"] = json!("1999-01-01T00:00:00Z");
        let all = parse_pagerduty(&body, "x", now())
            .expect_err("old")
            .0
            .join("\n");
        assert!(all.contains("'payload.timestamp'"), "{all}");
        body["payload"]["timestamp"] = json!("yesterday");
        assert!(parse_pagerduty(&body, "x", now()).is_err());
    }

    #[test]
    fn timestamps_with_a_stray_z_or_without_an_offset_are_read_as_meant() {
        let want = "2026-12-02T09:58:00+00:00";
        for raw in [
            "2026-12-02T09:58:00+00:00Z",
            "2026-12-02T09:58:00",
            "2026-12-02T10:58:00+01:00",
        ] {
            let at = timestamp(raw, now()).map(|t| t.to_rfc3339());
            assert_eq!(at.as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn a_change_event_needs_only_a_summary() {
        let body = json!({
            "routing_key": "k",
            "payload": {"summary": "Deployed api v2.3.1", "timestamp": "2026-12-02T09:50:00Z"},
            "links": [{"href": "https://ci.example.com/run/7"}]
        });
        let (_, change) = parse_pagerduty_change(&body, now()).expect("valid");
        assert_eq!(change.summary, "Deployed api v2.3.1");
        assert_eq!(change.link.as_deref(), Some("https://ci.example.com/run/7"));
        let body = json!({"routing_key": "k", "payload": {}});
        assert!(parse_pagerduty_change(&body, now()).is_err());
    }

    fn notice(status: &str, alerts: Value) -> Value {
        json!({
            "version": "4",
            "groupKey": "{}:{alertname=\"HighLatency\"}",
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "calmroom",
            "groupLabels": {"alertname": "HighLatency"},
            "commonLabels": {"alertname": "HighLatency", "severity": "page", "job": "api"},
            "commonAnnotations": {"summary": "p99 latency above 2 s", "runbook": "https://wiki/rb"},
            "externalURL": "http://alertmanager:9093",
            "alerts": alerts
        })
    }

    fn am_alert(fingerprint: &str, status: &str, ends: &str) -> Value {
        json!({
            "status": status,
            "labels": {"alertname": "HighLatency", "instance": fingerprint},
            "annotations": {"summary": format!("slow on {fingerprint}")},
            "startsAt": "2026-12-02T09:55:00.123Z",
            "endsAt": ends,
            "generatorURL": "http://prometheus/graph",
            "fingerprint": fingerprint
        })
    }

    #[test]
    fn an_alertmanager_group_is_one_event_with_an_item_per_fingerprint() {
        let body = notice(
            "firing",
            json!([
                am_alert("a1", "firing", "0001-01-01T00:00:00Z"),
                am_alert("b2", "resolved", "2026-12-02T09:59:00Z")
            ]),
        );
        let event = parse_alertmanager(&body, now()).expect("valid");
        assert_eq!(event.action, AlertAction::Trigger);
        assert_eq!(event.dedup_key, "{}:{alertname=\"HighLatency\"}");
        assert_eq!(event.summary, "p99 latency above 2 s");
        assert_eq!(event.source, "api");
        assert_eq!(event.severity, SenderSeverity::Critical);
        assert_eq!(event.alerts.len(), 2);
        assert!(event.alerts[0].firing && event.alerts[0].ends_at.is_none());
        assert!(!event.alerts[1].firing);
        assert!(event.started_at.is_some());
    }

    #[test]
    fn a_group_whose_alerts_all_resolved_resolves() {
        let body = notice(
            "resolved",
            json!([am_alert("a1", "resolved", "2026-12-02T09:59:00Z")]),
        );
        assert_eq!(
            parse_alertmanager(&body, now()).expect("valid").action,
            AlertAction::Resolve
        );
    }

    #[test]
    fn grafanas_version_1_extras_are_accepted() {
        let mut body = notice(
            "firing",
            json!([am_alert("a1", "firing", "0001-01-01T00:00:00Z")]),
        );
        body["version"] = json!("1");
        body["orgId"] = json!(1);
        body["title"] = json!("[FIRING:1] HighLatency");
        body["state"] = json!("alerting");
        body["message"] = json!("long text");
        body["alerts"][0]["silenceURL"] = json!("http://grafana/silence");
        body["alerts"][0]["values"] = json!({"B": 2.4});
        assert!(parse_alertmanager(&body, now()).is_ok());
    }

    #[test]
    fn a_broken_alert_is_named_by_its_place_in_the_list() {
        let body = notice(
            "firing",
            json!([am_alert("a1", "firing", "0001-01-01T00:00:00Z"), {"status": "firing"}]),
        );
        let all = parse_alertmanager(&body, now())
            .expect_err("invalid")
            .0
            .join("\n");
        assert!(all.contains("'alerts[1].fingerprint' is missing"), "{all}");
        let mut body = notice("firing", json!([]));
        body.as_object_mut().map(|o| o.remove("groupKey"));
        let all = parse_alertmanager(&body, now())
            .expect_err("invalid")
            .0
            .join("\n");
        assert!(all.contains("'groupKey' is missing"), "{all}");
    }

    #[test]
    fn a_resolved_group_stays_resolved_and_an_acknowledged_one_is_not_reopened_by_a_repeat() {
        assert_eq!(
            AlertState::Resolved.after(AlertAction::Trigger),
            AlertState::Resolved
        );
        assert_eq!(
            AlertState::Acknowledged.after(AlertAction::Trigger),
            AlertState::Acknowledged
        );
        assert_eq!(
            AlertState::Firing.after(AlertAction::Acknowledge),
            AlertState::Acknowledged
        );
        assert_eq!(
            AlertState::Firing.after(AlertAction::Resolve),
            AlertState::Resolved
        );
    }

    #[test]
    fn severity_labels_map_through_the_integrations_choice() {
        let map = SeverityMap {
            critical: Severity::Sev2,
            ..SeverityMap::default()
        };
        assert_eq!(
            map.map(SenderSeverity::from_label(Some("critical"))),
            Severity::Sev2
        );
        assert_eq!(
            map.map(SenderSeverity::from_label(Some("warning"))),
            Severity::Sev3
        );
        assert_eq!(map.map(SenderSeverity::from_label(None)), Severity::Sev3);
        assert_eq!(SeverityMap::from_stored(&map.to_stored()), Some(map));
        assert_eq!(SeverityMap::from_stored("sev1,sev2"), None);
    }

    #[test]
    fn a_secret_is_32_hex_characters() {
        let secret = secret_from([0xab; 16]);
        assert_eq!(secret.len(), 32);
        assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
