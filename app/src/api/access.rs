//! The access rule at the boundary: [`open`] is the only way to get an
//! [`Access`], the proof that the caller may see one incident, and every
//! incident-scoped server function asks it for what it wants to do.

use super::session::AppState;
use super::ApiError;
use crate::domain::access::{decide, Capability, Denied, Involvement, Person};
use crate::domain::incidents::IncidentId;
use crate::store::{self, incidents::Incident, users::User};

/// Proof that `user` may see `incident`, with where they stand on it.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub incident: Incident,
    pub user: User,
    on: Involvement,
    last_change: Option<i64>,
}

impl Access {
    pub fn id(&self) -> IncidentId {
        self.incident.id
    }

    /// Refuses (403 with the rule's words) unless the caller may do `what`.
    pub fn require(&self, what: Capability) -> Result<(), ApiError> {
        decide(person(&self.user), self.on, what).map_err(denied)
    }

    /// The incident's last change-log sequence when it was opened: the
    /// version of every shared view of it.
    pub fn last_change(&self) -> Option<i64> {
        self.last_change
    }

    /// Whether the caller may do `what` (for the flags a page shows).
    pub fn allows(&self, what: Capability) -> bool {
        self.require(what).is_ok()
    }
}

pub(crate) fn person(user: &User) -> Person {
    Person {
        org_role: user.org_role,
        can_lead: user.can_lead,
    }
}

fn denied(d: Denied) -> ApiError {
    match d {
        Denied::Hidden => ApiError::NotFound,
        Denied::Refused(refusal) => ApiError::Forbidden(refusal.message().to_owned()),
    }
}

/// Opens incident `number` for `user`: not found when it is missing or hidden from them.
pub(crate) async fn open(state: &AppState, user: &User, number: i64) -> Result<Access, ApiError> {
    let opened = store::leadership::open(&state.db, number, user.id).await?;
    grant(user, opened, false)
}

/// Opens incident `number` for `user` to read it, as [`open`] does, from
/// memory while the incident has not changed since: a crowd refetching after
/// one change asks the database nothing. A change made on another replica
/// counts once this replica's follower has handed it out; writes use [`open`].
pub(crate) async fn open_to_read(
    state: &AppState,
    user: &User,
    number: i64,
) -> Result<Access, ApiError> {
    let opened = state
        .openings
        .open(&state.db, &state.events, number, user.id)
        .await?;
    grant(user, opened, false)
}

/// Opens the incident of action item `item` for `user`, who may own the item.
/// A missing item and an item of a hidden incident answer alike: not found.
pub(crate) async fn open_item(
    state: &AppState,
    user: &User,
    item: i64,
) -> Result<Access, ApiError> {
    let (_, number, owner) = store::leadership::item_incident(&state.db, item)
        .await?
        .ok_or(ApiError::NotFound)?;
    let opened = store::leadership::open(&state.db, number, user.id).await?;
    grant(user, opened, owner == Some(user.id))
}

/// The proof for `user` on what was opened (the incident, where they stand,
/// its last change: one query or none), when they may see it.
fn grant(
    user: &User,
    opened: Option<store::leadership::Opened>,
    owns_item: bool,
) -> Result<Access, ApiError> {
    let opened = opened.ok_or(ApiError::NotFound)?;
    let access = Access {
        incident: opened.incident,
        user: user.clone(),
        on: Involvement {
            owns_item,
            ..opened.on
        },
        last_change: opened.last_change,
    };
    access.require(Capability::See)?;
    Ok(access)
}

/// Whether `user` may see incident `number` (for the event stream, which is
/// not a server function). Errors answer no.
pub async fn may_see_incident(state: &AppState, user: &User, number: i64) -> bool {
    open_to_read(state, user, number).await.is_ok()
}
