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
    let mut tx = db.begin().await?;
    let incident = incident_for_change(&mut tx, id, true).await?;
    let holder: Option<i64> = holder_in(&mut tx, id, role).await?;
    if holder == Some(target.0) {
        return Ok(());
    }
    if !is_active_user(&mut tx, target).await? {
        return Err(IncidentChangeError::Invalid(
            "That person cannot take a role.",
        ));
    }
    roles::may_assign(actor, holder.map(UserId), target).map_err(IncidentChangeError::Refused)?;
    if holder.is_some() {
        tx.execute(
            sql(
                "UPDATE role_assignments SET released_at = $3, released_by = $4 \
             WHERE incident_id = $1 AND role = $2 AND released_at IS NULL",
            )
            .bind(id.0)
            .bind(role.as_str())
            .bind(now)
            .bind(actor.user.0),
        )
        .await?;
    }
    tx.execute(
        sql("INSERT INTO role_assignments (incident_id, role, user_id, previous_user_id, assigned_by, assigned_at) \
         VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id.0)
            .bind(role.as_str())
            .bind(target.0)
            .bind(holder)
            .bind(actor.user.0)
            .bind(now),
    ).await?;
    let target_name = name_of(&mut tx, target.0).await?;
    let actor_name = name_of(&mut tx, actor.user.0).await?;
    let body = match holder {
        Some(previous) => {
            let previous_name = name_of(&mut tx, previous).await?;
            Happened::RoleHandedOver {
                by: actor_name,
                role,
                from: previous_name,
                to: target_name,
            }
        }
        None if target == actor.user => Happened::RoleTaken {
            who: target_name,
            role,
        },
        None => Happened::RoleAssigned {
            by: actor_name,
            role,
            to: target_name,
        },
    };
    event(&mut tx, id.0, actor.user.0, now, body).await?;
    tick_if_core_filled(&mut tx, id, actor.user.0, now).await?;
    bump(&mut tx, incident.id).await?;
    tx.commit().await?;
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
    let mut tx = db.begin().await?;
    let incident = incident_for_change(&mut tx, id, true).await?;
    let holder: Option<i64> = holder_in(&mut tx, id, role).await?;
    let Some(holder) = holder else {
        return Ok(());
    };
    roles::may_release(actor, role, UserId(holder)).map_err(IncidentChangeError::Refused)?;
    tx.execute(
        sql(
            "UPDATE role_assignments SET released_at = $3, released_by = $4 \
         WHERE incident_id = $1 AND role = $2 AND released_at IS NULL",
        )
        .bind(id.0)
        .bind(role.as_str())
        .bind(now)
        .bind(actor.user.0),
    )
    .await?;
    let holder_name = name_of(&mut tx, holder).await?;
    let actor_name = name_of(&mut tx, actor.user.0).await?;
    let body = if holder == actor.user.0 {
        Happened::SteppedDown {
            who: holder_name,
            role,
        }
    } else {
        Happened::RoleReleased {
            by: actor_name,
            who: holder_name,
            role,
        }
    };
    event(&mut tx, id.0, actor.user.0, now, body).await?;
    bump(&mut tx, incident.id).await?;
    tx.commit().await?;
    Ok(())
}
