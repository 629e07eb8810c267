//! The one access rule for incidents: who may see, write, speak, lead and
//! steward on one incident. Every incident-scoped path asks [`decide`]; the
//! answer for someone who may not see an incident is [`Denied::Hidden`],
//! which callers turn into "not found", exactly like a missing incident.

use super::leadership::{self, Standing};
use super::roles::RoleRefusal;
use super::users::OrgRole;

/// The caller, as the organisation knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    pub org_role: OrgRole,
    /// The per-user leadership permission.
    pub can_lead: bool,
}

/// Where the caller stands on one incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Involvement {
    /// Possible security impact or data exposure: participants and admins only.
    pub restricted: bool,
    /// Has ever held a role on it, or is on its responder list.
    pub participant: bool,
    /// Holds a role now.
    pub holds_role: bool,
    /// The IC added them as a responder (and has not removed them).
    pub added: bool,
    /// Holds the Incident Commander role now.
    pub is_ic: bool,
    /// Holds the Comms Lead role now.
    pub is_comms_lead: bool,
    /// Somebody holds the Comms Lead role now.
    pub comms_lead_filled: bool,
    /// Owns the action item in question (only for [`Capability::WorkItem`]).
    pub owns_item: bool,
}

/// What the caller wants to do on the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Know it exists and read what their org role lets them read.
    See,
    /// Write in the responder channel and on the postmortem draft.
    Write,
    /// Publish updates and answer stakeholders.
    Speak,
    /// Authorise mitigations.
    Lead,
    /// Take and clear blockers (leaders and admins).
    ClearBlockers,
    /// Start, send for review, publish the postmortem and run its review meeting.
    Steward,
    /// Move one action item along: its owner, or anyone who writes on the incident.
    WorkItem,
}

impl Capability {
    pub const ALL: [Capability; 7] = [
        Capability::See,
        Capability::Write,
        Capability::Speak,
        Capability::Lead,
        Capability::ClearBlockers,
        Capability::Steward,
        Capability::WorkItem,
    ];
}

/// Why the rule said no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The caller may not know the incident exists: answer as for a missing one.
    Hidden,
    /// The caller sees the incident but may not do this.
    Refused(RoleRefusal),
}

/// Answers whether `person`, standing as `on` describes, may do `what`.
pub fn decide(person: Person, on: Involvement, what: Capability) -> Result<(), Denied> {
    if !leadership::may_see(on.restricted, person.org_role, on.participant) {
        return Err(Denied::Hidden);
    }
    let admin = person.org_role == OrgRole::Admin;
    let write = || {
        leadership::may_post(person.org_role, Standing::of(on.holds_role, on.added))
            .map_err(Denied::Refused)
    };
    match what {
        Capability::See => Ok(()),
        Capability::Write => write(),
        Capability::Speak => {
            if on.is_comms_lead || (on.is_ic && !on.comms_lead_filled) {
                Ok(())
            } else {
                Err(Denied::Refused(RoleRefusal::OnlyCommsLeadSpeaks))
            }
        }
        Capability::Lead => leadership::may_authorise(person.can_lead).map_err(Denied::Refused),
        Capability::ClearBlockers => {
            leadership::may_authorise(person.can_lead || admin).map_err(Denied::Refused)
        }
        Capability::Steward => {
            if person.org_role == OrgRole::Viewer {
                Err(Denied::Refused(RoleRefusal::ViewersChangeNothing))
            } else if on.is_ic || admin {
                Ok(())
            } else {
                Err(Denied::Refused(RoleRefusal::OnlyIcStewardsPostmortem))
            }
        }
        Capability::WorkItem => {
            if person.org_role == OrgRole::Viewer {
                Err(Denied::Refused(RoleRefusal::ViewersChangeNothing))
            } else if on.owns_item {
                Ok(())
            } else {
                write()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEWER: Person = Person {
        org_role: OrgRole::Viewer,
        can_lead: false,
    };
    const LEADER: Person = Person {
        org_role: OrgRole::Viewer,
        can_lead: true,
    };
    const RESPONDER: Person = Person {
        org_role: OrgRole::Responder,
        can_lead: false,
    };
    const ADMIN: Person = Person {
        org_role: OrgRole::Admin,
        can_lead: false,
    };

    fn on(restricted: bool) -> Involvement {
        Involvement {
            restricted,
            ..Involvement::default()
        }
    }

    fn participant(restricted: bool) -> Involvement {
        Involvement {
            participant: true,
            holds_role: true,
            ..on(restricted)
        }
    }

    fn ic(restricted: bool) -> Involvement {
        Involvement {
            is_ic: true,
            ..participant(restricted)
        }
    }

    #[test]
    fn a_restricted_incident_is_hidden_from_everyone_outside_it_whatever_they_ask() {
        for person in [VIEWER, LEADER, RESPONDER] {
            for what in Capability::ALL {
                assert_eq!(
                    decide(person, on(true), what),
                    Err(Denied::Hidden),
                    "{person:?} {what:?}"
                );
            }
        }
        assert_eq!(decide(ADMIN, on(true), Capability::See), Ok(()));
    }

    #[test]
    fn owning_an_item_of_a_restricted_incident_does_not_reveal_it() {
        let owner = Involvement {
            owns_item: true,
            ..on(true)
        };
        assert_eq!(
            decide(RESPONDER, owner, Capability::WorkItem),
            Err(Denied::Hidden)
        );
    }

    #[test]
    fn observers_see_but_do_not_write_or_steward() {
        assert_eq!(decide(RESPONDER, on(false), Capability::See), Ok(()));
        assert_eq!(
            decide(RESPONDER, on(false), Capability::Write),
            Err(Denied::Refused(RoleRefusal::OnlyRespondersPost))
        );
        assert_eq!(
            decide(RESPONDER, on(false), Capability::WorkItem),
            Err(Denied::Refused(RoleRefusal::OnlyRespondersPost))
        );
        assert_eq!(
            decide(RESPONDER, on(false), Capability::Steward),
            Err(Denied::Refused(RoleRefusal::OnlyIcStewardsPostmortem))
        );
    }

    #[test]
    fn the_owner_of_an_item_moves_it_without_being_on_the_incident() {
        let owner = Involvement {
            owns_item: true,
            ..on(false)
        };
        assert_eq!(decide(RESPONDER, owner, Capability::WorkItem), Ok(()));
        assert_eq!(
            decide(VIEWER, owner, Capability::WorkItem),
            Err(Denied::Refused(RoleRefusal::ViewersChangeNothing))
        );
    }

    #[test]
    fn participants_write_and_the_ic_stewards_on_both_kinds_of_incident() {
        for restricted in [false, true] {
            assert_eq!(
                decide(RESPONDER, participant(restricted), Capability::Write),
                Ok(())
            );
            assert!(decide(RESPONDER, participant(restricted), Capability::Steward).is_err());
            assert_eq!(
                decide(RESPONDER, ic(restricted), Capability::Steward),
                Ok(())
            );
            assert_eq!(decide(ADMIN, on(restricted), Capability::Steward), Ok(()));
            assert_eq!(decide(ADMIN, on(restricted), Capability::Write), Ok(()));
        }
    }

    #[test]
    fn the_comms_lead_speaks_and_the_ic_only_while_nobody_holds_comms() {
        let comms = Involvement {
            is_comms_lead: true,
            comms_lead_filled: true,
            ..participant(false)
        };
        assert_eq!(decide(RESPONDER, comms, Capability::Speak), Ok(()));
        assert_eq!(decide(RESPONDER, ic(false), Capability::Speak), Ok(()));
        let ic_with_comms = Involvement {
            comms_lead_filled: true,
            ..ic(false)
        };
        assert_eq!(
            decide(RESPONDER, ic_with_comms, Capability::Speak),
            Err(Denied::Refused(RoleRefusal::OnlyCommsLeadSpeaks))
        );
        assert!(decide(ADMIN, on(false), Capability::Speak).is_err());
    }

    #[test]
    fn leading_needs_the_permission_and_clearing_blockers_also_admits_admins() {
        assert_eq!(decide(LEADER, on(false), Capability::Lead), Ok(()));
        assert_eq!(decide(LEADER, on(false), Capability::ClearBlockers), Ok(()));
        assert!(decide(ADMIN, on(false), Capability::Lead).is_err());
        assert_eq!(decide(ADMIN, on(false), Capability::ClearBlockers), Ok(()));
        assert!(decide(RESPONDER, participant(false), Capability::Lead).is_err());
    }

    #[test]
    fn viewers_never_write_steward_or_work_items_even_with_leadership() {
        for person in [VIEWER, LEADER] {
            for what in [Capability::Write, Capability::Steward, Capability::WorkItem] {
                assert!(
                    decide(person, on(false), what).is_err(),
                    "{person:?} {what:?}"
                );
            }
        }
    }
}
