//! Failed sign-ins, counted per throttle key (an account or a client address).

use super::tx::sql;
use super::{read, Db, StoreError};
use crate::domain::throttle::{RecentFailures, ThrottleDecision, ThrottlePolicy};
use chrono::{DateTime, Duration, Utc};

/// Failures at or after `since` for `key`.
pub async fn recent(
    db: &Db,
    key: &str,
    since: DateTime<Utc>,
) -> Result<RecentFailures, StoreError> {
    let (count, oldest): (i64, Option<DateTime<Utc>>) = read!(db, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), MIN(failed_at) FROM sign_in_failures \
             WHERE throttle_key = $1 AND failed_at >= $2",
        )
        .bind(key)
        .bind(since)
        .fetch_one(pool)
        .await?
    });
    Ok(RecentFailures { count, oldest })
}

/// Reserves one sign-in attempt for `key` when `policy` allows another at `now`,
/// before any password is checked. The reservation counts as a failure until
/// [`clear`] forgets it after a correct password. Count and insert happen in
/// one transaction holding a per-key lock (the single SQLite writer; an
/// advisory lock on PostgreSQL), so concurrent attempts cannot all pass.
pub async fn reserve(
    db: &Db,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
) -> Result<ThrottleDecision, StoreError> {
    let mut tx = db.begin().await?;
    if tx.is_postgres() {
        // The single SQLite writer serialises this already.
        tx.execute(sql("SELECT pg_advisory_xact_lock(hashtext($1))").bind(key))
            .await?;
    }
    let (count, oldest): (i64, Option<DateTime<Utc>>) = tx
        .fetch_one(
            sql("SELECT COUNT(*), MIN(failed_at) FROM sign_in_failures \
                 WHERE throttle_key = $1 AND failed_at >= $2")
            .bind(key)
            .bind(policy.window_start(now)),
        )
        .await?;
    let decision = policy.decide(RecentFailures { count, oldest }, now);
    if decision == ThrottleDecision::Allow {
        tx.execute(
            sql("INSERT INTO sign_in_failures (throttle_key, failed_at) VALUES ($1, $2)")
                .bind(key)
                .bind(now),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(decision)
}

/// Records one failure under each key, and forgets failures older than a day.
pub async fn record(db: &Db, keys: &[String], now: DateTime<Utc>) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for key in keys {
        tx.execute(
            sql("INSERT INTO sign_in_failures (throttle_key, failed_at) VALUES ($1, $2)")
                .bind(key)
                .bind(now),
        )
        .await?;
    }
    tx.execute(
        sql("DELETE FROM sign_in_failures WHERE failed_at < $1").bind(now - Duration::days(1)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets the failures of one key (after a successful sign-in to that account).
pub async fn clear(db: &Db, key: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    tx.execute(sql("DELETE FROM sign_in_failures WHERE throttle_key = $1").bind(key))
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::throttle::PER_ACCOUNT;
    use crate::store::testing::fresh_databases;

    #[tokio::test]
    async fn forty_concurrent_attempts_on_one_account_reserve_only_five() {
        for db in fresh_databases().await {
            let now = Utc::now();
            let attempts = (0..40).map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    reserve(&db, "account:a@example.com", PER_ACCOUNT, now).await
                })
            });
            let mut allowed = 0;
            for attempt in attempts {
                if attempt.await.expect("task").expect("reserve") == ThrottleDecision::Allow {
                    allowed += 1;
                }
            }
            assert_eq!(allowed, 5, "{}", db.backend());
        }
    }

    #[tokio::test]
    async fn failures_are_counted_per_key_inside_the_window() {
        for db in fresh_databases().await {
            let now = Utc::now();
            let keys = vec![
                "account:a@example.com".to_owned(),
                "address:10.0.0.1".to_owned(),
            ];
            record(&db, &keys, now - Duration::minutes(30))
                .await
                .expect("record old");
            record(&db, &keys, now - Duration::minutes(2))
                .await
                .expect("record");
            record(&db, &keys[..1], now).await.expect("record");

            let since = now - Duration::minutes(15);
            let account = recent(&db, &keys[0], since).await.expect("count");
            assert_eq!(account.count, 2, "{}", db.backend());
            let oldest = account.oldest.expect("oldest");
            assert!(
                (oldest - (now - Duration::minutes(2)))
                    .num_milliseconds()
                    .abs()
                    < 1,
                "{}",
                db.backend()
            );
            assert_eq!(recent(&db, &keys[1], since).await.expect("count").count, 1);

            clear(&db, &keys[0]).await.expect("clear");
            assert_eq!(recent(&db, &keys[0], since).await.expect("count").count, 0);
            assert_eq!(recent(&db, &keys[1], since).await.expect("count").count, 1);
        }
    }
}
