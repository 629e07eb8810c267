//! Company sign-in (OpenID Connect) against an identity provider run by the
//! test on loopback: it publishes a discovery document and a key set, and its
//! token endpoint signs ID tokens as each test tells it to (a wrong audience,
//! an expired token, another key), checks PKCE, and accepts each code once.

use super::*;
use axum::extract::{Form, State};
use axum::routing::{get, post};
use axum::Json;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, EndUserEmail, IdToken, IdTokenClaims, IssuerUrl,
    JsonWebKeyId, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const CLIENT_ID: &str = "calmroom";
const CLIENT_SECRET: &str = "test client secret";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RoleClaim {
    #[serde(skip_serializing_if = "Option::is_none")]
    calmroom_role: Option<Vec<String>>,
}
impl AdditionalClaims for RoleClaim {}

/// Who signs in at the provider, and how the token for them is made.
#[derive(Clone)]
struct Person {
    subject: String,
    email: String,
    verified: bool,
    roles: Option<Vec<String>>,
    audience: String,
    lifetime_secs: i64,
    /// The key (by id) the ID token is signed with.
    signed_with: &'static str,
}

fn person(subject: &str, email: &str) -> Person {
    Person {
        subject: subject.to_owned(),
        email: email.to_owned(),
        verified: true,
        roles: None,
        audience: CLIENT_ID.to_owned(),
        lifetime_secs: 300,
        signed_with: "key-1",
    }
}

struct Grant {
    who: Person,
    nonce: String,
    challenge: String,
}

struct IdpState {
    issuer: String,
    published: Vec<&'static str>,
    codes: HashMap<String, Grant>,
    next_code: u32,
    key_set_reads: usize,
}

#[derive(Clone)]
struct Idp(Arc<Mutex<IdpState>>);

fn key(kid: &str) -> CoreRsaPrivateSigningKey {
    let pem = match kid {
        "key-1" => include_str!("../fixtures/oidc-test-key-1.pem"),
        _ => include_str!("../fixtures/oidc-test-key-2.pem"),
    };
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.to_owned()))).expect("key")
}

impl Idp {
    async fn start() -> (Idp, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("address"));
        let idp = Idp(Arc::new(Mutex::new(IdpState {
            issuer: issuer.clone(),
            published: vec!["key-1"],
            codes: HashMap::new(),
            next_code: 0,
            key_set_reads: 0,
        })));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(key_set))
            .route("/token", post(token))
            .with_state(idp.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (idp, issuer)
    }

    fn with<T>(&self, f: impl FnOnce(&mut IdpState) -> T) -> T {
        f(&mut self.0.lock().expect("idp state"))
    }

    /// What the provider would do once the person signs in at
    /// `authorize` (our redirect): a code for our callback.
    fn authorize(&self, authorize: &str, who: Person) -> (String, String) {
        let url = url::Url::parse(authorize).expect("authorize URL");
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], CLIENT_ID);
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["code_challenge_method"], "S256", "PKCE is used");
        assert_eq!(
            query["redirect_uri"],
            "http://127.0.0.1:3000/auth/oidc/callback"
        );
        assert!(query["scope"].split(' ').any(|s| s == "openid"));
        let code = self.with(|s| {
            s.next_code += 1;
            let code = format!("code-{}", s.next_code);
            s.codes.insert(
                code.clone(),
                Grant {
                    who,
                    nonce: query["nonce"].clone(),
                    challenge: query["code_challenge"].clone(),
                },
            );
            code
        });
        (code, query["state"].clone())
    }
}

async fn discovery(State(idp): State<Idp>) -> Json<serde_json::Value> {
    let issuer = idp.with(|s| s.issuer.clone());
    Json(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/session/end"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn key_set(State(idp): State<Idp>) -> Json<CoreJsonWebKeySet> {
    let published = idp.with(|s| {
        s.key_set_reads += 1;
        s.published.clone()
    });
    Json(CoreJsonWebKeySet::new(
        published
            .iter()
            .map(|kid| key(kid).as_verification_key())
            .collect(),
    ))
}

async fn token(
    State(idp): State<Idp>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use base64::Engine;
    use sha2::Digest;
    let refused = |error: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": error })),
        )
            .into_response()
    };
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{CLIENT_ID}:{}", CLIENT_SECRET.replace(' ', "+")));
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {basic}"));
    if !authorised {
        return refused("invalid_client");
    }
    let Some(grant) = form
        .get("code")
        .and_then(|code| idp.with(|s| s.codes.remove(code)))
    else {
        return refused("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge {
        return refused("invalid_grant");
    }
    let issuer = idp.with(|s| s.issuer.clone());
    let who = grant.who;
    let access = AccessToken::new(format!("access-{}", who.subject));
    let now = chrono::Utc::now();
    let claims = IdTokenClaims::<RoleClaim, CoreGenderClaim>::new(
        IssuerUrl::new(issuer).expect("issuer"),
        vec![Audience::new(who.audience.clone())],
        now + chrono::Duration::seconds(who.lifetime_secs),
        now - chrono::Duration::seconds(5),
        StandardClaims::new(SubjectIdentifier::new(who.subject.clone()))
            .set_email(Some(EndUserEmail::new(who.email.clone())))
            .set_email_verified(Some(who.verified)),
        RoleClaim {
            calmroom_role: who.roles.clone(),
        },
    )
    .set_nonce(Some(Nonce::new(grant.nonce)));
    let id_token = IdToken::<
        RoleClaim,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >::new(
        claims,
        &key(who.signed_with),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&access),
        None,
    )
    .expect("signed ID token");
    Json(serde_json::json!({
        "access_token": access.secret(),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}

async fn with_provider() -> Vec<(TestServer, Idp)> {
    let mut out = Vec::new();
    for db in fresh_databases().await {
        let (idp, issuer) = Idp::start().await;
        let config = server::config::OidcConfig {
            issuer,
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            scopes: vec!["email".to_owned(), "profile".to_owned()],
            role_claim: Some("calmroom_role".to_owned()),
            name: "Example SSO".to_owned(),
        };
        let server = server_built(
            db,
            false,
            None,
            server::alerts::Intake::default(),
            Some(config),
        )
        .await;
        out.push((server, idp));
    }
    out
}

/// Runs the flow up to our callback: start, the provider's answer; returns
/// the callback's path.
async fn through_provider(server: &TestServer, idp: &Idp, who: Person, next: &str) -> String {
    let start = server
        .get(&format!("/auth/oidc/start?next={}", encode(next)), None)
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let location = start.headers[header::LOCATION].to_str().expect("location");
    let (code, state) = idp.authorize(location, who);
    format!(
        "/auth/oidc/callback?code={}&state={}",
        encode(&code),
        encode(&state)
    )
}

fn location(reply: &Reply) -> &str {
    reply
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_first_company_sign_in_makes_the_person_with_the_claimed_role_and_signs_them_in() {
    for (server, idp) in with_provider().await {
        let admin = server.set_up().await;
        let offered: serde_json::Value =
            serde_json::from_str(&server.call("auth_state", None, &[]).await.body).expect("json");
        assert_eq!(offered["sign_in"]["company"]["label"], "Example SSO");
        assert_eq!(offered["sign_in"]["passwords"], true);

        let mut rae = person("sub-rae", "Rae@Example.com");
        rae.roles = Some(vec!["responder".into(), "leadership".into()]);
        let callback = through_provider(&server, &idp, rae, "/incidents/7").await;
        let done = server.get(&callback, None).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(location(&done), "/incidents/7", "back where they started");
        let cookie = done.cookie.expect("a session");
        let state: serde_json::Value =
            serde_json::from_str(&server.call("auth_state", Some(&cookie), &[]).await.body)
                .expect("json");
        assert_eq!(state["user"]["email"], "rae@example.com");
        assert_eq!(state["user"]["org_role"], "Responder");
        assert_eq!(state["user"]["can_lead"], true);

        // The next sign-in finds the same person, and the claim still rules.
        let mut again = person("sub-rae", "rae@example.com");
        again.roles = Some(vec!["viewer".into()]);
        let callback = through_provider(&server, &idp, again, "https://evil.example/").await;
        let done = server.get(&callback, None).await;
        assert_eq!(
            location(&done),
            "/",
            "only paths on this site are returned to"
        );
        let cookie = done.cookie.expect("a session");
        let state: serde_json::Value =
            serde_json::from_str(&server.call("auth_state", Some(&cookie), &[]).await.body)
                .expect("json");
        assert_eq!(state["user"]["org_role"], "Viewer");
        let people: serde_json::Value =
            serde_json::from_str(&server.call("list_users", Some(&admin), &[]).await.body)
                .expect("json");
        assert_eq!(people.as_array().map(Vec::len), Some(2), "{people}");
    }
}

#[tokio::test]
async fn a_wrong_or_replayed_state_or_code_signs_nobody_in() {
    for (server, idp) in with_provider().await {
        server.set_up().await;
        let callback =
            through_provider(&server, &idp, person("sub-1", "one@example.com"), "/").await;
        let forged = callback.replace("state=", "state=x");
        let refused = server.get(&forged, None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(
            refused.body.contains("expired or was used already"),
            "{}",
            refused.body
        );
        assert!(refused.cookie.is_none(), "no session for a wrong state");

        let done = server.get(&callback, None).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let replayed = server.get(&callback, None).await;
        assert_eq!(
            replayed.status,
            StatusCode::BAD_REQUEST,
            "the state is used once"
        );
        assert!(replayed.cookie.is_none());

        // The same code with a fresh state: the provider refuses it.
        let code = callback
            .split("code=")
            .nth(1)
            .and_then(|rest| rest.split('&').next())
            .expect("code")
            .to_owned();
        let fresh = through_provider(&server, &idp, person("sub-1", "one@example.com"), "/").await;
        let fresh_state = fresh.split("state=").nth(1).expect("state");
        let reused = server
            .get(
                &format!("/auth/oidc/callback?code={code}&state={fresh_state}"),
                None,
            )
            .await;
        assert_eq!(reused.status, StatusCode::BAD_REQUEST, "{}", reused.body);
        assert!(
            reused.body.contains("refused this sign-in code"),
            "{}",
            reused.body
        );
        assert!(reused.cookie.is_none());
    }
}

#[tokio::test]
async fn an_expired_token_or_one_for_another_audience_is_refused() {
    for (server, idp) in with_provider().await {
        server.set_up().await;
        let mut expired = person("sub-old", "old@example.com");
        expired.lifetime_secs = -120;
        let mut elsewhere = person("sub-else", "else@example.com");
        elsewhere.audience = "another-app".to_owned();
        for (who, says) in [(expired, "Expired"), (elsewhere, "audiences")] {
            let callback = through_provider(&server, &idp, who, "/").await;
            let refused = server.get(&callback, None).await;
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
            assert!(refused.body.contains(says), "{}", refused.body);
            assert!(refused.cookie.is_none());
        }
        let users = app::store::users::count(&server.db).await.expect("count");
        assert_eq!(users, 1, "nobody was made");
    }
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_and_an_unknown_one_refused() {
    for (server, idp) in with_provider().await {
        server.set_up().await;
        let callback = through_provider(&server, &idp, person("sub-k", "k@example.com"), "/").await;
        assert_eq!(
            server.get(&callback, None).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(idp.with(|s| s.key_set_reads), 1, "read once at discovery");

        // The provider rotates: key 2 is published and signs from now on.
        idp.with(|s| s.published = vec!["key-2"]);
        let mut rotated = person("sub-k", "k@example.com");
        rotated.signed_with = "key-2";
        let callback = through_provider(&server, &idp, rotated, "/").await;
        let done = server.get(&callback, None).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(
            idp.with(|s| s.key_set_reads),
            2,
            "read again for the new key"
        );

        // A token signed by a key the provider does not publish.
        let mut forged = person("sub-k", "k@example.com");
        forged.signed_with = "key-1";
        let callback = through_provider(&server, &idp, forged, "/").await;
        let refused = server.get(&callback, None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
        assert!(refused.cookie.is_none());
    }
}

#[tokio::test]
async fn an_existing_account_links_by_verified_address_and_a_disabled_one_stays_out() {
    for (server, idp) in with_provider().await {
        let admin = server.set_up().await;
        let (ivy_id, _) = server
            .create_user(&admin, "Ivy", "ivy@example.com", "responder")
            .await;
        let mut unverified = person("sub-ivy", "ivy@example.com");
        unverified.verified = false;
        let callback = through_provider(&server, &idp, unverified, "/").await;
        let refused = server.get(&callback, None).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);

        let callback =
            through_provider(&server, &idp, person("sub-ivy", "ivy@example.com"), "/").await;
        let done = server.get(&callback, None).await;
        let cookie = done.cookie.expect("linked and signed in");
        assert_eq!(
            server.signed_in_as(&cookie).await.as_deref(),
            Some("ivy@example.com")
        );

        let disabled = server
            .call(
                "set_user_disabled",
                Some(&admin),
                &[("user_id", &ivy_id.to_string()), ("disabled", "true")],
            )
            .await;
        assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
        let callback =
            through_provider(&server, &idp, person("sub-ivy", "ivy@example.com"), "/").await;
        let refused = server.get(&callback, None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(refused.cookie.is_none());
    }
}

#[tokio::test]
async fn password_sign_in_goes_off_only_after_an_admin_used_the_provider() {
    for (server, idp) in with_provider().await {
        let admin = server.set_up().await;
        let page = server.get("/admin/sign-in", Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page
            .body
            .contains("Password sign-in is <strong>on</strong>"));
        assert!(!page.body.contains("<script"));
        assert!(
            page.body.contains(" disabled>Turn password sign-in off"),
            "offered only once the admin used the provider"
        );

        let early = post_form(&server, "/admin/sign-in", &admin, &[("passwords", "off")]).await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
        let before = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert!(before.cookie.is_some(), "passwords still work");
        let (_, responder) = member(&server, &admin, "Rob", "responder").await;

        let mut ada = person("sub-ada", "ada@example.com");
        ada.roles = Some(vec!["admin".into()]);
        let callback = through_provider(&server, &idp, ada, "/").await;
        let linked = server.get(&callback, None).await.cookie.expect("signed in");
        let page = server.get("/admin/sign-in", Some(&linked)).await;
        assert!(
            page.body.contains("\">Turn password sign-in off"),
            "{}",
            page.body
        );
        let off = post_form(&server, "/admin/sign-in", &linked, &[("passwords", "off")]).await;
        assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);

        let refused = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(refused.cookie.is_none());
        let offered: serde_json::Value =
            serde_json::from_str(&server.call("auth_state", None, &[]).await.body).expect("json");
        assert_eq!(offered["sign_in"]["passwords"], false);

        // A responder cannot turn it back on; the admin can.
        let not_admin = post_form(
            &server,
            "/admin/sign-in",
            &responder,
            &[("passwords", "on")],
        )
        .await;
        assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
        let on = post_form(&server, "/admin/sign-in", &linked, &[("passwords", "on")]).await;
        assert_eq!(on.status, StatusCode::SEE_OTHER);
        assert!(server
            .sign_in("ada@example.com", ADMIN_PASSWORD)
            .await
            .cookie
            .is_some());
    }
}
