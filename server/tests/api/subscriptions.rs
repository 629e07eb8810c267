//! E-mail subscriptions through the public, script-free screens: what a
//! reader does, what a forged or reused link does, and what a flood gets.
//! (Mail itself goes through a real SMTP server in end2end/senders/mail.py.)

use super::*;

impl TestServer {
    async fn post_form(&self, path: &str, body: &str) -> Reply {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.send(request).await
    }
}

async fn queued(db: &Db) -> Vec<(String, String, String)> {
    match db {
        Db::Sqlite { read: pool, .. } => sqlx::query_as(
            "SELECT s.email, o.kind, o.state FROM mail_outbox o JOIN subscribers s ON s.id = o.subscriber_id ORDER BY o.id",
        )
        .fetch_all(pool)
        .await
        .expect("outbox"),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT s.email, o.kind, o.state FROM mail_outbox o JOIN subscribers s ON s.id = o.subscriber_id ORDER BY o.id",
        )
        .fetch_all(pool)
        .await
        .expect("outbox"),
    }
}

async fn token_column(db: &Db, column: &str, email: &str) -> String {
    let sql = format!("SELECT {column} FROM subscribers WHERE email = $1");
    let found: Option<String> = match db {
        Db::Sqlite { read: pool, .. } => sqlx::query_scalar(&sql).bind(email).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(&sql).bind(email).fetch_one(pool).await,
    }
    .expect("subscriber");
    found.expect("token")
}

#[tokio::test]
async fn a_reader_subscribes_confirms_chooses_components_and_leaves_in_one_click() {
    for server in servers().await {
        let admin = server.set_up().await;
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
        let payments = add.body.trim().to_owned();

        let page = server
            .public_once("/status", |b| b.contains("Payments API"))
            .await;
        assert!(
            page.body.contains("action=\"/status/subscribe\""),
            "the page offers e-mail"
        );
        assert!(page
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("form-action 'self'")));

        let bad = server
            .post_form("/status/subscribe", "email=not-an-address")
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("id=\"subscribe-error\""), "{}", bad.body);
        assert!(
            bad.body.contains("value=\"not-an-address\""),
            "what was typed stays"
        );
        let throwaway = server
            .post_form("/status/subscribe", "email=x%40mailinator.com")
            .await;
        assert_eq!(throwaway.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(throwaway.body.contains("throwaway"));
        assert!(
            queued(&server.db).await.is_empty(),
            "nothing queued for bad input"
        );

        let signed = server
            .post_form(
                "/status/subscribe",
                &format!("email=Dana%40Example.com&component={payments}"),
            )
            .await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        assert!(signed.body.contains("Check your inbox"));
        assert_eq!(
            queued(&server.db).await,
            [(
                "dana@example.com".to_owned(),
                "confirm".to_owned(),
                "pending".to_owned()
            )]
        );

        let confirm = token_column(&server.db, "confirm_token", "dana@example.com").await;
        let manage = token_column(&server.db, "token", "dana@example.com").await;
        // A link opened by a mail scanner changes nothing.
        let shown = server
            .get(
                &format!("/status/subscription/confirm?token={confirm}"),
                None,
            )
            .await;
        assert_eq!(shown.status, StatusCode::OK);
        assert_eq!(
            shown
                .headers
                .get("referrer-policy")
                .and_then(|v| v.to_str().ok()),
            Some("same-origin")
        );
        let before = server
            .get(&format!("/status/subscription?token={manage}"), None)
            .await;
        assert!(before.body.contains("not active"), "{}", before.body);

        let forged = "0".repeat(64);
        let refused = server
            .post_form("/status/subscription/confirm", &format!("token={forged}"))
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        let confirmed = server
            .post_form("/status/subscription/confirm", &format!("token={confirm}"))
            .await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
        assert!(confirmed.body.contains(&manage), "the way to manage it");
        let reused = server
            .post_form("/status/subscription/confirm", &format!("token={confirm}"))
            .await;
        assert_eq!(
            reused.status,
            StatusCode::NOT_FOUND,
            "a used link does nothing"
        );

        let managed = server
            .get(&format!("/status/subscription?token={manage}"), None)
            .await;
        assert!(managed.body.contains("dana@example.com"));
        assert!(managed
            .body
            .contains(&format!("value=\"{payments}\" checked")));
        let everything = server
            .post_form("/status/subscription", &format!("token={manage}"))
            .await;
        assert_eq!(everything.status, StatusCode::OK);
        assert!(everything.body.contains("Saved."));
        assert!(
            !everything.body.contains(" checked"),
            "none ticked: everything"
        );
        assert_eq!(
            server
                .get("/status/subscription?token=dana%40example.com", None)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "an address opens nothing"
        );

        // RFC 8058: the token in the address, the fixed body.
        let gone = server
            .post_form(
                &format!("/status/unsubscribe?token={manage}"),
                "List-Unsubscribe=One-Click",
            )
            .await;
        assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
        assert!(gone.body.contains("You are unsubscribed"));
        let after = server
            .get(&format!("/status/subscription?token={manage}"), None)
            .await;
        assert!(after.body.contains("not active"));
    }
}

#[tokio::test]
async fn a_flood_of_sign_ups_is_throttled_per_address_and_per_client() {
    for server in servers().await {
        server.set_up().await;
        for _ in 0..3 {
            let ok = server
                .post_form("/status/subscribe", "email=eve%40example.com")
                .await;
            assert_eq!(ok.status, StatusCode::OK);
        }
        let fourth = server
            .post_form("/status/subscribe", "email=eve%40example.com")
            .await;
        assert_eq!(fourth.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(fourth.headers.contains_key("retry-after"));
        assert!(fourth.body.contains("Too many sign-ups"));
        assert_eq!(
            queued(&server.db).await.len(),
            3,
            "no mail for the refused one"
        );

        // One client trying many addresses stops at the per-client limit.
        let mut accepted = 3;
        for n in 0..30 {
            let reply = server
                .post_form("/status/subscribe", &format!("email=user{n}%40example.com"))
                .await;
            if reply.status == StatusCode::OK {
                accepted += 1;
            } else {
                assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
            }
        }
        assert_eq!(
            accepted, 19,
            "twenty tries an hour from one client, the refused fourth among them"
        );
        let huge = server
            .post_form(
                "/status/subscribe",
                &format!("email={}", "a".repeat(20_000)),
            )
            .await;
        assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
