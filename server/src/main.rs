//! Starts Calmroom: reads the configuration, opens and migrates the database, serves.

use app::api::{bootstrap_admin, warm_up_passwords, AppState};
use app::store::sessions::Sessions;
use app::store::Db;
use axum::serve::ListenerExt;
use leptos::config::{get_configuration, LeptosOptions};
use server::config::Config;
use server::{router, ServerState, SessionSettings};
use std::net::SocketAddr;
use std::process::ExitCode;

fn main() -> ExitCode {
    server::allocator::one_c_arena();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--help" | "-h") => {
            print!("{}", Config::help());
            return ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            println!("calmroom {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("calmroom: unknown argument {other:?}; see --help");
            return ExitCode::from(2);
        }
        None => {}
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("calmroom: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(server::allocator::worker_idle)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("calmroom: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("calmroom: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            format!(
                "cannot create the data folder {} (CALMROOM_DATA_DIR): {e}",
                config.data_dir.display()
            )
        })?;
    }
    // SQLite is one process on one file: a second server on it stops here.
    let _single = server::hold_sqlite(&config.database_url)?;
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| format!("cannot open the database (CALMROOM_DATABASE_URL): {e}"))?;
    db.migrate()
        .await
        .map_err(|e| format!("the database could not be migrated, so the server stops: {e}"))?;
    let sessions = Sessions::open(&db)
        .await
        .map_err(|e| format!("cannot prepare the session table: {e}"))?;
    tracing::info!(database = db.backend(), "database ready");

    if let Some(admin) = &config.admin {
        match bootstrap_admin(&db, &admin.name, &admin.email, &admin.password).await {
            Ok(true) => {
                tracing::info!(email = %admin.email, "first admin created from the environment")
            }
            Ok(false) => tracing::info!("users exist; CALMROOM_ADMIN_EMAIL ignored"),
            Err(e) => {
                return Err(format!(
                    "cannot create the first admin from the environment: {e}"
                ))
            }
        }
    }
    warm_up_passwords()
        .await
        .map_err(|e| format!("start-up task failed: {e}"))?;

    let cleanup = sessions.clone();
    let log = db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = cleanup.delete_expired().await {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
            // Any replica may prune: it is the same delete on every one.
            let before = chrono::Utc::now() - server::CHANGE_LOG_KEPT;
            if let Err(e) = app::store::changes::prune(&log, before).await {
                tracing::warn!(error = %e, "could not prune the change log");
            }
        }
    });

    let mut leptos_options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => LeptosOptions::builder().output_name("calmroom").build(),
    };
    leptos_options.site_addr = config.bind;

    let events = app::live::Events::new();
    events.follow(db.clone(), config.listen_database_url.clone());
    sessions.follow(&events);
    match server::webhooks::Deliverer::new(db.clone(), config.webhook_private_targets) {
        Ok(deliverer) => deliverer.spawn(events.clone()),
        Err(e) => return Err(format!("cannot start the webhook sender: {e}")),
    }
    if let Some(smtp_url) = &config.smtp_url {
        match server::mail::Mailer::new(
            db.clone(),
            smtp_url,
            config.mail_from.clone(),
            &config.base_url,
            &config.status_title,
        ) {
            Ok(mailer) => mailer.spawn(events.clone()),
            Err(e) => {
                return Err(format!(
                    "cannot start the mail sender (CALMROOM_SMTP_URL): {e}"
                ))
            }
        }
    }
    // Reading, hashing and checking the bundle's copies is blocking work.
    let site_root = std::path::PathBuf::from(&*leptos_options.site_root);
    let assets = tokio::task::spawn_blocking(move || {
        let loaded = server::assets::Assets::load(&site_root);
        // The checks' unpacked copies are gone; so is their memory.
        server::allocator::give_back_freed();
        loaded
    })
    .await
    .map_err(|e| format!("reading the built site failed: {e}"))?
    .map_err(|e| {
        format!(
            "cannot read the built site in {} (LEPTOS_SITE_ROOT): {e}",
            leptos_options.site_root
        )
    })?;
    // Compressed copies of the bundle, made once in the background (brotli
    // comes from the build when it left one).
    assets.pack_all();
    let app_state = AppState::new(db, events, config.trusted_proxies.clone());
    let oidc = match config.oidc.clone() {
        Some(oidc) => {
            let provider =
                server::oidc::Provider::new(oidc, &config.base_url, app_state.company.clone())?;
            let warming = provider.clone();
            tokio::spawn(async move { warming.warm_up().await });
            Some(provider)
        }
        None => None,
    };
    let closing = server::closing::Closing::default();
    let state = ServerState {
        closing: closing.clone(),
        oidc,
        assets,
        intake: server::alerts::Intake::new(config.alert_events_per_second),
        leptos_options,
        app: app_state,
        public: server::public::PublicSite::new(server::public::PublicSettings {
            title: config.status_title.clone(),
            base_url: config.base_url.clone(),
            subscriptions: config.smtp_url.is_some(),
        }),
    };
    state
        .public
        .follow(state.app.db.clone(), state.app.events.clone());
    let app = router(
        state,
        sessions,
        SessionSettings {
            secure: config.secure_cookies(),
            idle_minutes: config.session_idle_minutes,
            base_url: config.base_url.clone(),
        },
    );

    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| format!("cannot listen on {} (CALMROOM_BIND): {e}", config.bind))?
        .tap_io(|tcp| {
            // Without it, streamed pages meet Nagle plus delayed ACK: 40 ms per request.
            let _ = tcp.set_nodelay(true);
        });
    tracing::info!(
        "Calmroom listening on {} ({})",
        config.bind,
        config.base_url
    );
    let signalled = closing.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signalled.close();
    });
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(closing.when_closed());
    server::closing::serve(serving, closing, server::closing::GRACE)
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
