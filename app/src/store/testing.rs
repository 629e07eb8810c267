//! Fresh, migrated databases for tests: one SQLite file and one PostgreSQL database.
//!
//! PostgreSQL is reached at `CALMROOM_TEST_POSTGRES_URL` (default: the local
//! server, user postgres, trust auth). Each call creates a new database named
//! `calmroom_test_*`; the test command drops old ones before it starts.

use super::Db;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// The PostgreSQL server the tests use, as an admin connection URL.
pub fn postgres_admin_url() -> String {
    std::env::var("CALMROOM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A migrated SQLite database in a new file under the system temp folder.
pub async fn fresh_sqlite() -> Db {
    let dir = std::env::temp_dir().join(format!("calmroom_test_{}", unique_suffix()));
    std::fs::create_dir_all(&dir).expect("create a temp folder for a test database");
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let db = Db::connect(&url)
        .await
        .expect("open a SQLite test database");
    db.migrate()
        .await
        .expect("migrate the SQLite test database");
    db
}

/// A migrated, empty PostgreSQL database of its own.
pub async fn fresh_postgres() -> Db {
    let admin_url = postgres_admin_url();
    let name = format!("calmroom_test_{}", unique_suffix());
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {admin_url} (start it, or set CALMROOM_TEST_POSTGRES_URL): {e}")
    });
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create a PostgreSQL test database");
    admin.close().await;
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base.to_owned())
        .unwrap_or(admin_url);
    let db = Db::connect(&format!("{base}/{name}"))
        .await
        .expect("connect to the PostgreSQL test database");
    db.migrate()
        .await
        .expect("migrate the PostgreSQL test database");
    db
}

/// One fresh database of each kind, SQLite first.
pub async fn fresh_databases() -> Vec<Db> {
    vec![fresh_sqlite().await, fresh_postgres().await]
}

/// A user for store tests, named `name` (e-mail `name@example.com`).
pub async fn person(
    db: &Db,
    name: &str,
    role: crate::domain::users::OrgRole,
) -> crate::domain::users::UserId {
    use crate::domain::users::{Email, PersonName};
    let n = PersonName::parse("name", name).expect("name");
    let e = Email::parse("email", &format!("{}@example.com", name.to_lowercase())).expect("email");
    super::users::create(
        db,
        &super::users::NewUser {
            name: &n,
            email: &e,
            org_role: role,
            password_hash: "h",
        },
        chrono::Utc::now(),
    )
    .await
    .expect("user")
    .id
}

/// An incident declared by `by` (who becomes IC), for store tests.
pub async fn declared(
    db: &Db,
    by: crate::domain::users::UserId,
    severity: crate::domain::incidents::Severity,
) -> super::incidents::Incident {
    use crate::domain::incidents::IncidentTitle;
    let title = IncidentTitle::parse("title", "Checkout is failing").expect("title");
    super::incidents::declare(
        db,
        &super::incidents::Declaration {
            title: &title,
            severity,
            impact: "EU customers cannot pay",
            best_guess: "",
            bridge_url: "",
            restricted: false,
            alert: None,
            by_integration: None,
        },
        by,
        chrono::Utc::now(),
    )
    .await
    .expect("declare")
}

/// Makes `who` a responder of `incident`, added by its IC `ic`, for store tests.
pub async fn add_responder(
    db: &Db,
    incident: &super::incidents::Incident,
    ic: crate::domain::users::UserId,
    who: crate::domain::users::UserId,
) {
    let actor = crate::domain::roles::Actor {
        user: ic,
        org_role: crate::domain::users::OrgRole::Responder,
        is_ic: true,
    };
    super::leadership::add_responder(db, incident.id, who, &actor, chrono::Utc::now())
        .await
        .expect("add responder");
}
