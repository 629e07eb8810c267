//! Sign-in sessions, kept in the same database as everything else, and in
//! memory: a crowd's refetches read their sessions without a query.
//!
//! A kept session is dropped when it is deleted here, when its expiry passes,
//! and when the change log says its person's account changed on any replica
//! (a sign-out, a password change, being disabled): deleting a session records
//! that change in the same transaction.

use super::changes::Subject;
use super::tx::sql;
use super::{Db, StoreError};
use crate::live::{Change, Events};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "user_id";

/// How many sessions are kept in memory; past that the expired go, then all.
const KEPT_AT_MOST: usize = 20_000;

/// The tower-sessions store for whichever database is in use.
#[derive(Clone, Debug)]
pub struct Sessions {
    backend: Backend,
    db: Db,
    kept: Arc<Mutex<Kept>>,
}

/// The sessions kept in memory, and how many times any was dropped: a load
/// that began before a drop must not keep what it read.
#[derive(Debug, Default)]
struct Kept {
    records: HashMap<Id, Record>,
    drops: u64,
}

#[derive(Clone, Debug)]
enum Backend {
    /// Loads go to the read pool, so a session read never queues behind the
    /// single writer; saves and deletes go to the writer.
    Sqlite {
        read: SqliteStore,
        write: SqliteStore,
    },
    Postgres(PostgresStore),
}

/// The user a session record is signed in as.
pub fn user_of(record: &Record) -> Option<i64> {
    record.data.get(USER_ID_KEY)?.as_i64()
}

impl Sessions {
    /// Creates the session table when missing.
    pub async fn open(db: &Db) -> Result<Sessions, StoreError> {
        let backend = match db {
            Db::Sqlite { read, write } => Backend::Sqlite {
                read: SqliteStore::new(read.clone()),
                write: SqliteStore::new(write.clone()),
            },
            Db::Postgres(pool) => Backend::Postgres(PostgresStore::new(pool.clone())),
        };
        match &backend {
            Backend::Sqlite { write, .. } => write.migrate().await?,
            Backend::Postgres(store) => store.migrate().await?,
        }
        Ok(Sessions {
            backend,
            db: db.clone(),
            kept: Arc::default(),
        })
    }

    /// Drops kept sessions whenever the change log says their person's
    /// account changed, on this replica or another.
    pub fn follow(&self, events: &Events) {
        let kept = self.kept.clone();
        events.on_change(Arc::new(move |logged: &crate::store::changes::Logged| {
            if let Change::Account(user) = logged.change {
                let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                kept.records
                    .retain(|_, record| user_of(record) != Some(user));
                kept.drops += 1;
            }
        }));
    }

    /// Removes sessions past their expiry.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        let now = OffsetDateTime::now_utc();
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .records
            .retain(|_, record| record.expiry_date > now);
        match &self.backend {
            Backend::Sqlite { write, .. } => write.delete_expired().await,
            Backend::Postgres(store) => store.delete_expired().await,
        }
    }

    /// Reads session `id` from the database, past what is kept.
    pub async fn load_fresh(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.forget(id);
        self.load(id).await
    }

    fn forget(&self, id: &Id) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.records.remove(id);
        kept.drops += 1;
    }

    /// Keeps `record`: as written (`loaded_after` is `None`), or as read from
    /// the database after `loaded_after` drops, unless something was dropped
    /// or written since the read began.
    fn keep(&self, record: &Record, loaded_after: Option<u64>) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(drops) = loaded_after {
            if kept.drops != drops || kept.records.contains_key(&record.id) {
                return;
            }
        }
        if kept.records.len() >= KEPT_AT_MOST {
            let now = OffsetDateTime::now_utc();
            kept.records.retain(|_, record| record.expiry_date > now);
            if kept.records.len() >= KEPT_AT_MOST {
                kept.records.clear();
            }
        }
        kept.records.insert(record.id, record.clone());
    }

    /// The kept session `id` unless it expired, or how many drops there were
    /// before reading it from the database.
    fn kept(&self, id: &Id) -> Result<Record, u64> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.records
            .get(id)
            .filter(|record| record.expiry_date > OffsetDateTime::now_utc())
            .cloned()
            .ok_or(kept.drops)
    }

    /// Deletes session `id` and records that its person's account changed,
    /// in one transaction: every replica drops the session before anyone
    /// could use it again.
    async fn delete_logged(&self, id: &Id) -> Result<(), StoreError> {
        let stored = match &self.backend {
            Backend::Sqlite { write, .. } => write.load(id).await,
            Backend::Postgres(store) => store.load(id).await,
        }
        .map_err(|e| StoreError::Corrupt(format!("session: {e}")))?;
        let delete = match &self.db {
            Db::Sqlite { .. } => "DELETE FROM tower_sessions WHERE id = $1",
            Db::Postgres(_) => r#"DELETE FROM "tower_sessions"."session" WHERE id = $1"#,
        };
        let mut tx = self.db.begin().await?;
        tx.execute(sql(delete).bind(id.to_string())).await?;
        if let Some(user) = stored.as_ref().and_then(user_of) {
            tx.records(Subject::Account(user));
        }
        tx.commit().await?;
        Ok(())
    }
}

fn backend_error(e: StoreError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.backend {
            Backend::Sqlite { write, .. } => write.create(record).await?,
            Backend::Postgres(store) => store.create(record).await?,
        }
        self.keep(record, None);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.backend {
            Backend::Sqlite { write, .. } => write.save(record).await?,
            Backend::Postgres(store) => store.save(record).await?,
        }
        self.keep(record, None);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let drops = match self.kept(id) {
            Ok(record) => return Ok(Some(record)),
            Err(drops) => drops,
        };
        let loaded = match &self.backend {
            Backend::Sqlite { read, .. } => read.load(id).await?,
            Backend::Postgres(store) => store.load(id).await?,
        };
        if let Some(record) = &loaded {
            self.keep(record, Some(drops));
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.forget(id);
        let deleted = self.delete_logged(id).await.map_err(backend_error);
        // A load racing the delete may have kept it again.
        self.forget(id);
        deleted
    }
}
