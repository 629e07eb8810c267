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
    write_tx!(db, tx => {
        let incident = incident_for_change!(tx, id, true);
        require_responder!(tx, id, actor);
        claim_version!(tx, id, seen_version);
        if status != incident.status && !incident.status.can_move_to(status) {
            return Err(IncidentChangeError::Invalid("That status change is not allowed."));
        }
        let resolved_at = (status == IncidentStatus::Resolved).then_some(now);
        let mitigated = matches!(status, IncidentStatus::Monitoring | IncidentStatus::Resolved);
        let mitigated_at = incident.mitigated_at.or(mitigated.then_some(now));
        let postmortem_due_on = match resolved_at {
            Some(at) => {
                let days = crate::store::leadership::deadline_days_in!(tx);
                Some(crate::domain::leadership::postmortem_due(at, severity, &days))
            }
            None => None,
        };
        sqlx::query(
            "UPDATE incidents SET status = $2, severity = $3, resolved_at = $4, mitigated_at = $5, \
             postmortem_due_on = $6 WHERE id = $1",
        )
        .bind(id.0)
        .bind(status.as_str())
        .bind(severity.as_str())
        .bind(resolved_at)
        .bind(mitigated_at)
        .bind(postmortem_due_on)
        .execute(&mut *tx)
        .await?;
        let name = name_of!(tx, actor.0);
        if status != incident.status {
            event!(tx, id.0, actor.0, now, Happened::StatusChanged { by: name.clone(), from: incident.status, to: status });
        }
        if severity != incident.severity {
            event!(tx, id.0, actor.0, now, Happened::SeverityChanged { by: name.clone(), from: incident.severity, to: severity });
        }
        if let Some(due) = postmortem_due_on {
            event!(tx, id.0, actor.0, now, Happened::PostmortemDue { on: due });
        }
    });
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
    write_tx!(db, tx => {
        incident_for_change!(tx, id, true);
        require_responder!(tx, id, actor);
        claim_version!(tx, id, seen_version);
        sqlx::query(
            "UPDATE incidents SET decision_cadence_minutes = $2, update_cadence_minutes = $3 \
             WHERE id = $1",
        )
        .bind(id.0)
        .bind(decision_minutes)
        .bind(update_minutes)
        .execute(&mut *tx)
        .await?;
        tick!(tx, id.0, RhythmItem::CadenceSet, actor.0, now);
        let name = name_of!(tx, actor.0);
        event!(tx, id.0, actor.0, now, Happened::CadenceSet {
            by: name,
            check_in_minutes: decision_minutes,
            update_minutes,
        });
    });
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
    write_tx!(db, tx => {
        incident_for_change!(tx, id, true);
        require_responder!(tx, id, actor);
        let done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM rhythm_ticks WHERE incident_id = $1 AND item = $2",
        )
        .bind(id.0)
        .bind(item.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if done == 0 {
            tick!(tx, id.0, item, actor.0, now);
            let name = name_of!(tx, actor.0);
            event!(tx, id.0, actor.0, now, Happened::Ticked { by: name, item });
        }
    });
    Ok(())
}

/// Records a check-in (what changed, what we learned, what next), restarting its countdown.
pub async fn check_in(
    db: &Db,
    id: IncidentId,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    write_tx!(db, tx => {
        incident_for_change!(tx, id, true);
        require_responder!(tx, id, actor);
        sqlx::query("UPDATE incidents SET last_check_in_at = $2 WHERE id = $1")
            .bind(id.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let name = name_of!(tx, actor.0);
        event!(tx, id.0, actor.0, now, Happened::CheckedIn { by: name });
    });
    Ok(())
}
