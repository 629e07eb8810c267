//! Sign-in sessions, kept in the same database as everything else.

use super::{Db, StoreError};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The tower-sessions store for whichever database is in use.
#[derive(Clone, Debug)]
pub enum Sessions {
    /// Loads go to the read pool, so a session read never queues behind the
    /// single writer; saves and deletes go to the writer.
    Sqlite {
        read: SqliteStore,
        write: SqliteStore,
    },
    Postgres(PostgresStore),
}

impl Sessions {
    /// Creates the session table when missing.
    pub async fn open(db: &Db) -> Result<Sessions, StoreError> {
        let sessions = match db {
            Db::Sqlite { read, write } => Sessions::Sqlite {
                read: SqliteStore::new(read.clone()),
                write: SqliteStore::new(write.clone()),
            },
            Db::Postgres(pool) => Sessions::Postgres(PostgresStore::new(pool.clone())),
        };
        match &sessions {
            Sessions::Sqlite { write, .. } => write.migrate().await?,
            Sessions::Postgres(store) => store.migrate().await?,
        }
        Ok(sessions)
    }

    /// Removes sessions past their expiry.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite { write, .. } => write.delete_expired().await,
            Sessions::Postgres(store) => store.delete_expired().await,
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite { write, .. } => write.create(record).await,
            Sessions::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite { write, .. } => write.save(record).await,
            Sessions::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite { read, .. } => read.load(id).await,
            Sessions::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite { write, .. } => write.delete(id).await,
            Sessions::Postgres(store) => store.delete(id).await,
        }
    }
}
