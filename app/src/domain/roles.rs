//! Incident roles and who may put whom in them.

use super::users::{OrgRole, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A seat on the role board. One person per role at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IncidentRole {
    IncidentCommander,
    TechLead,
    CommsLead,
    Scribe,
    OpsLead,
    SupportLiaison,
    SecurityLead,
}

impl IncidentRole {
    pub const ALL: [IncidentRole; 7] = [
        IncidentRole::IncidentCommander,
        IncidentRole::TechLead,
        IncidentRole::CommsLead,
        IncidentRole::Scribe,
        IncidentRole::OpsLead,
        IncidentRole::SupportLiaison,
        IncidentRole::SecurityLead,
    ];

    pub const CORE: [IncidentRole; 4] = [
        IncidentRole::IncidentCommander,
        IncidentRole::TechLead,
        IncidentRole::CommsLead,
        IncidentRole::Scribe,
    ];

    pub fn is_core(self) -> bool {
        Self::CORE.contains(&self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentRole::IncidentCommander => "ic",
            IncidentRole::TechLead => "tech_lead",
            IncidentRole::CommsLead => "comms_lead",
            IncidentRole::Scribe => "scribe",
            IncidentRole::OpsLead => "ops_lead",
            IncidentRole::SupportLiaison => "support_liaison",
            IncidentRole::SecurityLead => "security_lead",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IncidentRole::IncidentCommander => "Incident Commander",
            IncidentRole::TechLead => "Tech Lead",
            IncidentRole::CommsLead => "Comms Lead",
            IncidentRole::Scribe => "Scribe",
            IncidentRole::OpsLead => "Ops / Systems Lead",
            IncidentRole::SupportLiaison => "Customer Support Liaison",
            IncidentRole::SecurityLead => "Security Lead",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw.trim())
    }
}

impl fmt::Display for IncidentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The person asking for a role change, as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub org_role: OrgRole,
    /// Whether they hold the Incident Commander role on this incident.
    pub is_ic: bool,
}

/// Why a role change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRefusal {
    ViewersChangeNothing,
    OnlyIcReassigns,
    OnlyIcAssignsOthers,
    OnlyIcReleasesOthers,
    IncidentNeedsAnIc,
    OnlyCommsLeadSpeaks,
    OnlyIcStewardsPostmortem,
    OnlyRespondersPost,
    OnlyIcManagesResponders,
    OnlyLeadsRequestApproval,
    NeedsLeadershipPermission,
    OnlyIcOverrides,
}

impl RoleRefusal {
    pub fn message(&self) -> &'static str {
        match self {
            RoleRefusal::ViewersChangeNothing => "Viewers can read the war room but not change it.",
            RoleRefusal::OnlyIcReassigns => {
                "Only the Incident Commander (or an admin) can hand off a role someone holds."
            }
            RoleRefusal::OnlyIcAssignsOthers => {
                "Only the Incident Commander (or an admin) can put someone else in a role."
            }
            RoleRefusal::OnlyIcReleasesOthers => {
                "Only the Incident Commander (or an admin) can release someone else's role."
            }
            RoleRefusal::IncidentNeedsAnIc => {
                "An incident always has a commander: hand the role to someone instead."
            }
            RoleRefusal::OnlyCommsLeadSpeaks => {
                "Only the Comms Lead publishes updates and answers stakeholders (the Incident Commander while no Comms Lead is assigned)."
            }
            RoleRefusal::OnlyIcStewardsPostmortem => {
                "Only the incident's commander (or an admin) starts, sends for review and publishes its postmortem."
            }
            RoleRefusal::OnlyRespondersPost => {
                "You are observing this incident: only responders (people with a role, or added by the Incident Commander) write here. Ask through the stakeholder questions instead."
            }
            RoleRefusal::OnlyIcManagesResponders => {
                "Only the Incident Commander (or an admin) adds and removes responders."
            }
            RoleRefusal::OnlyLeadsRequestApproval => {
                "Only the Tech Lead or the Incident Commander asks for authorisation."
            }
            RoleRefusal::NeedsLeadershipPermission => {
                "Only people with the leadership permission authorise mitigations and clear blockers."
            }
            RoleRefusal::OnlyIcOverrides => {
                "Only the Incident Commander goes ahead without an approval."
            }
        }
    }
}

/// May `user` speak for the incident (publish updates, answer stakeholders)?
/// The Comms Lead does; the IC does while nobody holds Comms Lead.
pub fn may_speak(
    user: UserId,
    comms_lead: Option<UserId>,
    ic: Option<UserId>,
) -> Result<(), RoleRefusal> {
    let speaker = comms_lead.or(ic);
    if speaker == Some(user) {
        Ok(())
    } else {
        Err(RoleRefusal::OnlyCommsLeadSpeaks)
    }
}

fn commands(actor: &Actor) -> bool {
    actor.is_ic || actor.org_role == OrgRole::Admin
}

/// May `actor` put `target` into a role currently held by `holder`?
///
/// The IC (or an admin) assigns and hands off anything. Any responder may take
/// an empty role for themselves (the IC can undo it by releasing it).
pub fn may_assign(
    actor: &Actor,
    holder: Option<UserId>,
    target: UserId,
) -> Result<(), RoleRefusal> {
    if actor.org_role == OrgRole::Viewer {
        return Err(RoleRefusal::ViewersChangeNothing);
    }
    if commands(actor) {
        return Ok(());
    }
    if holder.is_some() {
        return Err(RoleRefusal::OnlyIcReassigns);
    }
    if target != actor.user {
        return Err(RoleRefusal::OnlyIcAssignsOthers);
    }
    Ok(())
}

/// May `actor` release `role`, held by `holder`? Anyone may step down from their
/// own role; the IC seat is never left empty (it is handed off instead).
pub fn may_release(actor: &Actor, role: IncidentRole, holder: UserId) -> Result<(), RoleRefusal> {
    if actor.org_role == OrgRole::Viewer {
        return Err(RoleRefusal::ViewersChangeNothing);
    }
    if role == IncidentRole::IncidentCommander {
        return Err(RoleRefusal::IncidentNeedsAnIc);
    }
    if holder == actor.user || commands(actor) {
        Ok(())
    } else {
        Err(RoleRefusal::OnlyIcReleasesOthers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADA: UserId = UserId(1);
    const BOB: UserId = UserId(2);
    const CY: UserId = UserId(3);

    fn responder(user: UserId, is_ic: bool) -> Actor {
        Actor {
            user,
            org_role: OrgRole::Responder,
            is_ic,
        }
    }

    #[test]
    fn the_ic_assigns_and_hands_off_any_role() {
        let ic = responder(ADA, true);
        assert_eq!(may_assign(&ic, None, BOB), Ok(()));
        assert_eq!(may_assign(&ic, Some(BOB), CY), Ok(()));
    }

    #[test]
    fn a_responder_may_take_an_empty_role_for_themselves_only() {
        let bob = responder(BOB, false);
        assert_eq!(may_assign(&bob, None, BOB), Ok(()));
        assert_eq!(
            may_assign(&bob, None, CY),
            Err(RoleRefusal::OnlyIcAssignsOthers)
        );
    }

    #[test]
    fn a_non_ic_cannot_reassign_a_held_role() {
        let bob = responder(BOB, false);
        assert_eq!(
            may_assign(&bob, Some(CY), BOB),
            Err(RoleRefusal::OnlyIcReassigns)
        );
    }

    #[test]
    fn an_admin_commands_like_the_ic() {
        let admin = Actor {
            user: CY,
            org_role: OrgRole::Admin,
            is_ic: false,
        };
        assert_eq!(may_assign(&admin, Some(BOB), ADA), Ok(()));
        assert_eq!(may_release(&admin, IncidentRole::TechLead, BOB), Ok(()));
    }

    #[test]
    fn a_viewer_changes_no_role() {
        let viewer = Actor {
            user: CY,
            org_role: OrgRole::Viewer,
            is_ic: false,
        };
        assert_eq!(
            may_assign(&viewer, None, CY),
            Err(RoleRefusal::ViewersChangeNothing)
        );
    }

    #[test]
    fn people_release_their_own_role_and_the_ic_releases_anyones_but_never_the_ic_seat() {
        let bob = responder(BOB, false);
        assert_eq!(may_release(&bob, IncidentRole::Scribe, BOB), Ok(()));
        assert_eq!(
            may_release(&bob, IncidentRole::Scribe, CY),
            Err(RoleRefusal::OnlyIcReleasesOthers)
        );
        let ic = responder(ADA, true);
        assert_eq!(may_release(&ic, IncidentRole::Scribe, BOB), Ok(()));
        assert_eq!(
            may_release(&ic, IncidentRole::IncidentCommander, ADA),
            Err(RoleRefusal::IncidentNeedsAnIc)
        );
    }

    #[test]
    fn four_roles_are_core() {
        assert!(IncidentRole::CommsLead.is_core());
        assert!(!IncidentRole::SecurityLead.is_core());
        for role in IncidentRole::ALL {
            assert_eq!(IncidentRole::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn the_comms_lead_speaks_and_the_ic_only_while_nobody_holds_comms() {
        let (ic, comms, other) = (UserId(1), UserId(2), UserId(3));
        assert!(may_speak(comms, Some(comms), Some(ic)).is_ok());
        assert_eq!(
            may_speak(ic, Some(comms), Some(ic)),
            Err(RoleRefusal::OnlyCommsLeadSpeaks)
        );
        assert!(may_speak(ic, None, Some(ic)).is_ok());
        assert!(may_speak(other, None, Some(ic)).is_err());
    }
}
