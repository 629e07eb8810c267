//! User accounts: creation, lookup, org role and disabling.

use super::changes::Subject;
use super::tx::{sql, Tx};
use super::{read, Db, StoreError};
use crate::domain::users::{Email, OrgRole, PersonName, UserId};
use crate::domain::zones::ZoneRules;
use chrono::{DateTime, Utc};

/// A user as the rest of the server sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub org_role: OrgRole,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// May authorise high-impact mitigations and see the leadership view.
    pub can_lead: bool,
    /// An admin reset the password: the next thing this user does is choose one.
    pub must_change_password: bool,
    /// Sessions begun under another epoch have ended (a password change).
    pub session_epoch: i64,
    /// The IANA name of the zone they read times in; `None` until chosen (UTC).
    pub time_zone: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) org_role: String,
    pub(super) disabled: bool,
    pub(super) created_at: DateTime<Utc>,
    pub(super) can_lead: bool,
    pub(super) must_change_password: bool,
    pub(super) session_epoch: i64,
    pub(super) time_zone: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let org_role = OrgRole::parse("org_role", &row.org_role)
            .map_err(|_| StoreError::Corrupt(format!("org_role {:?}", row.org_role)))?;
        Ok(User {
            id: UserId(row.id),
            name: row.name,
            email: row.email,
            org_role,
            disabled: row.disabled,
            created_at: row.created_at,
            can_lead: row.can_lead,
            must_change_password: row.must_change_password,
            session_epoch: row.session_epoch,
            time_zone: row.time_zone,
        })
    }
}

pub(super) const USER_COLUMNS: &str = "id, name, email, org_role, disabled, created_at, can_lead, \
     must_change_password, session_epoch, time_zone";

/// Takes the row lock that serialises changes to who is admin: concurrent
/// transactions that check "is there another admin" then write queue here.
pub(super) async fn lock_admins(tx: &mut Tx) -> Result<(), sqlx::Error> {
    tx.execute(sql("UPDATE app_locks SET n = n + 1 WHERE name = 'admins'"))
        .await?;
    Ok(())
}

/// Everything needed to create an account; the hash is made by the caller.
pub struct NewUser<'a> {
    pub name: &'a PersonName,
    pub email: &'a Email,
    pub org_role: OrgRole,
    pub password_hash: &'a str,
}

/// Why a change to users was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserChangeError {
    #[error("an account with this e-mail address exists")]
    EmailTaken,
    #[error("users exist already")]
    SetupDone,
    #[error("no such user")]
    NotFound,
    #[error("the last active admin must stay an active admin")]
    LastAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for UserChangeError {
    fn from(e: sqlx::Error) -> Self {
        UserChangeError::Store(StoreError::Sqlx(e))
    }
}

pub async fn count(db: &Db) -> Result<i64, StoreError> {
    let n: i64 = read!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?
    });
    Ok(n)
}

/// Creates the first admin, unless any user exists (checked in the same transaction).
pub async fn create_first_admin(
    db: &Db,
    name: &PersonName,
    email: &Email,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<User, UserChangeError> {
    let new = NewUser {
        name,
        email,
        org_role: OrgRole::Admin,
        password_hash,
    };
    insert(db, &new, now, true).await
}

/// Creates a user; a second account with the same e-mail address is refused.
pub async fn create(
    db: &Db,
    new: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<User, UserChangeError> {
    insert(db, new, now, false).await
}

async fn insert(
    db: &Db,
    new: &NewUser<'_>,
    now: DateTime<Utc>,
    only_if_no_users: bool,
) -> Result<User, UserChangeError> {
    let mut tx = db.begin().await?;
    lock_admins(&mut tx).await?;
    if only_if_no_users {
        let existing: i64 = tx.scalar(sql("SELECT COUNT(*) FROM users")).await?;
        if existing > 0 {
            return Err(UserChangeError::SetupDone);
        }
    }
    let row: UserRow = tx
        .fetch_one(
            sql(format!(
                "INSERT INTO users (email, name, password_hash, org_role, disabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {USER_COLUMNS}"
            ))
            .bind(new.email.as_str())
            .bind(new.name.as_str())
            .bind(new.password_hash)
            .bind(new.org_role.as_str())
            .bind(now),
        )
        .await
        .map_err(unique_to_email_taken)?;
    tx.commit().await?;
    Ok(row.try_into()?)
}

fn unique_to_email_taken(e: sqlx::Error) -> UserChangeError {
    let store = StoreError::Sqlx(e);
    if store.is_unique_violation() {
        UserChangeError::EmailTaken
    } else {
        UserChangeError::Store(store)
    }
}

pub async fn find(db: &Db, id: UserId) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = read!(db, pool => {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(pool)
            .await?
    });
    row.map(User::try_from).transpose()
}

/// The user and their password hash, for sign-in.
pub async fn find_credentials(
    db: &Db,
    email: &Email,
) -> Result<Option<(User, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(pool)
        .await?
    });
    row.map(|r| Ok((User::try_from(r.user)?, r.password_hash)))
        .transpose()
}

/// Replaces `id`'s password hash and ends their other sessions (a new epoch).
/// `must_change` marks an admin reset: the user chooses a password at next sign-in.
/// Returns the user as changed.
pub async fn set_password(
    db: &Db,
    id: UserId,
    password_hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<User, UserChangeError> {
    let mut tx = db.begin().await?;
    let row: Option<UserRow> = tx
        .fetch_optional(
            sql(format!(
                "UPDATE users SET password_hash = $2, must_change_password = $3, \
                 session_epoch = session_epoch + 1, updated_at = $4 WHERE id = $1 RETURNING {USER_COLUMNS}"
            ))
            .bind(id.0)
            .bind(password_hash)
            .bind(must_change)
            .bind(now),
        )
        .await?;
    // No such user: nothing changed, so nothing is logged.
    if row.is_some() {
        tx.records(Subject::Account(id.0));
    }
    tx.commit().await?;
    Ok(User::try_from(row.ok_or(UserChangeError::NotFound)?)?)
}

/// Sets the zone `id` reads times in (`None`: back to UTC). Returns false
/// when there is no such user.
pub async fn set_time_zone(
    db: &Db,
    id: UserId,
    zone: Option<&ZoneRules>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            sql("UPDATE users SET time_zone = $2, updated_at = $3 WHERE id = $1")
                .bind(id.0)
                .bind(zone.map(|z| z.name.clone()))
                .bind(now),
        )
        .await?;
    // Every replica's kept copy of the account reads it again.
    if changed > 0 {
        tx.records(Subject::Account(id.0));
    }
    tx.commit().await?;
    Ok(changed > 0)
}

/// The password hash of `id`, to check a current password against.
pub async fn password_hash(db: &Db, id: UserId) -> Result<Option<String>, StoreError> {
    let hash: Option<String> = read!(db, pool => {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await?
    });
    Ok(hash)
}

/// Every user, admins first, then by name.
pub async fn list(db: &Db) -> Result<Vec<User>, StoreError> {
    let rows: Vec<UserRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY disabled, \
             CASE org_role WHEN 'admin' THEN 0 WHEN 'responder' THEN 1 ELSE 2 END, name, id"
        ))
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(User::try_from).collect()
}

/// Changes a user's org role. The last active admin cannot be demoted.
pub async fn set_org_role(
    db: &Db,
    id: UserId,
    org_role: OrgRole,
    now: DateTime<Utc>,
) -> Result<User, UserChangeError> {
    update_guarded(db, id, now, UserUpdate::Role(org_role)).await
}

/// Disables or re-enables a user. The last active admin cannot be disabled.
pub async fn set_disabled(
    db: &Db,
    id: UserId,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<User, UserChangeError> {
    update_guarded(db, id, now, UserUpdate::Disabled(disabled)).await
}

enum UserUpdate {
    Role(OrgRole),
    Disabled(bool),
}

async fn update_guarded(
    db: &Db,
    id: UserId,
    now: DateTime<Utc>,
    update: UserUpdate,
) -> Result<User, UserChangeError> {
    let (role, disabled) = match update {
        UserUpdate::Role(role) => (Some(role.as_str()), None),
        UserUpdate::Disabled(disabled) => (None, Some(disabled)),
    };
    let mut tx = db.begin().await?;
    tx.records(Subject::Account(id.0));
    lock_admins(&mut tx).await?;
    let current: Option<UserRow> = tx
        .fetch_optional(sql(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")).bind(id.0))
        .await?;
    let current = current.ok_or(UserChangeError::NotFound)?;
    let stays_active_admin =
        role.unwrap_or(&current.org_role) == "admin" && !disabled.unwrap_or(current.disabled);
    if current.org_role == "admin" && !current.disabled && !stays_active_admin {
        let other_admins: i64 = tx
            .scalar(
                sql("SELECT COUNT(*) FROM users WHERE org_role = 'admin' AND disabled = FALSE AND id <> $1")
                    .bind(id.0),
            )
            .await?;
        if other_admins == 0 {
            return Err(UserChangeError::LastAdmin);
        }
    }
    let row: UserRow = tx
        .fetch_one(
            sql(format!(
                "UPDATE users SET org_role = COALESCE($2, org_role), disabled = COALESCE($3, disabled), \
                 updated_at = $4 WHERE id = $1 RETURNING {USER_COLUMNS}"
            ))
            .bind(id.0)
            .bind(role)
            .bind(disabled)
            .bind(now),
        )
        .await?;
    tx.commit().await?;
    Ok(row.try_into()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::fresh_databases;

    fn name(s: &str) -> PersonName {
        PersonName::parse("name", s).expect("valid name")
    }

    fn email(s: &str) -> Email {
        Email::parse("email", s).expect("valid email")
    }

    async fn add(db: &Db, who: &str, role: OrgRole) -> User {
        let (n, e) = (name(who), email(&format!("{who}@example.com")));
        create(
            db,
            &NewUser {
                name: &n,
                email: &e,
                org_role: role,
                password_hash: "hash",
            },
            Utc::now(),
        )
        .await
        .expect("create user")
    }

    #[tokio::test]
    async fn the_first_admin_can_be_created_only_once() {
        for db in fresh_databases().await {
            let first = create_first_admin(
                &db,
                &name("Ada"),
                &email("ada@example.com"),
                "h",
                Utc::now(),
            )
            .await
            .expect("first admin");
            assert_eq!(first.org_role, OrgRole::Admin);
            let again = create_first_admin(
                &db,
                &name("Eve"),
                &email("eve@example.com"),
                "h",
                Utc::now(),
            )
            .await;
            assert!(
                matches!(again, Err(UserChangeError::SetupDone)),
                "{}",
                db.backend()
            );
            assert_eq!(count(&db).await.expect("count"), 1);
        }
    }

    #[tokio::test]
    async fn a_chosen_time_zone_is_kept_until_set_back_to_utc() {
        for db in fresh_databases().await {
            let ada = add(&db, "ada", OrgRole::Responder).await;
            assert_eq!(ada.time_zone, None);
            let zone = crate::domain::zones::lookup("Asia/Kathmandu").expect("zone");
            assert!(set_time_zone(&db, ada.id, Some(&zone), Utc::now())
                .await
                .expect("set"));
            let found = find(&db, ada.id).await.expect("find").expect("ada");
            assert_eq!(
                found.time_zone.as_deref(),
                Some("Asia/Kathmandu"),
                "{}",
                db.backend()
            );
            assert!(set_time_zone(&db, ada.id, None, Utc::now())
                .await
                .expect("reset"));
            let found = find(&db, ada.id).await.expect("find").expect("ada");
            assert_eq!(found.time_zone, None);
            assert!(
                !set_time_zone(&db, UserId(ada.id.0 + 100), None, Utc::now())
                    .await
                    .expect("nobody")
            );
        }
    }

    #[tokio::test]
    async fn a_second_account_with_the_same_email_is_refused() {
        for db in fresh_databases().await {
            add(&db, "ada", OrgRole::Admin).await;
            let (n, e) = (name("Other Ada"), email("ADA@example.com"));
            let dup = create(
                &db,
                &NewUser {
                    name: &n,
                    email: &e,
                    org_role: OrgRole::Viewer,
                    password_hash: "h",
                },
                Utc::now(),
            )
            .await;
            assert!(
                matches!(dup, Err(UserChangeError::EmailTaken)),
                "{}",
                db.backend()
            );
        }
    }

    #[tokio::test]
    async fn credentials_are_found_by_email_with_their_hash() {
        for db in fresh_databases().await {
            let ada = add(&db, "ada", OrgRole::Responder).await;
            let (user, hash) = find_credentials(&db, &email("ada@example.com"))
                .await
                .expect("query")
                .expect("found");
            assert_eq!(user, ada);
            assert_eq!(hash, "hash");
            assert!(find_credentials(&db, &email("nobody@example.com"))
                .await
                .expect("query")
                .is_none());
        }
    }

    #[tokio::test]
    async fn the_last_active_admin_cannot_be_demoted_or_disabled() {
        for db in fresh_databases().await {
            let ada = add(&db, "ada", OrgRole::Admin).await;
            let now = Utc::now();
            assert!(matches!(
                set_org_role(&db, ada.id, OrgRole::Viewer, now).await,
                Err(UserChangeError::LastAdmin)
            ));
            assert!(matches!(
                set_disabled(&db, ada.id, true, now).await,
                Err(UserChangeError::LastAdmin)
            ));
            let bob = add(&db, "bob", OrgRole::Responder).await;
            set_org_role(&db, bob.id, OrgRole::Admin, now)
                .await
                .expect("promote");
            let demoted = set_org_role(&db, ada.id, OrgRole::Viewer, now)
                .await
                .expect("demote");
            assert_eq!(demoted.org_role, OrgRole::Viewer, "{}", db.backend());
        }
    }

    #[tokio::test]
    async fn a_disabled_user_is_listed_after_active_ones_and_can_be_enabled_again() {
        for db in fresh_databases().await {
            add(&db, "ada", OrgRole::Admin).await;
            let bob = add(&db, "bob", OrgRole::Responder).await;
            let now = Utc::now();
            let off = set_disabled(&db, bob.id, true, now).await.expect("disable");
            assert!(off.disabled);
            let users = list(&db).await.expect("list");
            assert_eq!(users.last().map(|u| u.id), Some(bob.id), "{}", db.backend());
            let on = set_disabled(&db, bob.id, false, now).await.expect("enable");
            assert!(!on.disabled);
            assert!(matches!(
                set_disabled(&db, UserId(9999), true, now).await,
                Err(UserChangeError::NotFound)
            ));
        }
    }
}
