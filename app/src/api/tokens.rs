//! API tokens: each person makes them on their account page for scripts and
//! bots. A token acts as its owner, with the owner's permissions and never
//! more (read-only tokens not even those), and only on `/api/v1`: server
//! functions and pages take sessions alone, so a token cannot make tokens,
//! change a password or manage users.

use super::ApiError;
use crate::domain::tokens::{ApiToken, MadeToken};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::session::{require_user, respond, state, AppState},
    crate::domain::tokens::{self, TokenName},
    crate::domain::users::{OrgRole, UserId},
    crate::store::{self, users::User},
    chrono::{Duration, Utc},
};

/// Who a request to `/api/v1` acts as, put into its context once its bearer
/// token was accepted. The session checks read it instead of a cookie.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub token_id: i64,
    pub owner: UserId,
    pub can_write: bool,
}

/// The caller a bearer secret stands for: a live token whose owner is
/// enabled. Anything else is one 401, so a guess learns nothing.
#[cfg(feature = "ssr")]
pub async fn token_caller(state: &AppState, secret: &str) -> Result<TokenCaller, ApiError> {
    if !tokens::looks_like_secret(secret) {
        return Err(ApiError::Unauthorized);
    }
    let hash = super::alerts::secret_hash(secret);
    let live = store::tokens::use_token(&state.db, &hash, Utc::now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    match state.user(live.owner).await? {
        Some(owner) if !owner.disabled => Ok(TokenCaller {
            token_id: live.id,
            owner: owner.id,
            can_write: live.can_write,
        }),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The person a token acts as (on `/api/v1`).
#[cfg(feature = "ssr")]
pub async fn token_owner() -> Result<super::auth::CurrentUser, ApiError> {
    Ok(require_user(&state()?).await?.into())
}

/// The person signed in with a browser session: tokens are made and revoked
/// there only.
#[cfg(feature = "ssr")]
async fn session_person(state: &AppState) -> Result<User, ApiError> {
    if use_context::<TokenCaller>().is_some() {
        return Err(ApiError::Forbidden(
            "API tokens are managed on the account page, not with a token.".to_owned(),
        ));
    }
    require_user(state).await
}

/// Makes a token for `user`. `access` is "read" or "write" (viewers: read
/// only); `days` its lifetime. The secret is in the answer and nowhere else.
#[cfg(feature = "ssr")]
pub async fn make_token(
    state: &AppState,
    user: &User,
    name: &str,
    access: &str,
    days: &str,
) -> Result<MadeToken, ApiError> {
    let name = TokenName::parse("name", name)?;
    let can_write = tokens::parse_access("access", access)?;
    if can_write && user.org_role == OrgRole::Viewer {
        return Err(ApiError::invalid(
            "access",
            "Viewers can make read-only tokens only.",
        ));
    }
    let days = tokens::parse_days("days", days)?;
    let secret = {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        tokens::secret_from(bytes)
    };
    let now = Utc::now();
    let new = store::tokens::NewToken {
        owner: user.id,
        name: &name,
        secret_sha256: &super::alerts::secret_hash(&secret),
        can_write,
        expires_at: now + Duration::days(days),
    };
    let token = store::tokens::create(&state.db, &new, now)
        .await
        .map_err(|e| match e {
            store::tokens::TokenError::TooMany => ApiError::Conflict(format!(
                "You hold {} live tokens already: revoke one you no longer use.",
                store::tokens::MAX_LIVE_PER_USER
            )),
            store::tokens::TokenError::Store(e) => e.into(),
        })?;
    tracing::info!(
        token = token.id,
        user = user.id.0,
        can_write,
        "API token made"
    );
    Ok(MadeToken { secret, token })
}

/// `user`'s tokens, or with `everyone` (admins only) all of them.
#[cfg(feature = "ssr")]
pub async fn tokens_of(
    state: &AppState,
    user: &User,
    everyone: bool,
) -> Result<Vec<ApiToken>, ApiError> {
    let owner = match (everyone, user.org_role) {
        (false, _) => Some(user.id),
        (true, OrgRole::Admin) => None,
        (true, _) => {
            return Err(ApiError::Forbidden(
                "Only admins see everyone's tokens.".to_owned(),
            ))
        }
    };
    Ok(store::tokens::list(&state.db, owner, Utc::now()).await?)
}

/// Revokes token `id` as `user`: their own, or anyone's for an admin. It
/// stops working at once, on every replica (each request reads the token).
#[cfg(feature = "ssr")]
pub async fn revoke_token(state: &AppState, user: &User, id: i64) -> Result<(), ApiError> {
    let owner = (user.org_role != OrgRole::Admin).then_some(user.id);
    if store::tokens::revoke(&state.db, id, owner, Utc::now()).await? {
        tracing::info!(token = id, by = user.id.0, "API token revoked");
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Makes a token for the signed-in person ([`make_token`]).
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    access: String,
    days: String,
) -> Result<MadeToken, ApiError> {
    respond(async move {
        let state = state()?;
        let user = session_person(&state).await?;
        make_token(&state, &user, &name, &access, &days).await
    })
    .await
}

/// The signed-in person's tokens, or with `everyone` (admins only) all of them.
#[server(endpoint = "list_api_tokens")]
pub async fn list_api_tokens(everyone: bool) -> Result<Vec<ApiToken>, ApiError> {
    respond(async move {
        let state = state()?;
        let user = session_person(&state).await?;
        tokens_of(&state, &user, everyone).await
    })
    .await
}

/// Revokes token `id` ([`revoke_token`]).
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        let user = session_person(&state).await?;
        revoke_token(&state, &user, id).await
    })
    .await
}
