//! Status, severity and the rhythm: cadence, ticks and check-ins.

use super::*;

/// Moves the status (and optionally the severity), refusing a stale edit.
pub async fn change_status(
    db: &Db,
    id: IncidentId,
    seen_version: i64,
    status: IncidentStatus,
    severity: Severity,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    let incident = incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    claim_version(&mut tx, id, seen_version).await?;
    if status != incident.status && !incident.status.can_move_to(status) {
        return Err(IncidentChangeError::Invalid(
            "That status change is not allowed.",
        ));
    }
    let resolved_at = (status == IncidentStatus::Resolved).then_some(now);
    let mitigated = matches!(
        status,
        IncidentStatus::Monitoring | IncidentStatus::Resolved
    );
    let mitigated_at = incident.mitigated_at.or(mitigated.then_some(now));
    let postmortem_due_on = match resolved_at {
        Some(at) => {
            let days = crate::store::leadership::deadline_days_in(&mut tx).await?;
            Some(crate::domain::leadership::postmortem_due(
                at, severity, &days,
            ))
        }
        None => None,
    };
    tx.execute(
        sql("UPDATE incidents SET status = $2, severity = $3, resolved_at = $4, mitigated_at = $5, \
         postmortem_due_on = $6 WHERE id = $1")
            .bind(id.0)
            .bind(status.as_str())
            .bind(severity.as_str())
            .bind(resolved_at)
            .bind(mitigated_at)
            .bind(postmortem_due_on),
    ).await?;
    let resolution_changed =
        (status == IncidentStatus::Resolved) != (incident.status == IncidentStatus::Resolved);
    if resolution_changed {
        // The components it affected stop (or start again) counting against uptime.
        crate::store::status::log_component_statuses(&mut tx, now).await?;
    }
    let name = name_of(&mut tx, actor.0).await?;
    if status != incident.status {
        event(
            &mut tx,
            id.0,
            actor.0,
            now,
            Happened::StatusChanged {
                by: name.clone(),
                from: incident.status,
                to: status,
            },
        )
        .await?;
    }
    if severity != incident.severity {
        event(
            &mut tx,
            id.0,
            actor.0,
            now,
            Happened::SeverityChanged {
                by: name.clone(),
                from: incident.severity,
                to: severity,
            },
        )
        .await?;
    }
    if let Some(due) = postmortem_due_on {
        event(
            &mut tx,
            id.0,
            actor.0,
            now,
            Happened::PostmortemDue { on: due },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets both cadences (minutes), refusing a stale edit; ticks "cadence set".
pub async fn set_cadence(
    db: &Db,
    id: IncidentId,
    seen_version: i64,
    decision_minutes: i64,
    update_minutes: i64,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    claim_version(&mut tx, id, seen_version).await?;
    tx.execute(
        sql(
            "UPDATE incidents SET decision_cadence_minutes = $2, update_cadence_minutes = $3 \
         WHERE id = $1",
        )
        .bind(id.0)
        .bind(decision_minutes)
        .bind(update_minutes),
    )
    .await?;
    tick(&mut tx, id.0, RhythmItem::CadenceSet, actor.0, now).await?;
    let name = name_of(&mut tx, actor.0).await?;
    event(
        &mut tx,
        id.0,
        actor.0,
        now,
        Happened::CadenceSet {
            by: name,
            check_in_minutes: decision_minutes,
            update_minutes,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ticks a hand-ticked rhythm item.
pub async fn tick_item(
    db: &Db,
    id: IncidentId,
    item: RhythmItem,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    let done: i64 = tx
        .scalar(
            sql("SELECT COUNT(*) FROM rhythm_ticks WHERE incident_id = $1 AND item = $2")
                .bind(id.0)
                .bind(item.as_str()),
        )
        .await?;
    if done == 0 {
        tick(&mut tx, id.0, item, actor.0, now).await?;
        let name = name_of(&mut tx, actor.0).await?;
        event(
            &mut tx,
            id.0,
            actor.0,
            now,
            Happened::Ticked { by: name, item },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records a check-in (what changed, what we learned, what next), restarting its countdown.
pub async fn check_in(
    db: &Db,
    id: IncidentId,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    tx.execute(
        sql("UPDATE incidents SET last_check_in_at = $2 WHERE id = $1")
            .bind(id.0)
            .bind(now),
    )
    .await?;
    let name = name_of(&mut tx, actor.0).await?;
    event(
        &mut tx,
        id.0,
        actor.0,
        now,
        Happened::CheckedIn { by: name },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
