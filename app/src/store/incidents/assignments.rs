//! Role assignments: taking, handing over and releasing roles.

use super::*;

/// Puts `target` into `role` (a hand-off when someone holds it), if the rules allow.
pub async fn assign_role(
    db: &Db,
    id: IncidentId,
    role: IncidentRole,
    target: UserId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    write_tx!(db, tx => {
        let incident = incident_for_change!(tx, id, true);
        let holder: Option<i64> = holder_in!(tx, id, role);
        if holder == Some(target.0) {
            return Ok(());
        }
        if !is_active_user!(tx, target) {
            return Err(IncidentChangeError::Invalid("That person cannot take a role."));
        }
        roles::may_assign(actor, holder.map(UserId), target).map_err(IncidentChangeError::Refused)?;
        if holder.is_some() {
            sqlx::query(
                "UPDATE role_assignments SET released_at = $3, released_by = $4 \
                 WHERE incident_id = $1 AND role = $2 AND released_at IS NULL",
            )
            .bind(id.0)
            .bind(role.as_str())
            .bind(now)
            .bind(actor.user.0)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO role_assignments (incident_id, role, user_id, previous_user_id, assigned_by, assigned_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.0)
        .bind(role.as_str())
        .bind(target.0)
        .bind(holder)
        .bind(actor.user.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let target_name = name_of!(tx, target.0);
        let actor_name = name_of!(tx, actor.user.0);
        let body = match holder {
            Some(previous) => {
                let previous_name = name_of!(tx, previous);
                Happened::RoleHandedOver { by: actor_name, role, from: previous_name, to: target_name }
            }
            None if target == actor.user => Happened::RoleTaken { who: target_name, role },
            None => Happened::RoleAssigned { by: actor_name, role, to: target_name },
        };
        event!(tx, id.0, actor.user.0, now, body);
        tick_if_core_filled!(tx, id, actor.user.0, now);
        bump!(tx, incident.id);
    });
    Ok(())
}

/// Empties a role, if the rules allow.
pub async fn release_role(
    db: &Db,
    id: IncidentId,
    role: IncidentRole,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    write_tx!(db, tx => {
        let incident = incident_for_change!(tx, id, true);
        let holder: Option<i64> = holder_in!(tx, id, role);
        let Some(holder) = holder else {
            return Ok(());
        };
        roles::may_release(actor, role, UserId(holder)).map_err(IncidentChangeError::Refused)?;
        sqlx::query(
            "UPDATE role_assignments SET released_at = $3, released_by = $4 \
             WHERE incident_id = $1 AND role = $2 AND released_at IS NULL",
        )
        .bind(id.0)
        .bind(role.as_str())
        .bind(now)
        .bind(actor.user.0)
        .execute(&mut *tx)
        .await?;
        let holder_name = name_of!(tx, holder);
        let actor_name = name_of!(tx, actor.user.0);
        let body = if holder == actor.user.0 {
            Happened::SteppedDown { who: holder_name, role }
        } else {
            Happened::RoleReleased { by: actor_name, who: holder_name, role }
        };
        event!(tx, id.0, actor.user.0, now, body);
        bump!(tx, incident.id);
    });
    Ok(())
}
