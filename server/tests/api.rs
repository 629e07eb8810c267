//! Server tests through the real router: sign-in, setup, permissions, health.
//! Every test runs on SQLite and on PostgreSQL.

use app::api::AppState;
use app::store::sessions::Sessions;
use app::store::testing::fresh_databases;
use app::store::Db;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::{router, ServerState, SessionSettings, SESSION_COOKIE};
use std::net::SocketAddr;
use tower::ServiceExt;

const ADMIN_PASSWORD: &str = "admin password 123";

/// How long one request may take before the test fails naming it.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

struct TestServer {
    db: Db,
    app: Router,
    sessions: Sessions,
    events: app::live::Events,
}

struct Reply {
    status: StatusCode,
    cookie: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

async fn servers_with(secure: bool) -> Vec<TestServer> {
    let mut servers = Vec::new();
    for db in fresh_databases().await {
        let sessions = Sessions::open(&db).await.expect("session table");
        let events = app::live::Events::new();
        events.follow(db.clone(), None);
        let state = ServerState {
            leptos_options: LeptosOptions::builder().output_name("calmroom").build(),
            app: AppState {
                db: db.clone(),
                events: events.clone(),
                trusted_proxies: Default::default(),
                rooms: Default::default(),
            },
            public: server::public::PublicSite::new(server::public::PublicSettings {
                title: "Example status".to_owned(),
                base_url: "http://status.test".to_owned(),
            }),
        };
        state
            .public
            .follow(state.app.db.clone(), state.app.events.clone());
        let app = router(
            state,
            sessions.clone(),
            SessionSettings {
                secure,
                idle_minutes: 60,
                base_url: "http://127.0.0.1:3000".to_owned(),
            },
        )
        .layer(MockConnectInfo(SocketAddr::from(([10, 0, 0, 7], 4000))));
        servers.push(TestServer {
            db,
            app,
            sessions,
            events,
        });
    }
    servers
}

async fn servers() -> Vec<TestServer> {
    servers_with(false).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl TestServer {
    /// Sends one request; a request that gets no answer within two minutes fails
    /// the test naming itself, instead of holding the whole run until its limit.
    async fn send(&self, request: Request<Body>) -> Reply {
        let what = format!("{} {}", request.method(), request.uri());
        let response = tokio::time::timeout(ANSWER_WITHIN, self.app.clone().oneshot(request))
            .await
            .unwrap_or_else(|_| panic!("{what} got no answer within {ANSWER_WITHIN:?}"))
            .expect("response");
        let status = response.status();
        let set_cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let cookie = set_cookie
            .as_deref()
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        let bytes = tokio::time::timeout(ANSWER_WITHIN, response.into_body().collect())
            .await
            .unwrap_or_else(|_| panic!("{what} sent no whole body within {ANSWER_WITHIN:?}"))
            .expect("body")
            .to_bytes();
        Reply {
            status,
            cookie,
            set_cookie,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn call(&self, function: &str, cookie: Option<&str>, pairs: &[(&str, &str)]) -> Reply {
        let mut request = Request::post(format!("/api/{function}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(form(pairs))).expect("request"))
            .await
    }

    /// A public page once it shows what `shows` looks for: the public cache is
    /// rebuilt in the background after a change, so it may take a moment.
    async fn public_once(&self, path: &str, shows: impl Fn(&str) -> bool) -> Reply {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let reply = self.get(path, None).await;
            if shows(&reply.body) || tokio::time::Instant::now() > deadline {
                return reply;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    /// Creates the first admin and returns their session cookie.
    async fn set_up(&self) -> String {
        let reply = self
            .call(
                "create_first_admin",
                None,
                &[
                    ("name", "Ada Admin"),
                    ("email", "ada@example.com"),
                    ("password", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert!(
            reply.status.is_success() || reply.status.is_redirection(),
            "{}: setup answered {} {}",
            self.db.backend(),
            reply.status,
            reply.body
        );
        reply.cookie.expect("setup signs the admin in")
    }

    async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.call("sign_in", None, &[("email", email), ("password", password)])
            .await
    }

    /// Creates a user as `admin` and returns their initial password.
    async fn create_user(&self, admin: &str, name: &str, email: &str, role: &str) -> (i64, String) {
        let reply = self
            .call(
                "create_user",
                Some(admin),
                &[("name", name), ("email", email), ("org_role", role)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let created: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
        (
            created["user"]["id"].as_i64().expect("id"),
            created["initial_password"]
                .as_str()
                .expect("password")
                .to_owned(),
        )
    }

    async fn signed_in_as(&self, cookie: &str) -> Option<String> {
        let reply = self.call("auth_state", Some(cookie), &[]).await;
        let state: serde_json::Value = serde_json::from_str(&reply.body).expect("json");
        state["user"]["email"].as_str().map(str::to_owned)
    }
}

#[tokio::test]
async fn healthz_answers_200_while_the_database_answers_and_503_after() {
    for server in servers().await {
        assert_eq!(server.get("/healthz", None).await.status, StatusCode::OK);
        server.db.close().await;
        assert_eq!(
            server.get("/healthz", None).await.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            server.db.backend()
        );
    }
}

#[tokio::test]
async fn setup_is_refused_by_the_server_once_a_user_exists() {
    for server in servers().await {
        server.set_up().await;
        let again = server
            .call(
                "create_first_admin",
                None,
                &[
                    ("name", "Mallory"),
                    ("email", "mallory@example.com"),
                    ("password", "mallory password 1"),
                ],
            )
            .await;
        assert_eq!(
            again.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        assert_eq!(
            server
                .sign_in("mallory@example.com", "mallory password 1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn a_short_setup_password_is_refused_at_its_field_and_nothing_is_written() {
    for server in servers().await {
        let reply = server
            .call(
                "create_first_admin",
                None,
                &[
                    ("name", "Ada"),
                    ("email", "ada@example.com"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply.body.contains("\"field\":\"password\""),
            "{}",
            reply.body
        );
        assert_eq!(
            app::store::users::count(&server.db).await.expect("count"),
            0
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    for server in servers().await {
        server.set_up().await;
        let wrong = server.sign_in("ada@example.com", "not the password").await;
        let unknown = server
            .sign_in("nobody@example.com", "not the password")
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.body, unknown.body);
        assert!(wrong.cookie.is_none(), "no session for a failed sign-in");
    }
}

#[tokio::test]
async fn signing_in_sets_a_lax_http_only_cookie_and_signing_out_ends_the_session() {
    for server in servers().await {
        server.set_up().await;
        let reply = server.sign_in("ADA@example.com ", ADMIN_PASSWORD).await;
        let set_cookie = reply.set_cookie.expect("cookie");
        assert!(set_cookie.starts_with(&format!("{SESSION_COOKIE}=")));
        assert!(set_cookie.contains("HttpOnly"));
        assert!(set_cookie.contains("SameSite=Lax"));
        assert!(!set_cookie.contains("Secure"));
        let cookie = reply.cookie.expect("cookie");
        assert_eq!(
            server.signed_in_as(&cookie).await.as_deref(),
            Some("ada@example.com")
        );

        server.call("sign_out", Some(&cookie), &[]).await;
        assert_eq!(
            server.signed_in_as(&cookie).await,
            None,
            "{}",
            server.db.backend()
        );
    }
}

#[tokio::test]
async fn cookies_are_secure_when_the_base_url_is_https() {
    for server in servers_with(true).await {
        server.set_up().await;
        let reply = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert!(reply.set_cookie.expect("cookie").contains("Secure"));
    }
}

#[tokio::test]
async fn signing_in_rotates_the_session_id() {
    for server in servers().await {
        let first = server.set_up().await;
        let mut request = Request::post("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &first);
        request = request.header(header::ACCEPT, "application/json");
        let reply = server
            .send(
                request
                    .body(Body::from(form(&[
                        ("email", "ada@example.com"),
                        ("password", ADMIN_PASSWORD),
                    ])))
                    .expect("request"),
            )
            .await;
        let second = reply.cookie.expect("a new cookie");
        assert_ne!(first, second);
        assert_eq!(
            server.signed_in_as(&first).await,
            None,
            "the old id is dead"
        );
        assert!(server.signed_in_as(&second).await.is_some());
    }
}

#[tokio::test]
async fn five_failures_on_an_account_throttle_even_the_right_password() {
    for server in servers().await {
        server.set_up().await;
        for _ in 0..5 {
            let reply = server.sign_in("ada@example.com", "wrong password!").await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        }
        let throttled = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert_eq!(
            throttled.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            server.db.backend()
        );
        assert!(
            throttled.body.contains("Too many failed sign-ins"),
            "{}",
            throttled.body
        );
        assert!(throttled.cookie.is_none());
    }
}

#[tokio::test]
async fn past_twenty_failures_from_one_address_only_a_right_password_gets_through() {
    for server in servers().await {
        server.set_up().await;
        for i in 0..20 {
            let email = format!("guess{i}@example.com");
            assert_eq!(
                server.sign_in(&email, "wrong password!").await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let guess = server.sign_in("ada@example.com", "wrong password!").await;
        assert_eq!(
            guess.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            server.db.backend()
        );
        // Someone else behind the same address is not locked out.
        let right = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert!(
            right.cookie.is_some(),
            "{}: {} {}",
            server.db.backend(),
            right.status,
            right.body
        );
    }
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_on_one_account_check_at_most_five() {
    for server in servers().await {
        server.set_up().await;
        let attempts = (0..40).map(|_| server.sign_in("ada@example.com", "wrong password!"));
        let replies = futures::future::join_all(attempts).await;
        let checked = replies
            .iter()
            .filter(|r| r.status == StatusCode::UNAUTHORIZED)
            .count();
        let throttled = replies
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!(checked, 5, "{}", server.db.backend());
        assert_eq!(throttled, 35, "{}", server.db.backend());
    }
}

#[tokio::test]
async fn every_admin_function_answers_403_to_a_responder_and_401_to_strangers() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (rob_id, password) = server
            .create_user(&admin, "Rob Responder", "rob@example.com", "responder")
            .await;
        let rob = server
            .sign_in("rob@example.com", &password)
            .await
            .cookie
            .expect("rob signs in");
        let rob_id = rob_id.to_string();
        let calls: [(&str, Vec<(&str, &str)>); 4] = [
            ("list_users", vec![]),
            (
                "create_user",
                vec![
                    ("name", "Eve"),
                    ("email", "eve@example.com"),
                    ("org_role", "admin"),
                ],
            ),
            (
                "change_org_role",
                vec![("user_id", &rob_id), ("org_role", "admin")],
            ),
            (
                "set_user_disabled",
                vec![("user_id", "1"), ("disabled", "true")],
            ),
        ];
        for (function, pairs) in &calls {
            let reply = server.call(function, Some(&rob), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{function} on {}",
                server.db.backend()
            );
            let stranger = server.call(function, None, pairs).await;
            assert_eq!(stranger.status, StatusCode::UNAUTHORIZED, "{function}");
        }
        let users = app::store::users::list(&server.db).await.expect("list");
        assert_eq!(users.len(), 2, "nothing was created");
        assert!(users.iter().all(|u| !u.disabled));
        assert!(users.iter().any(|u| u.email == "rob@example.com"
            && u.org_role == app::domain::users::OrgRole::Responder));
    }
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_at_once() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (rob_id, password) = server
            .create_user(&admin, "Rob Responder", "rob@example.com", "responder")
            .await;
        let rob = server
            .sign_in("rob@example.com", &password)
            .await
            .cookie
            .expect("rob signs in");
        assert!(server.signed_in_as(&rob).await.is_some());

        let reply = server
            .call(
                "set_user_disabled",
                Some(&admin),
                &[("user_id", &rob_id.to_string()), ("disabled", "true")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            server.signed_in_as(&rob).await,
            None,
            "{}",
            server.db.backend()
        );
        assert_eq!(
            server.sign_in("rob@example.com", &password).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn an_admin_changes_an_org_role_but_not_away_from_the_last_admin() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (rob_id, _) = server
            .create_user(&admin, "Rob", "rob@example.com", "responder")
            .await;
        let reply = server
            .call(
                "change_org_role",
                Some(&admin),
                &[("user_id", &rob_id.to_string()), ("org_role", "viewer")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains("\"Viewer\""), "{}", reply.body);

        let ada_id = app::store::users::list(&server.db)
            .await
            .expect("list")
            .into_iter()
            .find(|u| u.email == "ada@example.com")
            .expect("ada")
            .id
            .0
            .to_string();
        let demote = server
            .call(
                "change_org_role",
                Some(&admin),
                &[("user_id", &ada_id), ("org_role", "viewer")],
            )
            .await;
        assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.body);
        let bad_role = server
            .call(
                "change_org_role",
                Some(&admin),
                &[("user_id", &ada_id), ("org_role", "owner")],
            )
            .await;
        assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn a_duplicate_email_is_refused_at_the_email_field() {
    for server in servers().await {
        let admin = server.set_up().await;
        let reply = server
            .call(
                "create_user",
                Some(&admin),
                &[
                    ("name", "Ada Two"),
                    ("email", "Ada@Example.com"),
                    ("org_role", "viewer"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("\"field\":\"email\""), "{}", reply.body);
    }
}

#[tokio::test]
async fn the_admin_page_answers_403_to_a_responder() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, password) = server
            .create_user(&admin, "Rob", "rob@example.com", "responder")
            .await;
        let rob = server
            .sign_in("rob@example.com", &password)
            .await
            .cookie
            .expect("rob signs in");
        let page = server.get("/admin/users", Some(&rob)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.body.contains("Only admins can manage users."),
            "{}",
            server.db.backend()
        );
        let admin_page = server.get("/admin/users", Some(&admin)).await;
        assert_eq!(admin_page.status, StatusCode::OK);
        assert!(admin_page.body.contains("rob@example.com"));
    }
}

#[tokio::test]
async fn an_unknown_address_answers_404_with_a_page_that_says_so() {
    for server in servers().await {
        let request = Request::get("/no/such/page")
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .expect("request");
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.body.contains("Page not found"), "{}", reply.body);
    }
}

#[tokio::test]
async fn pages_cannot_be_framed_or_sniffed() {
    for server in servers().await {
        let response = server
            .app
            .clone()
            .oneshot(
                Request::get("/sign-in")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let headers = response.headers();
        assert_eq!(
            headers.get("x-frame-options").map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
        assert_eq!(
            headers.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
    }
}

/// Signs in a new user of `role` (created by `admin`) and returns their cookie.
async fn member(server: &TestServer, admin: &str, name: &str, role: &str) -> (i64, String) {
    let email = format!("{}@example.com", name.to_lowercase());
    let (id, password) = server.create_user(admin, name, &email, role).await;
    let cookie = server
        .sign_in(&email, &password)
        .await
        .cookie
        .expect("member signs in");
    (id, cookie)
}

async fn declare(server: &TestServer, cookie: &str) -> Reply {
    server
        .call(
            "declare_incident",
            Some(cookie),
            &[
                ("title", "Checkout fails"),
                ("severity", "sev1"),
                ("impact", "EU customers cannot pay"),
                ("best_guess", ""),
            ],
        )
        .await
}

async fn war_room(server: &TestServer, cookie: &str) -> serde_json::Value {
    let reply = server
        .call("get_war_room", Some(cookie), &[("number", "1")])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("json")
}

#[tokio::test]
async fn the_war_room_shows_the_newest_hundred_pages_older_and_stays_fresh_for_every_watcher() {
    for server in servers().await {
        let backend = server.db.backend();
        let admin = server.set_up().await;
        let (rob_id, rob) = member(&server, &admin, "Rob", "responder").await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        declare(&server, &ivy).await;
        for i in 0..110 {
            let body = format!("check {i}");
            let note = server
                .call(
                    "add_timeline_note",
                    Some(&ivy),
                    &[("number", "1"), ("body", &body)],
                )
                .await;
            assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        }
        let room = war_room(&server, &ivy).await;
        let total = room["timeline_count"].as_i64().expect("count");
        assert!(total > 110, "{backend}: {total}");
        assert_eq!(room["timeline"].as_array().map(Vec::len), Some(100));
        assert_eq!(room["timeline"][0]["body"], "check 109");
        let more = server
            .call(
                "get_war_room",
                Some(&ivy),
                &[("number", "1"), ("timeline", "200")],
            )
            .await;
        assert_eq!(more.status, StatusCode::OK, "{}", more.body);
        let more = json(&more);
        assert_eq!(
            more["timeline"].as_array().map(|t| t.len() as i64),
            Some(total)
        );
        for bad in ["0", "5001", "-3"] {
            let reply = server
                .call(
                    "get_war_room",
                    Some(&ivy),
                    &[("number", "1"), ("timeline", bad)],
                )
                .await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert_eq!(json(&reply)["Invalid"]["field"], "timeline");
        }

        // Both watchers share one view but each gets their own permissions.
        let theirs = war_room(&server, &rob).await;
        assert_eq!(theirs["me"], rob_id);
        assert_eq!(theirs["is_ic"], false, "{backend}");
        assert_eq!(theirs["can_edit"], false, "{backend}");
        assert_eq!(war_room(&server, &ivy).await["is_ic"], true);

        // A change shows at once for everyone, with what it changes for each.
        let rob_id = rob_id.to_string();
        let assigned = server
            .call(
                "assign_role",
                Some(&ivy),
                &[("number", "1"), ("role", "tech_lead"), ("user_id", &rob_id)],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
        let theirs = war_room(&server, &rob).await;
        assert_eq!(theirs["can_edit"], true, "{backend}");
        assert_eq!(theirs["can_request_approval"], true, "{backend}");
        assert_eq!(theirs["is_ic"], false, "{backend}");
        let before = theirs["timeline_count"].as_i64().expect("count");
        let note = server
            .call(
                "add_timeline_note",
                Some(&rob),
                &[("number", "1"), ("body", "Rob is on the database")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        for watcher in [&ivy, &rob, &admin] {
            let room = war_room(&server, watcher).await;
            assert_eq!(room["timeline"][0]["body"], "Rob is on the database");
            assert_eq!(room["timeline_count"].as_i64(), Some(before + 1));
        }
    }
}

#[tokio::test]
async fn a_viewer_is_refused_every_mutating_war_room_function() {
    for server in servers().await {
        let admin = server.set_up().await;
        declare(&server, &admin).await;
        let (viewer_id, viewer) = member(&server, &admin, "Vera", "viewer").await;
        let viewer_id = viewer_id.to_string();
        let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "declare_incident",
                vec![
                    ("title", "x"),
                    ("severity", "sev2"),
                    ("impact", ""),
                    ("best_guess", ""),
                ],
            ),
            (
                "assign_role",
                vec![("number", "1"), ("role", "scribe"), ("user_id", &viewer_id)],
            ),
            ("release_role", vec![("number", "1"), ("role", "scribe")]),
            (
                "change_status",
                vec![
                    ("number", "1"),
                    ("version", "1"),
                    ("status", "mitigating"),
                    ("severity", "sev1"),
                ],
            ),
            (
                "set_cadence",
                vec![
                    ("number", "1"),
                    ("version", "1"),
                    ("decision_minutes", "10"),
                    ("update_minutes", "15"),
                ],
            ),
            (
                "tick_rhythm_item",
                vec![("number", "1"), ("item", "signals_checked")],
            ),
            ("check_in", vec![("number", "1")]),
            (
                "log_decision",
                vec![
                    ("number", "1"),
                    ("decision", "x"),
                    ("reason", ""),
                    ("owner_id", &viewer_id),
                ],
            ),
            (
                "record_decision_result",
                vec![
                    ("number", "1"),
                    ("decision_id", "1"),
                    ("version", "1"),
                    ("result", "x"),
                ],
            ),
            (
                "add_timeline_note",
                vec![("number", "1"), ("body", "hello")],
            ),
            (
                "add_hypothesis",
                vec![("number", "1"), ("statement", "x"), ("owner_id", "")],
            ),
            (
                "update_hypothesis",
                vec![
                    ("number", "1"),
                    ("hypothesis_id", "1"),
                    ("version", "1"),
                    ("status", "open"),
                    ("evidence", ""),
                    ("owner_id", ""),
                ],
            ),
            (
                "record_restore_step",
                vec![
                    ("number", "1"),
                    ("step", "rollback"),
                    ("outcome", "tried"),
                    ("safety", "canary"),
                    ("note", ""),
                ],
            ),
            (
                "correct_milestone",
                vec![
                    ("number", "1"),
                    ("milestone", "declared"),
                    ("at", "2026-01-01T10:00"),
                ],
            ),
            (
                "update_summary",
                vec![
                    ("number", "1"),
                    ("version", "1"),
                    ("impact", "x"),
                    ("best_guess", "y"),
                    ("bridge_url", ""),
                ],
            ),
        ];
        for (function, pairs) in &calls {
            let reply = server.call(function, Some(&viewer), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{function} on {}: {}",
                server.db.backend(),
                reply.body
            );
        }
        // Stakeholders follow the status channel, not the responder war room.
        let room = server
            .call("get_war_room", Some(&viewer), &[("number", "1")])
            .await;
        assert_eq!(room.status, StatusCode::FORBIDDEN, "{}", room.body);
        let channel = server
            .call("get_status_channel", Some(&viewer), &[("number", "1")])
            .await;
        assert_eq!(channel.status, StatusCode::OK, "{}", channel.body);
        let incidents = app::store::incidents::list(&server.db).await.expect("list");
        assert_eq!(incidents.len(), 1, "the viewer declared nothing");
    }
}

#[tokio::test]
async fn a_non_ic_cannot_reassign_a_held_role() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (rob_id, rob) = member(&server, &admin, "Rob", "responder").await;
        declare(&server, &ic).await;
        let ivy_is_ic = war_room(&server, &ic).await;
        assert_eq!(ivy_is_ic["roles"][0]["holder"]["name"], "Ivy");

        let grab = server
            .call(
                "assign_role",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("role", "ic"),
                    ("user_id", &rob_id.to_string()),
                ],
            )
            .await;
        assert_eq!(
            grab.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        assert!(
            grab.body.contains("Only the Incident Commander"),
            "{}",
            grab.body
        );

        // Taking an empty role is allowed; the IC may then hand it on.
        let take = server
            .call(
                "assign_role",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("role", "scribe"),
                    ("user_id", &rob_id.to_string()),
                ],
            )
            .await;
        assert_eq!(take.status, StatusCode::OK, "{}", take.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(
            room["roles"][0]["holder"]["name"], "Ivy",
            "the IC seat is unchanged"
        );
        assert_eq!(room["roles"][3]["holder"]["name"], "Rob");
    }
}

#[tokio::test]
async fn a_stale_status_change_answers_409() {
    for server in servers().await {
        let admin = server.set_up().await;
        declare(&server, &admin).await;
        let version = war_room(&server, &admin).await["version"]
            .as_i64()
            .expect("version")
            .to_string();
        let first = server
            .call(
                "change_status",
                Some(&admin),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("status", "mitigating"),
                    ("severity", "sev1"),
                ],
            )
            .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let stale = server
            .call(
                "change_status",
                Some(&admin),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("status", "resolved"),
                    ("severity", "sev2"),
                ],
            )
            .await;
        assert_eq!(
            stale.status,
            StatusCode::CONFLICT,
            "{}",
            server.db.backend()
        );
        let room = war_room(&server, &admin).await;
        assert_eq!(room["status"], "Mitigating");
        assert_eq!(room["severity"], "Sev1");
    }
}

#[tokio::test]
async fn the_event_stream_needs_sign_in_and_announces_a_change() {
    for server in servers().await {
        let admin = server.set_up().await;
        assert_eq!(
            server.get("/events", None).await.status,
            StatusCode::UNAUTHORIZED
        );

        let request = Request::get("/events")
            .header(header::COOKIE, &admin)
            .body(Body::empty())
            .expect("request");
        let response = server.app.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body();
        let mut seen = String::new();
        seen.push_str(&next_event(&mut body).await);
        assert!(seen.contains("event: resync"), "{seen}");
        declare(&server, &admin).await;
        while !seen.contains("incident:1") {
            seen.push_str(&next_event(&mut body).await);
        }
        assert!(seen.contains("event: change"), "{seen}");
    }
}

/// The next chunk of an event stream, or a failure after 5 seconds.
async fn next_event(body: &mut Body) -> String {
    tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
        .await
        .expect("an event within 5 s")
        .expect("a frame")
        .expect("no error")
        .into_data()
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn only_the_ic_corrects_a_milestone_and_a_bad_bridge_link_is_refused_at_its_field() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (rob_id, rob) = member(&server, &admin, "Rob", "responder").await;
        declare(&server, &ic).await;
        let rob_id = rob_id.to_string();
        let added = server
            .call(
                "add_responder",
                Some(&ic),
                &[("number", "1"), ("user_id", &rob_id)],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let pairs = [
            ("number", "1"),
            ("milestone", "declared"),
            ("at", "2026-01-01T10:00"),
        ];
        let refused = server.call("correct_milestone", Some(&rob), &pairs).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        let done = server.call("correct_milestone", Some(&ic), &pairs).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(room["milestones"][0]["corrected_by"], "Ivy");
        assert_eq!(room["milestones"][0]["at"], "2026-01-01T10:00:00Z");

        let version = room["version"].as_i64().expect("version").to_string();
        let bad = server
            .call(
                "update_summary",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("impact", "EU"),
                    ("best_guess", "4.2"),
                    ("bridge_url", "zoom"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("bridge_url"), "{}", bad.body);
        let good = server
            .call(
                "update_summary",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("impact", "EU"),
                    ("best_guess", "4.2"),
                    ("bridge_url", "https://meet.example.com/inc-1"),
                ],
            )
            .await;
        assert_eq!(good.status, StatusCode::OK, "{}", good.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(room["bridge_url"], "https://meet.example.com/inc-1");
        let initial = room["rhythm"]
            .as_array()
            .expect("rhythm")
            .iter()
            .find(|r| r["item"] == "InitialStatusPosted")
            .expect("item")
            .clone();
        assert!(
            !initial["done_at"].is_null(),
            "posting impact and best guess ticks the initial status"
        );
    }
}

impl TestServer {
    async fn call_json(&self, function: &str, cookie: &str, body: serde_json::Value) -> Reply {
        let request = Request::post(format!("/api/{function}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie);
        self.send(request.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    async fn publish(
        &self,
        cookie: &str,
        kind: &str,
        values: serde_json::Value,
        confirm: bool,
    ) -> Reply {
        self.call_json(
            "publish_update",
            cookie,
            serde_json::json!({ "number": 1, "kind": kind, "values": values, "confirm": confirm }),
        )
        .await
    }
}

fn json(reply: &Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

/// An incident with Ivy as IC and Cory as Comms Lead; returns (admin, ivy, cory).
async fn incident_with_comms_lead(server: &TestServer) -> (String, String, String) {
    let admin = server.set_up().await;
    let (_, ivy) = member(server, &admin, "Ivy", "responder").await;
    let (cory_id, cory) = member(server, &admin, "Cory", "responder").await;
    declare(server, &ivy).await;
    let assign = server
        .call(
            "assign_role",
            Some(&ivy),
            &[
                ("number", "1"),
                ("role", "comms_lead"),
                ("user_id", &cory_id.to_string()),
            ],
        )
        .await;
    assert_eq!(assign.status, StatusCode::OK, "{}", assign.body);
    (admin, ivy, cory)
}

fn customer_update() -> serde_json::Value {
    serde_json::json!({
        "issue": "Card payments failing",
        "impact": "Some card payments fail at checkout.",
        "mitigation": "We have found the cause and are restoring service.",
    })
}

#[tokio::test]
async fn only_the_comms_lead_publishes_and_the_ic_only_without_one() {
    for server in servers().await {
        let (_, ivy, cory) = incident_with_comms_lead(&server).await;
        let refused = server
            .publish(&ivy, "customer", customer_update(), false)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(
            refused.body.contains("Only the Comms Lead"),
            "{}",
            refused.body
        );

        let published = server
            .publish(&cory, "customer", customer_update(), false)
            .await;
        assert_eq!(published.status, StatusCode::OK, "{}", published.body);
        assert!(
            json(&published)["Published"]["id"].is_i64(),
            "{}",
            published.body
        );

        // The first update ticks the rhythm and sets the next update by the cadence.
        let room = war_room(&server, &ivy).await;
        let first = room["rhythm"]
            .as_array()
            .and_then(|r| r.iter().find(|i| i["item"] == "FirstStakeholderUpdate"))
            .expect("rhythm item");
        assert!(first["done_at"].is_string(), "{first}");
        assert!(room["next_update"].is_string());
        let timeline = room["timeline"].to_string();
        assert!(
            timeline.contains("Cory published the customer-facing update"),
            "{timeline}"
        );

        // A responder with no role is refused too, and a missing field is named.
        let empty = server
            .publish(
                &cory,
                "customer",
                serde_json::json!({ "impact": "x", "mitigation": "y" }),
                false,
            )
            .await;
        assert_eq!(
            empty.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            empty.body
        );
        assert!(empty.body.contains("issue"), "{}", empty.body);
    }
}

#[tokio::test]
async fn a_guard_warning_stops_publishing_until_overridden_and_the_override_is_recorded() {
    for server in servers().await {
        let (_, ivy, cory) = incident_with_comms_lead(&server).await;
        let promise = serde_json::json!({
            "issue": "Card payments failing",
            "impact": "Payments fail on db-03.",
            "mitigation": "Fixed by 14:30.",
        });
        let stopped = server
            .publish(&cory, "customer", promise.clone(), false)
            .await;
        assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
        let warnings = json(&stopped)["NeedsConfirmation"]["warnings"].to_string();
        assert!(warnings.contains("by 14:30"), "{warnings}");
        assert!(warnings.contains("db-03"), "{warnings}");
        let status = server.get("/api/v2/incidents.json", None).await;
        assert_eq!(
            json(&status)["incidents"].as_array().map(Vec::len),
            Some(0),
            "nothing published yet"
        );

        let overridden = server.publish(&cory, "customer", promise, true).await;
        assert!(
            json(&overridden)["Published"].is_object(),
            "{}",
            overridden.body
        );
        let timeline = war_room(&server, &ivy).await["timeline"].to_string();
        assert!(timeline.contains("overriding 2 warnings"), "{timeline}");
    }
}

#[tokio::test]
async fn internal_updates_never_reach_the_public_page_feeds_or_json() {
    for server in servers().await {
        let (_, _, cory) = incident_with_comms_lead(&server).await;
        let internal = server
            .publish(
                &cory,
                "initial_internal",
                serde_json::json!({
                    "severity": "Sev1", "impact": "EU checkout down", "status": "Investigating",
                    "known": "SECRET-INTERNAL replica lag", "next_steps": "Roll back",
                }),
                false,
            )
            .await;
        assert!(
            json(&internal)["Published"].is_object(),
            "{}",
            internal.body
        );
        let customer = server
            .publish(&cory, "customer", customer_update(), false)
            .await;
        assert!(
            json(&customer)["Published"].is_object(),
            "{}",
            customer.body
        );

        for path in [
            "/status",
            "/status/history.atom",
            "/status/history.rss",
            "/api/v2/summary.json",
            "/api/v2/incidents.json",
            "/api/v2/incidents/unresolved.json",
        ] {
            let reply = server.get(path, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert!(
                !reply.body.contains("SECRET-INTERNAL"),
                "{path} leaks an internal update"
            );
            assert!(
                !reply.body.contains("Checkout fails"),
                "{path} leaks the internal title"
            );
            assert!(!reply.body.contains("Cory"), "{path} names a responder");
            assert!(
                reply.body.contains("Card payments failing"),
                "{path} misses the update"
            );
        }
    }
}

#[tokio::test]
async fn the_status_json_keeps_statuspage_field_names_and_enums() {
    for server in servers().await {
        let (admin, _, cory) = incident_with_comms_lead(&server).await;
        let add = server
            .call(
                "add_component",
                Some(&admin),
                &[
                    ("name", "Payments API"),
                    ("group_name", ""),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        let component_id = add.body.trim().to_owned();
        let mark = server
            .call(
                "set_affected_component",
                Some(&cory),
                &[
                    ("number", "1"),
                    ("component_id", &component_id),
                    ("status", "partial_outage"),
                ],
            )
            .await;
        assert_eq!(mark.status, StatusCode::OK, "{}", mark.body);
        server
            .publish(&cory, "customer", customer_update(), false)
            .await;

        let summary = server
            .public_once("/api/v2/summary.json", |b| b.contains("critical"))
            .await;
        assert_eq!(summary.status, StatusCode::OK);
        let summary = json(&summary);
        assert_eq!(summary["page"]["id"], "calmroom");
        // A Sev1 weighs more than one component's partial outage.
        assert_eq!(summary["status"]["indicator"], "critical");
        assert_eq!(summary["status"]["description"], "Major System Outage");
        let component = &summary["components"][0];
        assert_eq!(component["id"], component_id.as_str());
        assert_eq!(component["status"], "partial_outage");
        for key in [
            "name",
            "created_at",
            "updated_at",
            "position",
            "group",
            "only_show_if_degraded",
            "page_id",
        ] {
            assert!(component.get(key).is_some(), "component lacks {key}");
        }
        let incident = &summary["incidents"][0];
        assert_eq!(incident["id"], "1");
        assert_eq!(incident["name"], "Card payments failing");
        assert_eq!(incident["status"], "investigating");
        assert_eq!(incident["impact"], "critical");
        assert_eq!(incident["incident_updates"][0]["status"], "investigating");
        assert!(incident["incident_updates"][0]["id"].is_string());
        let created = incident["created_at"].as_str().expect("time");
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{created}"
        );
        assert_eq!(incident["components"][0]["id"], component_id.as_str());

        let head = server
            .send(
                Request::head("/api/v2/status.json")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(head.status, StatusCode::OK);
        let cors = server
            .app
            .clone()
            .oneshot(
                Request::get("/api/v2/components.json")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(
            cors.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .and_then(|v| v.to_str().ok()),
            Some("*")
        );
        for path in [
            "/api/v2/status.json",
            "/api/v2/components.json",
            "/api/v2/scheduled-maintenances.json",
            "/api/v2/scheduled-maintenances/upcoming.json",
            "/api/v2/scheduled-maintenances/active.json",
        ] {
            let reply = server.get(path, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert!(json(&reply)["page"]["name"] == "Example status", "{path}");
        }
    }
}

#[tokio::test]
async fn the_feeds_parse_with_a_feed_parser_and_keep_entry_ids() {
    for server in servers().await {
        let (_, _, cory) = incident_with_comms_lead(&server).await;
        server
            .publish(&cory, "customer", customer_update(), false)
            .await;
        let mut ids = Vec::new();
        for path in ["/status/history.atom", "/status/history.rss"] {
            let reply = server.get(path, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            let feed = feed_rs::parser::parse(reply.body.as_bytes())
                .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
            assert_eq!(feed.entries.len(), 1, "{path}");
            let entry = &feed.entries[0];
            assert!(entry
                .title
                .as_ref()
                .is_some_and(|t| t.content.contains("Card payments failing")));
            ids.push(entry.id.clone());
        }
        assert_eq!(ids[0], ids[1], "both feeds name the update alike");
        // A second update keeps the first entry's id.
        server
            .publish(&cory, "customer", customer_update(), false)
            .await;
        let again = server
            .public_once("/status/history.atom", |b| {
                b.matches("<entry>").count() == 2
            })
            .await;
        let feed = feed_rs::parser::parse(again.body.as_bytes()).expect("atom");
        assert_eq!(feed.entries.len(), 2);
        assert!(feed.entries.iter().any(|e| e.id == ids[0]));
    }
}

#[tokio::test]
async fn a_stakeholder_question_reaches_the_comms_lead_and_the_answer_reaches_only_the_asker() {
    for server in servers().await {
        let (admin, ivy, cory) = incident_with_comms_lead(&server).await;
        let (_, vera) = member(&server, &admin, "Vera", "viewer").await;
        let (_, walt) = member(&server, &admin, "Walt", "viewer").await;
        let ask = server
            .call(
                "ask_question",
                Some(&vera),
                &[("number", "1"), ("question", "Are refunds affected?")],
            )
            .await;
        assert_eq!(ask.status, StatusCode::OK, "{}", ask.body);

        let timeline = war_room(&server, &ivy).await["timeline"].to_string();
        assert!(
            !timeline.contains("refunds"),
            "questions stay out of the responder timeline"
        );
        let ivy_view = json(
            &server
                .call("get_comms", Some(&ivy), &[("number", "1")])
                .await,
        );
        assert_eq!(
            ivy_view["questions"].as_array().map(Vec::len),
            Some(0),
            "only the speaker sees the queue"
        );
        let queue = json(
            &server
                .call("get_comms", Some(&cory), &[("number", "1")])
                .await,
        );
        let question_id = queue["questions"][0]["id"]
            .as_i64()
            .expect("question")
            .to_string();

        let refused = server
            .call(
                "answer_question",
                Some(&ivy),
                &[
                    ("number", "1"),
                    ("question_id", &question_id),
                    ("answer", "No"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let answered = server
            .call(
                "answer_question",
                Some(&cory),
                &[
                    ("number", "1"),
                    ("question_id", &question_id),
                    ("answer", "Refunds work normally."),
                ],
            )
            .await;
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);

        let vera_channel = json(
            &server
                .call("get_status_channel", Some(&vera), &[("number", "1")])
                .await,
        );
        assert_eq!(
            vera_channel["my_questions"][0]["answer"],
            "Refunds work normally."
        );
        assert_eq!(vera_channel["my_questions"][0]["state"], "Answered");
        let walt_channel = json(
            &server
                .call("get_status_channel", Some(&walt), &[("number", "1")])
                .await,
        );
        assert_eq!(
            walt_channel["my_questions"].as_array().map(Vec::len),
            Some(0)
        );

        let twice = server
            .call(
                "dismiss_question",
                Some(&cory),
                &[("number", "1"), ("question_id", &question_id)],
            )
            .await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    }
}

#[tokio::test]
async fn a_failing_webhook_is_retried_without_holding_up_publishing_and_json_bodies_are_signed() {
    use std::sync::{Arc, Mutex};
    for server in servers().await {
        let (admin, _, cory) = incident_with_comms_lead(&server).await;
        // A receiver that fails once, then accepts, keeping what it got.
        /// (signature header, body) of each accepted delivery.
        type Received = Arc<Mutex<Vec<(Option<String>, String)>>>;
        let received: Received = Arc::default();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let receiver = {
            let received = received.clone();
            let calls = calls.clone();
            axum::Router::new().route(
                "/hook",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                    let received = received.clone();
                    let calls = calls.clone();
                    async move {
                        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                            return StatusCode::SERVICE_UNAVAILABLE;
                        }
                        let signature = headers
                            .get("x-calmroom-signature")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        if let Ok(mut list) = received.lock() {
                            list.push((signature, body));
                        }
                        StatusCode::OK
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, receiver).await });

        let add = server
            .call(
                "add_webhook",
                Some(&admin),
                &[
                    ("name", "Partner feed"),
                    ("kind", "json"),
                    ("url", &format!("http://{address}/hook")),
                ],
            )
            .await;
        assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        let published = server
            .publish(&cory, "customer", customer_update(), false)
            .await;
        assert!(
            json(&published)["Published"].is_object(),
            "{}",
            published.body
        );

        let deliverer = server::webhooks::Deliverer::new(server.db.clone(), true).expect("client");
        let now = chrono::Utc::now();
        assert_eq!(deliverer.deliver_due(now).await.expect("first try"), 1);
        let hooks = app::store::webhooks::webhooks(&server.db)
            .await
            .expect("hooks");
        let log = app::store::webhooks::deliveries(&server.db, hooks[0].id, 10)
            .await
            .expect("log");
        assert_eq!(log[0].state, "pending");
        assert_eq!(log[0].last_status, Some(503));
        assert_eq!(log[0].attempts, 1);
        assert_eq!(
            deliverer.deliver_due(now).await.expect("not yet due"),
            0,
            "the retry waits"
        );

        let later = now + chrono::Duration::seconds(11);
        assert_eq!(deliverer.deliver_due(later).await.expect("retry"), 1);
        let log = app::store::webhooks::deliveries(&server.db, hooks[0].id, 10)
            .await
            .expect("log");
        assert_eq!(log[0].state, "delivered");
        assert_eq!(log[0].attempts, 2);

        let got = received.lock().map(|l| l.clone()).unwrap_or_default();
        assert_eq!(got.len(), 1);
        let (signature, body) = &got[0];
        assert_eq!(
            signature.as_deref(),
            Some(server::webhooks::signature(&hooks[0].secret, body.as_bytes()).as_str())
        );
        assert!(body.contains("Card payments failing"));
        assert!(
            !body.contains("Checkout fails"),
            "a customer delivery carries no internal title"
        );
    }
}

#[tokio::test]
async fn the_public_page_answers_from_its_cache_and_a_change_refreshes_it() {
    for server in servers().await {
        let admin = server.set_up().await;
        let before = server.get("/api/v2/components.json", None).await;
        assert_eq!(
            json(&before)["components"].as_array().map(Vec::len),
            Some(0)
        );

        // A change announced by the app refreshes what the public routes serve.
        let add = server
            .call(
                "add_component",
                Some(&admin),
                &[("name", "Search"), ("group_name", ""), ("description", "")],
            )
            .await;
        assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        let page = server
            .public_once("/status", |b| b.contains("Search"))
            .await;
        assert!(page.body.contains("Search"), "{}", server.db.backend());

        // With nothing changed, readers are served without the database.
        server.db.close().await;
        let cached = server.get("/status", None).await;
        assert_eq!(cached.status, StatusCode::OK);
        assert!(cached.body.contains("Search"));
        let json_cached = server.get("/api/v2/summary.json", None).await;
        assert_eq!(json_cached.status, StatusCode::OK);
    }
}

/// Incident 1, declared by Ivy (its IC) with a decision logged, then resolved.
/// Returns (admin, ivy, otto's id, otto, vera the viewer).
async fn resolved_incident(server: &TestServer) -> (String, String, i64, String, String) {
    let admin = server.set_up().await;
    let (ivy_id, ivy) = member(server, &admin, "Ivy", "responder").await;
    let (otto_id, otto) = member(server, &admin, "Otto", "responder").await;
    let (_, vera) = member(server, &admin, "Vera", "viewer").await;
    declare(server, &ivy).await;
    let ivy_id = ivy_id.to_string();
    let logged = server
        .call(
            "log_decision",
            Some(&ivy),
            &[
                ("number", "1"),
                ("decision", "Roll back release 4.2"),
                ("reason", "Errors began with it"),
                ("owner_id", &ivy_id),
            ],
        )
        .await;
    assert_eq!(logged.status, StatusCode::OK, "{}", logged.body);
    let version = war_room(server, &ivy).await["version"].to_string();
    let resolved = server
        .call(
            "change_status",
            Some(&ivy),
            &[
                ("number", "1"),
                ("version", &version),
                ("status", "resolved"),
                ("severity", "sev1"),
            ],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    (admin, ivy, otto_id, otto, vera)
}

fn postmortem_version(reply: &Reply) -> String {
    json(reply)["Document"]["version"].to_string()
}

#[tokio::test]
async fn only_the_ic_or_an_admin_starts_and_publishes_a_postmortem_and_viewers_read_it_once_published(
) {
    for server in servers().await {
        let (_, ivy, _, otto, vera) = resolved_incident(&server).await;
        let number = [("number", "1")];
        let refused = server.call("start_postmortem", Some(&otto), &number).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let refused = server.call("start_postmortem", Some(&vera), &number).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let started = server.call("start_postmortem", Some(&ivy), &number).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);

        let draft = server.call("get_postmortem", Some(&ivy), &number).await;
        assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
        assert!(draft
            .body
            .contains("Decision: Roll back release 4.2. Reason: Errors began with it."));
        let hidden = server.call("get_postmortem", Some(&vera), &number).await;
        assert_eq!(hidden.status, StatusCode::FORBIDDEN, "{}", hidden.body);
        let hidden = server
            .get("/incidents/1/postmortem/export.md", Some(&vera))
            .await;
        assert_eq!(hidden.status, StatusCode::FORBIDDEN);

        let version = postmortem_version(&draft);
        let publish = |cookie: &str, confirm: &'static str| {
            let version = version.clone();
            let cookie = cookie.to_owned();
            let server = &server;
            async move {
                server
                    .call(
                        "publish_postmortem",
                        Some(&cookie),
                        &[("number", "1"), ("version", &version), ("confirm", confirm)],
                    )
                    .await
            }
        };
        let refused = publish(&otto, "true").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let stopped = json(&publish(&ivy, "false").await);
        let failing: Vec<&str> = stopped["NeedsOverride"]["failing"]
            .as_array()
            .expect("failing checks")
            .iter()
            .filter_map(|c| c["rule"].as_str())
            .collect();
        assert!(
            failing.contains(&"HasPrevention") && failing.contains(&"HasDetection"),
            "{failing:?}"
        );
        let still_draft = server.call("get_postmortem", Some(&ivy), &number).await;
        assert_eq!(json(&still_draft)["Document"]["status"], "Draft");
        let published = publish(&ivy, "true").await;
        assert_eq!(published.status, StatusCode::OK, "{}", published.body);

        let read = server.call("get_postmortem", Some(&vera), &number).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        let doc = json(&read);
        assert_eq!(doc["Document"]["status"], "Published");
        assert_eq!(doc["Document"]["can_write"], false);
        let overridden = doc["Document"]["overridden"]
            .as_array()
            .expect("overridden");
        assert!(!overridden.is_empty(), "the override is recorded");
        let export = server
            .get("/incidents/1/postmortem/export.md", Some(&vera))
            .await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(
            export
                .body
                .starts_with("# Postmortem: INC-1 Checkout fails"),
            "{}",
            export.body
        );
        assert!(export.body.contains("## Timeline"));
        let print = server
            .get("/incidents/1/postmortem/print", Some(&vera))
            .await;
        assert_eq!(print.status, StatusCode::OK);
        assert!(
            print.body.contains("<h2>Root causes</h2>"),
            "{}",
            print.body
        );
        let channel = server
            .call("get_status_channel", Some(&vera), &number)
            .await;
        assert_eq!(
            json(&channel)["postmortem_published"],
            true,
            "{}",
            channel.body
        );
        let stranger = server.get("/incidents/1/postmortem/export.md", None).await;
        assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn markdown_in_a_section_is_rendered_without_script() {
    for server in servers().await {
        let (_, ivy, _, _, _) = resolved_incident(&server).await;
        server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let preview = server
            .call(
                "preview_markdown",
                Some(&ivy),
                &[(
                    "text",
                    "**Cache** stampede <script>alert(1)</script> [x](javascript:alert(1))",
                )],
            )
            .await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
        assert!(
            preview.body.contains("<strong>Cache</strong>"),
            "{}",
            preview.body
        );
        assert!(!preview.body.contains("<script"), "{}", preview.body);
        assert!(!preview.body.contains("javascript:"), "{}", preview.body);
    }
}

#[tokio::test]
async fn action_items_need_a_verification_method_and_evidence_and_reach_the_owners_calendar() {
    for server in servers().await {
        let (_, ivy, otto_id, otto, _) = resolved_incident(&server).await;
        server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let otto_id = otto_id.to_string();
        let item = |verification: &'static str| {
            let otto_id = otto_id.clone();
            let ivy = ivy.clone();
            let server = &server;
            async move {
                server
                    .call(
                        "add_action_item",
                        Some(&ivy),
                        &[
                            ("number", "1"),
                            ("title", "Alert on checkout error rate"),
                            ("kind", "detection"),
                            ("owner", &otto_id),
                            ("due", "2026-12-10"),
                            ("verification", verification),
                        ],
                    )
                    .await
            }
        };
        let refused = item("").await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(&refused)["Invalid"]["field"], "verification");
        let added = item("The alert pages within 2 minutes in a drill").await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);

        let mine = server.call("get_follow_up", Some(&otto), &[]).await;
        let mine = json(&mine);
        let id = mine["my_items"][0]["id"].to_string();
        let step = |version: &'static str, status: &'static str, evidence: &'static str| {
            let id = id.clone();
            let otto = otto.clone();
            let server = &server;
            async move {
                server
                    .call(
                        "move_action_item",
                        Some(&otto),
                        &[
                            ("item", &id),
                            ("version", version),
                            ("status", status),
                            ("evidence", evidence),
                        ],
                    )
                    .await
            }
        };
        let skipped = step("1", "verified", "drill").await;
        assert_eq!(
            skipped.status,
            StatusCode::CONFLICT,
            "one step at a time: {}",
            skipped.body
        );
        assert_eq!(step("1", "in_progress", "").await.status, StatusCode::OK);

        let link = server
            .call("get_calendar_link", Some(&otto), &[("reset", "false")])
            .await;
        let path: String = serde_json::from_str(&link.body).expect("path");
        let feed = server.get(&path, None).await;
        assert_eq!(feed.status, StatusCode::OK);
        assert!(feed.body.contains("BEGIN:VTODO"), "{}", feed.body);
        assert!(
            feed.body.contains("DUE;VALUE=DATE:20261210"),
            "{}",
            feed.body
        );
        assert!(feed.body.contains("STATUS:IN-PROCESS"), "{}", feed.body);
        assert!(
            feed.body.contains("Alert on checkout error rate (INC-1)"),
            "{}",
            feed.body
        );

        assert_eq!(step("2", "done", "").await.status, StatusCode::OK);
        let bare = step("3", "verified", "  ").await;
        assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(&bare)["Invalid"]["field"], "evidence");
        assert_eq!(
            step("3", "verified", "Drill on 3 Dec paged in 90 s")
                .await
                .status,
            StatusCode::OK
        );
        let feed = server.get(&path, None).await;
        assert!(feed.body.contains("STATUS:COMPLETED"), "{}", feed.body);

        let reset = server
            .call("get_calendar_link", Some(&otto), &[("reset", "true")])
            .await;
        let new_path: String = serde_json::from_str(&reset.body).expect("path");
        assert_ne!(new_path, path);
        assert_eq!(server.get(&path, None).await.status, StatusCode::NOT_FOUND);
    }
}

/// Declares incident 1 as `cookie`, marked possible security impact or data exposure.
async fn declare_restricted(server: &TestServer, cookie: &str) -> Reply {
    server
        .call(
            "declare_incident",
            Some(cookie),
            &[
                ("title", "Customer export leaked"),
                ("severity", "sev1"),
                ("impact", "Possible exposure of invoices"),
                ("best_guess", ""),
                ("restricted", "on"),
            ],
        )
        .await
}

#[tokio::test]
async fn an_observer_is_refused_the_responder_timeline_until_the_ic_adds_them() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (obi_id, obi) = member(&server, &admin, "Obi", "responder").await;
        declare(&server, &ic).await;
        let note = [("number", "1"), ("body", "Looks like DNS to me")];
        let refused = server.call("add_timeline_note", Some(&obi), &note).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        assert!(refused.body.contains("observing"), "{}", refused.body);
        let room = war_room(&server, &obi).await;
        assert_eq!(room["can_edit"], false, "an observer reads the war room");
        let asked = server
            .call(
                "ask_question",
                Some(&obi),
                &[
                    ("number", "1"),
                    ("question", "Is the EU the only region hit?"),
                ],
            )
            .await;
        assert_eq!(
            asked.status,
            StatusCode::OK,
            "observers use the question queue"
        );

        let obi_id = obi_id.to_string();
        let by_observer = server
            .call(
                "add_responder",
                Some(&obi),
                &[("number", "1"), ("user_id", &obi_id)],
            )
            .await;
        assert_eq!(by_observer.status, StatusCode::FORBIDDEN);
        let added = server
            .call(
                "add_responder",
                Some(&ic),
                &[("number", "1"), ("user_id", &obi_id)],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let posted = server.call("add_timeline_note", Some(&obi), &note).await;
        assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(room["responders"][0]["name"], "Obi");
        assert!(room["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["body"] == "Looks like DNS to me"));
    }
}

#[tokio::test]
async fn a_restricted_incident_is_not_found_by_anyone_outside_it_on_every_endpoint() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        let (vera_id, vera) = member(&server, &admin, "Vera", "viewer").await;
        let declared = declare_restricted(&server, &ic).await;
        assert!(declared.status.is_success() || declared.status.is_redirection());
        let vera_id = vera_id.to_string();
        let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("get_war_room", vec![("number", "1")]),
            ("get_comms", vec![("number", "1")]),
            ("get_status_channel", vec![("number", "1")]),
            ("get_postmortem", vec![("number", "1")]),
            (
                "ask_question",
                vec![("number", "1"), ("question", "What broke?")],
            ),
            (
                "add_timeline_note",
                vec![("number", "1"), ("body", "hello")],
            ),
            ("check_in", vec![("number", "1")]),
            (
                "assign_role",
                vec![("number", "1"), ("role", "scribe"), ("user_id", "3")],
            ),
            (
                "raise_blocker",
                vec![("number", "1"), ("description", "need access")],
            ),
            (
                "request_approval",
                vec![
                    ("number", "1"),
                    ("mitigation", "shift traffic"),
                    ("reason", "down"),
                ],
            ),
            ("take_blocker", vec![("number", "1"), ("blocker_id", "1")]),
            (
                "add_responder",
                vec![("number", "1"), ("user_id", &vera_id)],
            ),
            ("flag_restricted", vec![("number", "1")]),
        ];
        for (function, pairs) in &calls {
            let reply = server.call(function, Some(&obi), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{function} answered {} to a responder outside the incident on {}: {}",
                reply.status,
                server.db.backend(),
                reply.body
            );
        }
        for function in ["get_war_room", "get_status_channel", "get_postmortem"] {
            let reply = server.call(function, Some(&vera), &[("number", "1")]).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{function} to a viewer"
            );
        }
        for cookie in [&obi, &vera] {
            let list = server.call("list_incidents", Some(cookie), &[]).await;
            assert_eq!(list.status, StatusCode::OK);
            assert!(
                !list.body.contains("Customer export leaked"),
                "{}",
                list.body
            );
            let page = server.get("/incidents/1", Some(cookie)).await;
            assert!(!page.body.contains("Customer export leaked"));
            let export = server
                .get("/incidents/1/postmortem/export.md", Some(cookie))
                .await;
            assert_eq!(export.status, StatusCode::NOT_FOUND);
        }
        // Inside: the IC and admins see it, and the Security Lead is an open gap.
        let room = war_room(&server, &ic).await;
        assert_eq!(room["restricted"], true);
        let security = room["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["role"] == "SecurityLead")
            .expect("security lead")
            .clone();
        assert_eq!(security["required"], true);
        assert!(security["holder"].is_null());
        let list = server.call("list_incidents", Some(&admin), &[]).await;
        assert!(list.body.contains("Customer export leaked"));
        assert!(list.body.contains("SecurityLead"), "{}", list.body);
        // Adding someone lets them in.
        let added = server
            .call(
                "add_responder",
                Some(&ic),
                &[("number", "1"), ("user_id", &vera_id)],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let channel = server
            .call("get_status_channel", Some(&vera), &[("number", "1")])
            .await;
        assert_eq!(channel.status, StatusCode::OK, "{}", channel.body);
    }
}

#[tokio::test]
async fn approving_a_high_impact_mitigation_needs_the_leadership_permission() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (tess_id, tess) = member(&server, &admin, "Tess", "responder").await;
        let (lee_id, lee) = member(&server, &admin, "Lee", "viewer").await;
        declare(&server, &ic).await;
        let tess_id = tess_id.to_string();
        let assigned = server
            .call(
                "assign_role",
                Some(&ic),
                &[
                    ("number", "1"),
                    ("role", "tech_lead"),
                    ("user_id", &tess_id),
                ],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
        let asked = server
            .call(
                "request_approval",
                Some(&tess),
                &[
                    ("number", "1"),
                    ("mitigation", "shift traffic to the secondary region"),
                    ("reason", "the primary region is failing"),
                ],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        let approve = [
            ("number", "1"),
            ("approval_id", "1"),
            ("approve", "true"),
            ("note", "go"),
        ];
        let refused = server.call("decide_approval", Some(&lee), &approve).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        let by_admin = server.call("decide_approval", Some(&admin), &approve).await;
        assert_eq!(
            by_admin.status,
            StatusCode::FORBIDDEN,
            "being admin is not the permission"
        );
        let none = server.call("pending_approvals", Some(&lee), &[]).await;
        assert_eq!(json(&none), serde_json::json!([]));

        let lee_id = lee_id.to_string();
        let granted = server
            .call(
                "set_can_lead",
                Some(&admin),
                &[("user_id", &lee_id), ("can_lead", "true")],
            )
            .await;
        assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
        let by_responder = server
            .call(
                "set_can_lead",
                Some(&tess),
                &[("user_id", &tess_id), ("can_lead", "true")],
            )
            .await;
        assert_eq!(by_responder.status, StatusCode::FORBIDDEN);
        let pending = json(&server.call("pending_approvals", Some(&lee), &[]).await);
        assert_eq!(
            pending[0]["mitigation"],
            "shift traffic to the secondary region"
        );
        let approved = server.call("decide_approval", Some(&lee), &approve).await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(
            room["decisions"][0]["decision"],
            "Approved by Lee: shift traffic to the secondary region"
        );
        assert_eq!(room["approvals"][0]["status"], "Approved");
        let board = server.call("get_leadership", Some(&lee), &[]).await;
        assert_eq!(board.status, StatusCode::OK, "{}", board.body);
        assert_eq!(json(&board)["incidents"][0]["ic"], "Ivy");
        let not_leader = server.call("get_leadership", Some(&tess), &[]).await;
        assert_eq!(not_leader.status, StatusCode::FORBIDDEN);
    }
}

/// Incident 1 declared restricted by Ivy, resolved, with a postmortem holding
/// one action item owned by Ivy. Returns (admin, ivy, obi the outsider, item id).
async fn restricted_with_item(server: &TestServer) -> (String, String, String, String) {
    let admin = server.set_up().await;
    let (ivy_id, ivy) = member(server, &admin, "Ivy", "responder").await;
    let (_, obi) = member(server, &admin, "Obi", "responder").await;
    declare_restricted(server, &ivy).await;
    let version = war_room(server, &ivy).await["version"].to_string();
    let resolved = server
        .call(
            "change_status",
            Some(&ivy),
            &[
                ("number", "1"),
                ("version", &version),
                ("status", "resolved"),
                ("severity", "sev1"),
            ],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let started = server
        .call("start_postmortem", Some(&ivy), &[("number", "1")])
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let added = server
        .call(
            "add_action_item",
            Some(&ivy),
            &[
                ("number", "1"),
                ("title", "Rotate the export bucket keys"),
                ("kind", "prevention"),
                ("owner", &ivy_id.to_string()),
                ("due", "2026-12-10"),
                ("verification", "Old keys are refused"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let document = server
        .call("get_postmortem", Some(&ivy), &[("number", "1")])
        .await;
    let item = json(&document)["Document"]["items"][0]["id"].to_string();
    (admin, ivy, obi, item)
}

#[tokio::test]
async fn an_outsider_can_neither_change_nor_detect_the_action_items_of_a_restricted_incident() {
    for server in servers().await {
        let (_, ivy, obi, item) = restricted_with_item(&server).await;
        let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "move_action_item",
                vec![
                    ("item", &item),
                    ("version", "1"),
                    ("status", "in_progress"),
                    ("evidence", ""),
                ],
            ),
            (
                "reassign_action_item",
                vec![
                    ("item", &item),
                    ("version", "1"),
                    ("owner", ""),
                    ("due", ""),
                ],
            ),
            (
                "confirm_action_item",
                vec![("item", &item), ("version", "1")],
            ),
        ];
        for (function, pairs) in &attempts {
            let real = server.call(function, Some(&obi), pairs).await;
            let unknown_pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (*k, if *k == "item" { "999" } else { *v }))
                .collect();
            let unknown = server.call(function, Some(&obi), &unknown_pairs).await;
            assert_eq!(
                real.status,
                StatusCode::NOT_FOUND,
                "{function} on {}: {}",
                server.db.backend(),
                real.body
            );
            assert_eq!(
                (real.status, real.body.clone()),
                (unknown.status, unknown.body),
                "{function}: a real item and a missing one answer alike"
            );
        }
        let document = server
            .call("get_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let item = &json(&document)["Document"]["items"][0];
        assert_eq!(item["status"], "Open", "{item}");
        assert_eq!(item["version"], 1, "{item}");
    }
}

#[tokio::test]
async fn observers_cannot_rewrite_a_postmortem_and_its_review_record_stays_once_published() {
    for server in servers().await {
        let (admin, ivy, otto_id, otto, _) = resolved_incident(&server).await;
        server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let document = server
            .call("get_postmortem", Some(&otto), &[("number", "1")])
            .await;
        assert_eq!(json(&document)["Document"]["can_write"], false);
        let version = postmortem_version(&document);
        let saved = server
            .call_json(
                "save_postmortem",
                &otto,
                serde_json::json!({
                    "number": 1,
                    "version": version.parse::<i64>().expect("version"),
                    "fields": { "summary": "Otto rewrote this" },
                }),
            )
            .await;
        assert_eq!(saved.status, StatusCode::FORBIDDEN, "{}", saved.body);
        let otto_id = otto_id.to_string();
        let writes: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "exclude_line",
                vec![("number", "1"), ("line", "1"), ("excluded", "true")],
            ),
            (
                "add_action_item",
                vec![
                    ("number", "1"),
                    ("title", "Otto's item"),
                    ("kind", "process"),
                    ("owner", &otto_id),
                    ("due", ""),
                    ("verification", "none"),
                ],
            ),
            (
                "record_meeting",
                vec![
                    ("number", "1"),
                    ("held_at", "2026-11-30T10:00"),
                    ("attendees", "Otto alone"),
                ],
            ),
        ];
        for (function, pairs) in &writes {
            let reply = server.call(function, Some(&otto), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{function} by an observer on {}: {}",
                server.db.backend(),
                reply.body
            );
        }
        // Once published, not even the IC rewrites the review record.
        let version = postmortem_version(
            &server
                .call("get_postmortem", Some(&ivy), &[("number", "1")])
                .await,
        );
        let published = server
            .call(
                "publish_postmortem",
                Some(&admin),
                &[("number", "1"), ("version", &version), ("confirm", "true")],
            )
            .await;
        assert_eq!(published.status, StatusCode::OK, "{}", published.body);
        let late = server
            .call(
                "record_meeting",
                Some(&ivy),
                &[
                    ("number", "1"),
                    ("held_at", "2026-11-30T10:00"),
                    ("attendees", "Rewritten"),
                ],
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
        let document = server
            .call("get_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let document = &json(&document)["Document"];
        assert_eq!(document["attendees"], "", "{document}");
        assert!(document["items"].as_array().expect("items").is_empty());
        assert!(!document["sections"].to_string().contains("Otto rewrote"));
    }
}

#[tokio::test]
async fn insights_leave_out_restricted_incidents_for_people_outside_them() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        declare_restricted(&server, &ivy).await;
        let counted = |cookie: String| {
            let server = &server;
            async move {
                let reply = server
                    .call("get_insights", Some(&cookie), &[("from", ""), ("to", "")])
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                json(&reply)["by_severity"]
                    .as_array()
                    .expect("by severity")
                    .iter()
                    .map(|pair| pair[1].as_i64().expect("count"))
                    .sum::<i64>()
            }
        };
        assert_eq!(counted(obi).await, 0, "{}", server.db.backend());
        assert_eq!(counted(ivy).await, 1);
        assert_eq!(counted(admin).await, 1);
    }
}

#[tokio::test]
async fn dates_outside_this_era_are_refused_at_their_field_not_with_a_500() {
    for server in servers().await {
        let (_, ivy, _, _) = restricted_with_item(&server).await;
        for (from, to, field) in [
            ("", "+262142-12-31", "to"),
            ("-262143-01-01", "2026-01-01", "from"),
            ("", "9999-12-31", "to"),
        ] {
            let reply = server
                .call("get_insights", Some(&ivy), &[("from", from), ("to", to)])
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{from}..{to}: {}",
                reply.body
            );
            assert_eq!(json(&reply)["Invalid"]["field"], field);
        }
        let far = server
            .call(
                "add_action_item",
                Some(&ivy),
                &[
                    ("number", "1"),
                    ("title", "Someday"),
                    ("kind", "process"),
                    ("owner", ""),
                    ("due", "+262142-12-31"),
                    ("verification", "never"),
                ],
            )
            .await;
        assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", far.body);
        assert_eq!(json(&far)["Invalid"]["field"], "due");
    }
}

#[tokio::test]
async fn markdown_nested_too_deep_is_refused_at_its_field_and_never_loads_remote_images() {
    for server in servers().await {
        let admin = server.set_up().await;
        let deep = format!("{} too deep", ">".repeat(40));
        let reply = server
            .call("preview_markdown", Some(&admin), &[("text", &deep)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert_eq!(json(&reply)["Invalid"]["field"], "text");
        let image = server
            .call(
                "preview_markdown",
                Some(&admin),
                &[("text", "![pixel](https://tracker.example/p.png)")],
            )
            .await;
        assert_eq!(image.status, StatusCode::OK);
        assert!(!image.body.contains("<img"), "{}", image.body);
    }
}

/// Reads an event stream until `until` shows up or `quiet` passes without it;
/// returns everything read.
async fn read_events(body: &mut Body, until: &str, quiet: std::time::Duration) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + quiet;
    while !seen.contains(until) {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    seen.push_str(&String::from_utf8_lossy(data));
                }
            }
            // The stream ended, or nothing more came in time.
            _ => break,
        }
    }
    seen
}

async fn open_events(server: &TestServer, cookie: &str) -> Body {
    let request = Request::get("/events")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let response = server.app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body()
}

#[tokio::test]
async fn the_event_stream_tells_only_people_inside_a_restricted_incident_and_ends_at_sign_out() {
    let quiet = std::time::Duration::from_millis(1500);
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        let mut inside = open_events(&server, &ivy).await;
        let mut outside = open_events(&server, &obi).await;
        read_events(&mut inside, "connected", quiet).await;
        read_events(&mut outside, "connected", quiet).await;
        declare_restricted(&server, &ivy).await;
        let heard = read_events(&mut inside, "incident:1", quiet).await;
        assert!(
            heard.contains("incident:1"),
            "{}: {heard}",
            server.db.backend()
        );
        let note = server
            .call(
                "add_timeline_note",
                Some(&ivy),
                &[("number", "1"), ("body", "Export bucket was public")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        let overheard = read_events(&mut outside, "incident:1", quiet).await;
        assert!(
            !overheard.contains("incident:1"),
            "{}: an outsider heard {overheard}",
            server.db.backend()
        );

        // Signing out ends the open stream: nothing more reaches it.
        server.call("sign_out", Some(&ivy), &[]).await;
        declare(&server, &admin).await;
        let after = read_events(&mut inside, "incident:2", quiet).await;
        assert!(
            !after.contains("incident:2"),
            "{}: a signed-out stream heard {after}",
            server.db.backend()
        );
    }
}

/// The events in a stretch of an event stream: (event, id, data) each.
fn parse_events(text: &str) -> Vec<(String, String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
            };
            Some((
                field("event:")?,
                field("id:").unwrap_or_default(),
                field("data:")?,
            ))
        })
        .collect()
}

async fn open_events_after(server: &TestServer, cookie: &str, last_event_id: &str) -> Body {
    let request = Request::get("/events")
        .header(header::COOKIE, cookie)
        .header("last-event-id", last_event_id)
        .body(Body::empty())
        .expect("request");
    let response = server.app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("x-accel-buffering")
            .map(|v| v.as_bytes()),
        Some(&b"no"[..])
    );
    response.into_body()
}

#[tokio::test]
async fn a_browser_that_reconnects_with_last_event_id_hears_exactly_what_it_missed() {
    let quiet = std::time::Duration::from_millis(1500);
    for server in servers().await {
        let backend = server.db.backend();
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        let mut first = open_events(&server, &obi).await;
        let hello = parse_events(&read_events(&mut first, "connected", quiet).await);
        assert_eq!(hello.len(), 1, "{backend}: {hello:?}");
        assert_eq!(hello[0].0, "resync");
        let connected_at: i64 = hello[0].1.parse().expect("the resync carries an id");
        declare(&server, &obi).await;
        let heard = parse_events(&read_events(&mut first, "incident:1", quiet).await);
        let last_id = heard
            .iter()
            .find(|(_, _, data)| data == "incident:1")
            .map(|(_, id, _)| id.clone())
            .expect("incident 1 announced");
        assert!(last_id.parse::<i64>().expect("numeric id") > connected_at);
        drop(first);

        // While Obi's browser is away: a note on incident 1, a new incident 2,
        // and a restricted incident 3 that Obi may not see.
        let note = server
            .call(
                "add_timeline_note",
                Some(&obi),
                &[("number", "1"), ("body", "Rolled back the deploy")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        for declared in [
            declare(&server, &ivy).await,
            declare_restricted(&server, &ivy).await,
            declare(&server, &admin).await,
        ] {
            assert_eq!(declared.status, StatusCode::OK, "{}", declared.body);
        }

        let mut again = open_events_after(&server, &obi, &last_id).await;
        let missed = parse_events(&read_events(&mut again, "incident:4", quiet).await);
        let said: Vec<&str> = missed.iter().map(|(_, _, d)| d.as_str()).collect();
        assert_eq!(
            said,
            vec!["incident:1", "incident:2", "incident:4"],
            "{backend}: {missed:?}"
        );
        assert!(missed.iter().all(|(event, _, _)| event == "change"));
        let ids: Vec<i64> = missed
            .iter()
            .map(|(_, id, _)| id.parse().expect("id"))
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{backend}: {ids:?}");

        // Ivy, inside the restricted incident, hears it on resuming from the same point.
        let mut inside = open_events_after(&server, &ivy, &last_id).await;
        let heard = read_events(&mut inside, "incident:4", quiet).await;
        assert!(heard.contains("incident:3"), "{backend}: {heard}");

        // An id this log never gave (another database, a forged header): refetch everything.
        let mut forged = open_events_after(&server, &obi, "99999999").await;
        let told = parse_events(&read_events(&mut forged, "gap", quiet).await);
        assert_eq!(
            told.first().map(|e| e.0.as_str()),
            Some("resync"),
            "{backend}: {told:?}"
        );
        assert_eq!(told.first().map(|e| e.2.as_str()), Some("gap"));
    }
}

#[tokio::test]
async fn internal_updates_of_a_restricted_incident_reach_no_company_wide_webhook() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        declare_restricted(&server, &ivy).await;
        let add = server
            .call(
                "add_webhook",
                Some(&admin),
                &[
                    ("name", "Company channel"),
                    ("kind", "slack"),
                    ("url", "http://127.0.0.1:9/hook"),
                    ("all_updates", "on"),
                ],
            )
            .await;
        assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        let published = server
            .publish(
                &ivy,
                "initial_internal",
                serde_json::json!({
                    "severity": "Sev1",
                    "impact": "Invoices may be exposed",
                    "status": "Investigating",
                    "known": "A bucket was public",
                    "next_steps": "Close the bucket",
                }),
                true,
            )
            .await;
        assert_eq!(published.status, StatusCode::OK, "{}", published.body);
        let hooks = app::store::webhooks::webhooks(&server.db)
            .await
            .expect("hooks");
        let deliveries = app::store::webhooks::deliveries(&server.db, hooks[0].id, 10)
            .await
            .expect("deliveries");
        assert!(
            deliveries.is_empty(),
            "{}: {} deliveries",
            server.db.backend(),
            deliveries.len()
        );
    }
}

#[tokio::test]
async fn public_readers_get_the_last_good_copy_while_a_rebuild_waits_on_the_database() {
    for server in servers().await {
        let Db::Postgres(pool) = &server.db else {
            continue;
        };
        let admin = server.set_up().await;
        let first = server.get("/status", None).await;
        assert_eq!(first.status, StatusCode::OK);
        // Hold the component table so any rebuild blocks on it.
        let mut blocker = pool.begin().await.expect("transaction");
        sqlx::query("LOCK TABLE components IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *blocker)
            .await
            .expect("lock");
        // A public change announced while the table is locked.
        server.events.publish(app::store::changes::Logged {
            seq: 0,
            change: app::live::Change::Status,
        });
        for path in ["/status", "/api/v2/summary.json"] {
            let request = Request::get(path).body(Body::empty()).expect("request");
            let answer = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                server.app.clone().oneshot(request),
            )
            .await
            .unwrap_or_else(|_| panic!("{path} waited on the rebuild"))
            .expect("response");
            assert_eq!(answer.status(), StatusCode::OK, "{path}");
        }
        blocker.rollback().await.expect("release");
        let add = server
            .call(
                "add_component",
                Some(&admin),
                &[("name", "Search"), ("group_name", ""), ("description", "")],
            )
            .await;
        assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        let fresh = server
            .public_once("/status", |b| b.contains("Search"))
            .await;
        assert!(fresh.body.contains("Search"), "the rebuild catches up");
    }
}

#[tokio::test]
async fn an_active_session_is_renewed_instead_of_ending_at_a_fixed_time() {
    use tower_sessions::SessionStore;
    for server in servers().await {
        let admin = server.set_up().await;
        let value = admin
            .split_once('=')
            .map(|(_, v)| v.to_owned())
            .expect("cookie value");
        let id: tower_sessions::session::Id = value.parse().expect("session id");
        let mut record = server
            .sessions
            .load(&id)
            .await
            .expect("load")
            .expect("record");
        // As if signed in long ago: two minutes of the idle time are left.
        let now = tower_sessions::cookie::time::OffsetDateTime::now_utc();
        record.expiry_date = now + tower_sessions::cookie::time::Duration::minutes(2);
        record.data.insert(
            "seen_at".to_owned(),
            serde_json::json!(chrono::Utc::now().timestamp() - 3600),
        );
        server.sessions.save(&record).await.expect("save");

        assert_eq!(
            server.signed_in_as(&admin).await.as_deref(),
            Some("ada@example.com")
        );
        let renewed = server
            .sessions
            .load(&id)
            .await
            .expect("load")
            .expect("still signed in");
        assert!(
            renewed.expiry_date > now + tower_sessions::cookie::time::Duration::minutes(55),
            "{}: the session still ends at {}",
            server.db.backend(),
            renewed.expiry_date
        );
    }
}

#[tokio::test]
async fn writes_from_another_site_or_as_plain_text_are_refused() {
    for server in servers().await {
        let admin = server.set_up().await;
        let note = |origin: Option<&'static str>,
                    site: Option<&'static str>,
                    content_type: &'static str| {
            let mut request = Request::post("/api/declare_incident")
                .header(header::CONTENT_TYPE, content_type)
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::COOKIE, &admin);
            if let Some(origin) = origin {
                request = request.header(header::ORIGIN, origin);
            }
            if let Some(site) = site {
                request = request.header("sec-fetch-site", site);
            }
            request
                .body(Body::from(form(&[
                    ("title", "Planted incident"),
                    ("severity", "sev4"),
                    ("impact", ""),
                    ("best_guess", ""),
                ])))
                .expect("request")
        };
        let form_type = "application/x-www-form-urlencoded";
        for (origin, site) in [
            (Some("http://127.0.0.1:8080"), None),
            (Some("http://evil.example"), Some("cross-site")),
            (None, Some("same-site")),
        ] {
            let reply = server.send(note(origin, site, form_type)).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin:?} {site:?}");
        }
        let plain = server.send(note(None, None, "text/plain")).await;
        assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let list = server.call("list_incidents", Some(&admin), &[]).await;
        assert!(!list.body.contains("Planted incident"), "{}", list.body);

        let own = server
            .send(note(
                Some("http://127.0.0.1:3000"),
                Some("same-origin"),
                form_type,
            ))
            .await;
        assert!(
            own.status.is_success() || own.status.is_redirection(),
            "{}: {}",
            own.status,
            own.body
        );
    }
}

#[tokio::test]
async fn signed_in_answers_are_not_stored_and_https_instances_insist_on_https() {
    for server in servers_with(true).await {
        let admin = server.set_up().await;
        let request = Request::post("/api/list_incidents")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin)
            .body(Body::empty())
            .expect("request");
        let response = server.app.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        assert!(response
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY));
        // The public page stays cacheable.
        let request = Request::get("/status")
            .body(Body::empty())
            .expect("request");
        let response = server.app.clone().oneshot(request).await.expect("response");
        let cache = response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(cache.starts_with("public"), "{cache}");
    }
}

#[tokio::test]
async fn incident_pages_of_a_missing_or_hidden_incident_answer_404_every_time() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        declare_restricted(&server, &ivy).await;
        for _ in 0..3 {
            for (path, cookie) in [
                ("/incidents/99", &ivy),
                ("/incidents/99/comms", &ivy),
                ("/incidents/99/postmortem", &ivy),
                ("/incidents/1", &obi),
                ("/incidents/1/comms", &obi),
                ("/incidents/1/postmortem/review", &obi),
            ] {
                let page = server.get(path, Some(cookie)).await;
                assert_eq!(
                    page.status,
                    StatusCode::NOT_FOUND,
                    "{path} on {}",
                    server.db.backend()
                );
                assert!(!page.body.contains("Customer export leaked"));
            }
        }
        let own = server.get("/incidents/1", Some(&ivy)).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(own.body.contains("Customer export leaked"));
    }
}

#[tokio::test]
async fn changing_a_password_needs_the_current_one_and_ends_the_other_sessions() {
    for server in servers().await {
        let admin = server.set_up().await;
        let laptop = server
            .sign_in("ada@example.com", ADMIN_PASSWORD)
            .await
            .cookie
            .expect("second session");
        let wrong = server
            .call(
                "change_password",
                Some(&admin),
                &[
                    ("current", "not my password"),
                    ("new", "a brand new password"),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(&wrong)["Invalid"]["field"], "current");
        let changed = server
            .call(
                "change_password",
                Some(&admin),
                &[("current", ADMIN_PASSWORD), ("new", "a brand new password")],
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        // This browser stays signed in; the other one is signed out.
        assert_eq!(
            server.signed_in_as(&admin).await.as_deref(),
            Some("ada@example.com"),
            "{}",
            server.db.backend()
        );
        assert_eq!(server.signed_in_as(&laptop).await, None);
        assert_eq!(
            server
                .sign_in("ada@example.com", ADMIN_PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert!(server
            .sign_in("ada@example.com", "a brand new password")
            .await
            .cookie
            .is_some());
    }
}

#[tokio::test]
async fn an_admin_reset_signs_the_user_out_and_forces_a_new_password_first() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (ivy_id, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let reset = server
            .call(
                "reset_password",
                Some(&ivy),
                &[("user_id", &ivy_id.to_string())],
            )
            .await;
        assert_eq!(reset.status, StatusCode::FORBIDDEN, "only admins reset");
        let reset = server
            .call(
                "reset_password",
                Some(&admin),
                &[("user_id", &ivy_id.to_string())],
            )
            .await;
        assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
        let temporary: String = serde_json::from_str(&reset.body).expect("password");
        assert_eq!(server.signed_in_as(&ivy).await, None, "old session ended");

        let ivy = server
            .sign_in("ivy@example.com", &temporary)
            .await
            .cookie
            .expect("signs in with the reset password");
        let state = json(&server.call("auth_state", Some(&ivy), &[]).await);
        assert_eq!(state["user"]["must_change_password"], true);
        let refused = server.call("list_incidents", Some(&ivy), &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let chosen = server
            .call(
                "change_password",
                Some(&ivy),
                &[("current", &temporary), ("new", "ivy's own password")],
            )
            .await;
        assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
        let listed = server.call("list_incidents", Some(&ivy), &[]).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    }
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    for server in servers().await {
        let ada = server.set_up().await;
        let (bo_id, bo) = member(&server, &ada, "Bo", "admin").await;
        let ada_id = json(&server.call("auth_state", Some(&ada), &[]).await)["user"]["id"]
            .as_i64()
            .expect("id");
        let (bo_key, ada_key) = (bo_id.to_string(), ada_id.to_string());
        let demote_bo = [("user_id", bo_key.as_str()), ("org_role", "responder")];
        let demote_ada = [("user_id", ada_key.as_str()), ("org_role", "responder")];
        for _ in 0..5 {
            let (a, b) = tokio::join!(
                server.call("change_org_role", Some(&ada), &demote_bo),
                server.call("change_org_role", Some(&bo), &demote_ada),
            );
            let admins = app::store::users::list(&server.db)
                .await
                .expect("users")
                .into_iter()
                .filter(|u| u.org_role == app::domain::users::OrgRole::Admin && !u.disabled)
                .count();
            assert_eq!(
                admins,
                1,
                "{}: {} / {}",
                server.db.backend(),
                a.status,
                b.status
            );
            // Make both admins again for the next round (whoever is left does it).
            let left = if a.status == StatusCode::OK {
                &ada
            } else {
                &bo
            };
            for id in [ada_id, bo_id] {
                server
                    .call(
                        "change_org_role",
                        Some(left),
                        &[("user_id", &id.to_string()), ("org_role", "admin")],
                    )
                    .await;
            }
        }
    }
}

/// Row counts of every table but sessions and sign-in bookkeeping: what a
/// refused request must leave exactly as it was.
async fn fingerprint(db: &Db) -> Vec<(String, i64)> {
    let tables: Vec<String> = match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(read)
        .await
        .expect("tables"),
        Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT tablename::TEXT FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .fetch_all(pool)
        .await
        .expect("tables"),
    };
    let mut counts = Vec::new();
    for table in tables {
        if [
            "tower_sessions",
            "sign_in_failures",
            "app_locks",
            "_sqlx_migrations",
        ]
        .contains(&table.as_str())
        {
            continue;
        }
        let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
        let count: i64 = match db {
            Db::Sqlite { read, .. } => sqlx::query_scalar(&sql).fetch_one(read).await,
            Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
        }
        .expect("count");
        counts.push((table, count));
    }
    counts
}

#[tokio::test]
async fn malformed_oversized_and_boundary_input_to_every_server_function_gets_a_4xx_and_writes_nothing(
) {
    let huge_text = "x".repeat(200_000);
    let fields = [
        "number",
        "item",
        "version",
        "user_id",
        "owner",
        "owner_id",
        "line",
        "status",
        "severity",
        "role",
        "title",
        "body",
        "text",
        "decision",
        "reason",
        "due",
        "from",
        "to",
        "held_at",
        "attendees",
        "evidence",
        "email",
        "name",
        "password",
        "org_role",
        "kind",
        "url",
        "question",
        "answer",
        "question_id",
        "blocker_id",
        "approval_id",
        "note",
        "excluded",
        "confirm",
        "reset",
        "disabled",
        "can_lead",
        "component_id",
    ];
    let filled = |value: &str| {
        fields
            .iter()
            .map(|f| format!("{f}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let bodies: Vec<(&str, &'static str, String)> = vec![
        (
            "nothing",
            "application/x-www-form-urlencoded",
            String::new(),
        ),
        (
            "not numbers",
            "application/x-www-form-urlencoded",
            filled("abc"),
        ),
        (
            "invalid utf-8 escapes",
            "application/x-www-form-urlencoded",
            filled("%FF%FE"),
        ),
        (
            "largest number",
            "application/x-www-form-urlencoded",
            filled("9223372036854775807"),
        ),
        (
            "past the largest number",
            "application/x-www-form-urlencoded",
            filled("9223372036854775808"),
        ),
        (
            "negative",
            "application/x-www-form-urlencoded",
            filled("-1"),
        ),
        (
            "far dates",
            "application/x-www-form-urlencoded",
            filled("%2B262142-12-31"),
        ),
        (
            "long text",
            "application/x-www-form-urlencoded",
            filled(&huge_text[..20_000]),
        ),
        (
            "broken json",
            "application/json",
            "{\"number\": ".to_owned(),
        ),
        (
            "deep json",
            "application/json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        ),
        (
            "wrong json types",
            "application/json",
            "{\"number\": \"x\", \"fields\": 3, \"filter\": []}".to_owned(),
        ),
        (
            "over the size limit",
            "application/x-www-form-urlencoded",
            format!("text={huge_text}{huge_text}{huge_text}{huge_text}{huge_text}{huge_text}"),
        ),
    ];
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        declare(&server, &ivy).await;
        let mut paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .filter(|path| path.starts_with("/api/"))
            .collect();
        paths.sort_unstable();
        assert!(paths.len() > 60, "{} server functions found", paths.len());
        for path in paths {
            for (what, content_type, body) in &bodies {
                let before = fingerprint(&server.db).await;
                let request = Request::post(path)
                    .header(header::CONTENT_TYPE, *content_type)
                    .header(header::COOKIE, &admin)
                    .body(Body::from(body.clone()))
                    .expect("request");
                let reply = server.send(request).await;
                assert!(
                    reply.status.is_client_error() || reply.status.is_success(),
                    "{path} with {what} answered {} on {}: {}",
                    reply.status,
                    server.db.backend(),
                    reply.body.chars().take(300).collect::<String>()
                );
                if reply.status.is_client_error() {
                    assert_eq!(
                        fingerprint(&server.db).await,
                        before,
                        "{path} with {what} refused ({}) but wrote",
                        reply.status
                    );
                }
                if *what == "over the size limit" {
                    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
                }
            }
        }
        // The admin is still signed in and the incident intact.
        assert_eq!(war_room(&server, &ivy).await["title"], "Checkout fails");
    }
}

/// Who calls, in the authorization matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    SignedOut,
    Viewer,
    ViewerLeader,
    Observer,
    Participant,
    Ic,
    Admin,
}

/// The rule a server function follows, from which the matrix derives who is let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Any signed-in person; not about one incident.
    SignedIn,
    /// Responders and admins; not about one incident.
    Writer,
    AdminOnly,
    /// The leadership permission or admin; not about one incident.
    LeadersAndAdmins,
    /// Anyone who sees the incident (stakeholders follow it too).
    Follow,
    /// The responder view of an incident: not viewers.
    Read,
    /// Writes in the responder channel: participants, the IC, admins.
    Write,
    /// The IC or an admin.
    Command,
    /// The Comms Lead, or the IC while nobody holds it (admins do not speak).
    Speak,
    /// The Tech Lead or the IC asks leaders.
    AskLeaders,
    /// Only the IC goes ahead without approval.
    Override,
    /// The leadership permission, whatever the org role.
    Lead,
    /// The leadership permission or admin.
    ClearBlockers,
}

/// What the matrix expects: refused with this status, or let in (any answer but
/// 401, 403 and 404: a conflict or a bad value is fine, the rule let them through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Refused(StatusCode),
    LetIn,
}

fn expected(rule: Rule, who: Persona, restricted: bool) -> Expect {
    use Expect::{LetIn, Refused};
    use Persona::*;
    const UNAUTHORIZED: Expect = Refused(StatusCode::UNAUTHORIZED);
    const FORBIDDEN: Expect = Refused(StatusCode::FORBIDDEN);
    const NOT_FOUND: Expect = Refused(StatusCode::NOT_FOUND);
    if who == SignedOut {
        return UNAUTHORIZED;
    }
    let viewer = matches!(who, Viewer | ViewerLeader);
    let insider = matches!(who, Participant | Ic | Admin);
    match rule {
        Rule::SignedIn => LetIn,
        Rule::Writer if viewer => FORBIDDEN,
        Rule::Writer => LetIn,
        Rule::AdminOnly if who == Admin => LetIn,
        Rule::AdminOnly => FORBIDDEN,
        Rule::LeadersAndAdmins if matches!(who, ViewerLeader | Admin) => LetIn,
        Rule::LeadersAndAdmins => FORBIDDEN,
        // Incident rules: outside a restricted incident, it does not exist...
        _ if restricted && !insider && !(viewer && writer_rule(rule)) => NOT_FOUND,
        // ...except that viewers are refused writing by their org role, which
        // says nothing about any incident.
        _ if viewer && writer_rule(rule) => FORBIDDEN,
        Rule::Follow => LetIn,
        Rule::Read if viewer => FORBIDDEN,
        Rule::Read => LetIn,
        Rule::Write if insider => LetIn,
        Rule::Command if matches!(who, Ic | Admin) => LetIn,
        Rule::Speak | Rule::AskLeaders | Rule::Override if who == Ic => LetIn,
        Rule::Lead if who == ViewerLeader => LetIn,
        Rule::ClearBlockers if matches!(who, ViewerLeader | Admin) => LetIn,
        _ => FORBIDDEN,
    }
}

/// Rules that need a writer (not a viewer) before anything else is asked.
fn writer_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::Write | Rule::Command | Rule::Speak | Rule::AskLeaders | Rule::Override
    )
}

/// Which incident a row is about: an active one, or a resolved one with a postmortem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    None,
    Active,
    Resolved,
}

/// One row: a server function, its rule, its incident, its arguments (with
/// `{n}`, `{blocker}`, `{approval}`, `{question}`, `{item}`, `{line}`,
/// `{decision}`, `{hypothesis}`, `{component}`, `{tess}` and `{pat}` filled in),
/// and whether they go as JSON.
struct Row {
    function: &'static str,
    rule: Rule,
    target: Target,
    args: &'static str,
    json: bool,
}

const fn row(function: &'static str, rule: Rule, target: Target, args: &'static str) -> Row {
    Row {
        function,
        rule,
        target,
        args,
        json: false,
    }
}

const fn json_row(function: &'static str, rule: Rule, target: Target, args: &'static str) -> Row {
    Row {
        function,
        rule,
        target,
        args,
        json: true,
    }
}

/// Every server function but the four that are about signing in itself
/// (`auth_state`, `sign_in`, `sign_out`, `create_first_admin`, tested on their own).
/// Rows that change who stands where come last, and the row that restricts an
/// ordinary incident is the very last.
fn matrix() -> Vec<Row> {
    use Rule::*;
    use Target::*;
    vec![
        row("list_incidents", SignedIn, None, ""),
        row("pending_approvals", SignedIn, None, ""),
        row("change_password", SignedIn, None, "current=wrong&new=short"),
        row(
            "declare_incident",
            Writer,
            None,
            "title=&severity=sev4&impact=&best_guess=",
        ),
        json_row(
            "get_action_items",
            Writer,
            None,
            r#"{"filter":{"owner":"","status":"","due":"","incident":""}}"#,
        ),
        row("get_follow_up", Writer, None, ""),
        row("get_insights", Writer, None, "from=&to="),
        row("get_calendar_link", Writer, None, "reset=false"),
        row("preview_markdown", Writer, None, "text=hello"),
        row("get_leadership", LeadersAndAdmins, None, ""),
        row("list_users", AdminOnly, None, ""),
        row(
            "create_user",
            AdminOnly,
            None,
            "name=&email=&org_role=viewer",
        ),
        row("get_status_admin", AdminOnly, None, ""),
        row(
            "add_component",
            AdminOnly,
            None,
            "name=&group_name=&description=",
        ),
        row(
            "update_component",
            AdminOnly,
            None,
            "id={component}&name=&group_name=&description=&status=operational&position=0",
        ),
        row("archive_component", AdminOnly, None, "id={spare_component}"),
        row(
            "schedule_maintenance",
            AdminOnly,
            None,
            "title=&description=&starts_at=&ends_at=",
        ),
        row("cancel_maintenance", AdminOnly, None, "id={maintenance}"),
        row("add_webhook", AdminOnly, None, "name=&kind=json&url="),
        row(
            "set_webhook_active",
            AdminOnly,
            None,
            "id={webhook}&active=true",
        ),
        row("get_templates", AdminOnly, None, ""),
        json_row(
            "save_template",
            AdminOnly,
            None,
            r#"{"kind":"customer","fields":[],"body":"","version":0}"#,
        ),
        row(
            "set_postmortem_deadlines",
            AdminOnly,
            None,
            "sev1_days=0&sev2_days=0&sev3_days=0&sev4_days=0",
        ),
        row(
            "change_org_role",
            AdminOnly,
            None,
            "user_id={tess}&org_role=responder",
        ),
        row(
            "set_user_disabled",
            AdminOnly,
            None,
            "user_id={tess}&disabled=false",
        ),
        row(
            "set_can_lead",
            AdminOnly,
            None,
            "user_id={tess}&can_lead=false",
        ),
        row("reset_password", AdminOnly, None, "user_id={tess}"),
        row("get_status_channel", Follow, Active, "number={n}"),
        row(
            "ask_question",
            Follow,
            Active,
            "number={n}&question=Is+it+fixed",
        ),
        row("get_war_room", Read, Active, "number={n}"),
        row("get_comms", Read, Active, "number={n}"),
        row("get_postmortem", Read, Resolved, "number={n}"),
        // Routes outside the server functions, read with GET.
        row("/incidents/{n}/postmortem/export.md", Read, Resolved, ""),
        row("/incidents/{n}/postmortem/print", Read, Resolved, ""),
        row(
            "add_timeline_note",
            Write,
            Active,
            "number={n}&body=Looking+at+logs",
        ),
        row("check_in", Write, Active, "number={n}"),
        row(
            "tick_rhythm_item",
            Write,
            Active,
            "number={n}&item=signals_checked",
        ),
        row(
            "change_status",
            Write,
            Active,
            "number={n}&version=0&status=mitigating&severity=sev1",
        ),
        row(
            "log_decision",
            Write,
            Active,
            "number={n}&decision=Scale+up&reason=Load&owner_id={pat}",
        ),
        row(
            "record_decision_result",
            Write,
            Active,
            "number={n}&decision_id={decision}&version=0&result=Worked",
        ),
        row(
            "add_hypothesis",
            Write,
            Active,
            "number={n}&statement=Cache+stampede&owner_id=",
        ),
        row(
            "update_hypothesis",
            Write,
            Active,
            "number={n}&hypothesis_id={hypothesis}&version=0&status=open&evidence=&owner_id=",
        ),
        row(
            "record_restore_step",
            Write,
            Active,
            "number={n}&step=rollback&outcome=tried&safety=staged&note=",
        ),
        row(
            "update_summary",
            Write,
            Active,
            "number={n}&version=0&impact=&best_guess=&bridge_url=",
        ),
        row(
            "raise_blocker",
            Write,
            Active,
            "number={n}&description=Need+vendor+access",
        ),
        json_row(
            "save_postmortem",
            Write,
            Resolved,
            r#"{"number":{n},"version":0,"fields":{}}"#,
        ),
        row(
            "exclude_line",
            Write,
            Resolved,
            "number={n}&line={line}&excluded=false",
        ),
        row(
            "add_action_item",
            Write,
            Resolved,
            "number={n}&title=Runbook&kind=process&owner=&due=&verification=Drill",
        ),
        row(
            "reassign_action_item",
            Write,
            Resolved,
            "item={item}&version=0&owner=&due=",
        ),
        row(
            "confirm_action_item",
            Write,
            Resolved,
            "item={item}&version=0",
        ),
        row(
            "move_action_item",
            Write,
            Resolved,
            "item={item}&version=0&status=in_progress&evidence=",
        ),
        row(
            "record_meeting",
            Write,
            Resolved,
            "number={n}&held_at=2026-11-30T10:00&attendees=Ivy",
        ),
        row(
            "set_cadence",
            Command,
            Active,
            "number={n}&version=0&decision_minutes=10&update_minutes=20",
        ),
        row(
            "correct_milestone",
            Command,
            Active,
            "number={n}&milestone=mitigated&at=2026-11-29T10:00",
        ),
        row("start_postmortem", Command, Resolved, "number={n}"),
        row(
            "send_for_review",
            Command,
            Resolved,
            "number={n}&in_review=false",
        ),
        row(
            "publish_postmortem",
            Command,
            Resolved,
            "number={n}&version=0&confirm=false",
        ),
        json_row(
            "publish_update",
            Speak,
            Active,
            r#"{"number":{n},"kind":"customer","values":{},"confirm":false}"#,
        ),
        row(
            "set_affected_component",
            Speak,
            Active,
            "number={n}&component_id={component}&status=partial_outage",
        ),
        row(
            "answer_question",
            Speak,
            Active,
            "number={n}&question_id={question}&answer=Yes",
        ),
        row(
            "dismiss_question",
            Speak,
            Active,
            "number={n}&question_id={question}",
        ),
        row(
            "request_approval",
            AskLeaders,
            Active,
            "number={n}&mitigation=Shift+traffic&reason=Region+down",
        ),
        row(
            "decide_approval",
            Lead,
            Active,
            "number={n}&approval_id={approval}&approve=false&note=Too+risky",
        ),
        row(
            "override_approval",
            Override,
            Active,
            "number={n}&approval_id={approval}&reason=Every+minute+costs",
        ),
        row(
            "take_blocker",
            ClearBlockers,
            Active,
            "number={n}&blocker_id={blocker}",
        ),
        row(
            "resolve_blocker",
            ClearBlockers,
            Active,
            "number={n}&blocker_id={blocker}&note=Vendor+granted+access",
        ),
        row(
            "assign_role",
            Command,
            Active,
            "number={n}&role=ops_lead&user_id={tess}",
        ),
        row("release_role", Command, Active, "number={n}&role=ops_lead"),
        row(
            "add_responder",
            Command,
            Active,
            "number={n}&user_id={tess}",
        ),
        row(
            "remove_responder",
            Command,
            Active,
            "number={n}&user_id={tess}",
        ),
        row("flag_restricted", Write, Active, "number={n}"),
    ]
}

/// Ids the rows refer to, per incident number.
#[derive(Default)]
struct MatrixIds {
    per_incident: std::collections::HashMap<i64, std::collections::HashMap<&'static str, i64>>,
    global: std::collections::HashMap<&'static str, i64>,
    tess: i64,
    pat: i64,
    component: i64,
}

async fn scalar(db: &Db, sql: &str, number: i64) -> i64 {
    let value: Option<i64> = match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(sql).bind(number).fetch_one(read).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(number).fetch_one(pool).await,
    }
    .expect("lookup");
    value.unwrap_or_else(|| panic!("nothing found by {sql} for {number}"))
}

/// Sets up the matrix's world: everyone signed in (cookie per persona), incidents
/// 1 (ordinary) and 2 (restricted) active, 3 and 4 the same but resolved with a
/// postmortem. Ivy is IC of all four, Pat their Scribe, Obi on none.
async fn matrix_world(server: &TestServer) -> (Vec<(Persona, Option<String>)>, MatrixIds) {
    let ada = server.set_up().await;
    let (_, ivy) = member(server, &ada, "Ivy", "responder").await;
    let (pat_id, pat) = member(server, &ada, "Pat", "responder").await;
    let (_, obi) = member(server, &ada, "Obi", "responder").await;
    let (_, vera) = member(server, &ada, "Vera", "viewer").await;
    let (lee_id, lee) = member(server, &ada, "Lee", "viewer").await;
    let (tess_id, _) = member(server, &ada, "Tess", "responder").await;
    let lead = server
        .call(
            "set_can_lead",
            Some(&ada),
            &[("user_id", &lee_id.to_string()), ("can_lead", "true")],
        )
        .await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    let component = server
        .call(
            "add_component",
            Some(&ada),
            &[
                ("name", "Checkout"),
                ("group_name", ""),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(component.status, StatusCode::OK, "{}", component.body);
    for (function, args) in [
        (
            "add_component",
            vec![("name", "Spare"), ("group_name", ""), ("description", "")],
        ),
        (
            "schedule_maintenance",
            vec![
                ("title", "Database upgrade"),
                ("description", "Short pauses"),
                ("starts_at", "2030-01-01T10:00"),
                ("ends_at", "2030-01-01T11:00"),
            ],
        ),
        (
            "add_webhook",
            vec![
                ("name", "Partner"),
                ("kind", "json"),
                ("url", "http://127.0.0.1:9/hook"),
            ],
        ),
    ] {
        let reply = server.call(function, Some(&ada), &args).await;
        assert_eq!(reply.status, StatusCode::OK, "{function}: {}", reply.body);
    }
    let pat_key = pat_id.to_string();
    for number in 1..=4 {
        let n = number.to_string();
        let declared = if number % 2 == 0 {
            declare_restricted(server, &ivy).await
        } else {
            declare(server, &ivy).await
        };
        assert!(declared.status.is_success() || declared.status.is_redirection());
        for (cookie, function, args) in [
            (
                &ivy,
                "assign_role",
                vec![
                    ("number", n.as_str()),
                    ("role", "scribe"),
                    ("user_id", pat_key.as_str()),
                ],
            ),
            (
                &ivy,
                "raise_blocker",
                vec![
                    ("number", n.as_str()),
                    ("description", "Need vendor access"),
                ],
            ),
            (
                &ivy,
                "request_approval",
                vec![
                    ("number", n.as_str()),
                    ("mitigation", "Shift traffic"),
                    ("reason", "Region down"),
                ],
            ),
            (
                &pat,
                "ask_question",
                vec![("number", n.as_str()), ("question", "Is data safe?")],
            ),
            (
                &ivy,
                "log_decision",
                vec![
                    ("number", n.as_str()),
                    ("decision", "Roll back"),
                    ("reason", "Errors"),
                    ("owner_id", pat_key.as_str()),
                ],
            ),
            (
                &ivy,
                "add_hypothesis",
                vec![
                    ("number", n.as_str()),
                    ("statement", "Bad deploy"),
                    ("owner_id", ""),
                ],
            ),
        ] {
            let reply = server.call(function, Some(cookie), &args).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{function} on {n}: {}",
                reply.body
            );
        }
        if number > 2 {
            let version = json(
                &server
                    .call("get_war_room", Some(&ivy), &[("number", &n)])
                    .await,
            )["version"]
                .to_string();
            for (function, args) in [
                (
                    "change_status",
                    vec![
                        ("number", n.as_str()),
                        ("version", version.as_str()),
                        ("status", "resolved"),
                        ("severity", "sev1"),
                    ],
                ),
                ("start_postmortem", vec![("number", n.as_str())]),
                (
                    "add_action_item",
                    vec![
                        ("number", n.as_str()),
                        ("title", "Alert on errors"),
                        ("kind", "detection"),
                        ("owner", pat_key.as_str()),
                        ("due", ""),
                        ("verification", "Drill"),
                    ],
                ),
            ] {
                let reply = server.call(function, Some(&ivy), &args).await;
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{function} on {n}: {}",
                    reply.body
                );
            }
        }
    }
    let mut ids = MatrixIds {
        tess: tess_id,
        pat: pat_id,
        ..MatrixIds::default()
    };
    ids.component = scalar(
        &server.db,
        "SELECT MIN(id) FROM components WHERE id > $1",
        0,
    )
    .await;
    for (name, sql) in [
        (
            "spare_component",
            "SELECT MAX(id) FROM components WHERE id > $1",
        ),
        (
            "maintenance",
            "SELECT MIN(id) FROM maintenances WHERE id > $1",
        ),
        ("webhook", "SELECT MIN(id) FROM webhooks WHERE id > $1"),
    ] {
        ids.global.insert(name, scalar(&server.db, sql, 0).await);
    }
    for number in 1..=4 {
        let of = |table: &str, column: &str| {
            format!("SELECT MIN(t.id) FROM {table} t JOIN incidents i ON i.id = t.{column} WHERE i.number = $1")
        };
        let mut map = std::collections::HashMap::new();
        map.insert(
            "blocker",
            scalar(&server.db, &of("blockers", "incident_id"), number).await,
        );
        map.insert(
            "approval",
            scalar(&server.db, &of("approvals", "incident_id"), number).await,
        );
        map.insert(
            "question",
            scalar(
                &server.db,
                &of("stakeholder_questions", "incident_id"),
                number,
            )
            .await,
        );
        map.insert(
            "decision",
            scalar(&server.db, &of("decisions", "incident_id"), number).await,
        );
        map.insert(
            "hypothesis",
            scalar(&server.db, &of("hypotheses", "incident_id"), number).await,
        );
        if number < 3 {
            ids.per_incident.insert(number, map);
            continue;
        }
        map.insert(
            "item",
            scalar(&server.db, "SELECT MIN(a.id) FROM action_items a JOIN postmortems p ON p.id = a.postmortem_id JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1", number).await,
        );
        map.insert(
            "line",
            scalar(&server.db, "SELECT MIN(l.id) FROM postmortem_lines l JOIN postmortems p ON p.id = l.postmortem_id JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1", number).await,
        );
        ids.per_incident.insert(number, map);
    }
    let personas = vec![
        (Persona::SignedOut, Option::None),
        (Persona::Viewer, Some(vera)),
        (Persona::ViewerLeader, Some(lee)),
        (Persona::Observer, Some(obi)),
        (Persona::Participant, Some(pat)),
        (Persona::Ic, Some(ivy)),
        (Persona::Admin, Some(ada)),
    ];
    (personas, ids)
}

fn fill(args: &str, number: i64, ids: &MatrixIds) -> String {
    let mut out = args
        .replace("{n}", &number.to_string())
        .replace("{tess}", &ids.tess.to_string())
        .replace("{pat}", &ids.pat.to_string())
        .replace("{component}", &ids.component.to_string());
    for (name, id) in &ids.global {
        out = out.replace(&format!("{{{name}}}"), &id.to_string());
    }
    if let Some(map) = ids.per_incident.get(&number) {
        for (name, id) in map {
            out = out.replace(&format!("{{{name}}}"), &id.to_string());
        }
    }
    out
}

#[tokio::test]
async fn the_authorization_matrix_lets_in_exactly_whom_each_rule_names() {
    for server in servers().await {
        let (personas, ids) = matrix_world(&server).await;
        let rows = matrix();
        // Every registered server function is in the matrix or tested on its own.
        let covered: Vec<&str> = rows
            .iter()
            .map(|r| r.function)
            .chain(["auth_state", "sign_in", "sign_out", "create_first_admin"])
            .collect();
        for (path, _) in leptos::server_fn::axum::server_fn_paths() {
            let name = path.trim_start_matches("/api/");
            assert!(
                covered.contains(&name),
                "{name} is missing from the authorization matrix"
            );
        }
        let mut escapes = Vec::new();
        for row in &rows {
            let cases: Vec<(bool, i64)> = match row.target {
                Target::None => vec![(false, 0)],
                Target::Active => vec![(false, 1), (true, 2)],
                Target::Resolved => vec![(false, 3), (true, 4)],
            };
            for (restricted, number) in cases {
                let args = fill(row.args, number, &ids);
                for (who, cookie) in &personas {
                    let mut request = if row.function.starts_with('/') {
                        Request::get(fill(row.function, number, &ids))
                    } else {
                        Request::post(format!("/api/{}", row.function)).header(
                            header::CONTENT_TYPE,
                            if row.json {
                                "application/json"
                            } else {
                                "application/x-www-form-urlencoded"
                            },
                        )
                    };
                    if let Some(cookie) = cookie {
                        request = request.header(header::COOKIE, cookie);
                    }
                    let reply = server
                        .send(request.body(Body::from(args.clone())).expect("request"))
                        .await;
                    let want = expected(row.rule, *who, restricted);
                    let ok = match want {
                        Expect::Refused(status) => reply.status == status,
                        Expect::LetIn => ![
                            StatusCode::UNAUTHORIZED,
                            StatusCode::FORBIDDEN,
                            StatusCode::NOT_FOUND,
                        ]
                        .contains(&reply.status),
                    };
                    if !ok {
                        escapes.push(format!(
                            "{} on {} incident {number} as {who:?}: expected {want:?}, got {} {}",
                            row.function,
                            if restricted { "restricted" } else { "ordinary" },
                            reply.status,
                            reply.body.chars().take(120).collect::<String>()
                        ));
                    }
                }
            }
        }
        assert!(
            escapes.is_empty(),
            "{} on {}:\n{}",
            escapes.len(),
            server.db.backend(),
            escapes.join("\n")
        );
    }
}

#[tokio::test]
async fn webhooks_refuse_inside_addresses_never_follow_redirects_and_escape_slack_text() {
    use std::sync::{Arc, Mutex};
    for server in servers().await {
        let (admin, _, cory) = incident_with_comms_lead(&server).await;
        // A receiver that redirects to a second one, which records what reaches it.
        let reached: Arc<Mutex<Vec<String>>> = Arc::default();
        let second = {
            let reached = reached.clone();
            axum::Router::new().route(
                "/stolen",
                axum::routing::post(move |body: String| {
                    let reached = reached.clone();
                    async move {
                        if let Ok(mut list) = reached.lock() {
                            list.push(body);
                        }
                        StatusCode::OK
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let second_address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, second).await });
        let sent: Arc<Mutex<Vec<String>>> = Arc::default();
        let first = {
            let sent = sent.clone();
            axum::Router::new().route(
                "/hook",
                axum::routing::post(move |body: String| {
                    let sent = sent.clone();
                    async move {
                        if let Ok(mut list) = sent.lock() {
                            list.push(body);
                        }
                        (
                            StatusCode::TEMPORARY_REDIRECT,
                            [(header::LOCATION, format!("http://{second_address}/stolen"))],
                        )
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let first_address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, first).await });
        let add = server
            .call(
                "add_webhook",
                Some(&admin),
                &[
                    ("name", "Chat"),
                    ("kind", "slack"),
                    ("url", &format!("http://{first_address}/hook")),
                ],
            )
            .await;
        assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        let mut update = customer_update();
        update["impact"] =
            serde_json::json!("<!channel> Card payments fail <http://evil.example|status page>");
        let published = server
            .publish(&cory, "customer", update.clone(), true)
            .await;
        assert!(
            json(&published)["Published"].is_object(),
            "{}",
            published.body
        );

        // Default: an inside address is refused before anything is sent.
        let guarded = server::webhooks::Deliverer::new(server.db.clone(), false).expect("client");
        assert_eq!(
            guarded.deliver_due(chrono::Utc::now()).await.expect("try"),
            1
        );
        let hooks = app::store::webhooks::webhooks(&server.db)
            .await
            .expect("hooks");
        let log = app::store::webhooks::deliveries(&server.db, hooks[0].id, 10)
            .await
            .expect("log");
        assert_eq!(log[0].state, "failed", "{}", server.db.backend());
        assert!(
            log[0].last_error.contains("not a public address"),
            "{}",
            log[0].last_error
        );
        assert!(reached.lock().expect("lock").is_empty());

        // Allowed inside: still, the redirect is not followed.
        let second_update = server.publish(&cory, "customer", update, true).await;
        assert!(json(&second_update)["Published"].is_object());
        let open = server::webhooks::Deliverer::new(server.db.clone(), true).expect("client");
        assert_eq!(open.deliver_due(chrono::Utc::now()).await.expect("try"), 1);
        let log = app::store::webhooks::deliveries(&server.db, hooks[0].id, 10)
            .await
            .expect("log");
        assert!(
            log.iter().any(|d| d.last_error.contains("redirect")),
            "{:?}",
            log.iter().map(|d| d.last_error.clone()).collect::<Vec<_>>()
        );
        assert!(
            reached.lock().expect("lock").is_empty(),
            "the signed body went elsewhere"
        );

        // The first update was refused outright; only the second was sent.
        let bodies = sent.lock().expect("lock").clone();
        assert_eq!(bodies.len(), 1, "only the allowed try reached the receiver");
        let slack: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json");
        let text = slack["text"].as_str().expect("text");
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(
            !text.contains("<!channel>") && !text.contains("<http"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn two_first_admins_set_up_at_once_make_exactly_one_account() {
    for server in servers().await {
        let ada = [
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", "a long password 1"),
        ];
        let bea = [
            ("name", "Bea"),
            ("email", "bea@example.com"),
            ("password", "a long password 1"),
        ];
        let (a, b) = tokio::join!(
            server.call("create_first_admin", None, &ada),
            server.call("create_first_admin", None, &bea)
        );
        let created = [a.status, b.status]
            .iter()
            .filter(|s| s.is_success() || s.is_redirection())
            .count();
        assert_eq!(
            created,
            1,
            "{}: {} / {}",
            server.db.backend(),
            a.status,
            b.status
        );
        assert_eq!(
            app::store::users::count(&server.db).await.expect("count"),
            1
        );
    }
}

#[tokio::test]
async fn resolving_a_public_incident_prompts_a_prefilled_resolution_that_the_public_page_shows() {
    for server in servers().await {
        let (_, ivy, cory) = incident_with_comms_lead(&server).await;
        let published = server
            .publish(&cory, "customer", customer_update(), true)
            .await;
        assert!(
            json(&published)["Published"].is_object(),
            "{}",
            published.body
        );
        let comms = json(
            &server
                .call("get_comms", Some(&cory), &[("number", "1")])
                .await,
        );
        assert_eq!(comms["resolution_due"], false);

        let version = war_room(&server, &ivy).await["version"].to_string();
        let resolved = server
            .call(
                "change_status",
                Some(&ivy),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("status", "resolved"),
                    ("severity", "sev1"),
                ],
            )
            .await;
        assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
        assert_eq!(war_room(&server, &ivy).await["resolution_due"], true);
        let comms = json(
            &server
                .call("get_comms", Some(&cory), &[("number", "1")])
                .await,
        );
        assert_eq!(comms["resolution_due"], true);
        let prefill = comms["prefill"]
            .as_array()
            .expect("prefill")
            .iter()
            .find(|p| p[0] == "CustomerFacing")
            .map(|p| p[1].clone())
            .expect("customer prefill");
        assert!(
            prefill["mitigation"]
                .as_str()
                .unwrap_or_default()
                .contains("data"),
            "{prefill}"
        );

        let out = server.publish(&cory, "customer", prefill, true).await;
        assert!(json(&out)["Published"].is_object(), "{}", out.body);
        let unresolved = server
            .public_once("/api/v2/incidents/unresolved.json", |b| {
                !b.contains("Card payments")
            })
            .await;
        assert!(
            !unresolved.body.contains("Card payments"),
            "{}",
            unresolved.body
        );
        let all = server.get("/api/v2/incidents.json", None).await;
        assert!(all.body.contains("\"status\":\"resolved\""), "{}", all.body);
        // The resolution says nothing about a next update it will not have.
        let channel = json(
            &server
                .call("get_status_channel", Some(&cory), &[("number", "1")])
                .await,
        );
        let last = channel["updates"][0]["body"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!last.contains("Next update"), "{last}");
        assert_eq!(war_room(&server, &ivy).await["resolution_due"], false);
    }
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_whose_nonce_is_on_every_inline_script() {
    for server in servers().await {
        let admin = server.set_up().await;
        declare(&server, &admin).await;
        for path in ["/sign-in", "/", "/incidents/1", "/incidents/1/comms"] {
            let request = Request::get(path)
                .header(header::COOKIE, &admin)
                .body(Body::empty())
                .expect("request");
            let response = server.app.clone().oneshot(request).await.expect("response");
            let policy = response
                .headers()
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{path} has a policy"))
                .to_owned();
            let nonce = policy
                .split("'nonce-")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .expect("a nonce")
                .to_owned();
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let html = String::from_utf8_lossy(&body);
            let scripts = html.matches("<script").count();
            assert!(scripts > 0, "{path}: {html}");
            let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
            assert!(
                with_nonce >= scripts,
                "{path}: {with_nonce} of {scripts} scripts carry the nonce:\n{html}"
            );
        }
    }
}
