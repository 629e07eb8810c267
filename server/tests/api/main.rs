//! Server tests through the real router, one module per area; this file holds
//! the test server and the helpers they share. Every test runs on SQLite and
//! on PostgreSQL.

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

mod access;
mod accounts;
mod alerts;
mod http;
mod live;
mod oidc;
mod postmortems;
mod stakeholders;
mod subscriptions;
mod tokens;
mod war_room;
mod webhooks;

const ADMIN_PASSWORD: &str = "admin password 123";

/// How long one request may take before the test fails naming it.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

struct TestServer {
    db: Db,
    app: Router,
    sessions: Sessions,
    events: app::live::Events,
    /// Shuts this server down (its event streams end).
    closing: server::closing::Closing,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    cookie: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

async fn servers_with(secure: bool) -> Vec<TestServer> {
    let mut servers = Vec::new();
    for db in fresh_databases().await {
        servers.push(server_on(db, secure).await);
    }
    servers
}

/// One server (a replica, with its own caches and log follower) on `db`.
async fn server_on(db: Db, secure: bool) -> TestServer {
    server_on_site(db, secure, None).await
}

/// One server on `db` whose alert integrations may send as fast as `intake` lets them.
async fn server_with_intake(db: Db, intake: server::alerts::Intake) -> TestServer {
    server_on_site_with(db, false, None, intake).await
}

/// One server on `db` serving the site files in `site` (none when `None`).
async fn server_on_site(db: Db, secure: bool, site: Option<&std::path::Path>) -> TestServer {
    server_on_site_with(db, secure, site, server::alerts::Intake::default()).await
}

async fn server_on_site_with(
    db: Db,
    secure: bool,
    site: Option<&std::path::Path>,
    intake: server::alerts::Intake,
) -> TestServer {
    server_built(db, secure, site, intake, None).await
}

async fn server_built(
    db: Db,
    secure: bool,
    site: Option<&std::path::Path>,
    intake: server::alerts::Intake,
    oidc: Option<server::config::OidcConfig>,
) -> TestServer {
    let mut options = LeptosOptions::builder().output_name("calmroom").build();
    if let Some(site) = site {
        options.site_root = site.display().to_string().into();
    }
    let sessions = Sessions::open(&db).await.expect("session table");
    let events = app::live::Events::new();
    events.follow(db.clone(), None);
    sessions.follow(&events);
    // Without a site of its own a test server serves none (the built one may
    // be absent, or a debug bundle of many MB).
    let assets = match site {
        Some(site) => server::assets::Assets::load(site).expect("site files"),
        None => server::assets::Assets::default(),
    };
    let app_state = AppState::new(db.clone(), events.clone(), Vec::new());
    let oidc = oidc.map(|config| {
        server::oidc::Provider::new(config, "http://127.0.0.1:3000", app_state.company.clone())
            .expect("provider")
    });
    let closing = server::closing::Closing::default();
    let state = ServerState {
        closing: closing.clone(),
        assets,
        intake,
        leptos_options: options,
        oidc,
        app: app_state,
        public: server::public::PublicSite::new(server::public::PublicSettings {
            title: "Example status".to_owned(),
            base_url: "http://status.test".to_owned(),
            subscriptions: true,
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
    TestServer {
        db,
        app,
        sessions,
        events,
        closing,
    }
}

/// Posts an HTML form as a signed-in browser would.
async fn post_form(server: &TestServer, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> Reply {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie);
    server
        .send(request.body(Body::from(form(pairs))).expect("request"))
        .await
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
        let headers = response.headers().clone();
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
            headers,
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
    room_view(&reply)
}

/// A `get_war_room` answer with the shared room's fields beside the
/// watcher's own flags, as the page reads them (`view.title`, `view.is_ic`).
fn room_view(reply: &Reply) -> serde_json::Value {
    let mut view = json(reply);
    let room = view
        .as_object_mut()
        .and_then(|v| v.remove("room"))
        .unwrap_or_else(|| panic!("a war room answer has its room: {}", reply.body));
    if let (Some(view), serde_json::Value::Object(room)) = (view.as_object_mut(), room) {
        view.extend(room);
    }
    view
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
        row("time_zones", SignedIn, None, ""),
        row("set_time_zone", SignedIn, None, "zone=Mars%2FOlympus"),
        row(
            "create_api_token",
            SignedIn,
            None,
            "name=&access=read&days=30",
        ),
        row("list_api_tokens", SignedIn, None, "everyone=false"),
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
        row("list_integrations", AdminOnly, None, ""),
        row(
            "add_integration",
            AdminOnly,
            None,
            "name=&kind=pagerduty&critical=sev1&error=sev2&warning=sev3&info=sev4",
        ),
        row(
            "rotate_integration_secret",
            AdminOnly,
            None,
            "id={integration}",
        ),
        row(
            "update_integration",
            AdminOnly,
            None,
            "id={integration}&critical=sev1&error=sev2&warning=sev3&info=sev4",
        ),
        row("get_alert_inbox", Writer, None, ""),
        row("get_alert_group", Writer, None, "id={alert}"),
        row("dismiss_alert", Writer, None, "group={alert}&reason=noise"),
        row("attach_alert", Write, Active, "group={alert}&number={n}"),
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
        row(
            "publish_postmortem_summary",
            Command,
            Resolved,
            "number={n}&text=&confirm=false",
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
            )["room"]["version"]
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
    let (integration, token) = alerts::add_integration(server, &ada, "alertmanager").await;
    let notice = alerts::alertmanager_notice("firing", "Matrix");
    let sent = alerts::send_alertmanager(server, integration, &token, &notice).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    ids.global.insert("integration", integration);
    ids.global
        .insert("alert", json(&sent)["group"].as_i64().expect("group"));
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
