//! Working the problem: hypotheses with owners, and the restore-first checklist.

use serde::{Deserialize, Serialize};

/// Where a hypothesis stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HypothesisStatus {
    Open,
    Confirmed,
    RuledOut,
}

impl HypothesisStatus {
    pub const ALL: [HypothesisStatus; 3] = [
        HypothesisStatus::Open,
        HypothesisStatus::Confirmed,
        HypothesisStatus::RuledOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HypothesisStatus::Open => "open",
            HypothesisStatus::Confirmed => "confirmed",
            HypothesisStatus::RuledOut => "ruled_out",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HypothesisStatus::Open => "Open",
            HypothesisStatus::Confirmed => "Confirmed",
            HypothesisStatus::RuledOut => "Ruled out",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }
}

/// More open hypotheses than this splits the team too thin.
pub const MAX_OPEN_HYPOTHESES: usize = 3;

/// The warning to show for `open` open hypotheses, if any.
pub fn too_many_open(open: usize) -> Option<String> {
    (open > MAX_OPEN_HYPOTHESES).then(|| {
        format!("{open} hypotheses are open. Work 1 to 3 at a time: rule some out or park them.")
    })
}

/// Whether "1 to 3 hypotheses, each with an owner" holds for these (status, has owner) pairs.
pub fn hypotheses_have_owners(hypotheses: &[(HypothesisStatus, bool)]) -> bool {
    !hypotheses.is_empty() && hypotheses.iter().all(|(_, owned)| *owned)
}

/// The restore-first checklist: ways to reduce impact before finding the root cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RestoreStep {
    Rollback,
    TrafficShift,
    FeatureFlagOff,
    CapacityAdd,
    DependencyBypass,
}

impl RestoreStep {
    pub const ALL: [RestoreStep; 5] = [
        RestoreStep::Rollback,
        RestoreStep::TrafficShift,
        RestoreStep::FeatureFlagOff,
        RestoreStep::CapacityAdd,
        RestoreStep::DependencyBypass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RestoreStep::Rollback => "rollback",
            RestoreStep::TrafficShift => "traffic_shift",
            RestoreStep::FeatureFlagOff => "feature_flag_off",
            RestoreStep::CapacityAdd => "capacity_add",
            RestoreStep::DependencyBypass => "dependency_bypass",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RestoreStep::Rollback => "Roll back",
            RestoreStep::TrafficShift => "Shift traffic",
            RestoreStep::FeatureFlagOff => "Turn a feature flag off",
            RestoreStep::CapacityAdd => "Add capacity",
            RestoreStep::DependencyBypass => "Bypass a dependency",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }
}

/// How safely a mitigation is being applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Safety {
    Staged,
    Canary,
    LimitedBlastRadius,
    Untested,
}

impl Safety {
    pub const ALL: [Safety; 4] = [
        Safety::Staged,
        Safety::Canary,
        Safety::LimitedBlastRadius,
        Safety::Untested,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Staged => "staged",
            Safety::Canary => "canary",
            Safety::LimitedBlastRadius => "limited",
            Safety::Untested => "untested",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Safety::Staged => "staged rollout",
            Safety::Canary => "canary",
            Safety::LimitedBlastRadius => "limited blast radius",
            Safety::Untested => "untested",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }
}

/// The decision text written when a restore step is tried.
pub fn tried_decision(step: RestoreStep, safety: Safety, detail: &str) -> String {
    let detail = detail.trim();
    if detail.is_empty() {
        format!("{} ({})", step.label(), safety.label())
    } else {
        format!("{}: {detail} ({})", step.label(), safety.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_three_open_hypotheses_warn() {
        assert_eq!(too_many_open(3), None);
        assert!(too_many_open(4).is_some_and(|w| w.starts_with("4 hypotheses are open")));
    }

    #[test]
    fn hypotheses_count_as_owned_only_when_every_one_has_an_owner() {
        use HypothesisStatus::*;
        assert!(!hypotheses_have_owners(&[]));
        assert!(hypotheses_have_owners(&[(Open, true), (RuledOut, true)]));
        assert!(!hypotheses_have_owners(&[(Open, true), (Open, false)]));
    }

    #[test]
    fn trying_a_step_reads_as_a_decision_with_its_safety() {
        assert_eq!(
            tried_decision(RestoreStep::Rollback, Safety::Canary, " to 4.1 "),
            "Roll back: to 4.1 (canary)"
        );
        assert_eq!(
            tried_decision(RestoreStep::CapacityAdd, Safety::Untested, ""),
            "Add capacity (untested)"
        );
    }

    #[test]
    fn names_round_trip() {
        for s in RestoreStep::ALL {
            assert_eq!(RestoreStep::parse(s.as_str()), Some(s));
        }
        for s in Safety::ALL {
            assert_eq!(Safety::parse(s.as_str()), Some(s));
        }
        for s in HypothesisStatus::ALL {
            assert_eq!(HypothesisStatus::parse(s.as_str()), Some(s));
        }
    }
}
