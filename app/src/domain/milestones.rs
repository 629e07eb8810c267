//! Milestones of an incident: stamped by the system, correctable by the IC (the
//! correction is kept beside the stamp). Durations come from these, never typed.

use super::users::FieldError;
use super::zones::ZoneRules;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Milestone {
    Declared,
    CoreRolesAssigned,
    FirstUpdate,
    Mitigated,
    Resolved,
}

impl Milestone {
    pub const ALL: [Milestone; 5] = [
        Milestone::Declared,
        Milestone::CoreRolesAssigned,
        Milestone::FirstUpdate,
        Milestone::Mitigated,
        Milestone::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::Declared => "declared",
            Milestone::CoreRolesAssigned => "core_roles_assigned",
            Milestone::FirstUpdate => "first_update",
            Milestone::Mitigated => "mitigated",
            Milestone::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Milestone::Declared => "Declared",
            Milestone::CoreRolesAssigned => "Core roles assigned",
            Milestone::FirstUpdate => "First stakeholder update",
            Milestone::Mitigated => "Mitigated",
            Milestone::Resolved => "Resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw.trim())
    }
}

/// The time a milestone counts as reached: the latest correction, else the system stamp.
pub fn effective(
    stamped: Option<DateTime<Utc>>,
    corrected: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    corrected.or(stamped)
}

/// Parses a corrected time typed in `zone` ("2026-11-26T14:05", as a
/// datetime-local field sends it) or in RFC 3339. It may not lie in the future.
pub fn parse_correction(
    field: &'static str,
    raw: &str,
    zone: &ZoneRules,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldError> {
    let raw = raw.trim();
    let at = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| zone.from_input(raw))
        .ok_or_else(|| FieldError::new(field, format!("Enter a date and time ({}).", zone.name)))?;
    if at.year() < 2000 {
        return Err(FieldError::new(field, "Enter a date from 2000 on."));
    }
    if at > now {
        return Err(FieldError::new(
            field,
            "A milestone cannot be in the future.",
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn a_correction_wins_over_the_stamp() {
        assert_eq!(effective(Some(t(14, 5)), Some(t(14, 2))), Some(t(14, 2)));
        assert_eq!(effective(Some(t(14, 5)), None), Some(t(14, 5)));
        assert_eq!(effective(None, None), None);
    }

    #[test]
    fn corrections_parse_in_the_writers_zone_and_never_in_the_future() {
        let now = t(15, 0);
        let utc = ZoneRules::utc();
        assert_eq!(
            parse_correction("at", "2026-11-26T14:02", &utc, now),
            Ok(t(14, 2))
        );
        assert_eq!(
            parse_correction("at", "2026-11-26T14:02:00+00:00", &utc, now),
            Ok(t(14, 2))
        );
        assert!(parse_correction("at", "2026-11-26T15:30", &utc, now).is_err());
        assert!(parse_correction("at", "yesterday", &utc, now).is_err());
        let kathmandu = ZoneRules {
            name: "Asia/Kathmandu".to_owned(),
            spans: vec![super::super::zones::Span(
                i64::MIN,
                20_700,
                "+0545".to_owned(),
            )],
        };
        // 19:47 in Kathmandu is 14:02 UTC; an explicit offset wins over the zone.
        assert_eq!(
            parse_correction("at", "2026-11-26T19:47", &kathmandu, now),
            Ok(t(14, 2))
        );
        assert_eq!(
            parse_correction("at", "2026-11-26T14:02:00+00:00", &kathmandu, now),
            Ok(t(14, 2))
        );
    }
}
