//! Admin-only management of user accounts.

use super::ApiError;
use crate::domain::users::OrgRole;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::passwords,
    super::session::{require_admin, respond, state},
    crate::domain::users::{Email, NewPassword, PersonName, UserId},
    crate::store::{
        self,
        users::{NewUser, UserChangeError},
    },
};

/// One row of the admin user list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub org_role: OrgRole,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub can_lead: bool,
}

/// A new account and its initial password, which is shown this once only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedUser {
    pub user: UserSummary,
    pub initial_password: String,
}

#[cfg(feature = "ssr")]
impl From<store::users::User> for UserSummary {
    fn from(user: store::users::User) -> Self {
        UserSummary {
            id: user.id.0,
            name: user.name,
            email: user.email,
            org_role: user.org_role,
            disabled: user.disabled,
            created_at: user.created_at,
            can_lead: user.can_lead,
        }
    }
}

#[cfg(feature = "ssr")]
fn change_refused(e: UserChangeError) -> ApiError {
    match e {
        UserChangeError::EmailTaken => ApiError::invalid(
            "email",
            "An account with this e-mail address exists already.",
        ),
        UserChangeError::NotFound => ApiError::NotFound,
        UserChangeError::LastAdmin => ApiError::Conflict(
            "This is the last active admin. Make someone else an admin first.".to_owned(),
        ),
        UserChangeError::SetupDone => ApiError::Internal,
        UserChangeError::Store(e) => e.into(),
    }
}

/// Gives `user_id` a new generated password, shown this once to the admin; the
/// user must choose their own at next sign-in, and their sessions end now.
#[server(endpoint = "reset_password")]
pub async fn reset_password(user_id: i64) -> Result<String, ApiError> {
    respond(async move {
        let state = state()?;
        let admin = require_admin(&state).await?;
        let password = passwords::generate_initial_password();
        let parsed = NewPassword::parse("password", &password)?;
        let hash = passwords::hash(parsed).await?;
        super::incidents::recorded(
            &[],
            store::users::set_password(&state.db, UserId(user_id), &hash, true, Utc::now()),
        )
        .await
        .map_err(change_refused)?;
        tracing::info!(
            user = user_id,
            by = admin.id.0,
            "password reset by an admin"
        );
        Ok(password)
    })
    .await
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, ApiError> {
    respond(async {
        let state = state()?;
        require_admin(&state).await?;
        let users = store::users::list(&state.db).await?;
        Ok(users.into_iter().map(UserSummary::from).collect())
    })
    .await
}

/// Creates an account with a generated initial password, returned once.
#[server(endpoint = "create_user")]
pub async fn create_user(
    name: String,
    email: String,
    org_role: String,
) -> Result<CreatedUser, ApiError> {
    respond(async move {
        let state = state()?;
        let admin = require_admin(&state).await?;
        let name = PersonName::parse("name", &name)?;
        let email = Email::parse("email", &email)?;
        let org_role = OrgRole::parse("org_role", &org_role)?;
        let initial_password = passwords::generate_initial_password();
        let password = NewPassword::parse("password", &initial_password)?;
        let hash = passwords::hash(password).await?;
        let user = store::users::create(
            &state.db,
            &NewUser {
                name: &name,
                email: &email,
                org_role,
                password_hash: &hash,
            },
            Utc::now(),
        )
        .await
        .map_err(change_refused)?;
        tracing::info!(admin = admin.id.0, user = user.id.0, "user created");
        Ok(CreatedUser {
            user: user.into(),
            initial_password,
        })
    })
    .await
}

#[server(endpoint = "change_org_role")]
pub async fn change_org_role(user_id: i64, org_role: String) -> Result<UserSummary, ApiError> {
    respond(async move {
        let state = state()?;
        let admin = require_admin(&state).await?;
        let org_role = OrgRole::parse("org_role", &org_role)?;
        let user = super::incidents::recorded(
            &[],
            store::users::set_org_role(&state.db, UserId(user_id), org_role, Utc::now()),
        )
        .await
        .map_err(change_refused)?;
        tracing::info!(
            admin = admin.id.0,
            user = user_id,
            role = org_role.as_str(),
            "org role changed"
        );
        Ok(user.into())
    })
    .await
}

/// Disables (or re-enables) an account; a disabled user's sessions end at once.
#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<UserSummary, ApiError> {
    respond(async move {
        let state = state()?;
        let admin = require_admin(&state).await?;
        if disabled && admin.id == UserId(user_id) {
            return Err(ApiError::Conflict(
                "You cannot disable your own account.".to_owned(),
            ));
        }
        let user = super::incidents::recorded(
            &[],
            store::users::set_disabled(&state.db, UserId(user_id), disabled, Utc::now()),
        )
        .await
        .map_err(change_refused)?;
        tracing::info!(
            admin = admin.id.0,
            user = user_id,
            disabled,
            "user access changed"
        );
        Ok(user.into())
    })
    .await
}

/// Grants or takes away the leadership permission (authorising high-impact
/// mitigations, the leadership view), whatever the user's org role.
#[server(endpoint = "set_can_lead")]
pub async fn set_can_lead(user_id: i64, can_lead: bool) -> Result<UserSummary, ApiError> {
    respond(async move {
        let state = state()?;
        let admin = require_admin(&state).await?;
        if !super::incidents::recorded(
            &[],
            store::leadership::set_can_lead(&state.db, UserId(user_id), can_lead),
        )
        .await?
        {
            return Err(ApiError::NotFound);
        }
        let user = store::users::find(&state.db, UserId(user_id))
            .await?
            .ok_or(ApiError::NotFound)?;
        tracing::info!(
            admin = admin.id.0,
            user = user_id,
            can_lead,
            "leadership permission changed"
        );
        Ok(user.into())
    })
    .await
}
