//! What requests read over and over, kept in memory until the change log says
//! it changed: people by id, and where each person stands on each incident.
//! Each replica keeps its own and hears every replica's changes through the
//! log, so a crowd's refetches after one change cost no query.

use crate::domain::users::UserId;
use crate::live::{Change, Events};
use crate::store::leadership::Opened;
use crate::store::users::User;
use crate::store::{self, Db, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// How many people are kept at most; past that the cache starts afresh.
const PEOPLE_AT_MOST: usize = 20_000;
/// How many (incident, person) openings are kept at most (each holds the
/// incident's row): a Sev1 crowd of a thousand is a thousand.
const OPENINGS_AT_MOST: usize = 5_000;

/// People by id, dropped when their account changes.
#[derive(Debug, Default)]
pub struct People {
    kept: Mutex<PeopleKept>,
}

#[derive(Debug, Default)]
struct PeopleKept {
    users: HashMap<i64, User>,
    /// How many times anyone was dropped: a read that began before a drop
    /// must not keep what it read.
    drops: u64,
}

impl People {
    /// Drops a person whenever the change log says their account changed.
    pub fn follow(self: &Arc<Self>, events: &Events) {
        let people = self.clone();
        events.on_change(Arc::new(move |logged: &crate::store::changes::Logged| {
            if let Change::Account(id) = logged.change {
                let mut kept = people.lock();
                kept.users.remove(&id);
                kept.drops += 1;
            }
        }));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PeopleKept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// User `id`, from memory or the database. Only a follower of the change
    /// log (`events` following) may keep what it read.
    pub async fn find(
        &self,
        db: &Db,
        events: &Events,
        id: UserId,
    ) -> Result<Option<User>, StoreError> {
        let drops = {
            let kept = self.lock();
            if let Some(user) = kept.users.get(&id.0) {
                return Ok(Some(user.clone()));
            }
            kept.drops
        };
        let found = store::users::find(db, id).await?;
        if let (Some(user), true) = (&found, events.is_following()) {
            let mut kept = self.lock();
            if kept.drops == drops {
                if kept.users.len() >= PEOPLE_AT_MOST {
                    kept.users.clear();
                }
                kept.users.insert(id.0, user.clone());
            }
        }
        Ok(found)
    }
}

/// Where each person stands on each incident (with the incident), valid until
/// the incident's next change.
#[derive(Debug, Default)]
pub struct Openings {
    kept: Mutex<HashMap<(i64, i64), Opened>>,
}

impl Openings {
    /// Incident `number` as `user` opens it, from memory while no change of
    /// it has been handed out since it was read, else from the database.
    pub async fn open(
        &self,
        db: &Db,
        events: &Events,
        number: i64,
        user: UserId,
    ) -> Result<Option<Opened>, StoreError> {
        let key = (number, user.0);
        if events.is_following() {
            let latest = events.last_of_incident(number);
            let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            // Versions only grow: what was read at or after the latest change
            // handed out is current.
            if let Some(opened) = kept.get(&key).filter(|o| latest <= o.last_change) {
                return Ok(Some(opened.clone()));
            }
        }
        let opened = store::leadership::open(db, number, user).await?;
        if let (Some(opened), true) = (&opened, events.is_following()) {
            let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            if kept.len() >= OPENINGS_AT_MOST {
                kept.clear();
            }
            let newer = kept
                .get(&key)
                .is_none_or(|old| old.last_change <= opened.last_change);
            if newer {
                kept.insert(key, opened.clone());
            }
        }
        Ok(opened)
    }
}
