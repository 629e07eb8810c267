//! Storage on SQLite (embedded default) or PostgreSQL, chosen by URL scheme at start.
//!
//! Every query is written once with `$N` placeholders and runs on either
//! database: reads through the `read!` macro (one query on the read pool),
//! writes in a [`tx::Tx`] opened with `Db::begin`, whose commit also appends
//! what the use case changed to the change log. Nothing outside this module
//! knows which database is in use.

pub mod alerts;
pub mod changes;
pub mod identities;
pub mod incidents;
pub mod leadership;
pub mod postmortems;
pub mod sessions;
pub mod sign_in_failures;
pub mod status;
pub mod subscriptions;
pub mod testing;
pub mod tokens;
pub mod tx;
pub mod updates;
pub mod users;
pub mod webhooks;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// A handle on the database. Cloning is cheap (pools are reference-counted).
///
/// SQLite gets a separate single-connection pool for writes, so concurrent
/// writers queue in the application instead of failing with SQLITE_BUSY.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://... or postgres://...")]
    UnsupportedUrl(String),
    /// A row in the database does not decode into a domain value.
    #[error("stored value out of range: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the error is a UNIQUE constraint refusing a duplicate.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Runs `$body` with `$pool` bound to a pool that may be read from.
macro_rules! read {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { read: $pool, .. } => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

pub(crate) use read;

impl Db {
    /// Connects by URL scheme: `sqlite://path` (created when missing) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite { read, write })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Applies the embedded migrations for this database.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { write, .. } => {
                sqlx::migrate!("../migrations/sqlite").run(write).await?;
                // The pages the migrations read stay cached in the writer's
                // connection for nothing: give that memory back.
                sqlx::query("PRAGMA shrink_memory").execute(write).await?;
            }
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Answers when the database answers (for /healthz).
    pub async fn ping(&self) -> Result<(), StoreError> {
        read!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// "sqlite" or "postgres", for logs and test names.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection (used before deleting a test database).
    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// The versions of the embedded migrations, per database (checked equal by a test).
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    let sqlite = sqlx::migrate!("../migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .collect();
    let postgres = sqlx::migrate!("../migrations/postgres")
        .iter()
        .map(|m| m.version)
        .collect();
    (sqlite, postgres)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_have_the_same_migration_versions() {
        let (sqlite, postgres) = migration_versions();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }

    #[tokio::test]
    async fn an_unknown_url_scheme_is_refused_with_its_name() {
        let err = Db::connect("mysql://localhost/db")
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("mysql://localhost/db"));
    }

    #[tokio::test]
    async fn a_migration_that_no_longer_matches_the_database_is_refused_with_its_cause(
    ) -> Result<(), StoreError> {
        for db in testing::fresh_databases().await {
            let tamper = "UPDATE _sqlx_migrations SET checksum = $1";
            match &db {
                Db::Sqlite { write, .. } => {
                    sqlx::query(tamper)
                        .bind(vec![0u8; 4])
                        .execute(write)
                        .await?;
                }
                Db::Postgres(pool) => {
                    sqlx::query(tamper).bind(vec![0u8; 4]).execute(pool).await?;
                }
            }
            let err = db
                .migrate()
                .await
                .expect_err("a changed migration stops start-up");
            assert!(err.to_string().starts_with("migration failed"), "{err}");
            assert!(err.to_string().contains("20261126000001"), "{err}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn both_databases_answer_a_ping_after_migrating() {
        for db in testing::fresh_databases().await {
            let answer = db.ping().await;
            assert!(answer.is_ok(), "{}: {answer:?}", db.backend());
        }
    }
}
