//! API tokens: made by a person for a script, kept only as a hash, and
//! accepted until they expire, are revoked, or their owner is disabled.

use super::tx::sql;
use super::{read, Db, StoreError};
use crate::domain::tokens::{ApiToken, TokenName};
use crate::domain::users::UserId;
use chrono::{DateTime, Duration, Utc};

/// A token's last use is written at most this often: a script polling every
/// second does not write a row per request.
const TOUCH_AFTER_SECS: i64 = 60;

/// What a new token is made of; the secret's hash is made by the caller.
pub struct NewToken<'a> {
    pub owner: UserId,
    pub name: &'a TokenName,
    pub secret_sha256: &'a str,
    pub can_write: bool,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    user_id: i64,
    owner_name: String,
    owner_email: String,
    name: String,
    can_write: bool,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(row: TokenRow) -> Self {
        ApiToken {
            id: row.id,
            owner: UserId(row.user_id),
            owner_name: row.owner_name,
            owner_email: row.owner_email,
            name: row.name,
            can_write: row.can_write,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        }
    }
}

const TOKEN_SELECT: &str = "SELECT t.id, t.user_id, u.name AS owner_name, u.email AS owner_email, \
     t.name, t.can_write, t.created_at, t.expires_at, t.last_used_at, t.revoked_at \
     FROM api_tokens t JOIN users u ON u.id = t.user_id";

/// The most tokens one person may hold at once (not revoked, not expired).
pub const MAX_LIVE_PER_USER: i64 = 50;

/// Why a token was not made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("too many live tokens")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::Store(e.into())
    }
}

/// Stores a new token for its owner (at most [`MAX_LIVE_PER_USER`] live).
pub async fn create(
    db: &Db,
    new: &NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<ApiToken, TokenError> {
    let mut tx = db.begin().await?;
    // Serialise one person's token changes, so two at once cannot both pass the count.
    tx.execute(sql("UPDATE users SET updated_at = updated_at WHERE id = $1").bind(new.owner.0))
        .await?;
    let live: i64 = tx
        .scalar(
            sql(
                "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
                 AND expires_at > $2",
            )
            .bind(new.owner.0)
            .bind(now),
        )
        .await?;
    if live >= MAX_LIVE_PER_USER {
        return Err(TokenError::TooMany);
    }
    let id: i64 = tx
        .scalar(
            sql(
                "INSERT INTO api_tokens (user_id, name, secret_sha256, can_write, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(new.owner.0)
            .bind(new.name.as_str())
            .bind(new.secret_sha256)
            .bind(new.can_write)
            .bind(now)
            .bind(new.expires_at),
        )
        .await?;
    let row: TokenRow = tx
        .fetch_one(sql(format!("{TOKEN_SELECT} WHERE t.id = $1")).bind(id))
        .await?;
    tx.commit().await?;
    Ok(row.into())
}

/// The tokens of `owner` (everyone's when `None`), newest first; revoked and
/// expired ones stay listed for a month so their last use can be read.
pub async fn list(
    db: &Db,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Vec<ApiToken>, StoreError> {
    let shown_since = now - Duration::days(30);
    let rows: Vec<TokenRow> = read!(db, pool => {
        sqlx::query_as(&format!(
            "{TOKEN_SELECT} WHERE ($1 IS NULL OR t.user_id = $1) \
             AND COALESCE(t.revoked_at, t.expires_at) > $2 ORDER BY t.id DESC LIMIT 500"
        ))
        .bind(owner.map(|o| o.0))
        .bind(shown_since)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

/// Revokes token `id` (only if `owner` holds it, when given). False when
/// there is no such live token.
pub async fn revoke(
    db: &Db,
    id: i64,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            sql(
                "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND revoked_at IS NULL \
                 AND ($2 IS NULL OR user_id = $2)",
            )
            .bind(id)
            .bind(owner.map(|o| o.0))
            .bind(now),
        )
        .await?;
    tx.commit().await?;
    Ok(changed > 0)
}

/// A token that may be used now, as a request presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveToken {
    pub id: i64,
    pub owner: UserId,
    pub can_write: bool,
}

/// The live token whose secret hashes to `secret_sha256` (not revoked, not
/// expired), marking it used. Whether its owner may still act is the caller's
/// check (the owner's account is read from the kept copy).
pub async fn use_token(
    db: &Db,
    secret_sha256: &str,
    now: DateTime<Utc>,
) -> Result<Option<LiveToken>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        user_id: i64,
        can_write: bool,
        last_used_at: Option<DateTime<Utc>>,
    }
    let row: Option<Row> = read!(db, pool => {
        sqlx::query_as(
            "SELECT id, user_id, can_write, last_used_at FROM api_tokens \
             WHERE secret_sha256 = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(secret_sha256)
        .bind(now)
        .fetch_optional(pool)
        .await?
    });
    let Some(row) = row else { return Ok(None) };
    if row
        .last_used_at
        .is_none_or(|at| (now - at).num_seconds() >= TOUCH_AFTER_SECS)
    {
        let mut tx = db.begin().await?;
        tx.execute(
            sql("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(row.id)
                .bind(now),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Some(LiveToken {
        id: row.id,
        owner: UserId(row.user_id),
        can_write: row.can_write,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::users::{Email, OrgRole, PersonName};
    use crate::store::testing::fresh_databases;
    use crate::store::users::{self, NewUser};

    async fn person(db: &Db, who: &str) -> UserId {
        let name = PersonName::parse("name", who).expect("name");
        let email = Email::parse("email", &format!("{who}@example.com")).expect("email");
        let new = NewUser {
            name: &name,
            email: &email,
            org_role: OrgRole::Responder,
            password_hash: "hash",
        };
        users::create(db, &new, Utc::now()).await.expect("user").id
    }

    async fn token(db: &Db, owner: UserId, secret: &str, expires_at: DateTime<Utc>) -> ApiToken {
        let name = TokenName::parse("name", "deploy bot").expect("name");
        let new = NewToken {
            owner,
            name: &name,
            secret_sha256: secret,
            can_write: false,
            expires_at,
        };
        create(db, &new, Utc::now()).await.expect("token")
    }

    #[tokio::test]
    async fn a_token_works_until_it_is_revoked_or_expires_and_only_its_owner_revokes_it() {
        for db in fresh_databases().await {
            let now = Utc::now();
            let ada = person(&db, "ada").await;
            let bob = person(&db, "bob").await;
            let made = token(&db, ada, "aaa", now + Duration::days(30)).await;
            assert_eq!(made.owner_name, "ada");
            let live = use_token(&db, "aaa", now)
                .await
                .expect("use")
                .expect("live");
            assert_eq!((live.owner, live.can_write), (ada, false));
            let listed = list(&db, Some(ada), now).await.expect("list");
            assert!(listed[0].last_used_at.is_some(), "its use is shown");
            assert!(list(&db, Some(bob), now).await.expect("list").is_empty());

            assert!(!revoke(&db, made.id, Some(bob), now).await.expect("revoke"));
            assert!(use_token(&db, "aaa", now).await.expect("use").is_some());
            assert!(revoke(&db, made.id, Some(ada), now).await.expect("revoke"));
            assert_eq!(use_token(&db, "aaa", now).await.expect("use"), None);

            token(&db, bob, "bbb", now + Duration::days(1)).await;
            let later = now + Duration::days(2);
            assert_eq!(use_token(&db, "bbb", later).await.expect("use"), None);
            // An admin's list holds everyone's.
            assert_eq!(list(&db, None, now).await.expect("list").len(), 2);
        }
    }

    #[tokio::test]
    async fn one_person_holds_a_bounded_number_of_live_tokens() {
        for db in fresh_databases().await {
            let ada = person(&db, "ada").await;
            let later = Utc::now() + Duration::days(1);
            for n in 0..MAX_LIVE_PER_USER {
                token(&db, ada, &format!("s{n}"), later).await;
            }
            let name = TokenName::parse("name", "one more").expect("name");
            let new = NewToken {
                owner: ada,
                name: &name,
                secret_sha256: "over",
                can_write: true,
                expires_at: later,
            };
            assert!(matches!(
                create(&db, &new, Utc::now()).await,
                Err(TokenError::TooMany)
            ));
        }
    }
}
