//! Hypotheses and the restore-first checklist.

use super::*;

/// Ticks "hypotheses with owners" once there are some and every one has an owner.
async fn tick_if_hypotheses_owned(
    tx: &mut Tx,
    id: IncidentId,
    by: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let rows: Vec<(String, Option<i64>)> = tx
        .fetch_all(sql("SELECT status, owner_id FROM hypotheses WHERE incident_id = $1").bind(id.0))
        .await?;
    let pairs: Vec<(HypothesisStatus, bool)> = rows
        .iter()
        .filter_map(|(status, owner)| Some((HypothesisStatus::parse(status)?, owner.is_some())))
        .collect();
    if mitigation::hypotheses_have_owners(&pairs) {
        tick(tx, id.0, RhythmItem::HypothesesWithOwners, by, at).await?;
    }
    Ok(())
}

/// Adds a hypothesis (owner optional, but the rhythm wants one).
pub async fn add_hypothesis(
    db: &Db,
    id: IncidentId,
    statement: &str,
    owner: Option<UserId>,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    tx.execute(
        sql(
            "INSERT INTO hypotheses (incident_id, statement, owner_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(statement)
        .bind(owner.map(|o| o.0))
        .bind(actor.0)
        .bind(now),
    )
    .await?;
    let name = name_of(&mut tx, actor.0).await?;
    let owner = match owner {
        Some(owner) => Some(name_of(&mut tx, owner.0).await?),
        None => None,
    };
    event(
        &mut tx,
        id.0,
        actor.0,
        now,
        Happened::HypothesisAdded {
            by: name,
            statement: statement.to_string(),
            owner,
        },
    )
    .await?;
    tick_if_hypotheses_owned(&mut tx, id, actor.0, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a hypothesis's status, evidence and owner, refusing a stale edit.
#[allow(clippy::too_many_arguments)]
pub async fn update_hypothesis(
    db: &Db,
    id: IncidentId,
    hypothesis_id: i64,
    seen_version: i64,
    status: HypothesisStatus,
    evidence: &str,
    owner: Option<UserId>,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    let current: Option<(String, String)> = tx
        .fetch_optional(
            sql("SELECT statement, status FROM hypotheses WHERE id = $1 AND incident_id = $2")
                .bind(hypothesis_id)
                .bind(id.0),
        )
        .await?;
    let (statement, old_status) = current.ok_or(IncidentChangeError::NotFound)?;
    let changed = tx.execute(
        sql("UPDATE hypotheses SET status = $3, evidence = $4, owner_id = $5, version = version + 1 \
         WHERE id = $1 AND incident_id = $2 AND version = $6")
            .bind(hypothesis_id)
            .bind(id.0)
            .bind(status.as_str())
            .bind(evidence)
            .bind(owner.map(|o| o.0))
            .bind(seen_version),
    ).await?;
    if changed == 0 {
        return Err(IncidentChangeError::Stale);
    }
    let name = name_of(&mut tx, actor.0).await?;
    let body = if old_status != status.as_str() {
        Happened::HypothesisMarked {
            by: name,
            statement,
            status,
        }
    } else {
        Happened::HypothesisUpdated {
            by: name,
            statement,
        }
    };
    event(&mut tx, id.0, actor.0, now, body).await?;
    tick_if_hypotheses_owned(&mut tx, id, actor.0, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Records a restore-first step as tried (which logs a decision) or not applicable.
pub async fn record_restore_step(
    db: &Db,
    id: IncidentId,
    step: RestoreStep,
    outcome: &RestoreOutcome<'_>,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), IncidentChangeError> {
    let mut tx = db.begin().await?;
    incident_for_change(&mut tx, id, true).await?;
    require_responder(&mut tx, id, actor).await?;
    let name = name_of(&mut tx, actor.0).await?;
    let (state, safety, note, decision_id) = match outcome {
        RestoreOutcome::Tried { safety, detail } => {
            let decision = mitigation::tried_decision(step, *safety, detail);
            let decision_id: i64 = tx.scalar(
                sql("INSERT INTO decisions (incident_id, decided_at, decision, reason, owner_id, logged_by) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
                    .bind(id.0)
                    .bind(now)
                    .bind(&decision)
                    .bind("Restore first: reduce impact before the root cause is known")
                    .bind(actor.0),
            ).await?;
            event(
                &mut tx,
                id.0,
                actor.0,
                now,
                Happened::Decided {
                    decision: decision.clone(),
                    owner: name.clone(),
                },
            )
            .await?;
            (
                "tried",
                Some(safety.as_str()),
                detail.trim().to_owned(),
                Some(decision_id),
            )
        }
        RestoreOutcome::NotApplicable { reason } => {
            event(
                &mut tx,
                id.0,
                actor.0,
                now,
                Happened::RestoreSetAside {
                    by: name.clone(),
                    step,
                    reason: reason.trim().to_owned(),
                },
            )
            .await?;
            ("not_applicable", None, reason.trim().to_owned(), None)
        }
    };
    tx.execute(
        sql("INSERT INTO restore_steps (incident_id, step, state, safety, note, decision_id, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (incident_id, step) DO UPDATE SET state = EXCLUDED.state, safety = EXCLUDED.safety, \
         note = EXCLUDED.note, decision_id = EXCLUDED.decision_id, decided_by = EXCLUDED.decided_by, \
         decided_at = EXCLUDED.decided_at")
            .bind(id.0)
            .bind(step.as_str())
            .bind(state)
            .bind(safety)
            .bind(&note)
            .bind(decision_id)
            .bind(actor.0)
            .bind(now),
    ).await?;
    tx.commit().await?;
    Ok(())
}
