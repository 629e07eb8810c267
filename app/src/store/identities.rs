//! Company sign-in's state: sign-ins under way (so the provider's callback
//! may land on any replica), which provider account is which person, and the
//! switch that turns password sign-in off.

use super::changes::Subject;
use super::tx::{sql, Tx};
use super::users::{lock_admins, User, UserRow, USER_COLUMNS};
use super::{read, Db, StoreError};
use crate::domain::identities::ProviderGrant;
use crate::domain::users::{Email, OrgRole, PersonName, UserId};
use chrono::{DateTime, Duration, Utc};

/// A sign-in begun this long ago can no longer be finished.
pub const LOGIN_VALID_MINUTES: i64 = 10;

/// Stands in for a password hash on accounts made by company sign-in: it is
/// no hash at all, so no password matches it until an admin sets one.
pub const NO_PASSWORD: &str = "!company-sign-in";

/// What the callback needs to finish a sign-in begun here.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
}

/// Keeps a sign-in under way under its `state`, and forgets expired ones.
pub async fn begin_login(
    db: &Db,
    state: &str,
    login: &PendingLogin,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    tx.execute(
        sql("DELETE FROM oidc_logins WHERE created_at < $1")
            .bind(now - Duration::minutes(LOGIN_VALID_MINUTES)),
    )
    .await?;
    tx.execute(
        sql(
            "INSERT INTO oidc_logins (state, nonce, pkce_verifier, return_to, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(state)
        .bind(login.nonce.as_str())
        .bind(login.pkce_verifier.as_str())
        .bind(login.return_to.as_str())
        .bind(now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes the sign-in kept under `state`: it is removed in the same
/// statement, so a second callback with the same `state` finds nothing.
pub async fn take_login(
    db: &Db,
    state: &str,
    now: DateTime<Utc>,
) -> Result<Option<PendingLogin>, StoreError> {
    let mut tx = db.begin().await?;
    let login: Option<(PendingLogin, DateTime<Utc>)> = tx
        .fetch_optional::<LoginRow>(
            sql("DELETE FROM oidc_logins WHERE state = $1 \
                 RETURNING nonce, pkce_verifier, return_to, created_at")
            .bind(state),
        )
        .await?
        .map(|row| {
            (
                PendingLogin {
                    nonce: row.nonce,
                    pkce_verifier: row.pkce_verifier,
                    return_to: row.return_to,
                },
                row.created_at,
            )
        });
    tx.commit().await?;
    Ok(login
        .filter(|(_, created)| *created >= now - Duration::minutes(LOGIN_VALID_MINUTES))
        .map(|(login, _)| login))
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    nonce: String,
    pkce_verifier: String,
    return_to: String,
    created_at: DateTime<Utc>,
}

/// Who the provider says signed in, once the ID token is verified.
#[derive(Debug, Clone)]
pub struct ProviderAccount<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: Option<&'a Email>,
    pub email_verified: bool,
    pub name: &'a PersonName,
    /// From the role claim, when one is configured.
    pub grant: Option<ProviderGrant>,
}

/// Why a provider account may not sign in.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the account is disabled")]
    Disabled,
    #[error("the provider sent no e-mail address")]
    NoEmail,
    #[error("an account has this e-mail address, which the provider has not verified")]
    EmailUnverified,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IdentityError {
    fn from(e: sqlx::Error) -> Self {
        IdentityError::Store(e.into())
    }
}

/// The person a provider account signs in as, in one transaction: the
/// account linked to it before; else the account with the same e-mail
/// address, linked now if the provider verified the address; else a new
/// account. A configured role claim sets the role and the leadership
/// permission every time, except that the last active admin stays one.
pub async fn sign_in(
    db: &Db,
    account: &ProviderAccount<'_>,
    now: DateTime<Utc>,
) -> Result<User, IdentityError> {
    let mut tx = db.begin().await?;
    lock_admins(&mut tx).await?;
    let linked: Option<i64> = tx
        .scalar_optional(
            sql("SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2")
                .bind(account.issuer)
                .bind(account.subject),
        )
        .await?;
    let user = match linked {
        Some(id) => {
            tx.execute(
                sql("UPDATE user_identities SET last_sign_in_at = $3 \
                     WHERE issuer = $1 AND subject = $2")
                .bind(account.issuer)
                .bind(account.subject)
                .bind(now),
            )
            .await?;
            user_row(&mut tx, id).await?
        }
        None => {
            let email = account.email.ok_or(IdentityError::NoEmail)?;
            let existing: Option<UserRow> = tx
                .fetch_optional(
                    sql(format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"))
                        .bind(email.as_str()),
                )
                .await?;
            let row = match existing {
                Some(_) if !account.email_verified => return Err(IdentityError::EmailUnverified),
                Some(row) => row,
                None => {
                    let role = account.grant.map_or(OrgRole::Viewer, |g| g.org_role);
                    tx.fetch_one(
                        sql(format!(
                            "INSERT INTO users (email, name, password_hash, org_role, disabled, \
                             created_at, updated_at) VALUES ($1, $2, $3, $4, FALSE, $5, $5) \
                             RETURNING {USER_COLUMNS}"
                        ))
                        .bind(email.as_str())
                        .bind(account.name.as_str())
                        .bind(NO_PASSWORD)
                        .bind(role.as_str())
                        .bind(now),
                    )
                    .await?
                }
            };
            tx.execute(
                sql(
                    "INSERT INTO user_identities (issuer, subject, user_id, created_at, \
                     last_sign_in_at) VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(account.issuer)
                .bind(account.subject)
                .bind(row.id)
                .bind(now),
            )
            .await?;
            row
        }
    };
    if user.disabled {
        return Err(IdentityError::Disabled);
    }
    let user = match account.grant {
        Some(grant) => apply_grant(&mut tx, user, grant, now).await?,
        None => user,
    };
    tx.commit().await?;
    Ok(user.try_into()?)
}

async fn user_row(tx: &mut Tx, id: i64) -> Result<UserRow, IdentityError> {
    Ok(tx
        .fetch_one(sql(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")).bind(id))
        .await?)
}

/// Sets the role and leadership permission the provider grants, keeping the
/// last active admin an admin. Runs under the admins lock.
async fn apply_grant(
    tx: &mut Tx,
    user: UserRow,
    grant: ProviderGrant,
    now: DateTime<Utc>,
) -> Result<UserRow, IdentityError> {
    let mut role = grant.org_role;
    if user.org_role == "admin" && role != OrgRole::Admin {
        let other_admins: i64 = tx
            .scalar(
                sql(
                    "SELECT COUNT(*) FROM users WHERE org_role = 'admin' AND disabled = FALSE \
                     AND id <> $1",
                )
                .bind(user.id),
            )
            .await?;
        if other_admins == 0 {
            tracing::warn!(
                user = user.id,
                "the provider's role claim would demote the last admin; they stay admin"
            );
            role = OrgRole::Admin;
        }
    }
    if user.org_role == role.as_str() && user.can_lead == grant.can_lead {
        return Ok(user);
    }
    tx.records(Subject::Account(user.id));
    Ok(tx
        .fetch_one(
            sql(format!(
                "UPDATE users SET org_role = $2, can_lead = $3, updated_at = $4 WHERE id = $1 \
                 RETURNING {USER_COLUMNS}"
            ))
            .bind(user.id)
            .bind(role.as_str())
            .bind(grant.can_lead)
            .bind(now),
        )
        .await?)
}

/// Whether `user` has signed in through the provider `issuer`.
pub async fn is_linked(db: &Db, user: UserId, issuer: &str) -> Result<bool, StoreError> {
    let n: i64 = read!(db, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_identities WHERE user_id = $1 AND issuer = $2",
        )
        .bind(user.0)
        .bind(issuer)
        .fetch_one(pool)
        .await?
    });
    Ok(n > 0)
}

const PASSWORD_SIGN_IN: &str = "password_sign_in";

/// Whether an admin turned password sign-in off (it only takes effect while
/// company sign-in is configured: see `api::company`).
pub async fn password_sign_in_off(db: &Db) -> Result<bool, StoreError> {
    let value: Option<String> = read!(db, pool => {
        sqlx::query_scalar("SELECT value FROM instance_settings WHERE name = $1")
            .bind(PASSWORD_SIGN_IN)
            .fetch_optional(pool)
            .await?
    });
    Ok(value.as_deref() == Some("off"))
}

/// Why password sign-in was not turned off.
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error("only an active admin who has signed in through the provider may turn passwords off")]
    WouldLockOut,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SwitchError {
    fn from(e: sqlx::Error) -> Self {
        SwitchError::Store(e.into())
    }
}

/// Turns password sign-in on or off. Off is refused unless `by` is an active
/// admin who has signed in through `issuer`: then at least one admin can
/// still get in, and the provider is known to work.
pub async fn set_password_sign_in(
    db: &Db,
    on: bool,
    by: UserId,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<(), SwitchError> {
    let mut tx = db.begin().await?;
    lock_admins(&mut tx).await?;
    if !on {
        let able: i64 = tx
            .scalar(
                sql(
                    "SELECT COUNT(*) FROM users u JOIN user_identities i ON i.user_id = u.id \
                     WHERE u.id = $1 AND i.issuer = $2 AND u.org_role = 'admin' \
                     AND u.disabled = FALSE",
                )
                .bind(by.0)
                .bind(issuer),
            )
            .await?;
        if able == 0 {
            return Err(SwitchError::WouldLockOut);
        }
    }
    tx.execute(
        sql(
            "INSERT INTO instance_settings (name, value, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET value = $2, \
             updated_at = $3, updated_by = $4",
        )
        .bind(PASSWORD_SIGN_IN)
        .bind(if on { "on" } else { "off" })
        .bind(now)
        .bind(by.0),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{fresh_databases, person};
    use crate::store::users;

    const ISSUER: &str = "https://id.example.com";

    fn email(s: &str) -> Email {
        Email::parse("email", s).expect("valid email")
    }

    fn name(s: &str) -> PersonName {
        PersonName::parse("name", s).expect("valid name")
    }

    fn account<'a>(
        subject: &'a str,
        email: &'a Email,
        name: &'a PersonName,
    ) -> ProviderAccount<'a> {
        ProviderAccount {
            issuer: ISSUER,
            subject,
            email: Some(email),
            email_verified: true,
            name,
            grant: None,
        }
    }

    #[tokio::test]
    async fn a_sign_in_under_way_is_taken_once_and_not_after_ten_minutes() {
        for db in fresh_databases().await {
            let now = Utc::now();
            let login = PendingLogin {
                nonce: "n".into(),
                pkce_verifier: "v".into(),
                return_to: "/".into(),
            };
            begin_login(&db, "s1", &login, now).await.expect("begin");
            assert_eq!(
                take_login(&db, "s1", now).await.expect("take"),
                Some(login.clone())
            );
            assert_eq!(take_login(&db, "s1", now).await.expect("again"), None);
            begin_login(&db, "s2", &login, now).await.expect("begin");
            let late = now + Duration::minutes(LOGIN_VALID_MINUTES) + Duration::seconds(1);
            assert_eq!(
                take_login(&db, "s2", late).await.expect("late"),
                None,
                "{}",
                db.backend()
            );
        }
    }

    #[tokio::test]
    async fn a_new_person_is_made_once_and_found_by_subject_afterwards() {
        for db in fresh_databases().await {
            let (e, n) = (email("new@example.com"), name("New Person"));
            let first = sign_in(&db, &account("sub-1", &e, &n), Utc::now())
                .await
                .expect("first");
            assert_eq!(first.org_role, OrgRole::Viewer);
            assert_eq!(first.email, "new@example.com");
            // The address changes at the provider: the subject still finds them.
            let moved = email("renamed@example.com");
            let again = sign_in(&db, &account("sub-1", &moved, &n), Utc::now())
                .await
                .expect("again");
            assert_eq!(again.id, first.id);
            assert_eq!(users::count(&db).await.expect("count"), 1);
            assert!(is_linked(&db, first.id, ISSUER).await.expect("linked"));
        }
    }

    #[tokio::test]
    async fn an_existing_account_is_linked_only_by_a_verified_address() {
        for db in fresh_databases().await {
            let ada = person(&db, "ada", OrgRole::Responder).await;
            let (e, n) = (email("ada@example.com"), name("Ada"));
            let mut unverified = account("sub-ada", &e, &n);
            unverified.email_verified = false;
            assert!(matches!(
                sign_in(&db, &unverified, Utc::now()).await,
                Err(IdentityError::EmailUnverified)
            ));
            assert!(!is_linked(&db, ada, ISSUER).await.expect("linked"));
            let linked = sign_in(&db, &account("sub-ada", &e, &n), Utc::now())
                .await
                .expect("verified");
            assert_eq!(linked.id, ada);
            assert_eq!(
                linked.org_role,
                OrgRole::Responder,
                "no claim: the role stays"
            );
        }
    }

    #[tokio::test]
    async fn the_role_claim_sets_the_role_but_never_demotes_the_last_admin() {
        for db in fresh_databases().await {
            let ada = person(&db, "ada", OrgRole::Admin).await;
            let (e, n) = (email("ada@example.com"), name("Ada"));
            let mut as_viewer = account("sub-ada", &e, &n);
            as_viewer.grant = Some(ProviderGrant {
                org_role: OrgRole::Viewer,
                can_lead: true,
            });
            let kept = sign_in(&db, &as_viewer, Utc::now()).await.expect("sign in");
            assert_eq!(kept.id, ada);
            assert_eq!(kept.org_role, OrgRole::Admin, "{}", db.backend());
            assert!(kept.can_lead);
            person(&db, "bea", OrgRole::Admin).await;
            let demoted = sign_in(&db, &as_viewer, Utc::now()).await.expect("sign in");
            assert_eq!(demoted.org_role, OrgRole::Viewer);
        }
    }

    #[tokio::test]
    async fn a_disabled_account_does_not_sign_in() {
        for db in fresh_databases().await {
            person(&db, "root", OrgRole::Admin).await;
            let eve = person(&db, "eve", OrgRole::Responder).await;
            users::set_disabled(&db, eve, true, Utc::now())
                .await
                .expect("disable");
            let (e, n) = (email("eve@example.com"), name("Eve"));
            assert!(matches!(
                sign_in(&db, &account("sub-eve", &e, &n), Utc::now()).await,
                Err(IdentityError::Disabled)
            ));
            assert!(!is_linked(&db, eve, ISSUER).await.expect("linked"));
        }
    }

    #[tokio::test]
    async fn passwords_go_off_only_for_an_admin_who_signed_in_through_the_provider() {
        for db in fresh_databases().await {
            let ada = person(&db, "ada", OrgRole::Admin).await;
            assert!(!password_sign_in_off(&db).await.expect("read"));
            assert!(matches!(
                set_password_sign_in(&db, false, ada, ISSUER, Utc::now()).await,
                Err(SwitchError::WouldLockOut)
            ));
            let (e, n) = (email("ada@example.com"), name("Ada"));
            sign_in(&db, &account("sub-ada", &e, &n), Utc::now())
                .await
                .expect("link");
            assert!(matches!(
                set_password_sign_in(&db, false, ada, "https://other.example", Utc::now()).await,
                Err(SwitchError::WouldLockOut)
            ));
            set_password_sign_in(&db, false, ada, ISSUER, Utc::now())
                .await
                .expect("off");
            assert!(password_sign_in_off(&db).await.expect("read"));
            set_password_sign_in(&db, true, ada, ISSUER, Utc::now())
                .await
                .expect("on");
            assert!(!password_sign_in_off(&db).await.expect("read"));
        }
    }
}
