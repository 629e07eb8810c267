//! Incidents: severity, status and how status may change, and the declared fields.

use super::users::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A typed incident id (the database key; people see the number, INC-n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IncidentId(pub i64);

/// How bad it is. Sev1 is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Sev1 => "Sev1",
            Severity::Sev2 => "Sev2",
            Severity::Sev3 => "Sev3",
            Severity::Sev4 => "Sev4",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim().to_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, "Choose a severity from Sev1 to Sev4."))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where the response stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IncidentStatus {
    Investigating,
    Mitigating,
    Monitoring,
    Resolved,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::Investigating,
        IncidentStatus::Mitigating,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Mitigating => "mitigating",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "Investigating",
            IncidentStatus::Mitigating => "Mitigating",
            IncidentStatus::Monitoring => "Monitoring",
            IncidentStatus::Resolved => "Resolved",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim().to_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, "Unknown status."))
    }

    pub fn is_active(self) -> bool {
        self != IncidentStatus::Resolved
    }

    /// Forward to any later status, or back to an earlier one when the incident
    /// regresses (Monitoring -> Mitigating). Resolved is final: a recurrence is
    /// a new incident.
    pub fn can_move_to(self, next: IncidentStatus) -> bool {
        self != next && self != IncidentStatus::Resolved
    }

    /// The statuses reachable from this one, in display order.
    pub fn next_options(self) -> Vec<IncidentStatus> {
        Self::ALL
            .into_iter()
            .filter(|s| self.can_move_to(*s))
            .collect()
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Bounded free text: trimmed, within `max` characters, no control characters
/// except line breaks. Empty is allowed only where the caller says so.
pub fn bounded_text(
    field: &'static str,
    raw: &str,
    max: usize,
    required: Option<&'static str>,
) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return match required {
            Some(message) => Err(FieldError::new(field, message)),
            None => Ok(String::new()),
        };
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("Keep this to {max} characters or fewer."),
        ));
    }
    if text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\r' && c != '\t') || is_bidi_control(c))
    {
        return Err(FieldError::new(
            field,
            "This contains characters that cannot be shown.",
        ));
    }
    // Line breaks are stored as "\n" only: a bare carriage return would split
    // lines differently in feeds, mails and chat.
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Characters that reorder text when shown (bidirectional embeddings,
/// overrides and isolates): a title could read differently from what it says.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// What an incident is called: one line, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentTitle(String);

impl IncidentTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let title = bounded_text(
            field,
            raw,
            Self::MAX_CHARS,
            Some("Give the incident a title."),
        )?;
        if title.contains('\n') || raw.contains('\r') {
            return Err(FieldError::new(field, "Keep the title to one line."));
        }
        Ok(Self(title))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// "INC-12": the number people say out loud.
pub fn display_number(number: i64) -> String {
    format!("INC-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use IncidentStatus::*;

    #[test]
    fn status_moves_forward_and_back_from_monitoring_but_never_out_of_resolved() {
        assert!(Investigating.can_move_to(Mitigating));
        assert!(Investigating.can_move_to(Resolved));
        assert!(Mitigating.can_move_to(Monitoring));
        assert!(Monitoring.can_move_to(Mitigating));
        assert!(Monitoring.can_move_to(Investigating));
        assert!(Monitoring.can_move_to(Resolved));
        assert!(!Resolved.can_move_to(Monitoring));
        assert!(!Resolved.can_move_to(Investigating));
        assert!(!Mitigating.can_move_to(Mitigating));
    }

    #[test]
    fn resolved_offers_no_next_status() {
        assert!(Resolved.next_options().is_empty());
        assert_eq!(
            Investigating.next_options(),
            vec![Mitigating, Monitoring, Resolved]
        );
    }

    #[test]
    fn severities_parse_in_any_case() {
        assert_eq!(Severity::parse("severity", "SEV1"), Ok(Severity::Sev1));
        assert_eq!(Severity::parse("severity", " sev4 "), Ok(Severity::Sev4));
        assert!(Severity::parse("severity", "sev5").is_err());
        assert!(Severity::parse("severity", "").is_err());
    }

    #[test]
    fn a_title_longer_than_200_chars_is_rejected() {
        assert!(IncidentTitle::parse("title", &"x".repeat(201)).is_err());
        assert!(IncidentTitle::parse("title", &"x".repeat(200)).is_ok());
    }

    #[test]
    fn a_blank_or_multi_line_title_is_rejected() {
        let err = IncidentTitle::parse("title", "  ").expect_err("blank");
        assert_eq!(err.message, "Give the incident a title.");
        assert!(IncidentTitle::parse("title", "a\nb").is_err());
    }

    #[test]
    fn optional_text_may_be_empty_but_not_too_long() {
        assert_eq!(bounded_text("impact", "  ", 10, None), Ok(String::new()));
        assert!(bounded_text("impact", "12345678901", 10, None).is_err());
        assert!(bounded_text("impact", "a\u{7}b", 10, None).is_err());
        assert_eq!(
            bounded_text("impact", "line\nline", 10, None),
            Ok("line\nline".into())
        );
    }

    #[test]
    fn numbers_read_as_inc_n() {
        assert_eq!(display_number(12), "INC-12");
    }

    #[test]
    fn a_title_with_a_bare_carriage_return_or_a_direction_override_is_refused() {
        for raw in [
            "Checkout\rfails",
            "Checkout \u{202E}sliaf",
            "Pay\u{2066}ment\u{2069}",
        ] {
            let err = IncidentTitle::parse("title", raw).expect_err(raw);
            assert_eq!(err.field, "title");
        }
    }

    #[test]
    fn windows_line_breaks_in_longer_text_are_kept_as_plain_line_breaks() {
        let text = bounded_text("impact", "one\r\ntwo\rthree", 100, None).expect("ok");
        assert_eq!(text, "one\ntwo\nthree");
    }
}
