//! The leadership layer's rules: who speaks in the responder channel, who asks for
//! and who gives authorisation, who sees a restricted incident, and when a
//! postmortem is due.

use super::incidents::Severity;
use super::roles::{Actor, RoleRefusal};
use super::users::{FieldError, OrgRole};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// Where a person stands on one incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    /// Holds a role, or was added by the IC: writes in the responder channel.
    Responder,
    /// Reads the war room and asks through the stakeholder question queue.
    Observer,
}

impl Standing {
    pub fn of(holds_role: bool, added_by_ic: bool) -> Self {
        if holds_role || added_by_ic {
            Standing::Responder
        } else {
            Standing::Observer
        }
    }
}

/// May someone with `org_role` and `standing` write in the responder channel
/// (notes, decisions, hypotheses, check-ins, status)? Admins always may.
pub fn may_post(org_role: OrgRole, standing: Standing) -> Result<(), RoleRefusal> {
    match (org_role, standing) {
        (OrgRole::Viewer, _) => Err(RoleRefusal::ViewersChangeNothing),
        (OrgRole::Admin, _) | (_, Standing::Responder) => Ok(()),
        (_, Standing::Observer) => Err(RoleRefusal::OnlyRespondersPost),
    }
}

/// Adding and removing responders is the IC's call (or an admin's).
pub fn may_manage_responders(actor: &Actor) -> Result<(), RoleRefusal> {
    if actor.is_ic || actor.org_role == OrgRole::Admin {
        Ok(())
    } else {
        Err(RoleRefusal::OnlyIcManagesResponders)
    }
}

/// The Tech Lead or the IC asks for authorisation of a high-impact mitigation.
pub fn may_request_approval(is_ic: bool, is_tech_lead: bool) -> Result<(), RoleRefusal> {
    if is_ic || is_tech_lead {
        Ok(())
    } else {
        Err(RoleRefusal::OnlyLeadsRequestApproval)
    }
}

/// Approving, denying and clearing blockers need the leadership permission.
pub fn may_authorise(can_lead: bool) -> Result<(), RoleRefusal> {
    if can_lead {
        Ok(())
    } else {
        Err(RoleRefusal::NeedsLeadershipPermission)
    }
}

/// Only the IC goes ahead without an approval, when waiting is worse.
pub fn may_override(is_ic: bool) -> Result<(), RoleRefusal> {
    if is_ic {
        Ok(())
    } else {
        Err(RoleRefusal::OnlyIcOverrides)
    }
}

/// Whether a user sees an incident: everyone sees an open one; a restricted one
/// only its participants and admins.
pub fn may_see(restricted: bool, org_role: OrgRole, participant: bool) -> bool {
    !restricted || participant || org_role == OrgRole::Admin
}

/// Where an authorisation request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    /// The IC went ahead without waiting.
    Overridden,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Overridden => "overridden",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            ApprovalStatus::Denied,
            ApprovalStatus::Overridden,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "Waiting for approval",
            ApprovalStatus::Approved => "Approved",
            ApprovalStatus::Denied => "Denied",
            ApprovalStatus::Overridden => "Went ahead without approval",
        }
    }
}

/// Business days from resolution to the postmortem deadline, per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineDays {
    pub sev1: u32,
    pub sev2: u32,
    pub sev3: u32,
    pub sev4: u32,
}

impl Default for DeadlineDays {
    fn default() -> Self {
        DeadlineDays {
            sev1: 3,
            sev2: 5,
            sev3: 10,
            sev4: 10,
        }
    }
}

impl DeadlineDays {
    pub fn for_severity(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Sev1 => self.sev1,
            Severity::Sev2 => self.sev2,
            Severity::Sev3 => self.sev3,
            Severity::Sev4 => self.sev4,
        }
    }
}

/// The longest deadline an admin may set, in business days (about three months).
pub const MAX_DEADLINE_DAYS: u32 = 60;

/// Parses an admin's deadline for one severity, reported at `field`.
pub fn parse_deadline_days(field: &'static str, raw: &str) -> Result<u32, FieldError> {
    match raw.trim().parse::<u32>() {
        Ok(days) if (1..=MAX_DEADLINE_DAYS).contains(&days) => Ok(days),
        _ => Err(FieldError::new(
            field,
            format!("Give a whole number of business days from 1 to {MAX_DEADLINE_DAYS}."),
        )),
    }
}

fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// `from` plus `days` business days (Monday to Friday; public holidays are not known).
/// A resolution on a weekend counts from the next Monday.
pub fn add_business_days(from: NaiveDate, days: u32) -> NaiveDate {
    let mut date = from;
    let mut left = days;
    while left > 0 {
        date = date.checked_add_days(Days::new(1)).unwrap_or(date);
        if is_business_day(date) {
            left -= 1;
        }
    }
    date
}

/// The postmortem's due date for an incident of `severity` resolved at `resolved_at` (UTC).
pub fn postmortem_due(
    resolved_at: DateTime<Utc>,
    severity: Severity,
    days: &DeadlineDays,
) -> NaiveDate {
    add_business_days(resolved_at.date_naive(), days.for_severity(severity))
}

/// Overdue once the due day has passed without a published postmortem.
pub fn postmortem_overdue(due: NaiveDate, published: bool, today: NaiveDate) -> bool {
    !published && today > due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::users::UserId;
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn business_days_skip_the_weekend() {
        // 2026-11-26 is a Thursday.
        assert_eq!(add_business_days(date(2026, 11, 26), 1), date(2026, 11, 27));
        assert_eq!(add_business_days(date(2026, 11, 26), 2), date(2026, 11, 30));
        assert_eq!(add_business_days(date(2026, 11, 26), 3), date(2026, 12, 1));
        assert_eq!(
            add_business_days(date(2026, 11, 26), 10),
            date(2026, 12, 10)
        );
    }

    #[test]
    fn a_weekend_resolution_counts_from_monday() {
        // Saturday and Sunday both land on the same day as Friday would plus one.
        assert_eq!(add_business_days(date(2026, 11, 28), 1), date(2026, 11, 30));
        assert_eq!(add_business_days(date(2026, 11, 29), 3), date(2026, 12, 2));
    }

    #[test]
    fn deadlines_follow_severity_with_the_defaults() {
        let days = DeadlineDays::default();
        let resolved = Utc
            .with_ymd_and_hms(2026, 11, 26, 23, 30, 0)
            .single()
            .expect("time");
        assert_eq!(
            postmortem_due(resolved, Severity::Sev1, &days),
            date(2026, 12, 1)
        );
        assert_eq!(
            postmortem_due(resolved, Severity::Sev2, &days),
            date(2026, 12, 3)
        );
        assert_eq!(
            postmortem_due(resolved, Severity::Sev3, &days),
            date(2026, 12, 10)
        );
        assert_eq!(
            postmortem_due(resolved, Severity::Sev4, &days),
            date(2026, 12, 10)
        );
        let custom = DeadlineDays { sev1: 1, ..days };
        assert_eq!(
            postmortem_due(resolved, Severity::Sev1, &custom),
            date(2026, 11, 27)
        );
    }

    #[test]
    fn a_postmortem_is_overdue_the_day_after_it_is_due_until_published() {
        let due = date(2026, 12, 1);
        assert!(!postmortem_overdue(due, false, date(2026, 12, 1)));
        assert!(postmortem_overdue(due, false, date(2026, 12, 2)));
        assert!(!postmortem_overdue(due, true, date(2026, 12, 9)));
    }

    #[test]
    fn deadline_days_are_checked_at_their_field() {
        assert_eq!(parse_deadline_days("sev1_days", " 4 "), Ok(4));
        for bad in ["0", "-1", "61", "three", ""] {
            let e = parse_deadline_days("sev1_days", bad).expect_err(bad);
            assert_eq!(e.field, "sev1_days");
        }
    }

    #[test]
    fn responders_post_and_observers_ask_instead() {
        let observer = Standing::of(false, false);
        assert_eq!(observer, Standing::Observer);
        assert_eq!(
            may_post(OrgRole::Responder, observer),
            Err(RoleRefusal::OnlyRespondersPost)
        );
        assert_eq!(
            may_post(OrgRole::Responder, Standing::of(true, false)),
            Ok(())
        );
        assert_eq!(
            may_post(OrgRole::Responder, Standing::of(false, true)),
            Ok(())
        );
        assert_eq!(may_post(OrgRole::Admin, observer), Ok(()));
        assert_eq!(
            may_post(OrgRole::Viewer, Standing::Responder),
            Err(RoleRefusal::ViewersChangeNothing)
        );
    }

    #[test]
    fn only_the_ic_or_an_admin_adds_responders() {
        let actor = |org_role, is_ic| Actor {
            user: UserId(1),
            org_role,
            is_ic,
        };
        assert!(may_manage_responders(&actor(OrgRole::Responder, true)).is_ok());
        assert!(may_manage_responders(&actor(OrgRole::Admin, false)).is_ok());
        assert_eq!(
            may_manage_responders(&actor(OrgRole::Responder, false)),
            Err(RoleRefusal::OnlyIcManagesResponders)
        );
    }

    #[test]
    fn approvals_are_asked_by_leads_given_by_leaders_and_skipped_only_by_the_ic() {
        assert!(may_request_approval(false, true).is_ok());
        assert!(may_request_approval(true, false).is_ok());
        assert_eq!(
            may_request_approval(false, false),
            Err(RoleRefusal::OnlyLeadsRequestApproval)
        );
        assert!(may_authorise(true).is_ok());
        assert_eq!(
            may_authorise(false),
            Err(RoleRefusal::NeedsLeadershipPermission)
        );
        assert!(may_override(true).is_ok());
        assert_eq!(may_override(false), Err(RoleRefusal::OnlyIcOverrides));
    }

    #[test]
    fn a_restricted_incident_is_seen_by_participants_and_admins_only() {
        assert!(may_see(false, OrgRole::Viewer, false));
        assert!(!may_see(true, OrgRole::Responder, false));
        assert!(!may_see(true, OrgRole::Viewer, false));
        assert!(may_see(true, OrgRole::Responder, true));
        assert!(may_see(true, OrgRole::Admin, false));
    }

    #[test]
    fn approval_statuses_round_trip() {
        for s in ["pending", "approved", "denied", "overridden"] {
            assert_eq!(ApprovalStatus::parse(s).map(|s| s.as_str()), Some(s));
        }
        assert_eq!(ApprovalStatus::parse("maybe"), None);
    }
}
