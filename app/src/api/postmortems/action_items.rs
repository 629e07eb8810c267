//! Action items until verified: adding, moving, reassigning, confirming, the tracker and the dashboard follow-up.

use super::*;

#[cfg(feature = "ssr")]
fn parse_owner(raw: &str) -> Result<Option<UserId>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        raw => raw
            .parse::<i64>()
            .map(|id| Some(UserId(id)))
            .map_err(|_| ApiError::invalid("owner", "Choose an owner from the list.")),
    }
}

/// An owner must be an active person: an unknown or disabled id is refused at `owner`.
#[cfg(feature = "ssr")]
async fn active_owner(state: &AppState, owner: Option<UserId>) -> Result<Option<UserId>, ApiError> {
    if let Some(id) = owner {
        match store::users::find(&state.db, id).await? {
            Some(user) if !user.disabled => {}
            _ => return Err(ApiError::invalid("owner", "Choose an owner from the list.")),
        }
    }
    Ok(owner)
}

#[cfg(feature = "ssr")]
fn owner_refused(e: store::incidents::IncidentChangeError) -> ApiError {
    match e {
        store::incidents::IncidentChangeError::Invalid(m) if m.contains("owner") => {
            ApiError::invalid("owner", m)
        }
        other => refused(other),
    }
}

#[server(endpoint = "add_action_item")]
pub async fn add_action_item(
    number: i64,
    title: String,
    kind: String,
    owner: String,
    due: String,
    verification: String,
    top: Option<String>,
) -> Result<(), ApiError> {
    respond(change_as(
        number,
        Capability::Write,
        move |state, user, id| async move {
            let draft = parse_item(&ItemInput {
                title: &title,
                kind: &kind,
                due: &due,
                verification: &verification,
            })?;
            let owner = active_owner(&state, parse_owner(&owner)?).await?;
            store::postmortems::add_item(
                &state.db,
                id,
                &draft,
                owner,
                top.is_some(),
                user.id,
                Utc::now(),
            )
            .await
            .map(|_| ())
            .map_err(owner_refused)
        },
    ))
    .await
}

/// Runs one change of action item `item` by a writer who may do `what` on its
/// incident, recorded in the change log as a change of that incident. An item of an incident hidden from
/// the caller answers exactly like a missing one.
#[cfg(feature = "ssr")]
async fn item_change<F, Fut>(item: i64, what: Capability, work: F) -> Result<(), ApiError>
where
    F: FnOnce(AppState, User) -> Fut,
    Fut: std::future::Future<Output = Result<i64, ApiError>>,
{
    let state = state()?;
    let user = require_writer(&state).await?;
    let access = crate::api::access::open_item(&state, &user, item).await?;
    access.require(what)?;
    let number = access.incident.number;
    recorded(&[Subject::Incident(number)], work(state, user)).await?;
    Ok(())
}

/// The review meeting's correction of an item's owner, due date or top mark.
#[server(endpoint = "reassign_action_item")]
pub async fn reassign_action_item(
    item: i64,
    version: i64,
    owner: String,
    due: String,
    top: Option<String>,
) -> Result<(), ApiError> {
    respond(item_change(
        item,
        Capability::Write,
        move |state, _user| async move {
            let owner = active_owner(&state, parse_owner(&owner)?).await?;
            let due = rules::parse_due(&due)?;
            store::postmortems::reassign_item(&state.db, item, version, owner, due, top.is_some())
                .await
                .map_err(owner_refused)
        },
    ))
    .await
}

#[server(endpoint = "move_action_item")]
pub async fn move_action_item(
    item: i64,
    version: i64,
    status: String,
    evidence: String,
) -> Result<(), ApiError> {
    respond(item_change(
        item,
        Capability::WorkItem,
        move |state, user| async move {
            let next = ActionStatus::parse(status.trim())
                .ok_or_else(|| ApiError::invalid("status", "Choose a status from the list."))?;
            let evidence = bounded_text(
                "evidence",
                &evidence,
                1000,
                (next == ActionStatus::Verified)
                    .then_some("Say what shows it works: a test, an alert that fired, a drill."),
            )?;
            store::postmortems::move_item(
                &state.db,
                item,
                version,
                next,
                &evidence,
                user.id,
                Utc::now(),
            )
            .await
            .map_err(refused)
        },
    ))
    .await
}

#[server(endpoint = "confirm_action_item")]
pub async fn confirm_action_item(item: i64, version: i64) -> Result<(), ApiError> {
    respond(item_change(
        item,
        Capability::Write,
        move |state, _user| async move {
            store::postmortems::confirm_item(&state.db, item, version, Utc::now())
                .await
                .map_err(refused)
        },
    ))
    .await
}

/// Which action items the tracker shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TrackerFilter {
    /// A user id, or "me".
    pub owner: String,
    /// A status, "outstanding", or "" for any.
    pub status: String,
    /// "overdue", "week" (due in the next 7 days), or "".
    pub due: String,
    /// An incident number, or "".
    pub incident: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerView {
    pub items: Vec<ItemView>,
    pub people: Vec<(i64, String)>,
    pub incidents: Vec<(i64, String)>,
    pub today: NaiveDate,
}

/// Every action item, without those of incidents `hidden` from the caller.
#[cfg(feature = "ssr")]
pub(crate) async fn tracker_items(
    state: &AppState,
    hidden: &store::leadership::Hidden,
    today: NaiveDate,
) -> Result<Vec<ItemView>, ApiError> {
    Ok(store::postmortems::all_items(&state.db)
        .await?
        .into_iter()
        .filter(|i| !hidden.hides_number(i.incident_number))
        .map(|i| item_view(i, today))
        .collect())
}

/// Incidents at recurrence risk, without those `hidden` from the caller.
#[cfg(feature = "ssr")]
pub(crate) async fn risks(
    state: &AppState,
    hidden: &store::leadership::Hidden,
) -> Result<Vec<RiskView>, ApiError> {
    Ok(store::postmortems::at_recurrence_risk(&state.db)
        .await?
        .into_iter()
        .filter(|r| !hidden.hides_number(r.number))
        .map(|r| RiskView {
            number: r.number,
            title: r.title,
            severity: r.severity,
            postmortem: r.postmortem,
            unverified_prevention: r.unverified_prevention,
        })
        .collect())
}

#[server(endpoint = "get_action_items", input = Json)]
pub async fn get_action_items(filter: TrackerFilter) -> Result<TrackerView, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let today = Utc::now().date_naive();
        let owner = match filter.owner.trim() {
            "" => None,
            "me" => Some(user.id.0),
            raw => Some(
                raw.parse::<i64>()
                    .map_err(|_| ApiError::invalid("owner", "Choose an owner from the list."))?,
            ),
        };
        let incident =
            match filter.incident.trim() {
                "" => None,
                raw => Some(raw.parse::<i64>().map_err(|_| {
                    ApiError::invalid("incident", "Choose an incident from the list.")
                })?),
            };
        let status = match filter.status.trim() {
            "" | "outstanding" => None,
            raw => Some(
                ActionStatus::parse(raw)
                    .ok_or_else(|| ApiError::invalid("status", "Choose a status from the list."))?,
            ),
        };
        let week = today + chrono::Duration::days(7);
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let all = tracker_items(&state, &hidden, today).await?;
        let mut incidents: Vec<(i64, String)> = all
            .iter()
            .map(|i| (i.incident_number, i.incident_title.clone()))
            .collect();
        incidents.sort();
        incidents.dedup();
        let items = all
            .into_iter()
            .filter(|i| owner.is_none_or(|o| i.owner_id == Some(o)))
            .filter(|i| incident.is_none_or(|n| i.incident_number == n))
            .filter(|i| match (filter.status.trim(), status) {
                ("outstanding", _) => i.status.is_outstanding(),
                (_, Some(s)) => i.status == s,
                _ => true,
            })
            .filter(|i| match filter.due.trim() {
                "overdue" => i.overdue,
                "week" => {
                    i.status.is_outstanding() && i.due.is_some_and(|d| d >= today && d <= week)
                }
                _ => true,
            })
            .collect();
        let people = store::users::list(&state.db)
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id.0, u.name))
            .collect();
        Ok(TrackerView {
            items,
            people,
            incidents,
            today,
        })
    })
    .await
}

/// A resolved incident whose prevention work is not all verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskView {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub postmortem: Option<PostmortemStatus>,
    pub unverified_prevention: usize,
}

/// The dashboard's share of follow-up: my outstanding items and incidents at risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub my_items: Vec<ItemView>,
    pub at_risk: Vec<RiskView>,
    /// Postmortems the caller owes as the incident's commander, soonest first.
    pub postmortems_owed: Vec<crate::api::leadership::DueView>,
}

#[server(endpoint = "get_follow_up")]
pub async fn get_follow_up() -> Result<FollowUp, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let today = Utc::now().date_naive();
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let my_items = store::postmortems::items_of(&state.db, user.id)
            .await?
            .into_iter()
            .filter(|i| !hidden.hides_number(i.incident_number))
            .filter(|i| i.status != ActionStatus::Verified)
            .map(|i| item_view(i, today))
            .collect();
        let at_risk = risks(&state, &hidden).await?;
        let postmortems_owed = store::leadership::postmortems_due(&state.db)
            .await?
            .into_iter()
            .filter(|p| p.ic.as_ref().is_some_and(|(id, _)| *id == user.id))
            .map(|p| crate::api::leadership::due_view(p, today))
            .collect();
        Ok(FollowUp {
            my_items,
            at_risk,
            postmortems_owed,
        })
    })
    .await
}
