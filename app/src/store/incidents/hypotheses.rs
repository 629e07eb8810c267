//! Hypotheses and the restore-first checklist.

use super::*;

/// Ticks "hypotheses with owners" once there are some and every one has an owner.
macro_rules! tick_if_hypotheses_owned {
    ($tx:ident, $id:expr, $by:expr, $at:expr) => {{
        let rows: Vec<(String, Option<i64>)> =
            sqlx::query_as("SELECT status, owner_id FROM hypotheses WHERE incident_id = $1")
                .bind($id.0)
                .fetch_all(&mut *$tx)
                .await?;
        let pairs: Vec<(HypothesisStatus, bool)> = rows
            .iter()
            .filter_map(|(status, owner)| Some((HypothesisStatus::parse(status)?, owner.is_some())))
            .collect();
        if mitigation::hypotheses_have_owners(&pairs) {
            tick!($tx, $id.0, RhythmItem::HypothesesWithOwners, $by, $at);
        }
    }};
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
    write_tx!(db, tx => {
        incident_for_change!(tx, id, true);
        require_responder!(tx, id, actor);
        sqlx::query(
            "INSERT INTO hypotheses (incident_id, statement, owner_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(statement)
        .bind(owner.map(|o| o.0))
        .bind(actor.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let name = name_of!(tx, actor.0);
        let owner = match owner {
            Some(owner) => Some(name_of!(tx, owner.0)),
            None => None,
        };
        event!(tx, id.0, actor.0, now, Happened::HypothesisAdded { by: name, statement: statement.to_string(), owner });
        tick_if_hypotheses_owned!(tx, id, actor.0, now);
    });
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
    write_tx!(db, tx => {
        incident_for_change!(tx, id, true);
        require_responder!(tx, id, actor);
        let current: Option<(String, String)> = sqlx::query_as(
            "SELECT statement, status FROM hypotheses WHERE id = $1 AND incident_id = $2",
        )
        .bind(hypothesis_id)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let (statement, old_status) = current.ok_or(IncidentChangeError::NotFound)?;
        let changed = sqlx::query(
            "UPDATE hypotheses SET status = $3, evidence = $4, owner_id = $5, version = version + 1 \
             WHERE id = $1 AND incident_id = $2 AND version = $6",
        )
        .bind(hypothesis_id)
        .bind(id.0)
        .bind(status.as_str())
        .bind(evidence)
        .bind(owner.map(|o| o.0))
        .bind(seen_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(IncidentChangeError::Stale);
        }
        let name = name_of!(tx, actor.0);
        let body = if old_status != status.as_str() {
            Happened::HypothesisMarked { by: name, statement, status }
        } else {
            Happened::HypothesisUpdated { by: name, statement }
        };
        event!(tx, id.0, actor.0, now, body);
        tick_if_hypotheses_owned!(tx, id, actor.0, now);
    });
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
    write_tx!(db, tx => {
        incident_for_change!(tx, id, true);
        require_responder!(tx, id, actor);
        let name = name_of!(tx, actor.0);
        let (state, safety, note, decision_id) = match outcome {
            RestoreOutcome::Tried { safety, detail } => {
                let decision = mitigation::tried_decision(step, *safety, detail);
                let decision_id: i64 = sqlx::query_scalar(
                    "INSERT INTO decisions (incident_id, decided_at, decision, reason, owner_id, logged_by) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(id.0)
                .bind(now)
                .bind(&decision)
                .bind("Restore first: reduce impact before the root cause is known")
                .bind(actor.0)
                .fetch_one(&mut *tx)
                .await?;
                event!(tx, id.0, actor.0, now, Happened::Decided { decision: decision.clone(), owner: name.clone() });
                ("tried", Some(safety.as_str()), detail.trim().to_owned(), Some(decision_id))
            }
            RestoreOutcome::NotApplicable { reason } => {
                event!(tx, id.0, actor.0, now, Happened::RestoreSetAside { by: name.clone(), step, reason: reason.trim().to_owned() });
                ("not_applicable", None, reason.trim().to_owned(), None)
            }
        };
        sqlx::query(
            "INSERT INTO restore_steps (incident_id, step, state, safety, note, decision_id, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (incident_id, step) DO UPDATE SET state = EXCLUDED.state, safety = EXCLUDED.safety, \
             note = EXCLUDED.note, decision_id = EXCLUDED.decision_id, decided_by = EXCLUDED.decided_by, \
             decided_at = EXCLUDED.decided_at",
        )
        .bind(id.0)
        .bind(step.as_str())
        .bind(state)
        .bind(safety)
        .bind(&note)
        .bind(decision_id)
        .bind(actor.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}
