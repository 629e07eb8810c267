//! The decision log and responder notes.

use super::*;

/// Logs a decision with its owner; it also appears on the timeline.
pub async fn log_decision(
    db: &Db,
    id: IncidentId,
    decision: &str,
    reason: &str,
    owner: UserId,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<i64, IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, false).await?;
    require_responder(&mut tx, id, actor).await?;
    if !is_active_user(&mut tx, owner).await? {
        return Err(IncidentChangeError::Invalid(
            "Choose an owner who can sign in.",
        ));
    }
    let decision_id: i64 = tx.scalar(
        sql("INSERT INTO decisions (incident_id, decided_at, decision, reason, owner_id, logged_by) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(id.0)
            .bind(now)
            .bind(decision)
            .bind(reason)
            .bind(owner.0)
            .bind(actor.0),
    ).await?;
    let owner_name = name_of(&mut tx, owner.0).await?;
    event(
        &mut tx,
        id.0,
        actor.0,
        now,
        Happened::Decided {
            decision: decision.to_string(),
            owner: owner_name,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(decision_id)
}

/// Adds the result of a decision, refusing a stale edit.
pub async fn record_result(
    db: &Db,
    id: IncidentId,
    decision_id: i64,
    seen_version: i64,
    result: &str,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, false).await?;
    require_responder(&mut tx, id, actor).await?;
    let changed = tx
        .execute(
            sql(
                "UPDATE decisions SET result = $3, result_at = $4, version = version + 1 \
         WHERE id = $1 AND incident_id = $2 AND version = $5",
            )
            .bind(decision_id)
            .bind(id.0)
            .bind(result)
            .bind(now)
            .bind(seen_version),
        )
        .await?;
    if changed == 0 {
        let exists: i64 = tx
            .scalar(
                sql("SELECT COUNT(*) FROM decisions WHERE id = $1 AND incident_id = $2")
                    .bind(decision_id)
                    .bind(id.0),
            )
            .await?;
        return Err(if exists == 0 {
            IncidentChangeError::NotFound
        } else {
            IncidentChangeError::Stale
        });
    }
    let name = name_of(&mut tx, actor.0).await?;
    event(
        &mut tx,
        id.0,
        actor.0,
        now,
        Happened::DecisionResult {
            by: name,
            result: result.to_string(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A note on the responder timeline; marked when its author is the Scribe.
pub async fn add_note(
    db: &Db,
    id: IncidentId,
    body: &str,
    author: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, false).await?;
    require_responder(&mut tx, id, author).await?;
    let scribe: i64 = tx
        .scalar(
            sql(
                "SELECT COUNT(*) FROM role_assignments WHERE incident_id = $1 AND role = 'scribe' \
         AND user_id = $2 AND released_at IS NULL",
            )
            .bind(id.0)
            .bind(author.0),
        )
        .await?;
    tx.execute(
        sql(
            "INSERT INTO timeline_entries (incident_id, at, author_id, kind, body, by_scribe) \
         VALUES ($1, $2, $3, 'note', $4, $5)",
        )
        .bind(id.0)
        .bind(now)
        .bind(author.0)
        .bind(body)
        .bind(scribe > 0),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
