//! Company sign-in through an OpenID Connect provider: the authorization
//! code flow with PKCE, `state` and `nonce` kept in the database (so the
//! callback may land on any replica), the ID token checked by `openidconnect`
//! (signature, issuer, audience, expiry, nonce), the key set fetched again
//! when a token names a key it does not hold, and an HTTP client that never
//! follows a redirect. Also the admin's switch for password sign-in.

use crate::config::OidcConfig;
use crate::plain_page;
use crate::public::page::esc;
use crate::ServerState;
use app::api::auth::{CompanySignIn, CompanySlot};
use app::domain::identities::{grant_from_claim, safe_return_to};
use app::domain::users::{Email, OrgRole, PersonName};
use app::store::identities::{self, IdentityError, PendingLogin, ProviderAccount, SwitchError};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use base64::Engine;
use chrono::Utc;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_sessions::Session;

/// The discovery document is read again after this long (the last good copy
/// is kept when the provider cannot be reached).
const DISCOVERY_FRESH_FOR: Duration = Duration::from_secs(3600);
/// The most bytes read of a discovery document, key set or user info.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// The longest `state` a callback may carry (ours are 22 characters).
const MAX_STATE_CHARS: usize = 200;

/// A client made from discovered metadata: authorization URL set, token
/// and user-info URLs as the provider lists them.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// One configured identity provider, shared by every request.
pub struct Provider {
    config: OidcConfig,
    redirect: RedirectUrl,
    base_url: String,
    http: reqwest::Client,
    discovered: tokio::sync::RwLock<Option<Discovered>>,
    /// One discovery at a time; the others wait for its result.
    discovering: tokio::sync::Mutex<()>,
    slot: CompanySlot,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    end_session: Option<String>,
    at: Instant,
}

/// Why a sign-in could not be finished, as the person sees it.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = format!(
            "<p class=\"error\" role=\"alert\" data-testid=\"sign-in-refused\">{}</p>\
             <p><a href=\"/sign-in\">Back to sign-in</a></p>",
            esc(&self.message)
        );
        plain_page::render(self.status, "Sign-in not finished", &body, "")
    }
}

impl Provider {
    /// The provider of `config`; the sign-in page offers it at once, and its
    /// discovery document is read when first needed.
    pub fn new(
        config: OidcConfig,
        base_url: &str,
        slot: CompanySlot,
    ) -> Result<Arc<Provider>, String> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let redirect = RedirectUrl::new(format!("{base_url}/auth/oidc/callback"))
            .map_err(|e| format!("CALMROOM_BASE_URL does not make a callback address: {e}"))?;
        let http = reqwest::Client::builder()
            // Following a redirect would let a provider's answer send us anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("the HTTP client for company sign-in: {e}"))?;
        slot.set(CompanySignIn {
            label: config.name.clone(),
            sign_out_url: None,
        });
        Ok(Arc::new(Provider {
            config,
            redirect,
            base_url,
            http,
            discovered: Default::default(),
            discovering: Default::default(),
            slot,
        }))
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The provider's metadata with its key set: the kept copy while fresh,
    /// else read again; the last good copy when the provider is unreachable.
    async fn metadata(&self) -> Result<CoreProviderMetadata, Refusal> {
        if let Some(kept) = self.discovered.read().await.as_ref() {
            if kept.at.elapsed() < DISCOVERY_FRESH_FOR {
                return Ok(kept.metadata.clone());
            }
        }
        let _one = self.discovering.lock().await;
        let kept = self.discovered.read().await.clone();
        if let Some(kept) = &kept {
            if kept.at.elapsed() < DISCOVERY_FRESH_FOR {
                return Ok(kept.metadata.clone());
            }
        }
        match self.discover().await {
            Ok(found) => {
                let metadata = found.metadata.clone();
                self.offer(&found);
                *self.discovered.write().await = Some(found);
                Ok(metadata)
            }
            Err(e) => {
                tracing::warn!(issuer = %self.config.issuer, error = %e, "OpenID Connect discovery failed");
                kept.map(|k| k.metadata).ok_or_else(|| {
                    refuse(
                        StatusCode::BAD_GATEWAY,
                        "The company sign-in provider cannot be reached. Try again in a minute, \
                         or sign in with your password.",
                    )
                })
            }
        }
    }

    /// Reads the discovery document at start, so the sign-out offer is
    /// ready; a provider that is down now is tried again when needed.
    pub async fn warm_up(&self) {
        let _ = self.metadata().await;
    }

    fn offer(&self, found: &Discovered) {
        let sign_out_url = found.end_session.as_ref().and_then(|end| {
            let mut url = url::Url::parse(end).ok()?;
            url.query_pairs_mut()
                .append_pair("client_id", &self.config.client_id)
                .append_pair(
                    "post_logout_redirect_uri",
                    &format!("{}/sign-in", self.base_url),
                );
            Some(url.to_string())
        });
        self.slot.set(CompanySignIn {
            label: self.config.name.clone(),
            sign_out_url,
        });
    }

    async fn discover(&self) -> Result<Discovered, String> {
        let address = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let document = self.get_json(&address, None).await?;
        let end_session = document
            .get("end_session_endpoint")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let metadata: CoreProviderMetadata = serde_json::from_value(Value::Object(document))
            .map_err(|e| format!("the discovery document does not parse: {e}"))?;
        if metadata.issuer().as_str() != self.config.issuer {
            return Err(format!(
                "the discovery document names issuer {:?}, not {:?}",
                metadata.issuer().as_str(),
                self.config.issuer
            ));
        }
        let jwks = self.key_set(&metadata).await?;
        Ok(Discovered {
            metadata: metadata.set_jwks(jwks),
            end_session,
            at: Instant::now(),
        })
    }

    async fn key_set(&self, metadata: &CoreProviderMetadata) -> Result<CoreJsonWebKeySet, String> {
        let keys = self.get_json(metadata.jwks_uri().as_str(), None).await?;
        serde_json::from_value(Value::Object(keys))
            .map_err(|e| format!("the key set does not parse: {e}"))
    }

    /// Fetches the key set again (a token named a key we do not hold: the
    /// provider rotated its keys) and keeps it.
    async fn refresh_keys(&self) -> Result<CoreProviderMetadata, Refusal> {
        let metadata = self.metadata().await?;
        let _one = self.discovering.lock().await;
        let jwks = self.key_set(&metadata).await.map_err(|e| {
            tracing::warn!(error = %e, "the provider's key set could not be read again");
            refuse(
                StatusCode::BAD_GATEWAY,
                "The company sign-in provider's keys cannot be read. Try again in a minute.",
            )
        })?;
        let metadata = metadata.set_jwks(jwks);
        if let Some(kept) = self.discovered.write().await.as_mut() {
            kept.metadata = metadata.clone();
        }
        Ok(metadata)
    }

    /// A JSON object from `address`, read to at most [`MAX_DOCUMENT_BYTES`].
    async fn get_json(
        &self,
        address: &str,
        bearer: Option<&str>,
    ) -> Result<Map<String, Value>, String> {
        let mut request = self
            .http
            .get(address)
            .header(header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| format!("{address}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{address} answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("{address}: {e}"))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!(
                    "{address} sent more than {MAX_DOCUMENT_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{address} is not a JSON object: {e}"))
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Client {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
    }
}

pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/auth/oidc/start", get(start))
        .route("/auth/oidc/callback", get(callback))
        .route("/admin/sign-in", get(settings).post(switch))
}

fn provider(state: &ServerState) -> Result<&Arc<Provider>, Refusal> {
    state.oidc.as_ref().ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "Company sign-in is not set up on this instance.",
        )
    })
}

/// Sends the browser to the provider, with a fresh `state`, `nonce` and
/// PKCE challenge kept in the database.
async fn start(
    State(state): State<ServerState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let provider = provider(&state)?;
    let client = provider.client(provider.metadata().await?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in &provider.config.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (address, csrf, nonce) = request.url();
    let login = PendingLogin {
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        return_to: safe_return_to(query.get("next").map(String::as_str)),
    };
    identities::begin_login(&state.app.db, csrf.secret(), &login, Utc::now())
        .await
        .map_err(internal)?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Redirect::to(address.as_str()),
    )
        .into_response())
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "company sign-in failed");
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Try again.",
    )
}

/// Where the provider sends the browser back: the code is exchanged, the
/// ID token checked, and the person signed in.
async fn callback(
    State(state): State<ServerState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let provider = provider(&state)?;
    if let Some(error) = query.get("error") {
        let detail = query
            .get("error_description")
            .map(|d| format!(": {}", d.chars().take(300).collect::<String>()))
            .unwrap_or_default();
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "The provider did not sign you in ({}{detail}).",
                error.chars().take(100).collect::<String>()
            ),
        ));
    }
    let (Some(code), Some(returned_state)) = (query.get("code"), query.get("state")) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "This address is missing its code or state. Start the sign-in again.",
        ));
    };
    let expired = || {
        refuse(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was used already. Start it again.",
        )
    };
    if returned_state.chars().count() > MAX_STATE_CHARS || code.len() > 4096 {
        return Err(expired());
    }
    let login = identities::take_login(&state.app.db, returned_state, Utc::now())
        .await
        .map_err(internal)?
        .ok_or_else(expired)?;

    let metadata = provider.metadata().await?;
    let client = provider.client(metadata);
    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .map_err(internal)?
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(&provider.http)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(answer) => {
                tracing::info!(error = %answer.error(), "the provider refused the code");
                refuse(
                    StatusCode::BAD_REQUEST,
                    "The provider refused this sign-in code (it may have been used already). \
                     Start the sign-in again.",
                )
            }
            other => {
                tracing::warn!(error = %other, "the code could not be exchanged");
                refuse(
                    StatusCode::BAD_GATEWAY,
                    "The company sign-in provider did not answer properly. Try again in a minute.",
                )
            }
        })?;
    let id_token = token.id_token().ok_or_else(|| {
        refuse(
            StatusCode::BAD_GATEWAY,
            "The provider sent no ID token. Ask an admin to check the provider's settings.",
        )
    })?;
    let nonce = Nonce::new(login.nonce.clone());
    let claims = match verified(&client, id_token, &nonce, token.access_token()) {
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            let client = provider.client(provider.refresh_keys().await?);
            verified(&client, id_token, &nonce, token.access_token())
        }
        other => other,
    }
    .map_err(|e| {
        tracing::warn!(error = %e, "an ID token was refused");
        refuse(
            StatusCode::UNAUTHORIZED,
            format!("The provider's ID token was not accepted ({e}). Start the sign-in again."),
        )
    })?;

    let mut raw = payload(id_token).map_err(internal)?;
    let missing_role = provider
        .config
        .role_claim
        .as_ref()
        .is_some_and(|c| !raw.contains_key(c));
    if !raw.contains_key("email") || missing_role {
        if let Some(endpoint) = client.user_info_url() {
            match provider
                .get_json(endpoint.as_str(), Some(token.access_token().secret()))
                .await
            {
                Ok(info)
                    if info.get("sub").and_then(Value::as_str)
                        == Some(claims.subject().as_str()) =>
                {
                    for (key, value) in info {
                        raw.entry(key).or_insert(value);
                    }
                }
                Ok(_) => tracing::warn!("user info names another subject; ignored"),
                Err(e) => tracing::warn!(error = %e, "user info could not be read"),
            }
        }
    }
    let email = raw
        .get("email")
        .and_then(Value::as_str)
        .and_then(|e| Email::parse("email", e).ok());
    let email_verified = match raw.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let name = person_name(&raw, email.as_ref()).map_err(internal)?;
    let grant = provider
        .config
        .role_claim
        .as_ref()
        .map(|claim| grant_from_claim(raw.get(claim)));
    let account = ProviderAccount {
        issuer: &provider.config.issuer,
        subject: claims.subject().as_str(),
        email: email.as_ref(),
        email_verified,
        name: &name,
        grant,
    };
    let user = app::api::auth::sign_in_with_provider(&state.app, &account)
        .await
        .map_err(|e| match e {
            IdentityError::Disabled => refuse(
                StatusCode::FORBIDDEN,
                "Your Calmroom account is disabled. Ask an admin.",
            ),
            IdentityError::NoEmail => refuse(
                StatusCode::FORBIDDEN,
                "The provider sent no e-mail address. Ask an admin to add the email scope.",
            ),
            IdentityError::EmailUnverified => refuse(
                StatusCode::CONFLICT,
                "An account with your e-mail address exists, and the provider has not verified \
                 that address, so it cannot be linked. Ask an admin.",
            ),
            IdentityError::Store(e) => internal(e),
        })?;
    app::api::begin_session(&session, &user)
        .await
        .map_err(|e| internal(format!("{e:?}")))?;
    tracing::info!(user = user.id.0, "signed in through the company provider");
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Redirect::to(&login.return_to),
    )
        .into_response())
}

/// The ID token's claims once its signature, issuer, audience, expiry and
/// nonce check out, and the access token it names (`at_hash`) matches.
fn verified(
    client: &Client,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    access_token: &openidconnect::AccessToken,
) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, nonce)?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(ClaimsVerificationError::SignatureVerification)?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(ClaimsVerificationError::SignatureVerification)?;
        let actual = AccessTokenHash::from_token(access_token, alg, key)
            .map_err(|e| ClaimsVerificationError::Other(format!("at_hash: {e}")))?;
        if actual != *expected {
            return Err(ClaimsVerificationError::Other(
                "the access token does not match the ID token's at_hash".to_owned(),
            ));
        }
    }
    Ok(claims.clone())
}

/// Every claim of a verified ID token (for the configured role claim).
fn payload(id_token: &CoreIdToken) -> Result<Map<String, Value>, String> {
    let text = id_token.to_string();
    let part = text
        .split('.')
        .nth(1)
        .ok_or("the ID token has no payload")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| format!("the ID token's payload: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the ID token's payload: {e}"))
}

/// A display name from the claims: `name`, else `preferred_username`, else
/// the e-mail address's local part, else "Company user".
fn person_name(raw: &Map<String, Value>, email: Option<&Email>) -> Result<PersonName, String> {
    let local = email.and_then(|e| e.as_str().split('@').next().map(str::to_owned));
    ["name", "preferred_username"]
        .iter()
        .filter_map(|k| raw.get(*k).and_then(Value::as_str).map(str::to_owned))
        .chain(local)
        .chain(std::iter::once("Company user".to_owned()))
        .find_map(|candidate| {
            let short: String = candidate.chars().take(PersonName::MAX_CHARS).collect();
            PersonName::parse("name", &short).ok()
        })
        .ok_or_else(|| "no display name could be made".to_owned())
}

/// `/admin/sign-in`: how people sign in, and the password switch.
async fn settings(State(state): State<ServerState>, session: Session) -> Response {
    let Some(user) = app::api::session_user(&state.app, &session).await else {
        return Redirect::to("/sign-in").into_response();
    };
    settings_page(&state, &user, None).await
}

async fn switch(
    State(state): State<ServerState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(user) = app::api::session_user(&state.app, &session).await else {
        return Redirect::to("/sign-in").into_response();
    };
    if user.org_role != OrgRole::Admin {
        return settings_page(&state, &user, None).await;
    }
    let Some(provider) = state.oidc.as_ref() else {
        return settings_page(&state, &user, None).await;
    };
    let on = match form.get("passwords").map(String::as_str) {
        Some("on") => true,
        Some("off") => false,
        _ => {
            return settings_page(
                &state,
                &user,
                Some((StatusCode::UNPROCESSABLE_ENTITY, "Choose on or off.")),
            )
            .await
        }
    };
    match identities::set_password_sign_in(
        &state.app.db,
        on,
        user.id,
        provider.issuer(),
        Utc::now(),
    )
    .await
    {
        Ok(()) => {
            tracing::info!(user = user.id.0, on, "password sign-in switched");
            Redirect::to("/admin/sign-in").into_response()
        }
        Err(SwitchError::WouldLockOut) => {
            settings_page(
                &state,
                &user,
                Some((
                    StatusCode::CONFLICT,
                    "Sign in with the company provider yourself first: passwords go off only \
                     once an admin has shown the provider works for them.",
                )),
            )
            .await
        }
        Err(SwitchError::Store(e)) => internal(e).into_response(),
    }
}

async fn settings_page(
    state: &ServerState,
    user: &app::store::users::User,
    error: Option<(StatusCode, &str)>,
) -> Response {
    if user.org_role != OrgRole::Admin {
        return refuse(
            StatusCode::FORBIDDEN,
            "Only admins change how people sign in.",
        )
        .into_response();
    }
    let mut out = String::with_capacity(2048);
    if let Some((_, message)) = error {
        let _ = write!(
            out,
            "<p class=\"error\" role=\"alert\">{}</p>",
            esc(message)
        );
    }
    let Some(provider) = state.oidc.as_ref() else {
        out.push_str(
            "<p data-testid=\"company-sign-in\">Company sign-in is not set up. Set \
             <code>CALMROOM_OIDC_ISSUER</code>, <code>CALMROOM_OIDC_CLIENT_ID</code> and \
             <code>CALMROOM_OIDC_CLIENT_SECRET</code> and restart; people then sign in with \
             the company's identity provider. Until then everyone signs in with a password.</p>",
        );
        return plain_page::render(StatusCode::OK, "How people sign in", &out, EXTRA);
    };
    let off = identities::password_sign_in_off(&state.app.db)
        .await
        .unwrap_or(false);
    let linked = identities::is_linked(&state.app.db, user.id, provider.issuer())
        .await
        .unwrap_or(false);
    let reachable = provider.metadata().await.is_ok();
    let _ = write!(
        out,
        "<section class=\"card\" data-testid=\"company-sign-in\"><h2>Company sign-in</h2>\
         <p>Provider: <code>{issuer}</code> · {state}</p>\
         <p class=\"meta\">Callback address to register there: <code>{callback}</code></p>\
         <p class=\"meta\">{you}</p></section>",
        issuer = esc(provider.issuer()),
        state = if reachable {
            "reachable"
        } else {
            "<strong>cannot be reached now</strong>"
        },
        callback = esc(provider.redirect.as_str()),
        you = if linked {
            "You have signed in through it."
        } else {
            "You have not signed in through it yet: do that before turning passwords off."
        },
    );
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/admin/sign-in\" class=\"card\" data-testid=\"password-switch\">\
         <h2>Password sign-in</h2><p data-testid=\"password-state\">Password sign-in is <strong>{now}</strong>.</p>\
         <p class=\"meta\">{meaning}</p>\
         <input type=\"hidden\" name=\"passwords\" value=\"{next}\">\
         <button type=\"submit\"{blocked}>{label}</button></form>",
        blocked = if !off && !linked { " disabled" } else { "" },
        now = if off { "off" } else { "on" },
        meaning = if off {
            "Everyone signs in through the company provider. API tokens keep working."
        } else {
            "People may sign in with a password or through the company provider."
        },
        next = if off { "on" } else { "off" },
        label = if off {
            "Turn password sign-in back on"
        } else {
            "Turn password sign-in off"
        },
    );
    out.push_str("<footer><a href=\"/admin/users\">Back to people</a></footer>");
    let status = error.map_or(StatusCode::OK, |(status, _)| status);
    plain_page::render(status, "How people sign in", &out, EXTRA)
}

const EXTRA: &str =
    "form.card{display:flex;flex-direction:column;gap:.4rem;align-items:flex-start}\
button:disabled{opacity:.55;cursor:not-allowed}.card h2{margin:0}code{overflow-wrap:anywhere}";
