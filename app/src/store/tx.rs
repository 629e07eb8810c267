//! One transaction type over both databases.
//!
//! A use case opens a [`Tx`] with [`Db::begin`], runs statements written once
//! with `$N` placeholders ([`sql`]), and calls [`Tx::commit`], which appends
//! what the use case records to the change log (and, on PostgreSQL, sends the
//! one `NOTIFY`) as the transaction's last statements. Dropping a `Tx`
//! without committing rolls it back. Helpers that run inside a transaction
//! are plain functions taking `&mut Tx`.

use super::changes::{self, Subject};
use super::{Db, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteRow};
use sqlx::{FromRow, Transaction};
use std::borrow::Cow;

/// A value for one `$N` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
}

macro_rules! arg_from {
    ($variant:ident, $t:ty, $convert:expr) => {
        impl From<$t> for Arg {
            fn from(value: $t) -> Self {
                Arg::$variant(Some($convert(value)))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(value: Option<$t>) -> Self {
                Arg::$variant(value.map($convert))
            }
        }
    };
}

arg_from!(Int, i64, |v| v);
arg_from!(Int, i32, i64::from);
arg_from!(Bool, bool, |v| v);
arg_from!(Text, String, |v| v);
arg_from!(Text, &str, str::to_owned);
arg_from!(Text, &String, String::clone);
arg_from!(Int, &i64, |v: &i64| *v);
arg_from!(Time, DateTime<Utc>, |v| v);
arg_from!(Time, &DateTime<Utc>, |v: &DateTime<Utc>| *v);
arg_from!(Date, NaiveDate, |v| v);

/// A statement and the values of its placeholders, in order.
#[derive(Debug, Clone)]
pub struct Sql {
    text: Cow<'static, str>,
    args: Vec<Arg>,
}

/// A statement written once for both databases, with `$N` placeholders.
pub fn sql(text: impl Into<Cow<'static, str>>) -> Sql {
    Sql {
        text: text.into(),
        args: Vec::new(),
    }
}

impl Sql {
    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    fn sqlite(&self) -> sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
        let mut query = sqlx::query(&self.text);
        for arg in &self.args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Bool(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_deref()),
                Arg::Time(v) => query.bind(*v),
                Arg::Date(v) => query.bind(*v),
            };
        }
        query
    }

    fn postgres(&self) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
        let mut query = sqlx::query(&self.text);
        for arg in &self.args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Bool(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_deref()),
                Arg::Time(v) => query.bind(*v),
                Arg::Date(v) => query.bind(*v),
            };
        }
        query
    }
}

/// A row type both databases decode (`#[derive(sqlx::FromRow)]` structs and
/// tuples are).
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// An open transaction on either database, and what it changes.
pub struct Tx {
    inner: Inner,
    subjects: Vec<Subject>,
}

enum Inner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// Opens a transaction: on SQLite on the single writer connection (so
    /// writers queue here), on PostgreSQL from the pool.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let inner = match self {
            Db::Sqlite { write, .. } => Inner::Sqlite(write.begin().await?),
            Db::Postgres(pool) => Inner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            subjects: Vec::new(),
        })
    }
}

impl From<Transaction<'static, Sqlite>> for Tx {
    fn from(tx: Transaction<'static, Sqlite>) -> Self {
        Tx {
            inner: Inner::Sqlite(tx),
            subjects: Vec::new(),
        }
    }
}

impl From<Transaction<'static, Postgres>> for Tx {
    fn from(tx: Transaction<'static, Postgres>) -> Self {
        Tx {
            inner: Inner::Postgres(tx),
            subjects: Vec::new(),
        }
    }
}

impl Tx {
    /// Notes that this transaction changes `subject`: its commit logs it, so
    /// every replica and every open page hears of it, whether or not the
    /// caller named it.
    pub fn records(&mut self, subject: Subject) {
        if !self.subjects.contains(&subject) {
            self.subjects.push(subject);
        }
    }

    /// What this transaction has said it changes.
    pub(crate) fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    /// Runs a statement; answers how many rows it changed.
    pub async fn execute(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match &mut self.inner {
            Inner::Sqlite(tx) => sql.sqlite().execute(&mut **tx).await?.rows_affected(),
            Inner::Postgres(tx) => sql.postgres().execute(&mut **tx).await?.rows_affected(),
        })
    }

    /// The first row, if any.
    pub async fn fetch_optional<T: Row>(&mut self, sql: Sql) -> Result<Option<T>, sqlx::Error> {
        match &mut self.inner {
            Inner::Sqlite(tx) => match sql.sqlite().fetch_optional(&mut **tx).await? {
                Some(row) => Ok(Some(T::from_row(&row)?)),
                None => Ok(None),
            },
            Inner::Postgres(tx) => match sql.postgres().fetch_optional(&mut **tx).await? {
                Some(row) => Ok(Some(T::from_row(&row)?)),
                None => Ok(None),
            },
        }
    }

    /// Exactly one row (`RowNotFound` otherwise).
    pub async fn fetch_one<T: Row>(&mut self, sql: Sql) -> Result<T, sqlx::Error> {
        self.fetch_optional(sql)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Every row.
    pub async fn fetch_all<T: Row>(&mut self, sql: Sql) -> Result<Vec<T>, sqlx::Error> {
        match &mut self.inner {
            Inner::Sqlite(tx) => sql
                .sqlite()
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(T::from_row)
                .collect(),
            Inner::Postgres(tx) => sql
                .postgres()
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(T::from_row)
                .collect(),
        }
    }

    /// The first column of exactly one row.
    pub async fn scalar<T>(&mut self, sql: Sql) -> Result<T, sqlx::Error>
    where
        (T,): Row,
    {
        Ok(self.fetch_one::<(T,)>(sql).await?.0)
    }

    /// The first column of the first row, if any.
    pub async fn scalar_optional<T>(&mut self, sql: Sql) -> Result<Option<T>, sqlx::Error>
    where
        (T,): Row,
    {
        Ok(self
            .fetch_optional::<(T,)>(sql)
            .await?
            .map(|(value,)| value))
    }

    /// Whether this is PostgreSQL (for the few statements that differ).
    pub fn is_postgres(&self) -> bool {
        matches!(self.inner, Inner::Postgres(_))
    }

    /// Commits. The change-log entries of what it [`records`](Tx::records),
    /// and of what the enclosing use case names ([`changes::recording`]),
    /// are appended first, as the transaction's
    /// last statements (and PostgreSQL is told with one `NOTIFY`), so nothing
    /// commits unannounced and nothing is announced that did not commit.
    /// Answers the last sequence logged, if any.
    pub async fn commit(mut self) -> Result<Option<i64>, StoreError> {
        let logged = changes::log(&mut self).await?;
        if let (Some(last), true) = (logged, self.is_postgres()) {
            self.execute(
                sql("SELECT pg_notify($1, $2)")
                    .bind(changes::CHANNEL)
                    .bind(last.to_string()),
            )
            .await?;
        }
        match self.inner {
            Inner::Sqlite(tx) => tx.commit().await?,
            Inner::Postgres(tx) => tx.commit().await?,
        }
        if let Some(last) = logged {
            changes::committed_at(last);
        }
        Ok(logged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_databases;

    #[tokio::test]
    async fn one_statement_runs_alike_on_both_databases_and_a_dropped_tx_rolls_back() {
        for db in fresh_databases().await {
            let backend = db.backend();
            let mut tx = db.begin().await.expect("begin");
            let at = Utc::now();
            let changed = tx
                .execute(
                    sql("INSERT INTO app_locks (name, n) VALUES ($1, $2)")
                        .bind("tx-test")
                        .bind(7_i64),
                )
                .await
                .expect("insert");
            assert_eq!(changed, 1, "{backend}");
            let (name, n): (String, i64) = tx
                .fetch_one(sql("SELECT name, n FROM app_locks WHERE name = $1").bind("tx-test"))
                .await
                .expect("read back");
            assert_eq!((name.as_str(), n), ("tx-test", 7), "{backend}");
            let none: Option<i64> = tx
                .scalar_optional(sql("SELECT n FROM app_locks WHERE name = $1").bind(None::<&str>))
                .await
                .expect("no row");
            assert_eq!(none, None, "{backend}");
            let later: bool = tx
                .scalar(
                    sql("SELECT $1 > $2")
                        .bind(at + chrono::Duration::seconds(1))
                        .bind(at),
                )
                .await
                .expect("times compare");
            assert!(later, "{backend}");
            drop(tx);

            let mut tx = db.begin().await.expect("begin");
            let gone: Option<i64> = tx
                .scalar_optional(sql("SELECT n FROM app_locks WHERE name = $1").bind("tx-test"))
                .await
                .expect("read");
            assert_eq!(gone, None, "{backend}: a dropped transaction rolled back");
            tx.commit().await.expect("commit");
        }
    }

    #[tokio::test]
    async fn a_transaction_logs_what_it_records_even_outside_a_use_case() {
        for db in fresh_databases().await {
            let backend = db.backend();
            let before = changes::head(&db).await.expect("head");
            let mut tx = db.begin().await.expect("begin");
            tx.records(Subject::Account(7));
            tx.records(Subject::Account(7));
            assert_eq!(
                tx.commit().await.expect("commit"),
                Some(before + 1),
                "{backend}"
            );
            let logged = changes::after(&db, before, 10).await.expect("log");
            assert_eq!(
                logged.iter().map(|l| l.change).collect::<Vec<_>>(),
                vec![crate::live::Change::Account(7)],
                "{backend}"
            );
            // Rolled back: nothing logged.
            let mut tx = db.begin().await.expect("begin");
            tx.records(Subject::Status);
            drop(tx);
            assert_eq!(
                changes::head(&db).await.expect("head"),
                before + 1,
                "{backend}"
            );
        }
    }
}
