//! Reliability under a storm: prints figures, asserts nothing
//! (`cargo bench -p server --bench reliability`).
//!
//! Runs the real server binary (release) on a fresh SQLite folder and, over
//! loopback HTTP:
//! 1. `/status` readers alone, then the same readers beside war-room readers and
//!    writers: the public page's p99 and timeouts in both, and their ratio;
//! 2. concurrent writes while the server is killed with SIGKILL, then a
//!    restart: how many acknowledged writes are missing;
//! 3. a burst of sign-ins: the server's memory before and after, and how the
//!    throttle answered wrong passwords on one account.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STATUS_READERS: usize = 100;
const ROOM_READERS: usize = 100;
const WRITERS: usize = 20;
const STORM: Duration = Duration::from_secs(30);
const BASELINE: Duration = Duration::from_secs(10);
const CRASH_WRITES: usize = 200;
const SIGN_INS: usize = 100;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const ADMIN_EMAIL: &str = "storm@example.com";
const ADMIN_PASSWORD: &str = "storm password 123";

struct Server {
    child: Child,
    base: String,
}

fn start(data: &std::path::Path, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("CALMROOM_DATA_DIR", data)
        .env("CALMROOM_BIND", format!("127.0.0.1:{port}"))
        .env("CALMROOM_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("CALMROOM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CALMROOM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary starts");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Resident memory of a process in MB, from /proc.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not answer /healthz");
}

/// Calls a server function as a form; returns the status and the session cookie it set.
async fn call(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    function: &str,
    form: &[(&str, &str)],
) -> Result<(u16, Option<String>, String), reqwest::Error> {
    let response = client
        .post(format!("{base}/api/{function}"))
        .header(reqwest::header::COOKIE, cookie)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await?;
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    Ok((status, cookie, body))
}

async fn sign_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let (status, cookie, body) = call(
        client,
        base,
        "",
        "sign_in",
        &[("email", email), ("password", password)],
    )
    .await
    .expect("sign in");
    cookie.unwrap_or_else(|| panic!("sign-in failed: {status} {body}"))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Latencies and timeouts of one kind of request during a phase.
#[derive(Default)]
struct Tally {
    latencies: Mutex<Vec<Duration>>,
    timeouts: AtomicUsize,
    errors: AtomicUsize,
}

impl Tally {
    fn record(&self, started: Instant, outcome: Result<u16, reqwest::Error>) {
        match outcome {
            Ok(status) if status < 500 => {
                if let Ok(mut l) = self.latencies.lock() {
                    l.push(started.elapsed());
                }
            }
            Ok(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if e.is_timeout() => {
                self.timeouts.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn summary(&self) -> (usize, f64, f64, usize, usize) {
        let mut l = self.latencies.lock().map(|l| l.clone()).unwrap_or_default();
        l.sort_unstable();
        (
            l.len(),
            percentile(&l, 0.5),
            percentile(&l, 0.99),
            self.timeouts.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

/// Runs the given readers and writers for `how_long`; returns (status, room, writes).
async fn phase(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    room_readers: usize,
    writers: usize,
    how_long: Duration,
) -> (Arc<Tally>, Arc<Tally>, Arc<Tally>) {
    let status = Arc::new(Tally::default());
    let room = Arc::new(Tally::default());
    let writes = Arc::new(Tally::default());
    let until = Instant::now() + how_long;
    let mut tasks = Vec::new();
    for _ in 0..STATUS_READERS {
        let (client, base, tally) = (client.clone(), base.to_owned(), status.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let started = Instant::now();
                let outcome = client.get(format!("{base}/status")).send().await;
                let outcome = match outcome {
                    Ok(r) => {
                        let code = r.status().as_u16();
                        r.bytes().await.map(|_| code)
                    }
                    Err(e) => Err(e),
                };
                tally.record(started, outcome);
            }
        }));
    }
    for _ in 0..room_readers {
        let (client, base, cookie, tally) = (
            client.clone(),
            base.to_owned(),
            cookie.to_owned(),
            room.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let started = Instant::now();
                let outcome = call(&client, &base, &cookie, "get_war_room", &[("number", "1")])
                    .await
                    .map(|(s, _, _)| s);
                tally.record(started, outcome);
            }
        }));
    }
    for w in 0..writers {
        let (client, base, cookie, tally) = (
            client.clone(),
            base.to_owned(),
            cookie.to_owned(),
            writes.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                let body = format!("writer {w} note {n}");
                let started = Instant::now();
                let outcome = call(
                    &client,
                    &base,
                    &cookie,
                    "add_timeline_note",
                    &[("number", "1"), ("body", &body)],
                )
                .await
                .map(|(s, _, _)| s);
                tally.record(started, outcome);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    (status, room, writes)
}

fn print_tally(name: &str, tally: &Tally, seconds: f64) {
    let (count, p50, p99, timeouts, errors) = tally.summary();
    println!(
        "  {name:<22} {:>8.0}/s  p50 {p50:>8.1} ms  p99 {p99:>8.1} ms  timeouts {timeouts}  5xx/errors {errors}",
        count as f64 / seconds
    );
}

#[tokio::main]
async fn main() {
    let data = std::env::temp_dir().join(format!("calmroom-reliability-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let mut server = start(&data, port);
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    wait_healthy(&client, &server.base).await;
    let started_rss = rss_mb(server.child.id());
    let base = server.base.clone();
    let admin = sign_in(&client, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let seed = |function: &'static str, form: Vec<(&'static str, String)>| {
        let (client, base, admin) = (client.clone(), base.clone(), admin.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, _, body) = call(&client, &base, &admin, function, &form)
                .await
                .expect("seed");
            assert!(status < 400, "{function}: {status} {body}");
        }
    };
    seed(
        "declare_incident",
        vec![
            ("title", "Checkout fails".into()),
            ("severity", "sev1".into()),
            ("impact", "Card payments fail".into()),
            ("best_guess", String::new()),
        ],
    )
    .await;
    for n in 0..300 {
        seed(
            "add_timeline_note",
            vec![("number", "1".into()), ("body", format!("seed note {n}"))],
        )
        .await;
    }
    let _ = client.get(format!("{base}/status")).send().await;

    println!("Reliability on this machine (release server, SQLite, loopback)");
    println!("1. /status with {STATUS_READERS} readers");
    let (alone, _, _) = phase(&client, &base, &admin, 0, 0, BASELINE).await;
    print_tally("/status alone", &alone, BASELINE.as_secs_f64());
    let (readers, room_only, _) = phase(&client, &base, &admin, ROOM_READERS, 0, BASELINE).await;
    println!("   with {ROOM_READERS} war-room readers, no writers, for {BASELINE:?}:");
    print_tally("/status", &readers, BASELINE.as_secs_f64());
    print_tally("get_war_room", &room_only, BASELINE.as_secs_f64());
    let (status, room, writes) = phase(&client, &base, &admin, ROOM_READERS, WRITERS, STORM).await;
    println!("   with {ROOM_READERS} war-room readers and {WRITERS} writers for {STORM:?}:");
    print_tally("/status", &status, STORM.as_secs_f64());
    print_tally("get_war_room", &room, STORM.as_secs_f64());
    print_tally("add_timeline_note", &writes, STORM.as_secs_f64());
    let (_, _, alone_p99, _, _) = alone.summary();
    let (_, _, readers_p99, _, _) = readers.summary();
    let (_, _, storm_p99, storm_timeouts, _) = status.summary();
    println!(
        "   /status p99 with writers / without writers: {:.2}x (goal <= 2x); / alone: {:.2}x; timeouts {storm_timeouts} (goal 0)",
        storm_p99 / readers_p99,
        storm_p99 / alone_p99
    );

    println!("2. {CRASH_WRITES} concurrent writes, SIGKILL halfway, restart");
    seed(
        "declare_incident",
        vec![
            ("title", "Crash test".into()),
            ("severity", "sev3".into()),
            ("impact", String::new()),
            ("best_guess", String::new()),
        ],
    )
    .await;
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for n in 0..CRASH_WRITES {
        let (client, base, admin, acknowledged, answered) = (
            client.clone(),
            base.clone(),
            admin.clone(),
            acknowledged.clone(),
            answered.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let body = format!("crash note {n}");
            if let Ok((200, _, _)) = call(
                &client,
                &base,
                &admin,
                "add_timeline_note",
                &[("number", "2"), ("body", &body)],
            )
            .await
            {
                if let Ok(mut list) = acknowledged.lock() {
                    list.push(body);
                }
            }
            answered.fetch_add(1, Ordering::Relaxed);
        }));
    }
    while answered.load(Ordering::Relaxed) < CRASH_WRITES / 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    for task in tasks {
        let _ = task.await;
    }
    server = start(&data, port);
    wait_healthy(&client, &base).await;
    let admin = sign_in(&client, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // The whole timeline: the page shows the newest 100 entries by default,
    // which would count the 101st acknowledged note as missing.
    let (_, _, room) = call(
        &client,
        &base,
        &admin,
        "get_war_room",
        &[("number", "2"), ("timeline", "5000")],
    )
    .await
    .expect("war room after restart");
    let acknowledged = acknowledged.lock().map(|l| l.clone()).unwrap_or_default();
    let missing = acknowledged
        .iter()
        .filter(|body| !room.contains(&format!("\"{body}\"")))
        .count();
    println!(
        "   acknowledged before the kill: {}, missing after restart: {missing} (goal 0)",
        acknowledged.len()
    );

    println!("3. {SIGN_INS} concurrent sign-ins (5 each for 20 people), then {SIGN_INS} wrong passwords on one account");
    let mut people = Vec::new();
    for n in 0..20 {
        let email = format!("person{n}@example.com");
        let (status, _, body) = call(
            &client,
            &base,
            &admin,
            "create_user",
            &[
                ("name", &format!("Person {n}")),
                ("email", &email),
                ("org_role", "responder"),
            ],
        )
        .await
        .expect("create user");
        assert_eq!(status, 200, "{body}");
        let created: serde_json::Value = serde_json::from_str(&body).expect("json");
        let password = created["initial_password"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        people.push((email, password));
    }
    let pid = server.child.id();
    let before = rss_mb(pid);
    let burst = |attempts: Vec<(String, String)>| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let tasks: Vec<_> = attempts
                .into_iter()
                .map(|(email, password)| {
                    let (client, base) = (client.clone(), base.clone());
                    tokio::spawn(async move {
                        call(
                            &client,
                            &base,
                            "",
                            "sign_in",
                            &[("email", &email), ("password", &password)],
                        )
                        .await
                        .map(|(s, _, _)| s)
                        .unwrap_or(0)
                    })
                })
                .collect();
            let mut by_status = std::collections::BTreeMap::new();
            for task in tasks {
                *by_status.entry(task.await.unwrap_or(0)).or_insert(0) += 1;
            }
            by_status
        }
    };
    let started = Instant::now();
    let right = burst(people.iter().cycle().take(SIGN_INS).cloned().collect()).await;
    let took = started.elapsed();
    let after = rss_mb(pid);
    let wrong = burst(
        (0..SIGN_INS)
            .map(|_| (people[0].0.clone(), "wrong password!!".to_owned()))
            .collect(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let idle = rss_mb(pid);
    println!(
        "   right passwords, answers by status: {right:?} in {:.1} s",
        took.as_secs_f64()
    );
    println!("   wrong passwords on one account, answers by status: {wrong:?} (goal: 5 checked, the rest 429)");
    println!("   server RSS before {before:.1} MB, right after {after:.1} MB, idle 20 s later {idle:.1} MB");
    println!("   (the first run's RSS right after start, admin created from the environment: {started_rss:.1} MB)");

    let _ = server.child.kill();
    let _ = server.child.wait();
    let _ = std::fs::remove_dir_all(&data);
}
