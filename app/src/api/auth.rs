//! First-admin setup, sign-in and sign-out, and who the caller is.

use super::ApiError;
use crate::domain::users::OrgRole;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::passwords,
    super::session::{
        begin_session, client_address, end_session, keep_session, respond, session, signed_in_user,
        state,
    },
    crate::domain::throttle::{self, ThrottleDecision},
    crate::domain::users::{Email, NewPassword, PersonName},
    crate::store,
    chrono::Utc,
};

/// The signed-in person, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub org_role: OrgRole,
    /// The leadership permission: authorises mitigations, sees the leadership view.
    pub can_lead: bool,
    /// An admin reset the password: choosing a new one comes before anything else.
    pub must_change_password: bool,
    /// The zone they chose to read times in; `None` until they choose (UTC).
    pub time_zone: Option<String>,
}

impl CurrentUser {
    /// Sees the leadership view: people with the permission, and admins.
    pub fn sees_leadership(&self) -> bool {
        self.can_lead || self.is_admin()
    }

    pub fn is_admin(&self) -> bool {
        self.org_role == OrgRole::Admin
    }

    /// Viewers read incidents and published postmortems, nothing more.
    pub fn is_viewer(&self) -> bool {
        self.org_role == OrgRole::Viewer
    }
}

/// Whether the instance still needs its first admin, and who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthState {
    pub needs_setup: bool,
    pub user: Option<CurrentUser>,
    /// How a signed-out visitor may sign in.
    pub sign_in: SignInOptions,
}

/// The ways to sign in this instance offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub company: Option<CompanySignIn>,
    /// False once an admin turned password sign-in off (and company sign-in works).
    pub passwords: bool,
}

/// Company sign-in (OpenID Connect), as the sign-in page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanySignIn {
    /// The provider's name on the button.
    pub label: String,
    /// The provider's end-session address, for signing out there too.
    pub sign_out_url: Option<String>,
}

/// Where the server keeps company sign-in's offer (filled in at start, and
/// the end-session address once the provider's discovery document is read).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Default)]
pub struct CompanySlot(std::sync::Arc<std::sync::RwLock<Option<CompanySignIn>>>);

#[cfg(feature = "ssr")]
impl CompanySlot {
    pub fn set(&self, offer: CompanySignIn) {
        if let Ok(mut slot) = self.0.write() {
            *slot = Some(offer);
        }
    }

    pub fn get(&self) -> Option<CompanySignIn> {
        self.0.read().ok().and_then(|slot| slot.clone())
    }
}

/// Whether passwords may be used to sign in now: always, unless company
/// sign-in is configured and an admin turned passwords off.
#[cfg(feature = "ssr")]
pub(crate) async fn passwords_allowed(state: &super::AppState) -> Result<bool, ApiError> {
    if state.company.get().is_none() {
        return Ok(true);
    }
    Ok(!store::identities::password_sign_in_off(&state.db).await?)
}

#[cfg(feature = "ssr")]
impl From<store::users::User> for CurrentUser {
    fn from(user: store::users::User) -> Self {
        CurrentUser {
            id: user.id.0,
            name: user.name,
            email: user.email,
            org_role: user.org_role,
            can_lead: user.can_lead,
            must_change_password: user.must_change_password,
            time_zone: user.time_zone,
        }
    }
}

/// Signs in the person a verified provider account belongs to (see
/// `store::identities::sign_in`), and waits until this replica's caches
/// have any change of their role, so their next request sees it.
#[cfg(feature = "ssr")]
pub async fn sign_in_with_provider(
    state: &super::AppState,
    account: &store::identities::ProviderAccount<'_>,
) -> Result<store::users::User, store::identities::IdentityError> {
    let (out, committed) = store::changes::recording(
        &[],
        store::identities::sign_in(&state.db, account, Utc::now()),
    )
    .await;
    if let Some(last) = committed {
        state.events.committed(last).await;
    }
    out
}

#[server(endpoint = "auth_state")]
pub async fn get_auth_state() -> Result<AuthState, ApiError> {
    respond(async {
        let state = state()?;
        let user = signed_in_user(&state).await?;
        let needs_setup = user.is_none() && store::users::count(&state.db).await? == 0;
        // Only a signed-out visitor sees the options: no query on other pages.
        let sign_in = match &user {
            None => SignInOptions {
                company: state.company.get(),
                passwords: passwords_allowed(&state).await?,
            },
            Some(_) => SignInOptions {
                company: None,
                passwords: true,
            },
        };
        Ok(AuthState {
            needs_setup,
            user: user.map(CurrentUser::from),
            sign_in,
        })
    })
    .await
}

/// Creates the first admin and signs them in. Refused once any user exists.
#[server(endpoint = "create_first_admin")]
pub async fn create_first_admin(
    name: String,
    email: String,
    password: String,
) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        let setup_done =
            || ApiError::Forbidden("This instance is set up already. Sign in instead.".to_owned());
        if store::users::count(&state.db).await? > 0 {
            return Err(setup_done());
        }
        let name = PersonName::parse("name", &name)?;
        let email = Email::parse("email", &email)?;
        let password = NewPassword::parse("password", &password)?;
        let hash = passwords::hash(password).await?;
        let user = store::users::create_first_admin(&state.db, &name, &email, &hash, Utc::now())
            .await
            .map_err(|e| match e {
                store::users::UserChangeError::SetupDone => setup_done(),
                other => {
                    tracing::error!(error = %other, "first admin not created");
                    ApiError::Internal
                }
            })?;
        begin_session(&session().await?, &user).await?;
        tracing::info!(user = user.id.0, "first admin created");
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        if !passwords_allowed(&state).await? {
            return Err(ApiError::Forbidden(
                "Password sign-in is off here. Sign in with your company account.".to_owned(),
            ));
        }
        let now = Utc::now();
        let account_key = format!("account:{}", email.trim().to_lowercase());
        // The attempt is reserved (counted as a failure) before any hashing, so
        // concurrent attempts on one account cannot slip past the limit.
        if let ThrottleDecision::Wait { retry_after } =
            store::sign_in_failures::reserve(&state.db, &account_key, throttle::PER_ACCOUNT, now)
                .await?
        {
            return Err(ApiError::TooManyRequests(throttle::retry_message(
                retry_after,
            )));
        }
        // Past the per-address limit only a correct password gets through, so one
        // client behind a shared address cannot lock everyone else out.
        let address_key = client_address(&state).await.map(|a| format!("address:{a}"));
        let mut address_wait = None;
        if let Some(key) = &address_key {
            let policy = throttle::PER_ADDRESS;
            let recent =
                store::sign_in_failures::recent(&state.db, key, policy.window_start(now)).await?;
            if let ThrottleDecision::Wait { retry_after } = policy.decide(recent, now) {
                address_wait = Some(retry_after);
            }
        }

        let found = match Email::parse("email", &email) {
            Ok(email) => store::users::find_credentials(&state.db, &email).await?,
            Err(_) => None,
        };
        let too_long = password.chars().count() > NewPassword::MAX_CHARS;
        let (user, stored_hash) = match found {
            Some((user, hash)) if !user.disabled && !too_long => (Some(user), Some(hash)),
            _ => (None, None),
        };
        let candidate = if too_long { String::new() } else { password };
        let verified = passwords::verify(stored_hash, candidate).await?;
        match user {
            Some(user) if verified => {
                store::sign_in_failures::clear(&state.db, &account_key).await?;
                begin_session(&session().await?, &user).await?;
                leptos_axum::redirect("/");
                Ok(())
            }
            _ => {
                if let Some(key) = address_key {
                    store::sign_in_failures::record(&state.db, &[key], now).await?;
                }
                match address_wait {
                    Some(retry_after) => Err(ApiError::TooManyRequests(throttle::retry_message(
                        retry_after,
                    ))),
                    None => Err(ApiError::BadCredentials),
                }
            }
        }
    })
    .await
}

/// Changes the signed-in user's own password: the current one is required, and
/// every other session of theirs ends. Also how a reset password is replaced.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        let user = signed_in_user(&state)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let new = NewPassword::parse("new", &new)?;
        if current.chars().count() > NewPassword::MAX_CHARS {
            return Err(ApiError::invalid(
                "current",
                "That is not your current password.",
            ));
        }
        let stored = store::users::password_hash(&state.db, user.id).await?;
        if !passwords::verify(stored, current.clone()).await? {
            return Err(ApiError::invalid(
                "current",
                "That is not your current password.",
            ));
        }
        if current == new.expose() {
            return Err(ApiError::invalid(
                "new",
                "Choose a password different from the current one.",
            ));
        }
        let hash = passwords::hash(new).await?;
        let changed = super::incidents::recorded(
            &[],
            store::users::set_password(&state.db, user.id, &hash, false, Utc::now()),
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password not changed");
            ApiError::Internal
        })?;
        keep_session(&session().await?, &changed).await?;
        tracing::info!(user = user.id.0, "password changed");
        Ok(())
    })
    .await
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ApiError> {
    respond(async {
        end_session(&session().await?).await?;
        let company = state()?.company.get();
        // Offers signing out of the provider too, where it has an address for it.
        let offer = company.is_some_and(|c| c.sign_out_url.is_some());
        leptos_axum::redirect(if offer {
            "/sign-in?signed-out"
        } else {
            "/sign-in"
        });
        Ok(())
    })
    .await
}
