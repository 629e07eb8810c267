//! The rhythm of a calm incident: the first-20-minutes checklist with deadlines
//! relative to declaration, and the cadences of check-ins and stakeholder updates.

use super::incidents::Severity;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One checklist item of the first 20 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RhythmItem {
    Declared,
    CoreRolesAssigned,
    InitialStatusPosted,
    ObjectiveConfirmed,
    SignalsChecked,
    HypothesesWithOwners,
    CadenceSet,
    FirstStakeholderUpdate,
}

impl RhythmItem {
    pub const ALL: [RhythmItem; 8] = [
        RhythmItem::Declared,
        RhythmItem::CoreRolesAssigned,
        RhythmItem::InitialStatusPosted,
        RhythmItem::ObjectiveConfirmed,
        RhythmItem::SignalsChecked,
        RhythmItem::HypothesesWithOwners,
        RhythmItem::CadenceSet,
        RhythmItem::FirstStakeholderUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RhythmItem::Declared => "declared",
            RhythmItem::CoreRolesAssigned => "core_roles_assigned",
            RhythmItem::InitialStatusPosted => "initial_status_posted",
            RhythmItem::ObjectiveConfirmed => "objective_confirmed",
            RhythmItem::SignalsChecked => "signals_checked",
            RhythmItem::HypothesesWithOwners => "hypotheses_with_owners",
            RhythmItem::CadenceSet => "cadence_set",
            RhythmItem::FirstStakeholderUpdate => "first_stakeholder_update",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == raw.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            RhythmItem::Declared => "Incident declared",
            RhythmItem::CoreRolesAssigned => "IC assigns Tech Lead, Comms Lead and Scribe",
            RhythmItem::InitialStatusPosted => {
                "IC posts the initial status: scope, customer impact, best guess"
            }
            RhythmItem::ObjectiveConfirmed => {
                "Tech Lead confirms the objective: restore service or reduce impact"
            }
            RhythmItem::SignalsChecked => {
                "Tech Lead checks signals: dashboards, logs, traces, recent deploys, dependencies"
            }
            RhythmItem::HypothesesWithOwners => "1 to 3 hypotheses, each with an owner",
            RhythmItem::CadenceSet => "IC sets the decision cadence",
            RhythmItem::FirstStakeholderUpdate => "Comms Lead sends the first stakeholder update",
        }
    }

    /// Minutes after declaration by which the item should be done.
    pub fn deadline_minutes(self) -> i64 {
        match self {
            RhythmItem::Declared
            | RhythmItem::CoreRolesAssigned
            | RhythmItem::InitialStatusPosted
            | RhythmItem::ObjectiveConfirmed => 5,
            RhythmItem::SignalsChecked
            | RhythmItem::HypothesesWithOwners
            | RhythmItem::CadenceSet
            | RhythmItem::FirstStakeholderUpdate => 20,
        }
    }

    /// Whether the system ticks this item itself (the rest are ticked by hand).
    pub fn is_automatic(self) -> bool {
        matches!(
            self,
            RhythmItem::Declared
                | RhythmItem::CoreRolesAssigned
                | RhythmItem::InitialStatusPosted
                | RhythmItem::HypothesesWithOwners
                | RhythmItem::CadenceSet
        )
    }

    pub fn deadline(self, declared_at: DateTime<Utc>) -> DateTime<Utc> {
        declared_at + Duration::minutes(self.deadline_minutes())
    }
}

/// Where one checklist item stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemState {
    Done { at: DateTime<Utc> },
    Due { by: DateTime<Utc> },
    Overdue { since: DateTime<Utc> },
}

impl ItemState {
    pub fn of(
        item: RhythmItem,
        declared_at: DateTime<Utc>,
        done_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> ItemState {
        let deadline = item.deadline(declared_at);
        match done_at {
            Some(at) => ItemState::Done { at },
            None if now > deadline => ItemState::Overdue { since: deadline },
            None => ItemState::Due { by: deadline },
        }
    }

    pub fn is_overdue(&self) -> bool {
        matches!(self, ItemState::Overdue { .. })
    }
}

/// Default minutes between decision check-ins.
pub const DEFAULT_DECISION_CADENCE: i64 = 10;

/// Default minutes between stakeholder updates: 15 for Sev1, 30 otherwise.
pub fn default_update_cadence(severity: Severity) -> i64 {
    if severity == Severity::Sev1 {
        15
    } else {
        30
    }
}

/// Cadences are whole minutes from 5 to 120.
pub fn parse_cadence(field: &'static str, raw: &str) -> Result<i64, super::users::FieldError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|m| (5..=120).contains(m))
        .ok_or_else(|| {
            super::users::FieldError::new(field, "Use a whole number of minutes from 5 to 120.")
        })
}

/// When the next beat is due: one cadence after the last one, or after declaration.
pub fn next_due(
    declared_at: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
    cadence_minutes: i64,
) -> DateTime<Utc> {
    last.unwrap_or(declared_at) + Duration::minutes(cadence_minutes)
}

/// "4:05 left" or "overdue by 1:10", for a countdown at `now`.
pub fn countdown_text(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (due - now).num_seconds();
    let clock = |s: i64| {
        let s = s.abs();
        if s >= 3600 {
            format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
        } else {
            format!("{}:{:02}", s / 60, s % 60)
        }
    };
    if seconds >= 0 {
        format!("{} left", clock(seconds))
    } else {
        format!("overdue by {}", clock(seconds))
    }
}

/// "12m", "1h 05m": how long since `since`.
pub fn elapsed_text(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    duration_text((now - since).num_minutes())
}

/// A span of minutes the way every page writes it: "12m", "1h 05m", "3d 4h".
pub fn duration_text(minutes: i64) -> String {
    let minutes = minutes.max(0);
    if minutes < 60 {
        format!("{minutes}m")
    } else if minutes < 60 * 48 {
        format!("{}h {:02}m", minutes / 60, minutes % 60)
    } else {
        format!("{}d {}h", minutes / (60 * 24), (minutes / 60) % 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, s)
            .single()
            .expect("valid time")
    }

    #[test]
    fn first_five_minute_items_are_due_five_minutes_after_declaration() {
        let declared = t(14, 0, 0);
        assert_eq!(
            RhythmItem::CoreRolesAssigned.deadline(declared),
            t(14, 5, 0)
        );
        assert_eq!(RhythmItem::SignalsChecked.deadline(declared), t(14, 20, 0));
    }

    #[test]
    fn an_unticked_item_is_due_then_overdue_after_its_deadline() {
        let declared = t(14, 0, 0);
        let item = RhythmItem::ObjectiveConfirmed;
        assert_eq!(
            ItemState::of(item, declared, None, t(14, 4, 59)),
            ItemState::Due { by: t(14, 5, 0) }
        );
        assert_eq!(
            ItemState::of(item, declared, None, t(14, 5, 1)),
            ItemState::Overdue { since: t(14, 5, 0) }
        );
    }

    #[test]
    fn a_ticked_item_is_done_even_if_late() {
        let state = ItemState::of(
            RhythmItem::CadenceSet,
            t(14, 0, 0),
            Some(t(14, 30, 0)),
            t(15, 0, 0),
        );
        assert_eq!(state, ItemState::Done { at: t(14, 30, 0) });
        assert!(!state.is_overdue());
    }

    #[test]
    fn sev1_updates_every_15_minutes_others_every_30() {
        assert_eq!(default_update_cadence(Severity::Sev1), 15);
        assert_eq!(default_update_cadence(Severity::Sev2), 30);
        assert_eq!(default_update_cadence(Severity::Sev4), 30);
    }

    #[test]
    fn the_next_beat_counts_from_the_last_one_or_from_declaration() {
        assert_eq!(next_due(t(14, 0, 0), None, 10), t(14, 10, 0));
        assert_eq!(next_due(t(14, 0, 0), Some(t(14, 12, 0)), 10), t(14, 22, 0));
    }

    #[test]
    fn cadences_outside_5_to_120_minutes_are_refused() {
        assert_eq!(parse_cadence("c", "10"), Ok(10));
        assert!(parse_cadence("c", "4").is_err());
        assert!(parse_cadence("c", "121").is_err());
        assert!(parse_cadence("c", "ten").is_err());
    }

    #[test]
    fn countdowns_read_as_time_left_or_overdue() {
        assert_eq!(countdown_text(t(14, 10, 0), t(14, 5, 55)), "4:05 left");
        assert_eq!(
            countdown_text(t(14, 10, 0), t(14, 11, 10)),
            "overdue by 1:10"
        );
        assert_eq!(countdown_text(t(16, 0, 0), t(14, 0, 0)), "2:00:00 left");
    }

    #[test]
    fn elapsed_time_reads_in_minutes_then_hours() {
        assert_eq!(elapsed_text(t(14, 0, 0), t(14, 12, 30)), "12m");
        assert_eq!(elapsed_text(t(14, 0, 0), t(15, 5, 0)), "1h 05m");
    }

    #[test]
    fn items_round_trip_through_their_names() {
        for item in RhythmItem::ALL {
            assert_eq!(RhythmItem::parse(item.as_str()), Some(item));
        }
    }
}
