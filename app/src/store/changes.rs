//! The change log: every committed change that live pages, caches and other
//! replicas must hear about, in commit order.
//!
//! A transaction says what it changes with [`Tx::records`] (the store's
//! helpers do: opening an incident for a change records it), and a use case
//! may name more with [`recording`]; [`Tx::commit`] appends them all to
//! `change_log` just before it commits, so nothing commits unannounced and
//! nothing is announced that did not commit. On PostgreSQL the same transaction sends
//! one `NOTIFY calmroom_changes` carrying the last sequence: other replicas wake
//! up and read the log from where they were.

use super::tx::{sql, Tx};
use super::{read, Db, StoreError};
use crate::live::Change;
use chrono::{DateTime, Utc};
use std::cell::RefCell;
use std::future::Future;

/// The PostgreSQL channel that wakes other replicas (payload: the last sequence).
pub const CHANNEL: &str = "calmroom_changes";

/// What a use case changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Incident number `n` (the log records whether it is restricted and
    /// whether the public page shows it, as of the commit).
    Incident(i64),
    /// The public status page (components, maintenance windows).
    Status,
    /// The account of user `id`: a session of theirs ended, or their password,
    /// role, standing or access changed. Caches drop what they kept of them.
    Account(i64),
    /// The alert inbox.
    Alerts,
}

/// One entry of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    pub seq: i64,
    pub change: Change,
}

#[derive(Default)]
struct Scope {
    subjects: Vec<Subject>,
    /// The last sequence a transaction of the use case committed.
    committed: Option<i64>,
}

tokio::task_local! {
    static SCOPE: RefCell<Scope>;
}

/// Runs `work`, recording `subjects` with every transaction it commits (plus
/// what each transaction [`records`](Tx::records)). Answers `work`'s output and the last
/// sequence it recorded, if any, so the caller can wake the log's follower at
/// once and wait until it has handed that change out.
pub async fn recording<F: Future>(subjects: &[Subject], work: F) -> (F::Output, Option<i64>) {
    let mut all = SCOPE
        .try_with(|s| s.borrow().subjects.clone())
        .unwrap_or_default();
    all.extend_from_slice(subjects);
    let scope = RefCell::new(Scope {
        subjects: all,
        committed: None,
    });
    let (out, committed) = SCOPE
        .scope(scope, async move {
            let out = work.await;
            (out, SCOPE.with(|s| s.borrow().committed))
        })
        .await;
    if let Some(last) = committed {
        // An enclosing use case committed too.
        committed_at(last);
    }
    (out, committed)
}

/// The subjects the current transaction must record.
fn pending() -> Vec<Subject> {
    let mut subjects = SCOPE
        .try_with(|s| s.borrow().subjects.clone())
        .unwrap_or_default();
    subjects.dedup();
    subjects
}

/// Marks that a transaction of the current use case committed, its last
/// entry being `last` (for [`Tx::commit`]).
pub(crate) fn committed_at(last: i64) {
    let _ = SCOPE.try_with(|s| {
        let mut scope = s.borrow_mut();
        scope.committed = scope.committed.max(Some(last));
    });
}

/// Whether an incident is restricted and whether the public page shows it.
const PUBLICITY: &str = "SELECT i.restricted, \
     (EXISTS (SELECT 1 FROM stakeholder_updates s WHERE s.incident_id = i.id AND s.audience = 'customer') \
      OR EXISTS (SELECT 1 FROM incident_components c WHERE c.incident_id = i.id)) \
     FROM incidents i WHERE i.number = $1";

/// Takes the next `$1` sequence numbers: the row lock is held until commit, so
/// entries become visible in sequence order and a rollback leaves no gap.
const RESERVE: &str = "UPDATE app_locks SET n = n + $1 WHERE name = 'changes' RETURNING n";

const APPEND: &str = "INSERT INTO change_log (seq, at, kind, incident_number, account_id) \
     VALUES ($1, $2, $3, $4, $5)";

/// Appends the current use case's subjects to the log inside `tx`, as its
/// last statements ([`Tx::commit`] calls this); answers the last sequence
/// written, if any.
pub(crate) async fn log(tx: &mut Tx) -> Result<Option<i64>, sqlx::Error> {
    // (kind, incident number, account id)
    let mut rows: Vec<(&'static str, Option<i64>, Option<i64>)> = Vec::new();
    let status = ("status", None, None);
    let mut subjects = pending();
    for subject in tx.subjects() {
        if !subjects.contains(subject) {
            subjects.push(*subject);
        }
    }
    for subject in subjects {
        match subject {
            Subject::Incident(number) => {
                let found: Option<(bool, bool)> =
                    tx.fetch_optional(sql(PUBLICITY).bind(number)).await?;
                // Not found: tell only those who may see it.
                let (restricted, public) = found.unwrap_or((true, false));
                rows.push((
                    if restricted { "restricted" } else { "incident" },
                    Some(number),
                    None,
                ));
                if public && !rows.contains(&status) {
                    rows.push(status);
                }
            }
            Subject::Status => {
                if !rows.contains(&status) {
                    rows.push(status);
                }
            }
            Subject::Account(id) => rows.push(("account", None, Some(id))),
            Subject::Alerts => {
                if !rows.contains(&("alerts", None, None)) {
                    rows.push(("alerts", None, None));
                }
            }
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let count = rows.len() as i64;
    let last: i64 = tx.scalar(sql(RESERVE).bind(count)).await?;
    let at = Utc::now();
    for (offset, (kind, number, account)) in rows.into_iter().enumerate() {
        tx.execute(
            sql(APPEND)
                .bind(last - count + 1 + offset as i64)
                .bind(at)
                .bind(kind)
                .bind(number)
                .bind(account),
        )
        .await?;
    }
    Ok(Some(last))
}

type Row = (i64, String, Option<i64>, Option<i64>);

fn decode((seq, kind, number, account): Row) -> Result<Logged, StoreError> {
    let change = match (kind.as_str(), number, account) {
        ("incident", Some(n), _) => Change::Incident(n),
        ("restricted", Some(n), _) => Change::Restricted(n),
        ("status", _, _) => Change::Status,
        ("account", _, Some(id)) => Change::Account(id),
        ("alerts", _, _) => Change::Alerts,
        _ => return Err(StoreError::Corrupt(format!("change_log {seq}: {kind}"))),
    };
    Ok(Logged { seq, change })
}

/// The last sequence committed so far (0 before any change).
pub async fn head(db: &Db) -> Result<i64, StoreError> {
    let n: Option<i64> = read!(db, pool => {
        sqlx::query_scalar("SELECT n FROM app_locks WHERE name = 'changes'")
            .fetch_optional(pool)
            .await?
    });
    Ok(n.unwrap_or(0))
}

/// The sequence of the last logged change of incident `number` (`None` when
/// the log holds none). Requests read it with their access check
/// (`store::leadership::open`); tests ask it alone.
#[cfg(test)]
pub(crate) async fn last_of_incident(db: &Db, number: i64) -> Result<Option<i64>, StoreError> {
    Ok(read!(db, pool => {
        sqlx::query_scalar("SELECT MAX(seq) FROM change_log WHERE incident_number = $1")
            .bind(number)
            .fetch_one(pool)
            .await?
    }))
}

/// Up to `limit` entries after sequence `seq`, oldest first.
pub async fn after(db: &Db, seq: i64, limit: i64) -> Result<Vec<Logged>, StoreError> {
    let rows: Vec<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT seq, kind, incident_number, account_id FROM change_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(decode).collect()
}

/// What a reader who has seen everything up to `seq` missed: `Some` entries
/// (at most `limit`), or `None` when that is no longer known (the gap is older
/// than the retained log, longer than `limit`, or `seq` is from another log)
/// and the reader must refetch everything.
pub async fn missed_since(
    db: &Db,
    seq: i64,
    limit: i64,
) -> Result<Option<Vec<Logged>>, StoreError> {
    let head = head(db).await?;
    if seq > head || seq < 0 {
        return Ok(None);
    }
    if seq == head {
        return Ok(Some(Vec::new()));
    }
    let missed = after(db, seq, limit + 1).await?;
    // The log must still hold the entry right after `seq`.
    if missed.len() as i64 > limit || missed.first().map(|l| l.seq) != Some(seq + 1) {
        return Ok(None);
    }
    Ok(Some(missed))
}

/// Forgets entries older than `before`, always keeping the newest one.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let removed = tx
        .execute(
            sql("DELETE FROM change_log WHERE at < $1 AND seq < (SELECT MAX(seq) FROM change_log)")
                .bind(before),
        )
        .await?;
    tx.commit().await?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    /// One change in its own transaction, recorded as `subjects`.
    async fn touch(db: &Db, subjects: &[Subject]) -> Result<(), StoreError> {
        let (out, _) = recording(subjects, async {
            let mut tx = db.begin().await?;
            tx.execute(sql("UPDATE app_locks SET n = n WHERE name = 'admins'"))
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
        .await;
        out
    }

    #[tokio::test]
    async fn the_log_is_gap_free_and_in_order_under_concurrent_writers() -> Result<(), StoreError> {
        for db in testing::fresh_databases().await {
            let start = head(&db).await?;
            let writers = (0..40).map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    // Every third writer rolls back after recording: it must leave no gap.
                    let (out, _) = recording(&[Subject::Status], async {
                        let mut tx = db.begin().await?;
                        tx.execute(sql("UPDATE app_locks SET n = n WHERE name = 'admins'"))
                            .await?;
                        if i % 3 == 0 {
                            return Err(StoreError::Corrupt("rolled back".into()));
                        }
                        tx.commit().await?;
                        Ok::<_, StoreError>(())
                    })
                    .await;
                    out.is_ok()
                })
            });
            let mut committed = 0;
            for writer in writers {
                if writer.await.expect("writer") {
                    committed += 1;
                }
            }
            let logged = after(&db, start, 1000).await?;
            let seqs: Vec<i64> = logged.iter().map(|l| l.seq).collect();
            let expected: Vec<i64> = (start + 1..=start + committed).collect();
            assert_eq!(seqs, expected, "{}", db.backend());
            assert_eq!(head(&db).await?, start + committed, "{}", db.backend());
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_reader_gets_exactly_what_it_missed_or_is_told_to_refetch() -> Result<(), StoreError>
    {
        for db in testing::fresh_databases().await {
            touch(&db, &[Subject::Status]).await?;
            let seen = head(&db).await?;
            touch(&db, &[Subject::Incident(404)]).await?;
            touch(&db, &[Subject::Status]).await?;
            let missed = missed_since(&db, seen, 100).await?.expect("known");
            assert_eq!(
                missed.iter().map(|l| l.change).collect::<Vec<_>>(),
                // A number not (yet) found is announced as restricted.
                vec![Change::Restricted(404), Change::Status],
                "{}",
                db.backend()
            );
            assert_eq!(missed[0].seq, seen + 1);
            // The version of incident 404's views: its last change.
            assert_eq!(last_of_incident(&db, 404).await?, Some(seen + 1));
            assert_eq!(last_of_incident(&db, 405).await?, None);
            assert_eq!(
                missed_since(&db, head(&db).await?, 100).await?,
                Some(vec![])
            );
            // From the future (another database) or too long ago: refetch everything.
            assert_eq!(missed_since(&db, head(&db).await? + 5, 100).await?, None);
            assert_eq!(missed_since(&db, seen, 1).await?, None);
            // Pruned: what was missed is no longer known, but the newest entry stays.
            let removed = prune(&db, Utc::now() + chrono::Duration::minutes(1)).await?;
            assert!(removed >= 2, "{}", db.backend());
            assert_eq!(missed_since(&db, seen, 100).await?, None);
            assert_eq!(after(&db, 0, 100).await?.len(), 1);
        }
        Ok(())
    }

    #[tokio::test]
    async fn nothing_is_logged_outside_a_use_case_or_for_a_rollback() -> Result<(), StoreError> {
        for db in testing::fresh_databases().await {
            let start = head(&db).await?;
            let mut tx = db.begin().await?;
            tx.execute(sql("UPDATE app_locks SET n = n WHERE name = 'admins'"))
                .await?;
            tx.commit().await?;
            let (out, committed) = recording(&[Subject::Status], async {
                let mut tx = db.begin().await?;
                tx.execute(sql("UPDATE app_locks SET n = n WHERE name = 'admins'"))
                    .await?;
                // Fails: the transaction rolls back.
                tx.execute(sql("SELECT * FROM no_such_table")).await?;
                tx.commit().await?;
                Ok::<(), StoreError>(())
            })
            .await;
            assert!(out.is_err());
            assert_eq!(committed, None);
            assert_eq!(head(&db).await?, start, "{}", db.backend());
        }
        Ok(())
    }
}
