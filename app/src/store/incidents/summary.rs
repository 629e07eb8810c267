//! The incident summary and milestone corrections.

use super::*;

/// Posts or updates the incident's summary (impact, best guess, bridge link),
/// refusing a stale edit. With impact and best guess both given, the initial
/// status counts as posted.
#[allow(clippy::too_many_arguments)]
pub async fn update_summary(
    db: &Db,
    id: IncidentId,
    seen_version: i64,
    impact: &str,
    best_guess: &str,
    bridge_url: &str,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let incident = incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    claim_version(&mut tx, id, seen_version).await?;
    tx.execute(
        sql("UPDATE incidents SET impact = $2, best_guess = $3, bridge_url = $4 WHERE id = $1")
            .bind(id.0)
            .bind(impact)
            .bind(best_guess)
            .bind(bridge_url),
    )
    .await?;
    let name = name_of(&mut tx, actor.0).await?;
    let impact_now = (impact != incident.impact).then(|| impact.to_string());
    let guess_now = (best_guess != incident.best_guess).then(|| best_guess.to_string());
    let bridge = bridge_url != incident.bridge_url;
    if impact_now.is_some() || guess_now.is_some() || bridge {
        let changed = Happened::SummaryUpdated {
            by: name,
            impact: impact_now,
            best_guess: guess_now,
            bridge,
        };
        event(&mut tx, id.0, actor.0, now, changed).await?;
    }
    if !impact.is_empty() && !best_guess.is_empty() {
        tick(&mut tx, id.0, RhythmItem::InitialStatusPosted, actor.0, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The system's own stamp for a milestone.
pub fn stamped(room: &WarRoom, milestone: Milestone) -> Option<DateTime<Utc>> {
    let tick = |item: RhythmItem| {
        room.ticks
            .iter()
            .find(|(i, _)| *i == item)
            .map(|(_, at)| *at)
    };
    match milestone {
        Milestone::Declared => Some(room.incident.declared_at),
        Milestone::CoreRolesAssigned => tick(RhythmItem::CoreRolesAssigned),
        Milestone::FirstUpdate => tick(RhythmItem::FirstStakeholderUpdate),
        Milestone::Mitigated => room.incident.mitigated_at,
        Milestone::Resolved => room.incident.resolved_at,
    }
}

/// Records the IC's correction of a milestone; the earlier value is kept with it.
pub async fn correct_milestone(
    db: &Db,
    number: i64,
    milestone: Milestone,
    new_at: DateTime<Utc>,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let room = war_room(db, number)
        .await?
        .ok_or(IncidentChangeError::NotFound)?;
    let old_at = room
        .corrections
        .iter()
        .rev()
        .find(|c| c.milestone == milestone)
        .map(|c| c.new_at)
        .or_else(|| stamped(&room, milestone));
    let id = room.incident.id;
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, false).await?;
    tx.execute(
        sql("INSERT INTO milestone_corrections (incident_id, milestone, old_at, new_at, corrected_by, corrected_at) \
         VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id.0)
            .bind(milestone.as_str())
            .bind(old_at)
            .bind(new_at)
            .bind(actor.0)
            .bind(now),
    ).await?;
    let name = name_of(&mut tx, actor.0).await?;
    event(
        &mut tx,
        id.0,
        actor.0,
        now,
        Happened::MilestoneCorrected {
            by: name,
            milestone,
            was: old_at,
            now: new_at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
