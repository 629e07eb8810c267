//! Public status benchmark: prints figures, asserts nothing
//! (`cargo bench -p server --bench status`; needs `wrk`, which
//! `scripts/bench-status.sh` installs).
//!
//! Seeds a status page (8 components, 3 incidents with 10 customer-facing
//! updates each), then loads /status and /api/v2/summary.json with wrk over
//! loopback, each beside a static file of the same size served by the same
//! server in the same run, and reports requests/s and p99 as ratios.

use app::api::{bootstrap_admin, AppState};
use app::domain::incidents::{IncidentTitle, Severity};
use app::domain::updates::TemplateKind;
use app::domain::users::{Email, UserId};
use app::live::Events;
use app::store::incidents::{self, Declaration};
use app::store::sessions::Sessions;
use app::store::status::{add_component, ComponentFields};
use app::store::updates::{publish, Publication};
use app::store::{testing, users};
use axum::serve::{Listener, ListenerExt};
use leptos::config::LeptosOptions;
use server::{router, ServerState, SessionSettings};
use std::net::SocketAddr;
use std::process::Command;

const DURATION: &str = "10s";
const CONNECTIONS: &str = "32";

struct Figures {
    requests_per_second: f64,
    p99_ms: f64,
}

/// Runs wrk against `url` and reads requests/s and the 99th percentile.
fn wrk(url: &str) -> Figures {
    let output = Command::new("wrk")
        .args(["-t1", "-c", CONNECTIONS, "-d", DURATION, "--latency", url])
        .output()
        .expect("wrk runs (install it: scripts/bench-status.sh does)");
    let text = String::from_utf8_lossy(&output.stdout);
    let requests_per_second = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| milliseconds(v.trim()))
        .unwrap_or(f64::NAN);
    if text.contains("Non-2xx") {
        println!("warning: {url} answered errors:\n{text}");
    }
    Figures {
        requests_per_second,
        p99_ms,
    }
}

/// "1.23ms", "850.00us", "1.02s" in milliseconds.
fn milliseconds(value: &str) -> f64 {
    let number = |suffix: &str| {
        value
            .strip_suffix(suffix)
            .and_then(|n| n.parse::<f64>().ok())
    };
    number("us")
        .map(|n| n / 1000.0)
        .or_else(|| number("ms"))
        .or_else(|| number("s").map(|n| n * 1000.0))
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed; run scripts/bench-status.sh");
        std::process::exit(2);
    }
    let site = std::env::temp_dir().join(format!("calmroom-bench-{}", std::process::id()));
    std::fs::create_dir_all(&site).expect("site folder");
    let db = testing::fresh_sqlite().await;
    bootstrap_admin(&db, "Ada", "ada@example.com", "bench password 123")
        .await
        .expect("admin");
    let ada = users::find_credentials(&db, &Email::parse("e", "ada@example.com").expect("email"))
        .await
        .expect("query")
        .expect("admin exists")
        .0
        .id;

    for (i, name) in [
        "API",
        "Dashboard",
        "Payments",
        "Webhooks",
        "Search",
        "Login",
        "Mobile app",
        "Exports",
    ]
    .iter()
    .enumerate()
    {
        add_component(
            &db,
            &ComponentFields {
                name,
                group_name: if i < 4 { "Core" } else { "Apps" },
                description: "",
            },
            chrono::Utc::now(),
        )
        .await
        .expect("component");
    }
    for n in 0..3 {
        let title = IncidentTitle::parse("title", &format!("incident {n}")).expect("title");
        let incident = incidents::declare(
            &db,
            &Declaration {
                title: &title,
                severity: Severity::Sev2,
                impact: "",
                best_guess: "",
                bridge_url: "",
                restricted: false,
                alert: None,
                by_integration: None,
            },
            ada,
            chrono::Utc::now(),
        )
        .await
        .expect("declare");
        for u in 0..10 {
            publish(
                &db,
                incident.id,
                &Publication {
                    kind: TemplateKind::CustomerFacing,
                    title: "Card payments failing for some customers",
                    body: &format!(
                        "Update {u}: some card payments fail at checkout. We have found the cause and are \
                         restoring service. Posted 14:05 UTC. Next update by 14:35 UTC."
                    ),
                    overridden: &[],
                },
                UserId(ada.0),
                chrono::Utc::now(),
            )
            .await
            .expect("publish");
        }
    }

    let sessions = Sessions::open(&db).await.expect("sessions");
    let mut options = LeptosOptions::builder().output_name("calmroom").build();
    options.site_root = site.display().to_string().into();
    let events = Events::new();
    let public = server::public::PublicSite::new(server::public::PublicSettings {
        title: "Example status".to_owned(),
        base_url: "http://127.0.0.1".to_owned(),
        subscriptions: false,
    });
    // Static files the size of the rendered page and JSON, in the site the
    // router serves from memory.
    let rendered = public.rendered(&db, &events).await.expect("rendered");
    for (name, size) in [
        ("same-size-status.html", rendered.html.raw().len()),
        ("same-size-summary.json", rendered.summary.raw().len()),
    ] {
        std::fs::write(site.join(name), vec![b'x'; size]).expect("static file");
    }
    let state = ServerState {
        closing: Default::default(),
        intake: server::alerts::Intake::default(),
        assets: server::assets::Assets::load(&site).expect("site files"),
        leptos_options: options,
        oidc: None,
        app: AppState::new(db.clone(), events, Vec::new()),
        public,
    };
    let app = router(
        state,
        sessions,
        SessionSettings {
            secure: false,
            idle_minutes: 60,
            base_url: "http://127.0.0.1:3000".to_owned(),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });

    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let mut rows = Vec::new();
    for (path, static_name) in [
        ("/status", "same-size-status.html"),
        ("/api/v2/summary.json", "same-size-summary.json"),
    ] {
        let body = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("body");
        let dynamic = tokio::task::spawn_blocking({
            let url = format!("{base}{path}");
            move || wrk(&url)
        })
        .await
        .expect("wrk");
        let fixed = tokio::task::spawn_blocking({
            let url = format!("{base}/{static_name}");
            move || wrk(&url)
        })
        .await
        .expect("wrk");
        rows.push((path, body.len(), dynamic, fixed));
    }

    println!(
        "\nwrk -t1 -c{CONNECTIONS} -d{DURATION}, loopback, release build, same server and run"
    );
    println!(
        "{:<24} {:>8} {:>12} {:>12} {:>10} {:>10} {:>8} {:>8}",
        "route", "bytes", "req/s", "static req/s", "p99 ms", "static p99", "req/s x", "p99 x"
    );
    for (path, size, dynamic, fixed) in rows {
        println!(
            "{:<24} {:>8} {:>12.0} {:>12.0} {:>10.2} {:>10.2} {:>8.2} {:>8.2}",
            path,
            size,
            dynamic.requests_per_second,
            fixed.requests_per_second,
            dynamic.p99_ms,
            fixed.p99_ms,
            dynamic.requests_per_second / fixed.requests_per_second,
            dynamic.p99_ms / fixed.p99_ms,
        );
    }
    let _ = std::fs::remove_dir_all(&site);
}
