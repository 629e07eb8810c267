//! The public status page: component statuses, the overall indicator, and how
//! our incidents and maintenance windows read to customers (in the words of the
//! Statuspage format that existing status tooling understands).

use super::incidents::{bounded_text, IncidentStatus, Severity};
use super::users::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How one component is doing, as customers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComponentStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    UnderMaintenance,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
        ComponentStatus::UnderMaintenance,
    ];

    /// The Statuspage name, also what we store.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
            ComponentStatus::UnderMaintenance => "under_maintenance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::DegradedPerformance => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
            ComponentStatus::UnderMaintenance => "Under maintenance",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, "Choose a component status."))
    }

    /// Larger is worse; an outage outranks maintenance.
    fn rank(self) -> u8 {
        match self {
            ComponentStatus::Operational => 0,
            ComponentStatus::UnderMaintenance => 1,
            ComponentStatus::DegradedPerformance => 2,
            ComponentStatus::PartialOutage => 3,
            ComponentStatus::MajorOutage => 4,
        }
    }

    /// The worse of two statuses.
    pub fn worst(self, other: ComponentStatus) -> ComponentStatus {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

/// The page-wide status indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Indicator {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl Indicator {
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::None => "none",
            Indicator::Minor => "minor",
            Indicator::Major => "major",
            Indicator::Critical => "critical",
            Indicator::Maintenance => "maintenance",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Indicator::None => "All Systems Operational",
            Indicator::Minor => "Minor Service Outage",
            Indicator::Major => "Partial System Outage",
            Indicator::Critical => "Major System Outage",
            Indicator::Maintenance => "Service Under Maintenance",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Indicator::None => 0,
            Indicator::Maintenance => 1,
            Indicator::Minor => 2,
            Indicator::Major => 3,
            Indicator::Critical => 4,
        }
    }

    fn of_component(status: ComponentStatus) -> Indicator {
        match status {
            ComponentStatus::Operational => Indicator::None,
            ComponentStatus::UnderMaintenance => Indicator::Maintenance,
            ComponentStatus::DegradedPerformance => Indicator::Minor,
            ComponentStatus::PartialOutage => Indicator::Major,
            ComponentStatus::MajorOutage => Indicator::Critical,
        }
    }
}

/// The overall indicator: the worst of the components and of the impacts of
/// unresolved public incidents.
pub fn overall(components: &[ComponentStatus], incident_impacts: &[Impact]) -> Indicator {
    components
        .iter()
        .map(|s| Indicator::of_component(*s))
        .chain(incident_impacts.iter().map(|i| i.indicator()))
        .fold(Indicator::None, |worst, next| {
            if next.rank() > worst.rank() {
                next
            } else {
                worst
            }
        })
}

/// How hard an incident hits customers, in Statuspage terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
}

impl Impact {
    pub fn of(severity: Severity) -> Impact {
        match severity {
            Severity::Sev1 => Impact::Critical,
            Severity::Sev2 => Impact::Major,
            Severity::Sev3 => Impact::Minor,
            Severity::Sev4 => Impact::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Minor => "minor",
            Impact::Major => "major",
            Impact::Critical => "critical",
        }
    }

    fn indicator(self) -> Indicator {
        match self {
            Impact::None => Indicator::None,
            Impact::Minor => Indicator::Minor,
            Impact::Major => Indicator::Major,
            Impact::Critical => Indicator::Critical,
        }
    }
}

/// Our status in the public vocabulary: Mitigating is "identified".
pub fn public_status(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Investigating => "investigating",
        IncidentStatus::Mitigating => "identified",
        IncidentStatus::Monitoring => "monitoring",
        IncidentStatus::Resolved => "resolved",
    }
}

/// The public label of a public status word.
pub fn public_status_label(status: &str) -> &'static str {
    match status {
        "investigating" => "Investigating",
        "identified" => "Identified",
        "monitoring" => "Monitoring",
        "resolved" => "Resolved",
        "postmortem" => "Postmortem",
        "scheduled" => "Scheduled",
        "in_progress" => "In progress",
        "completed" => "Completed",
        _ => "Update",
    }
}

/// Where a maintenance window stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaintenanceState {
    Scheduled,
    InProgress,
    Completed,
}

impl MaintenanceState {
    pub fn at(starts: DateTime<Utc>, ends: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if now < starts {
            MaintenanceState::Scheduled
        } else if now < ends {
            MaintenanceState::InProgress
        } else {
            MaintenanceState::Completed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceState::Scheduled => "scheduled",
            MaintenanceState::InProgress => "in_progress",
            MaintenanceState::Completed => "completed",
        }
    }
}

/// A component or group name: one line, 1 to 80 characters.
pub fn component_name(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let name = bounded_text(field, raw, 80, Some("Enter a name."))?;
    if name.contains('\n') {
        return Err(FieldError::new(field, "Keep the name to one line."));
    }
    Ok(name)
}

/// A maintenance window must end after it starts.
pub fn maintenance_window(
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldError> {
    if ends <= starts {
        return Err(FieldError::new(
            "ends_at",
            "The window must end after it starts.",
        ));
    }
    if ends - starts > chrono::Duration::days(14) {
        return Err(FieldError::new(
            "ends_at",
            "Keep a window to 14 days or fewer; schedule longer work as several windows.",
        ));
    }
    Ok((starts, ends))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_overall_status_is_the_worst_component_or_incident() {
        use ComponentStatus::*;
        assert_eq!(overall(&[Operational, Operational], &[]), Indicator::None);
        assert_eq!(
            overall(&[Operational, UnderMaintenance], &[]),
            Indicator::Maintenance
        );
        assert_eq!(
            overall(&[UnderMaintenance, DegradedPerformance], &[]),
            Indicator::Minor
        );
        assert_eq!(
            overall(&[PartialOutage, MajorOutage], &[]),
            Indicator::Critical
        );
        assert_eq!(overall(&[Operational], &[Impact::Major]), Indicator::Major);
        assert_eq!(Indicator::None.description(), "All Systems Operational");
    }

    #[test]
    fn mitigating_reads_as_identified_to_customers() {
        assert_eq!(public_status(IncidentStatus::Mitigating), "identified");
        assert_eq!(public_status(IncidentStatus::Resolved), "resolved");
        assert_eq!(Impact::of(Severity::Sev1).as_str(), "critical");
    }

    #[test]
    fn a_maintenance_window_is_scheduled_then_in_progress_then_completed() {
        let starts = Utc
            .with_ymd_and_hms(2026, 11, 26, 22, 0, 0)
            .single()
            .expect("valid");
        let ends = starts + chrono::Duration::hours(2);
        let at = |h| starts + chrono::Duration::minutes(h);
        assert_eq!(
            MaintenanceState::at(starts, ends, at(-1)),
            MaintenanceState::Scheduled
        );
        assert_eq!(
            MaintenanceState::at(starts, ends, at(0)),
            MaintenanceState::InProgress
        );
        assert_eq!(
            MaintenanceState::at(starts, ends, at(120)),
            MaintenanceState::Completed
        );
        assert!(maintenance_window(ends, starts).is_err());
    }

    #[test]
    fn component_statuses_keep_their_statuspage_names() {
        for status in ComponentStatus::ALL {
            assert_eq!(
                ComponentStatus::parse("status", status.as_str()),
                Ok(status)
            );
        }
        assert!(ComponentStatus::parse("status", "down").is_err());
        assert_eq!(
            ComponentStatus::PartialOutage.worst(ComponentStatus::UnderMaintenance),
            ComponentStatus::PartialOutage
        );
    }
}
