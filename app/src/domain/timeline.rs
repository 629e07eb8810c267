//! What the system writes on an incident's timeline by itself: one typed
//! value per kind of event, rendered to a sentence here and nowhere else.
//! The store keeps the kind beside the sentence, so readers (the postmortem
//! draft) ask the kind, never the wording.

use super::incidents::{display_number, IncidentStatus, Severity};
use super::milestones::Milestone;
use super::mitigation::{HypothesisStatus, RestoreStep};
use super::rhythm::RhythmItem;
use super::roles::IncidentRole;
use super::status::ComponentStatus;
use super::updates::TemplateKind;
use chrono::{DateTime, NaiveDate, Utc};

/// The sentence shown when an incident becomes restricted.
pub const RESTRICTED_NOTE: &str = "Possible security impact or data exposure: the incident is now \
     visible only to its participants and admins, and needs a Security Lead";

/// An automatic timeline entry. Names are display names at the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    Declared {
        by: String,
        number: i64,
        severity: Severity,
    },
    /// Declared automatically by an integration from a new alert group.
    DeclaredFromAlert {
        integration: String,
        number: i64,
        severity: Severity,
    },
    DeclaredRestricted,
    Restricted {
        by: String,
    },
    RoleHandedOver {
        by: String,
        role: IncidentRole,
        from: String,
        to: String,
    },
    RoleTaken {
        who: String,
        role: IncidentRole,
    },
    RoleAssigned {
        by: String,
        role: IncidentRole,
        to: String,
    },
    SteppedDown {
        who: String,
        role: IncidentRole,
    },
    RoleReleased {
        by: String,
        who: String,
        role: IncidentRole,
    },
    StatusChanged {
        by: String,
        from: IncidentStatus,
        to: IncidentStatus,
    },
    SeverityChanged {
        by: String,
        from: Severity,
        to: Severity,
    },
    PostmortemDue {
        on: NaiveDate,
    },
    CadenceSet {
        by: String,
        check_in_minutes: i64,
        update_minutes: i64,
    },
    Ticked {
        by: String,
        item: RhythmItem,
    },
    CheckedIn {
        by: String,
    },
    Decided {
        decision: String,
        owner: String,
    },
    DecisionResult {
        by: String,
        result: String,
    },
    HypothesisAdded {
        by: String,
        statement: String,
        owner: Option<String>,
    },
    HypothesisMarked {
        by: String,
        statement: String,
        status: HypothesisStatus,
    },
    HypothesisUpdated {
        by: String,
        statement: String,
    },
    RestoreSetAside {
        by: String,
        step: RestoreStep,
        reason: String,
    },
    SummaryUpdated {
        by: String,
        impact: Option<String>,
        best_guess: Option<String>,
        bridge: bool,
    },
    MilestoneCorrected {
        by: String,
        milestone: Milestone,
        was: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    },
    ResponderAdded {
        by: String,
        who: String,
    },
    ResponderRemoved {
        by: String,
        who: String,
    },
    ApprovalAsked {
        by: String,
        mitigation: String,
        reason: String,
    },
    BlockerRaised {
        by: String,
        description: String,
    },
    BlockerTaken {
        by: String,
        description: String,
    },
    BlockerResolved {
        by: String,
        description: String,
        note: String,
    },
    PostmortemStarted {
        by: String,
    },
    PostmortemSentForReview {
        by: String,
    },
    PostmortemBackToDraft {
        by: String,
    },
    PostmortemPublished {
        by: String,
        overridden: Vec<String>,
    },
    ActionItemVerified {
        by: String,
        title: String,
        evidence: String,
    },
    ComponentCleared {
        by: String,
        component: String,
    },
    ComponentMarked {
        by: String,
        component: String,
        status: ComponentStatus,
    },
    UpdatePublished {
        by: String,
        kind: TemplateKind,
        overridden: Vec<String>,
    },
    /// An alert group was tied to the incident (`by` is who, or who declared from it).
    AlertAttached {
        by: String,
        summary: String,
        source: String,
        fired_at: DateTime<Utc>,
    },
    /// The sender said an attached alert group resolved.
    AlertResolved {
        summary: String,
        source: String,
    },
}

/// Kinds whose entries the postmortem timeline leaves out: decisions come in
/// whole from the decision log (with reason and result), and rhythm ticks and
/// check-ins are routine.
const NOT_IN_POSTMORTEM: [&str; 4] = ["decided", "decision_result", "ticked", "checked_in"];

/// Whether an automatic entry of `kind` belongs in the postmortem timeline.
pub fn belongs_in_postmortem(kind: &str) -> bool {
    !NOT_IN_POSTMORTEM.contains(&kind)
}

fn clock(at: DateTime<Utc>) -> String {
    super::updates::clock_text(at)
}

impl Happened {
    /// The kind as stored beside the sentence.
    pub fn kind(&self) -> &'static str {
        use Happened::*;
        match self {
            Declared { .. } | DeclaredFromAlert { .. } => "declared",
            DeclaredRestricted | Restricted { .. } => "restricted",
            RoleHandedOver { .. } => "role_handed_over",
            RoleTaken { .. } => "role_taken",
            RoleAssigned { .. } => "role_assigned",
            SteppedDown { .. } => "stepped_down",
            RoleReleased { .. } => "role_released",
            StatusChanged { .. } => "status_changed",
            SeverityChanged { .. } => "severity_changed",
            PostmortemDue { .. } => "postmortem_due",
            CadenceSet { .. } => "cadence_set",
            Ticked { .. } => "ticked",
            CheckedIn { .. } => "checked_in",
            Decided { .. } => "decided",
            DecisionResult { .. } => "decision_result",
            HypothesisAdded { .. } => "hypothesis_added",
            HypothesisMarked { .. } => "hypothesis_marked",
            HypothesisUpdated { .. } => "hypothesis_updated",
            RestoreSetAside { .. } => "restore_set_aside",
            SummaryUpdated { .. } => "summary_updated",
            MilestoneCorrected { .. } => "milestone_corrected",
            ResponderAdded { .. } => "responder_added",
            ResponderRemoved { .. } => "responder_removed",
            ApprovalAsked { .. } => "approval_asked",
            BlockerRaised { .. } => "blocker_raised",
            BlockerTaken { .. } => "blocker_taken",
            BlockerResolved { .. } => "blocker_resolved",
            PostmortemStarted { .. } => "postmortem_started",
            PostmortemSentForReview { .. } => "postmortem_in_review",
            PostmortemBackToDraft { .. } => "postmortem_draft",
            PostmortemPublished { .. } => "postmortem_published",
            ActionItemVerified { .. } => "action_item_verified",
            ComponentCleared { .. } => "component_cleared",
            ComponentMarked { .. } => "component_marked",
            UpdatePublished { .. } => "update_published",
            AlertAttached { .. } => "alert_attached",
            AlertResolved { .. } => "alert_resolved",
        }
    }

    /// The sentence on the timeline.
    pub fn text(&self) -> String {
        use Happened::*;
        match self {
            Declared {
                by,
                number,
                severity,
            } => format!(
                "{by} declared {} ({}); {by} is Incident Commander",
                display_number(*number),
                severity.label()
            ),
            DeclaredFromAlert {
                integration,
                number,
                severity,
            } => format!(
                "{integration} declared {} ({}) from an alert; nobody is Incident Commander yet",
                display_number(*number),
                severity.label()
            ),
            DeclaredRestricted => RESTRICTED_NOTE.to_owned(),
            Restricted { by } => format!("{by} flagged it. {RESTRICTED_NOTE}"),
            RoleHandedOver { by, role, from, to } => {
                format!("{by} handed {} from {from} to {to}", role.label())
            }
            RoleTaken { who, role } => format!("{who} took {}", role.label()),
            RoleAssigned { by, role, to } => format!("{by} assigned {} to {to}", role.label()),
            SteppedDown { who, role } => format!("{who} stepped down as {}", role.label()),
            RoleReleased { by, who, role } => {
                format!("{by} released {who} from {}", role.label())
            }
            StatusChanged { by, from, to } => {
                format!("{by} changed status from {} to {}", from.label(), to.label())
            }
            SeverityChanged { by, from, to } => {
                format!("{by} changed severity from {} to {}", from.label(), to.label())
            }
            PostmortemDue { on } => format!("The postmortem is due {}", on.format("%a %-d %b %Y")),
            CadenceSet {
                by,
                check_in_minutes,
                update_minutes,
            } => format!(
                "{by} set the cadence: check-in every {check_in_minutes} min, stakeholder update every {update_minutes} min"
            ),
            Ticked { by, item } => format!("{by} ticked: {}", item.label()),
            CheckedIn { by } => format!("{by} ran a check-in"),
            Decided { decision, owner } => format!("Decision: {decision} (owner {owner})"),
            DecisionResult { by, result } => format!("{by} recorded a result: {result}"),
            HypothesisAdded {
                by,
                statement,
                owner,
            } => match owner {
                Some(owner) => format!("{by} added a hypothesis: {statement} (owner {owner})"),
                None => format!("{by} added a hypothesis: {statement} (no owner yet)"),
            },
            HypothesisMarked {
                by,
                statement,
                status,
            } => format!(
                "{by} marked the hypothesis \"{statement}\" {}",
                status.label().to_lowercase()
            ),
            HypothesisUpdated { by, statement } => {
                format!("{by} updated the hypothesis \"{statement}\"")
            }
            RestoreSetAside { by, step, reason } => {
                format!("{by} set aside \"{}\": {reason}", step.label())
            }
            SummaryUpdated {
                by,
                impact,
                best_guess,
                bridge,
            } => {
                let mut changed = Vec::new();
                if let Some(impact) = impact {
                    changed.push(format!("impact: {impact}"));
                }
                if let Some(best_guess) = best_guess {
                    changed.push(format!("best guess: {best_guess}"));
                }
                if *bridge {
                    changed.push("bridge link".to_owned());
                }
                format!("{by} updated the status: {}", changed.join("; "))
            }
            MilestoneCorrected {
                by,
                milestone,
                was,
                now,
            } => format!(
                "{by} corrected \"{}\" from {} to {}",
                milestone.label(),
                was.map(clock).unwrap_or_else(|| "unset".to_owned()),
                clock(*now)
            ),
            ResponderAdded { by, who } => format!("{by} added {who} as a responder"),
            ResponderRemoved { by, who } => format!("{by} removed {who} from the responders"),
            ApprovalAsked {
                by,
                mitigation,
                reason,
            } => format!("{by} asked for authorisation to {mitigation} (high impact): {reason}"),
            BlockerRaised { by, description } => format!("{by} raised a blocker: {description}"),
            BlockerTaken { by, description } => format!("{by} is on the blocker: {description}"),
            BlockerResolved {
                by,
                description,
                note,
            } => format!("{by} resolved the blocker: {description}. {note}"),
            PostmortemStarted { by } => format!("{by} started the postmortem"),
            PostmortemSentForReview { by } => format!("{by} sent the postmortem for review"),
            PostmortemBackToDraft { by } => format!("{by} took the postmortem back to draft"),
            PostmortemPublished { by, overridden } if overridden.is_empty() => {
                format!("{by} published the postmortem")
            }
            PostmortemPublished { by, overridden } => format!(
                "{by} published the postmortem past failing checks: {}",
                overridden.join("; ")
            ),
            ActionItemVerified {
                by,
                title,
                evidence,
            } => format!("{by} verified the action item \"{title}\": {evidence}"),
            ComponentCleared { by, component } => {
                format!("{by} marked {component} as no longer affected")
            }
            ComponentMarked {
                by,
                component,
                status,
            } => format!(
                "{by} marked {component} as {} on the status page",
                status.label().to_lowercase()
            ),
            AlertAttached {
                by,
                summary,
                source,
                fired_at,
            } => format!(
                "{by} attached the alert \"{summary}\" from {source}, firing since {}",
                clock(*fired_at)
            ),
            AlertResolved { summary, source } => {
                format!("The alert \"{summary}\" from {source} resolved")
            }
            UpdatePublished {
                by,
                kind,
                overridden,
            } => {
                let mut text = format!("{by} published the {}", kind.label().to_lowercase());
                if !overridden.is_empty() {
                    text.push_str(&format!(
                        ", overriding {} warning{}: {}",
                        overridden.len(),
                        if overridden.len() == 1 { "" } else { "s" },
                        overridden.join(" ")
                    ));
                }
                text
            }
        }
    }

    /// Whether this entry belongs in the postmortem timeline.
    pub fn in_postmortem(&self) -> bool {
        belongs_in_postmortem(self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_ticks_and_check_ins_stay_out_of_the_postmortem_whatever_their_wording() {
        let decision = Happened::Decided {
            decision: "Roll back".into(),
            owner: "Ada".into(),
        };
        assert!(!decision.in_postmortem());
        assert!(!Happened::CheckedIn { by: "Ada".into() }.in_postmortem());
        assert!(!Happened::Ticked {
            by: "Ada".into(),
            item: RhythmItem::Declared
        }
        .in_postmortem());
        // A note-like sentence that merely starts like a decision still counts by kind.
        let blocker = Happened::BlockerRaised {
            by: "Ada".into(),
            description: "Decision: pending from legal".into(),
        };
        assert!(blocker.in_postmortem());
        assert!(Happened::StatusChanged {
            by: "Ada".into(),
            from: IncidentStatus::Investigating,
            to: IncidentStatus::Resolved
        }
        .in_postmortem());
    }

    #[test]
    fn sentences_read_as_the_timeline_shows_them() {
        let declared = Happened::Declared {
            by: "Ada".into(),
            number: 7,
            severity: Severity::Sev1,
        };
        assert!(
            declared.text().starts_with("Ada declared INC-7 (Sev1)"),
            "{}",
            declared.text()
        );
        let published = Happened::UpdatePublished {
            by: "Cal".into(),
            kind: TemplateKind::CustomerFacing,
            overridden: vec!["A promise.".into()],
        };
        assert_eq!(
            published.text(),
            "Cal published the customer-facing update, overriding 1 warning: A promise."
        );
        let corrected = Happened::MilestoneCorrected {
            by: "Ada".into(),
            milestone: Milestone::Mitigated,
            was: None,
            now: DateTime::parse_from_rfc3339("2026-11-26T14:05:00Z")
                .expect("time")
                .with_timezone(&Utc),
        };
        assert!(
            corrected.text().ends_with("from unset to 14:05 UTC"),
            "{}",
            corrected.text()
        );
    }
}
