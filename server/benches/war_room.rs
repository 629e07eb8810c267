//! War-room benchmark: prints figures, asserts nothing (run with `cargo bench -p server`).
//!
//! One incident seeded with 5,000 timeline entries and 500 decisions. Measures
//! (1) the server render of its war room and (2) the time for one change to
//! reach 200 connected event-stream clients through the change log and every
//! one of them to refetch its war room, beside `/healthz` and a plain SSE
//! broadcast (no sign-in, no log) with a no-op refetch measured in the same
//! run, reported as ratios; then
//! (3) the same change made on one replica reaching 200 clients of another,
//! two routers with their own log followers on one PostgreSQL database.

use app::api::{bootstrap_admin, AppState};
use app::domain::incidents::{IncidentTitle, Severity};
use app::domain::users::{Email, UserId};
use app::live::Events;
use app::store::incidents::{self, Declaration};
use app::store::sessions::Sessions;
use app::store::{testing, users, Db};
use axum::routing::get;
use futures::StreamExt;
use leptos::config::LeptosOptions;
use server::{router, ServerState, SessionSettings};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What Chromium sends as `Accept-Encoding`.
const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// Timeline entries seeded (`CALMROOM_BENCH_ENTRIES` overrides); a tenth as many decisions.
fn entries() -> usize {
    std::env::var("CALMROOM_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000)
}
/// Open war rooms for the fan-out rounds (`CALMROOM_BENCH_CLIENTS` overrides).
fn sse_clients() -> usize {
    std::env::var("CALMROOM_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// One HTTP/1.1 exchange on a fresh connection; returns the raw response.
async fn exchange(addr: SocketAddr, request: String) -> String {
    String::from_utf8_lossy(&exchange_bytes(addr, request).await).into_owned()
}

/// The whole response to `request`, as sent.
async fn exchange_bytes(addr: SocketAddr, request: String) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    response
}

fn get_request(path: &str, cookie: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
}

fn post_request(path: &str, cookie: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn timed(addr: SocketAddr, request: &str, runs: usize, must_contain: &str) -> Vec<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let response = exchange(addr, request.to_owned()).await;
        times.push(start.elapsed());
        assert!(
            response.contains(must_contain),
            "unexpected response: {}",
            &response[..response.len().min(300)]
        );
    }
    times.sort();
    times
}

fn report(name: &str, times: &[Duration], baseline: &[Duration], high: f64) {
    let (median, tail) = (percentile(times, 0.5), percentile(times, high));
    let (base_median, base_tail) = (percentile(baseline, 0.5), percentile(baseline, high));
    println!(
        "{name}: median {:.2} ms, p{} {:.2} ms | yardstick median {:.3} ms, p{} {:.3} ms | ratio median {:.1}x, p{} {:.1}x",
        ms(median),
        (high * 100.0) as u32,
        ms(tail),
        ms(base_median),
        (high * 100.0) as u32,
        ms(base_tail),
        ms(median) / ms(base_median),
        (high * 100.0) as u32,
        ms(tail) / ms(base_tail),
    );
}

/// Seeds the benchmark incident; answers its number.
async fn seed(db: &Db) -> i64 {
    bootstrap_admin(db, "Ada Admin", "ada@example.com", "bench password 123")
        .await
        .expect("admin");
    let ada = users::find_credentials(db, &Email::parse("e", "ada@example.com").expect("email"))
        .await
        .expect("query")
        .expect("admin exists")
        .0
        .id;
    let seed_start = Instant::now();
    let title = IncidentTitle::parse("title", "Checkout fails for EU customers").expect("title");
    let incident = incidents::declare(
        db,
        &Declaration {
            title: &title,
            severity: Severity::Sev1,
            impact: "EU customers cannot pay",
            best_guess: "release 4.2",
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
    let (timeline_entries, decisions) = (entries(), entries() / 10);
    for i in 0..timeline_entries {
        incidents::add_note(
            db,
            incident.id,
            &format!("note {i}: dashboards checked, error rate steady"),
            ada,
            chrono::Utc::now(),
        )
        .await
        .expect("note");
    }
    for i in 0..decisions {
        incidents::log_decision(
            db,
            incident.id,
            &format!("decision {i}: shift 5% of traffic"),
            "canary looked healthy",
            UserId(ada.0),
            ada,
            chrono::Utc::now(),
        )
        .await
        .expect("decision");
    }
    println!(
        "{}: seeded {timeline_entries} timeline entries and {decisions} decisions in {:.1} s",
        db.backend(),
        seed_start.elapsed().as_secs_f64()
    );
    incident.number
}

/// The floor every live figure stands on: a plain SSE broadcast with no
/// sign-in, no log and no filter, served by the same router.
type Plain = tokio::sync::broadcast::Sender<u64>;

fn plain_stream(plain: Plain) -> axum::response::Response {
    use axum::response::sse::{Event, Sse};
    use axum::response::IntoResponse;
    let first = futures::stream::once(async { Event::default().event("ready").data("") });
    let rest = tokio_stream::wrappers::BroadcastStream::new(plain.subscribe()).filter_map(
        |round| async move {
            round
                .ok()
                .map(|n| Event::default().event("plain").data(n.to_string()))
        },
    );
    Sse::new(first.chain(rest).map(Ok::<_, std::convert::Infallible>)).into_response()
}

/// One replica: a router with its own event source following the change log.
async fn serve(db: &Db) -> (SocketAddr, Plain) {
    let sessions = Sessions::open(db).await.expect("sessions");
    let (plain, _) = tokio::sync::broadcast::channel(16);
    let events = Events::new();
    events.follow(db.clone(), None);
    sessions.follow(&events);
    let state = ServerState {
        closing: Default::default(),
        intake: server::alerts::Intake::default(),
        assets: Default::default(),
        leptos_options: LeptosOptions::builder().output_name("calmroom").build(),
        oidc: None,
        app: AppState::new(db.clone(), events, Vec::new()),
        public: server::public::PublicSite::new(server::public::PublicSettings {
            title: "Example status".to_owned(),
            base_url: "http://status.test".to_owned(),
            subscriptions: false,
        }),
    };
    let app = router(
        state,
        sessions,
        SessionSettings {
            secure: false,
            idle_minutes: 60,
            base_url: "http://127.0.0.1:3000".to_owned(),
        },
    )
    .route("/bench/trivial", get(|| async { "ok" }))
    .route(
        "/bench/plain",
        get({
            let plain = plain.clone();
            move || async move { plain_stream(plain) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    (addr, plain)
}

async fn sign_in(addr: SocketAddr) -> String {
    let sign_in = exchange(
        addr,
        post_request(
            "/api/sign_in",
            "",
            "email=ada%40example.com&password=bench+password+123",
        ),
    )
    .await;
    sign_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned()
}

/// `count` sessions of the person signed in with `cookie`, one per watcher:
/// a crowd is many people, so no request may ride on another's session.
async fn crowd(db: &Db, cookie: &str, count: usize) -> Vec<String> {
    use std::str::FromStr;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore;
    let (name, value) = cookie.split_once('=').expect("name=value");
    let store = Sessions::open(db).await.expect("sessions");
    let id = Id::from_str(value).expect("session id");
    let signed_in = store.load(&id).await.expect("load").expect("signed in");
    let mut cookies = Vec::with_capacity(count);
    for _ in 0..count {
        let mut record = Record {
            id: Id::default(),
            data: signed_in.data.clone(),
            expiry_date: signed_in.expiry_date,
        };
        store.create(&mut record).await.expect("session");
        cookies.push(format!("{name}={}", record.id));
    }
    cookies
}

/// Per round: when the slowest client heard of the change, and when the
/// slowest had refetched its war room (as a browser does on hearing of it).
struct Round {
    heard: Duration,
    refetched: Duration,
}

/// One client's round: its stream and browser back, when it heard, when it was done.
type Client = tokio::task::JoinHandle<(TcpStream, reqwest::Client, Duration, Duration)>;

/// Waits for every client of a round, gives their connections back for the
/// next one, and answers the slowest.
async fn slowest(
    handles: Vec<Client>,
    clients: &mut Vec<TcpStream>,
    browsers: &mut Vec<reqwest::Client>,
) -> Round {
    let mut slowest = Round {
        heard: Duration::ZERO,
        refetched: Duration::ZERO,
    };
    for handle in handles {
        let (stream, browser, heard, done) = handle.await.expect("client");
        slowest.heard = slowest.heard.max(heard);
        slowest.refetched = slowest.refetched.max(done);
        clients.push(stream);
        browsers.push(browser);
    }
    slowest
}

/// Opens an event stream on `streams` per session of `crowd`, then `rounds`
/// times adds a note through `writer` and times until every stream has heard
/// of it and (with `refetch`) every client has fetched the war room again
/// from `streams` with its own session.
async fn fan_out(
    writer: SocketAddr,
    streams: SocketAddr,
    cookie: &str,
    crowd: &[String],
    number: i64,
    rounds: usize,
    refetch: bool,
) -> Vec<Round> {
    let count = crowd.len();
    let mut clients = Vec::with_capacity(count);
    for cookie in crowd {
        let mut stream = TcpStream::connect(streams).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .write_all(
                format!("GET /events HTTP/1.1\r\nHost: bench\r\nCookie: {cookie}\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .expect("write");
        let mut buf = vec![0u8; 4096];
        let mut seen = String::new();
        while !seen.contains("event: resync") {
            let n = stream.read(&mut buf).await.expect("read");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        clients.push(stream);
    }
    // Each war room refetches over its own kept-alive connection, as a browser does.
    let url = format!("http://{streams}/api/get_war_room");
    let form = [("number", number.to_string())];
    let mut browsers = Vec::with_capacity(count);
    for cookie in crowd {
        let browser = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("client");
        let warm = browser
            .post(&url)
            .header("cookie", cookie)
            .form(&form)
            .send()
            .await
            .expect("warm-up refetch");
        assert!(warm.status().is_success());
        warm.bytes().await.expect("body");
        browsers.push(browser);
    }
    let mut results = Vec::new();
    for round in 0..rounds {
        let start = Instant::now();
        let mut handles = Vec::new();
        let watchers = clients.drain(..).zip(browsers.drain(..)).zip(crowd);
        for ((mut stream, browser), cookie) in watchers {
            let (url, form, cookie) = (url.clone(), form.clone(), cookie.clone());
            handles.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = String::new();
                while !seen.contains("incident:") {
                    let n = stream.read(&mut buf).await.expect("read");
                    seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
                let heard = start.elapsed();
                if refetch {
                    let page = browser
                        .post(&url)
                        .header("cookie", &cookie)
                        // As Chromium asks: the server compresses what it sends.
                        .header("accept-encoding", BROWSER_ENCODINGS)
                        .form(&form)
                        .send()
                        .await
                        .expect("refetch");
                    assert!(page.status().is_success(), "{}", page.status());
                    page.bytes().await.expect("body");
                }
                (stream, browser, heard, start.elapsed())
            }));
        }
        let body = format!("number={number}&body=round+{round}");
        let reply = exchange(
            writer,
            post_request("/api/add_timeline_note", cookie, &body),
        )
        .await;
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        results.push(slowest(handles, &mut clients, &mut browsers).await);
    }
    results
}

/// The floor: `count` clients on the plain broadcast; each round one message
/// is sent and, with `refetch`, every client then asks `/bench/trivial` over
/// its kept-alive connection. Times until the slowest heard it and finished.
async fn plain_fan_out(addr: SocketAddr, plain: &Plain, rounds: usize, count: usize) -> Vec<Round> {
    let mut clients = Vec::with_capacity(count);
    let mut browsers = Vec::with_capacity(count);
    let url = format!("http://{addr}/bench/trivial");
    for _ in 0..count {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .write_all(b"GET /bench/plain HTTP/1.1\r\nHost: bench\r\n\r\n")
            .await
            .expect("write");
        let mut buf = vec![0u8; 4096];
        let mut seen = String::new();
        while !seen.contains("event: ready") {
            let n = stream.read(&mut buf).await.expect("read");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        clients.push(stream);
        let browser = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("client");
        browser
            .get(&url)
            .send()
            .await
            .expect("warm-up")
            .bytes()
            .await
            .expect("body");
        browsers.push(browser);
    }
    let mut results = Vec::new();
    for round in 0..rounds as u64 {
        let start = Instant::now();
        let mut handles = Vec::new();
        for (mut stream, browser) in clients.drain(..).zip(browsers.drain(..)) {
            let url = url.clone();
            handles.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = String::new();
                while !seen.contains(&format!("data: {round}\n")) {
                    let n = stream.read(&mut buf).await.expect("read");
                    seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
                let heard = start.elapsed();
                let reply = browser.get(&url).send().await.expect("refetch");
                assert!(reply.status().is_success());
                reply.bytes().await.expect("body");
                (stream, browser, heard, start.elapsed())
            }));
        }
        plain.send(round).expect("subscribers");
        results.push(slowest(handles, &mut clients, &mut browsers).await);
    }
    results
}

/// Median and p99 over rounds of the slowest client per round, beside the
/// plain broadcast (with a trivial refetch) measured in the same run.
fn report_rounds(name: &str, rounds: &[Round], floor: &[Round]) {
    let sorted = |pick: fn(&Round) -> Duration, of: &[Round]| {
        let mut times: Vec<Duration> = of.iter().map(pick).collect();
        times.sort();
        times
    };
    let (heard, done) = (sorted(|r| r.heard, rounds), sorted(|r| r.refetched, rounds));
    let (floor_heard, floor_done) = (sorted(|r| r.heard, floor), sorted(|r| r.refetched, floor));
    println!(
        "{name}: every client heard it: median {:.1} ms, p99 {:.1} ms | every war room refetched: median {:.1} ms, p99 {:.1} ms \
         | plain broadcast heard p99 {:.1} ms, + trivial refetch p99 {:.1} ms (refetched p99 = {:.1}x the plain floor)",
        ms(percentile(&heard, 0.5)),
        ms(percentile(&heard, 0.99)),
        ms(percentile(&done, 0.5)),
        ms(percentile(&done, 0.99)),
        ms(percentile(&floor_heard, 0.99)),
        ms(percentile(&floor_done, 0.99)),
        ms(percentile(&done, 0.99)) / ms(percentile(&floor_done, 0.99)),
    );
}

#[tokio::main]
async fn main() {
    let db = testing::fresh_sqlite().await;
    let number = seed(&db).await;
    let (addr, plain) = serve(&db).await;
    let cookie = sign_in(addr).await;

    // 1. War-room render beside /healthz (the issue's yardstick) and a
    //    handler that does nothing.
    let page = get_request(&format!("/incidents/{number}"), &cookie);
    let healthz = get_request("/healthz", &cookie);
    let trivial = get_request("/bench/trivial", &cookie);
    let newest = format!("decision {}", entries() / 10 - 1);
    timed(addr, &page, 5, &newest).await; // warm-up
    let renders = std::env::var("CALMROOM_BENCH_RENDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let page_times = timed(addr, &page, renders, &newest).await;
    let healthz_times = timed(addr, &healthz, 1_000, "ok").await;
    let trivial_times = timed(addr, &trivial, 1_000, "ok").await;
    let bytes = exchange(addr, page.clone()).await.len();
    println!("war room page: {bytes} bytes");
    report(
        "war-room render vs /healthz",
        &page_times,
        &healthz_times,
        0.95,
    );
    report(
        "war-room render vs no-op handler",
        &page_times,
        &trivial_times,
        0.95,
    );
    // The same page as a browser asks for it: compressed on the way out.
    let compressed = get_request(&format!("/incidents/{number}"), &cookie).replace(
        "Connection: close",
        &format!("Accept-Encoding: {BROWSER_ENCODINGS}\r\nConnection: close"),
    );
    let compressed_times = timed(addr, &compressed, renders, "content-encoding: br").await;
    let compressed_bytes = exchange_bytes(addr, compressed).await.len();
    println!("war room page, brotli: {compressed_bytes} bytes");
    report(
        "war-room render, brotli, vs /healthz",
        &compressed_times,
        &healthz_times,
        0.95,
    );

    // 2. One change reaching every open war room of the same server, then
    //    every one of them refetching its war room.
    let rounds = 20;
    let count = sse_clients();
    let floor = plain_fan_out(addr, &plain, rounds, count).await;
    let watchers = crowd(&db, &cookie, count).await;
    let fanned = fan_out(addr, addr, &cookie, &watchers, number, rounds, true).await;
    report_rounds(
        &format!("sqlite, one server, {count} war rooms x {rounds} changes"),
        &fanned,
        &floor,
    );

    // 3. Two replicas on one PostgreSQL: the change is made on A, the war rooms are on B.
    let db = testing::fresh_postgres().await;
    let number = seed(&db).await;
    let (a, plain) = serve(&db).await;
    let (b, _) = serve(&db).await;
    let cookie = sign_in(a).await;
    let floor = plain_fan_out(a, &plain, rounds, count).await;
    let watchers = crowd(&db, &cookie, count).await;
    let same = fan_out(a, a, &cookie, &watchers, number, rounds, true).await;
    report_rounds(
        &format!("postgres, same replica, {count} war rooms"),
        &same,
        &floor,
    );
    let across = fan_out(a, b, &cookie, &watchers, number, rounds, true).await;
    report_rounds(
        &format!("postgres, across replicas, {count} war rooms"),
        &across,
        &floor,
    );
}
