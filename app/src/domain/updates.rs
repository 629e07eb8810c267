//! Stakeholder updates: the three templates, how they are filled and rendered,
//! and the guards an update must pass before it goes out.

use super::incidents::bounded_text;
use super::users::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Which of the three templates an update uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TemplateKind {
    InitialInternal,
    OngoingInternal,
    CustomerFacing,
}

/// Who reads an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Stakeholders inside the company (signed-in viewers).
    Internal,
    /// Customers: the public status page, feeds, JSON and webhooks.
    Customer,
}

/// Filled by the system at publish time; never typed.
pub const TIME: &str = "time";
/// Filled by the system from the update cadence; never typed.
pub const NEXT_UPDATE: &str = "next_update";

impl TemplateKind {
    pub const ALL: [TemplateKind; 3] = [
        TemplateKind::InitialInternal,
        TemplateKind::OngoingInternal,
        TemplateKind::CustomerFacing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::InitialInternal => "initial_internal",
            TemplateKind::OngoingInternal => "ongoing_internal",
            TemplateKind::CustomerFacing => "customer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TemplateKind::InitialInternal => "Initial internal update",
            TemplateKind::OngoingInternal => "Ongoing internal update",
            TemplateKind::CustomerFacing => "Customer-facing update",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, "Choose a template."))
    }

    pub fn audience(self) -> Audience {
        match self {
            TemplateKind::CustomerFacing => Audience::Customer,
            _ => Audience::Internal,
        }
    }

    /// The fields of this template, in their default order: (key, label, help, required).
    fn default_fields(self) -> &'static [(&'static str, &'static str, &'static str, bool)] {
        match self {
            TemplateKind::InitialInternal => &[
                (TIME, "Time", "Stamped when you publish.", false),
                ("severity", "Severity", "", true),
                ("impact", "Impact", "Who is affected and how.", true),
                ("status", "Status", "", true),
                (
                    "known",
                    "What we know",
                    "Facts only; say what is not known yet.",
                    true,
                ),
                ("next_steps", "What we do next", "", true),
                (
                    NEXT_UPDATE,
                    "Next update",
                    "From the update cadence.",
                    false,
                ),
            ],
            TemplateKind::OngoingInternal => &[
                (TIME, "Time", "Stamped when you publish.", false),
                (
                    "impact_trend",
                    "Impact and trend",
                    "Better, worse or the same since the last update.",
                    true,
                ),
                ("changes", "Changes since the last update", "", true),
                ("hypothesis", "Current hypothesis", "", false),
                (
                    "mitigation",
                    "Mitigation in progress",
                    "What, who owns it, and its status.",
                    false,
                ),
                ("risks", "Risks and dependencies", "", false),
                (
                    NEXT_UPDATE,
                    "Next update",
                    "From the update cadence.",
                    false,
                ),
            ],
            TemplateKind::CustomerFacing => &[
                (TIME, "Time", "Stamped when you publish.", false),
                (
                    "issue",
                    "Issue",
                    "A short public title: what customers notice.",
                    true,
                ),
                (
                    "impact",
                    "Impact",
                    "In the customer's words: what does not work.",
                    true,
                ),
                (
                    "mitigation",
                    "What we are doing",
                    "In general terms; no hosts, names or guesses.",
                    true,
                ),
                (
                    "workaround",
                    "Workaround",
                    "Leave empty when there is none.",
                    false,
                ),
                (
                    NEXT_UPDATE,
                    "Next update",
                    "From the update cadence.",
                    false,
                ),
            ],
        }
    }

    fn default_body(self) -> &'static str {
        match self {
            TemplateKind::InitialInternal => {
                "{{severity}} incident declared · {{time}}\n\
                 Impact: {{impact}}\n\
                 Status: {{status}}\n\
                 What we know: {{known}}\n\
                 What we do next: {{next_steps}}\n\
                 Next update: {{next_update}}"
            }
            TemplateKind::OngoingInternal => {
                "Update · {{time}}\n\
                 Impact and trend: {{impact_trend}}\n\
                 Since the last update: {{changes}}\n\
                 Current hypothesis: {{hypothesis}}\n\
                 Mitigation in progress: {{mitigation}}\n\
                 Risks and dependencies: {{risks}}\n\
                 Next update: {{next_update}}"
            }
            TemplateKind::CustomerFacing => {
                "{{impact}}\n\
                 {{mitigation}}\n\
                 Workaround: {{workaround}}\n\
                 Posted {{time}}. Next update by {{next_update}}."
            }
        }
    }

    /// Whether a field must be filled before publishing.
    pub fn is_required(self, key: &str) -> bool {
        self.default_fields()
            .iter()
            .any(|(k, _, _, required)| *k == key && *required)
    }

    /// The key as a `'static` name, for errors that point at the field.
    pub fn static_key(self, key: &str) -> Option<&'static str> {
        self.default_fields()
            .iter()
            .map(|(k, _, _, _)| *k)
            .find(|k| *k == key)
    }
}

/// One field as the composer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateField {
    pub key: String,
    pub label: String,
    pub help: String,
}

/// A template as admins edit it: field labels, order and help, and the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub kind: TemplateKind,
    pub fields: Vec<TemplateField>,
    pub body: String,
}

pub const MAX_BODY_CHARS: usize = 4000;
pub const MAX_LABEL_CHARS: usize = 60;
pub const MAX_HELP_CHARS: usize = 200;
/// Limit on each typed value of an update.
pub const MAX_VALUE_CHARS: usize = 2000;

impl Template {
    /// The template the product ships with.
    pub fn default_for(kind: TemplateKind) -> Template {
        Template {
            kind,
            fields: kind
                .default_fields()
                .iter()
                .map(|(key, label, help, _)| TemplateField {
                    key: (*key).to_owned(),
                    label: (*label).to_owned(),
                    help: (*help).to_owned(),
                })
                .collect(),
            body: kind.default_body().to_owned(),
        }
    }

    /// Checks an admin's edit: the same fields (reordered and relabelled at
    /// will), labels and help within limits, and a body that names only known fields.
    pub fn parse(
        kind: TemplateKind,
        fields: Vec<TemplateField>,
        body: &str,
    ) -> Result<Template, FieldError> {
        let mut keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
        keys.sort_unstable();
        let mut expected: Vec<&str> = kind.default_fields().iter().map(|f| f.0).collect();
        expected.sort_unstable();
        if keys != expected {
            return Err(FieldError::new(
                "fields",
                "A template keeps its fields; change their labels, order and help only.",
            ));
        }
        let fields = fields
            .into_iter()
            .map(|f| {
                let label = bounded_text("fields", &f.label, MAX_LABEL_CHARS, None)?;
                if label.is_empty() {
                    return Err(FieldError::new("fields", "Every field needs a label."));
                }
                if label.contains('\n') {
                    return Err(FieldError::new("fields", "Keep each label to one line."));
                }
                let help = bounded_text("fields", &f.help, MAX_HELP_CHARS, None)?;
                Ok(TemplateField {
                    key: f.key,
                    label,
                    help,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = bounded_text("body", body, MAX_BODY_CHARS, Some("Write the body."))?;
        for name in placeholders(&body) {
            if !expected.contains(&name.as_str()) {
                return Err(FieldError::new(
                    "body",
                    format!("{{{{{name}}}}} is not a field of this template."),
                ));
            }
        }
        Ok(Template { kind, fields, body })
    }

    /// The text of an update: each `{{key}}` replaced by its value. A line
    /// whose placeholders are all empty is left out, so optional fields
    /// leave no dangling labels.
    pub fn render(&self, values: &BTreeMap<String, String>) -> String {
        let mut lines = Vec::new();
        let value_of = |name: &str| values.get(name).map(|v| v.trim()).unwrap_or("");
        let empty = |text: &str| {
            let names = placeholders(text);
            !names.is_empty() && names.iter().all(|n| value_of(n).is_empty())
        };
        for line in self.body.lines() {
            // A sentence whose every placeholder is empty is left out ("Next update by ."),
            // and so is a line left with nothing.
            let kept: Vec<&str> = sentences(line).into_iter().filter(|s| !empty(s)).collect();
            if kept.is_empty() {
                continue;
            }
            let line = kept.join(" ");
            let mut out = String::new();
            let mut rest = line.as_str();
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                match rest[start..].find("}}") {
                    Some(end) => {
                        let name = rest[start + 2..start + end].trim();
                        out.push_str(value_of(name));
                        rest = &rest[start + end + 2..];
                    }
                    None => {
                        out.push_str(&rest[start..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            lines.push(out);
        }
        lines.join("\n").trim().to_owned()
    }
}

/// The sentences of one template line, split after ". ", each trimmed.
fn sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(". ") {
        out.push(rest[..=at].trim());
        rest = &rest[at + 2..];
    }
    if !rest.trim().is_empty() || out.is_empty() {
        out.push(rest.trim());
    }
    out
}

/// The names inside `{{...}}` in `text`, in order.
fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        names.push(rest[start + 2..start + end].trim().to_owned());
        rest = &rest[start + end + 2..];
    }
    names
}

/// Checks the typed values of an update: known keys only, each within limits,
/// required ones filled. System fields (time, next update) are dropped.
pub fn parse_values(
    kind: TemplateKind,
    raw: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, FieldError> {
    let mut values = BTreeMap::new();
    for (key, value) in raw {
        let Some(field) = kind.static_key(key) else {
            return Err(FieldError::new("fields", format!("Unknown field {key:?}.")));
        };
        if field == TIME || field == NEXT_UPDATE {
            continue;
        }
        let value = bounded_text(field, value, MAX_VALUE_CHARS, None)?;
        values.insert(key.clone(), value);
    }
    for (key, _, _, required) in kind.default_fields() {
        if *required && values.get(*key).is_none_or(|v| v.is_empty()) {
            return Err(FieldError::new(key, "Fill this in before publishing."));
        }
    }
    Ok(values)
}

/// "14:05 UTC": how updates write times, whoever writes them.
pub fn clock_text(at: DateTime<Utc>) -> String {
    super::zones::ZoneRules::utc().clock(at)
}

/// What the composer knows about the incident when it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub severity: String,
    pub status: String,
    pub impact: String,
    pub best_guess: String,
    /// The newest open hypothesis and its owner.
    pub hypothesis: Option<(String, Option<String>)>,
    /// The newest restore step tried: what, how safely, and who recorded it.
    pub mitigation: Option<(String, String, String)>,
}

/// The values a new update starts with, drawn from the incident.
pub fn prefill(kind: TemplateKind, facts: &IncidentFacts) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        values.insert(key.to_owned(), value);
    };
    match kind {
        TemplateKind::InitialInternal => {
            put("severity", facts.severity.clone());
            put("impact", facts.impact.clone());
            put("status", facts.status.clone());
            put("known", facts.best_guess.clone());
        }
        TemplateKind::OngoingInternal => {
            put("impact_trend", facts.impact.clone());
            if let Some((statement, owner)) = &facts.hypothesis {
                put(
                    "hypothesis",
                    match owner {
                        Some(owner) => format!("{statement} (owner: {owner})"),
                        None => statement.clone(),
                    },
                );
            }
            if let Some((what, safety, by)) = &facts.mitigation {
                put("mitigation", format!("{what}, {safety} (owner: {by})"));
            }
        }
        TemplateKind::CustomerFacing => {}
    }
    values
}

/// The customer-facing resolution of an incident that was public as `issue`:
/// it says the issue is over and whether data was lost, for the speaker to check.
pub fn resolution_prefill(issue: &str) -> BTreeMap<String, String> {
    [
        ("issue", issue.to_owned()),
        (
            "impact",
            "This issue is resolved and the service is working normally again.".to_owned(),
        ),
        ("mitigation", "No customer data was lost.".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Something in an update that the person publishing should look at twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The field it was found in.
    pub field: String,
    pub message: String,
}

/// What the guards need to know beyond the text.
#[derive(Debug, Clone, Default)]
pub struct GuardContext<'a> {
    /// A mitigation in progress is staged or validated (or the fix is being monitored).
    pub validated_fix_in_progress: bool,
    /// Display names of our users.
    pub user_names: &'a [String],
    /// Statements of open hypotheses.
    pub open_hypotheses: &'a [String],
}

/// Runs both guards over the typed values: no promised restoration time
/// without a validated fix, and no internal detail in a customer-facing update.
pub fn check(
    kind: TemplateKind,
    values: &BTreeMap<String, String>,
    context: &GuardContext<'_>,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for (key, value) in values {
        if key == TIME || key == NEXT_UPDATE {
            continue;
        }
        let mut warn = |message: String| {
            warnings.push(Warning {
                field: key.clone(),
                message,
            })
        };
        if !context.validated_fix_in_progress {
            if let Some(phrase) = promised_time(value) {
                warn(format!(
                    "\u{201c}{phrase}\u{201d} promises a restoration time, but no fix in progress is staged or validated."
                ));
            }
        }
        if let Some(clock) = time_without_zone(value) {
            warn(format!(
                "\u{201c}{clock}\u{201d} does not say its time zone: readers are in many. Write \u{201c}{clock} UTC\u{201d}."
            ));
        }
        if kind.audience() == Audience::Customer {
            for detail in internal_details(value, context) {
                warn(detail);
            }
        }
    }
    warnings
}

/// The first clock time in `text` not followed by its zone ("14:30", "2pm";
/// "14:30 UTC", "2pm CET" and "14:30Z" name theirs).
pub fn time_without_zone(text: &str) -> Option<String> {
    let words = words(text);
    for (i, word) in words.iter().enumerate() {
        let next = words.get(i + 1).copied();
        let lower_next = next.map(str::to_ascii_lowercase);
        if !is_clock_time(word, lower_next.as_deref()) || word.ends_with(['Z', 'z']) {
            continue;
        }
        // "2 pm" keeps its meridiem apart: the zone comes after it.
        let meridiem_apart = matches!(lower_next.as_deref(), Some("am" | "pm" | "a.m" | "p.m"));
        let zone = if meridiem_apart {
            words.get(i + 2).copied()
        } else {
            next
        };
        if !zone.is_some_and(names_a_zone) {
            let clock = if meridiem_apart {
                format!("{word} {}", next.unwrap_or_default())
            } else {
                (*word).to_owned()
            };
            return Some(clock);
        }
    }
    None
}

/// "UTC", "GMT", "UTC+5:30", "CET", "PDT": letters in capitals, or UTC/GMT with an offset.
fn names_a_zone(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    if upper.starts_with("UTC") || upper.starts_with("GMT") {
        return true;
    }
    (2..=5).contains(&word.len()) && word.chars().all(|c| c.is_ascii_uppercase())
}

/// Words of `text` with surrounding punctuation removed (inner `:`, `.`, `-`, `/` kept).
fn words(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| {
                !(c.is_alphanumeric() || c == ':' || c == '/' || c == '~' || c == '[' || c == ']')
            })
            .trim_end_matches(':')
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn is_clock_time(word: &str, next: Option<&str>) -> bool {
    let lower = word.to_ascii_lowercase();
    let (digits, meridiem) = match lower.strip_suffix("am").or(lower.strip_suffix("pm")) {
        Some(d) => (d.to_owned(), true),
        None => (
            lower.clone(),
            matches!(next, Some("am" | "pm" | "a.m" | "p.m")),
        ),
    };
    let digits = digits.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, Some(m)),
        None => (digits, None),
    };
    let hours_ok = !hours.is_empty()
        && hours.len() <= 2
        && hours.chars().all(|c| c.is_ascii_digit())
        && hours.parse::<u32>().is_ok_and(|h| h < 24);
    match minutes {
        Some(m) => hours_ok && m.len() == 2 && m.parse::<u32>().is_ok_and(|m| m < 60),
        None => hours_ok && meridiem,
    }
}

const TIME_UNITS: [&str; 10] = [
    "min", "mins", "minute", "minutes", "hour", "hours", "hr", "hrs", "h", "m",
];
const NUMBER_WORDS: [&str; 14] = [
    "a", "an", "one", "two", "three", "four", "five", "ten", "fifteen", "twenty", "thirty",
    "forty", "few", "couple",
];
const DAY_WORDS: [&str; 6] = [
    "noon",
    "midnight",
    "tonight",
    "tomorrow",
    "eod",
    "lunchtime",
];

/// The first phrase that promises when service will be back, if any.
pub fn promised_time(text: &str) -> Option<String> {
    let words = words(text);
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    for (i, word) in lower.iter().enumerate() {
        let next = lower.get(i + 1).map(String::as_str);
        if word == "eta" {
            return Some(words[i..(i + 2).min(words.len())].join(" "));
        }
        if word == "by" || word == "until" || word == "before" {
            if let Some(n) = next {
                let after = lower.get(i + 2).map(String::as_str);
                if is_clock_time(n, after) || DAY_WORDS.contains(&n) {
                    let end = if after.is_some_and(|a| a == "am" || a == "pm") {
                        i + 3
                    } else {
                        i + 2
                    };
                    return Some(words[i..end.min(words.len())].join(" "));
                }
                if n == "end" && after == Some("of") {
                    return Some(words[i..(i + 4).min(words.len())].join(" "));
                }
            }
        }
        if word == "in" || word == "within" {
            let mut j = i + 1;
            let mut counted = false;
            while j < lower.len() && j <= i + 4 {
                let w = lower[j].as_str();
                if w.chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '~')
                    && !w.is_empty()
                    || NUMBER_WORDS.contains(&w)
                    || w == "next"
                {
                    counted = true;
                } else if !matches!(
                    w,
                    "the" | "about" | "around" | "approximately" | "roughly" | "of" | "~"
                ) {
                    break;
                }
                j += 1;
            }
            if counted && j < lower.len() {
                let unit = lower[j].as_str();
                let unit = unit.trim_start_matches(|c: char| c.is_ascii_digit());
                if TIME_UNITS.contains(&unit) {
                    return Some(words[i..=j].join(" "));
                }
            }
            // "in 20min" written as one word.
            if let Some(n) = next {
                let digits: String = n.chars().take_while(|c| c.is_ascii_digit()).collect();
                if !digits.is_empty() && TIME_UNITS.contains(&&n[digits.len()..]) {
                    return Some(words[i..i + 2].join(" "));
                }
            }
        }
    }
    None
}

const INTERNAL_SUFFIXES: [&str; 10] = [
    ".internal",
    ".local",
    ".lan",
    ".corp",
    ".intra",
    ".intranet",
    ".private",
    ".svc",
    ".localdomain",
    ".home.arpa",
];

fn is_internal_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let bare = host.split(':').next().unwrap_or("");
    bare == "localhost"
        || bare.parse::<Ipv4Addr>().is_ok()
        || bare
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<Ipv6Addr>()
            .is_ok()
        || !bare.contains('.')
        || INTERNAL_SUFFIXES.iter().any(|s| bare.ends_with(s))
        || bare.split('.').next().is_some_and(looks_like_machine_name)
}

/// "db-03", "prod-api-2", "web12a": a name with a numbered part, as machines are named.
fn looks_like_machine_name(word: &str) -> bool {
    let word = word.to_ascii_lowercase();
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() >= 2
        && parts[0].starts_with(|c: char| c.is_ascii_alphabetic())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts
            .last()
            .is_some_and(|p| p.chars().any(|c| c.is_ascii_digit()))
}

fn internal_details(text: &str, context: &GuardContext<'_>) -> Vec<String> {
    let mut found = Vec::new();
    for word in words(text) {
        let lower = word.to_ascii_lowercase();
        let message = if let Some(rest) = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
        {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            is_internal_host(host)
                .then(|| format!("\u{201c}{word}\u{201d} is an internal address."))
        } else if word.parse::<Ipv4Addr>().is_ok()
            || word.rsplit_once(':').is_some_and(|(ip, port)| {
                ip.parse::<Ipv4Addr>().is_ok() && port.chars().all(|c| c.is_ascii_digit())
            })
            || (word.matches(':').count() >= 2 && word.parse::<Ipv6Addr>().is_ok())
        {
            Some(format!("\u{201c}{word}\u{201d} is an IP address."))
        } else if looks_like_machine_name(word.split('.').next().unwrap_or(""))
            || (word.contains('.') && INTERNAL_SUFFIXES.iter().any(|s| lower.ends_with(s)))
        {
            Some(format!("\u{201c}{word}\u{201d} looks like a host name."))
        } else {
            None
        };
        if let Some(message) = message {
            if !found.contains(&message) {
                found.push(message);
            }
        }
    }
    for name in context.user_names {
        let full = name.trim();
        if mentions_person(text, full) {
            found.push(format!(
                "\u{201c}{full}\u{201d} is one of our people; customer updates name no one."
            ));
        }
    }
    let normalized = normalize(text);
    for statement in context.open_hypotheses {
        let statement_words: Vec<String> =
            normalize(statement).split(' ').map(str::to_owned).collect();
        let window = statement_words.len().min(4);
        if window < 2 {
            continue;
        }
        let hit = statement_words
            .windows(window)
            .any(|run| contains_phrase(&normalized, &run.join(" ")));
        if hit {
            found.push(format!(
                "This repeats an open hypothesis (\u{201c}{statement}\u{201d}); customers hear facts, not guesses."
            ));
        }
    }
    found
}

/// Whether `text` names the person called `name`: the full name in any case,
/// or a part of it (3 letters or more) written as in the name.
pub fn mentions_person(text: &str, name: &str) -> bool {
    let full = name.trim();
    if full.is_empty() {
        return false;
    }
    let text_words = words(text);
    contains_phrase(&text.to_lowercase(), &full.to_lowercase())
        || full
            .split_whitespace()
            .filter(|part| part.chars().count() >= 3)
            .any(|part| text_words.contains(&part))
}

/// Lower case, words only, single spaces.
fn normalize(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `phrase` occurs in `text` on word boundaries.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Where a stakeholder's question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuestionState {
    Open,
    Answered,
    Dismissed,
}

impl QuestionState {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionState::Open => "open",
            QuestionState::Answered => "answered",
            QuestionState::Dismissed => "dismissed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            QuestionState::Open,
            QuestionState::Answered,
            QuestionState::Dismissed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Limit on a stakeholder's question and on its answer.
pub const MAX_QUESTION_CHARS: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_time_without_its_zone_is_pointed_out_and_one_with_it_is_not() {
        assert_eq!(
            time_without_zone("Next update at 14:30."),
            Some("14:30".to_owned())
        );
        assert_eq!(
            time_without_zone("Back by 2 pm, we hope"),
            Some("2 pm".to_owned())
        );
        assert_eq!(
            time_without_zone("Started 14:05 UTC, next at 15:00"),
            Some("15:00".to_owned())
        );
        for named in [
            "Next update at 14:30 UTC.",
            "From 09:00 CET",
            "at 2pm PDT",
            "at 2 pm EST",
            "at 14:30Z",
            "by 20:15 UTC+5:45",
            "Errors rose 40% in the last hour",
            "Version 4.2 rolled back",
        ] {
            assert_eq!(time_without_zone(named), None, "{named}");
        }
        let warnings = check(
            TemplateKind::OngoingInternal,
            &values(&[("known", "Errors began after the 13:50 deploy")]),
            &GuardContext::default(),
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].field, "known");
        assert!(warnings[0].message.contains("13:50 UTC"));
    }

    #[test]
    fn rendering_fills_every_placeholder() {
        let template = Template::default_for(TemplateKind::InitialInternal);
        let text = template.render(&values(&[
            ("time", "14:05 UTC"),
            ("severity", "Sev1"),
            ("impact", "Checkout fails for 30% of users"),
            ("status", "Investigating"),
            ("known", "Errors began after the 13:50 deploy"),
            ("next_steps", "Roll back the deploy"),
            ("next_update", "14:20 UTC"),
        ]));
        assert!(text.starts_with("Sev1 incident declared · 14:05 UTC"));
        assert!(text.contains("Impact: Checkout fails for 30% of users"));
        assert!(text.ends_with("Next update: 14:20 UTC"));
        assert!(!text.contains("{{"));
    }

    #[test]
    fn a_line_whose_fields_are_all_empty_is_left_out() {
        let template = Template::default_for(TemplateKind::CustomerFacing);
        let text = template.render(&values(&[
            ("impact", "Some payments fail."),
            ("mitigation", "We are restoring service."),
            ("workaround", "  "),
            ("time", "14:05 UTC"),
            ("next_update", "14:35 UTC"),
        ]));
        assert!(!text.contains("Workaround"));
        assert!(text.contains("Next update by 14:35 UTC."));
    }

    #[test]
    fn an_admin_may_reorder_and_relabel_but_not_drop_fields() {
        let mut template = Template::default_for(TemplateKind::CustomerFacing);
        template.fields.reverse();
        template.fields[0].label = "When is the next update".to_owned();
        let edited = Template::parse(
            TemplateKind::CustomerFacing,
            template.fields.clone(),
            "{{issue}}: {{impact}}",
        )
        .expect("a reordered template is fine");
        assert_eq!(edited.fields[0].key, NEXT_UPDATE);

        let mut fewer = template.fields.clone();
        fewer.pop();
        let refused = Template::parse(TemplateKind::CustomerFacing, fewer, "{{impact}}");
        assert_eq!(refused.map_err(|e| e.field), Err("fields"));
    }

    #[test]
    fn a_body_naming_an_unknown_field_is_refused_at_the_body() {
        let template = Template::default_for(TemplateKind::CustomerFacing);
        let refused = Template::parse(
            TemplateKind::CustomerFacing,
            template.fields,
            "{{impact}} {{root_cause}}",
        )
        .expect_err("unknown placeholder");
        assert_eq!(refused.field, "body");
        assert!(refused.message.contains("root_cause"));
    }

    #[test]
    fn required_fields_must_be_filled_and_system_fields_are_ignored() {
        let missing = parse_values(
            TemplateKind::CustomerFacing,
            &values(&[("impact", "Slow pages"), ("mitigation", "Working on it")]),
        )
        .expect_err("issue is required");
        assert_eq!(missing.field, "issue");

        let parsed = parse_values(
            TemplateKind::CustomerFacing,
            &values(&[
                ("issue", "Slow pages"),
                ("impact", "Pages take 10 s"),
                ("mitigation", "Adding capacity"),
                ("time", "typed by hand"),
            ]),
        )
        .expect("complete");
        assert!(!parsed.contains_key(TIME));

        let unknown = parse_values(TemplateKind::CustomerFacing, &values(&[("hostname", "x")]));
        assert!(unknown.is_err());
    }

    #[test]
    fn prefill_draws_hypothesis_and_mitigation_with_owners() {
        let facts = IncidentFacts {
            severity: "Sev1".to_owned(),
            status: "Mitigating".to_owned(),
            impact: "Checkout down".to_owned(),
            best_guess: "Bad deploy".to_owned(),
            hypothesis: Some((
                "Connection pool exhausted".to_owned(),
                Some("Grace".to_owned()),
            )),
            mitigation: Some((
                "Roll back".to_owned(),
                "canary".to_owned(),
                "Alan".to_owned(),
            )),
        };
        let ongoing = prefill(TemplateKind::OngoingInternal, &facts);
        assert_eq!(
            ongoing["hypothesis"],
            "Connection pool exhausted (owner: Grace)"
        );
        assert_eq!(ongoing["mitigation"], "Roll back, canary (owner: Alan)");
        let initial = prefill(TemplateKind::InitialInternal, &facts);
        assert_eq!(initial["severity"], "Sev1");
        assert_eq!(initial["known"], "Bad deploy");
        assert!(prefill(TemplateKind::CustomerFacing, &facts).is_empty());
    }

    #[test]
    fn promised_restoration_times_are_recognised() {
        for text in [
            "We expect a fix by 14:30.",
            "Service will be back by 2pm",
            "Back by 2 pm today",
            "Restored in 20 minutes",
            "within the next hour",
            "ETA 15:00",
            "fixed in 20min",
            "done by end of day",
            "in about 2 hours",
        ] {
            assert!(promised_time(text).is_some(), "{text:?} should be flagged");
        }
        for text in [
            "Errors began at 13:50 after a deploy.",
            "We are working in the payments area.",
            "In the meantime, retry failed payments.",
            "Shipped in version 2.3",
            "by the on-call team",
        ] {
            assert_eq!(promised_time(text), None, "{text:?} should pass");
        }
    }

    #[test]
    fn a_promised_time_is_fine_once_a_validated_fix_is_in_progress() {
        let update = values(&[("mitigation", "Payments will work again by 14:30 UTC")]);
        let without = check(
            TemplateKind::CustomerFacing,
            &update,
            &GuardContext::default(),
        );
        assert_eq!(without.len(), 1);
        assert_eq!(without[0].field, "mitigation");
        assert!(without[0].message.contains("by 14:30"));

        let with = check(
            TemplateKind::CustomerFacing,
            &update,
            &GuardContext {
                validated_fix_in_progress: true,
                ..GuardContext::default()
            },
        );
        assert!(with.is_empty());
    }

    #[test]
    fn internal_detail_in_a_customer_update_is_flagged() {
        let people = vec!["Grace Hopper".to_owned()];
        let hypotheses = vec!["Replica lag after the nightly backup job".to_owned()];
        let context = GuardContext {
            validated_fix_in_progress: false,
            user_names: &people,
            open_hypotheses: &hypotheses,
        };
        let cases = [
            ("db-03 ran out of disk", "host name"),
            ("traffic from 10.2.0.17 was dropped", "IP address"),
            ("see https://grafana.corp/d/payments", "internal address"),
            ("api.payments.internal is slow", "host name"),
            ("Grace is restarting the service", "one of our people"),
            (
                "we think replica lag after the nightly backup is to blame",
                "open hypothesis",
            ),
        ];
        for (text, expected) in cases {
            let warnings = check(
                TemplateKind::CustomerFacing,
                &values(&[("impact", text)]),
                &context,
            );
            assert!(
                warnings.iter().any(|w| w.message.contains(expected)),
                "{text:?} should warn about {expected}, got {warnings:?}"
            );
        }
    }

    #[test]
    fn plain_customer_language_passes_and_internal_updates_may_be_detailed() {
        let people = vec!["Grace Hopper".to_owned()];
        let context = GuardContext {
            validated_fix_in_progress: false,
            user_names: &people,
            open_hypotheses: &[],
        };
        let clean = values(&[
            ("issue", "Card payments failing"),
            (
                "impact",
                "Some card payments fail at checkout. See https://status.example.com",
            ),
            (
                "mitigation",
                "We have found the cause and are restoring service.",
            ),
        ]);
        assert!(check(TemplateKind::CustomerFacing, &clean, &context).is_empty());

        let internal = values(&[("changes", "Grace restarted db-03 (10.2.0.17)")]);
        assert!(check(TemplateKind::OngoingInternal, &internal, &context).is_empty());
    }

    #[test]
    fn a_customer_update_without_a_next_update_drops_that_sentence_only() {
        let template = Template::default_for(TemplateKind::CustomerFacing);
        let values: BTreeMap<String, String> = [
            ("impact", "Card payments failed."),
            ("mitigation", "We fixed the cause."),
            ("time", "14:05 UTC"),
            ("next_update", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let body = template.render(&values);
        assert!(body.ends_with("Posted 14:05 UTC."), "{body}");
        assert!(!body.contains("Next update"), "{body}");
    }
}
