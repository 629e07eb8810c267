//! Webhooks: retries, signatures, what they never receive, where they never go.

use super::*;

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
async fn each_chat_platform_receives_its_own_format_and_component_webhooks_hear_only_their_incidents(
) {
    use std::sync::{Arc, Mutex};
    for server in servers().await {
        let (admin, _, cory) = incident_with_comms_lead(&server).await;
        // A receiver answering as each platform does (Teams 202, Discord 204),
        // keeping (path, body) of everything it gets.
        type Received = Arc<Mutex<Vec<(String, String)>>>;
        let received: Received = Arc::default();
        let receiver = {
            let received = received.clone();
            axum::Router::new().route(
                "/{platform}",
                axum::routing::post(
                    move |axum::extract::Path(platform): axum::extract::Path<String>,
                          body: String| {
                        let received = received.clone();
                        async move {
                            let status = match platform.as_str() {
                                "teams" => StatusCode::ACCEPTED,
                                "discord" => StatusCode::NO_CONTENT,
                                _ => StatusCode::OK,
                            };
                            if let Ok(mut list) = received.lock() {
                                list.push((platform, body));
                            }
                            status
                        }
                    },
                ),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, receiver).await });

        let mut component_ids = Vec::new();
        for name in ["Payments API", "Dashboard"] {
            let add = server
                .call(
                    "add_component",
                    Some(&admin),
                    &[("name", name), ("group_name", ""), ("description", "")],
                )
                .await;
            assert_eq!(add.status, StatusCode::OK, "{}", add.body);
            component_ids.push(add.body.trim().to_owned());
        }
        let (payments, dashboard) = (&component_ids[0], &component_ids[1]);
        for kind in ["teams", "mattermost", "discord", "google_chat"] {
            let add = server
                .call(
                    "add_webhook",
                    Some(&admin),
                    &[
                        ("name", kind),
                        ("kind", kind),
                        ("url", &format!("http://{address}/{kind}")),
                    ],
                )
                .await;
            assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        }
        let payments_key = format!("components[c{payments}]");
        let dashboard_key = format!("components[c{dashboard}]");
        for (name, key, id) in [
            ("payments-team", &payments_key, payments),
            ("dashboard-team", &dashboard_key, dashboard),
        ] {
            let add = server
                .call(
                    "add_webhook",
                    Some(&admin),
                    &[
                        ("name", name),
                        ("kind", "json"),
                        ("url", &format!("http://{address}/{name}")),
                        (key.as_str(), id.as_str()),
                    ],
                )
                .await;
            assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        }
        let unknown = server
            .call(
                "add_webhook",
                Some(&admin),
                &[
                    ("name", "ghost"),
                    ("kind", "json"),
                    ("url", "http://127.0.0.1:9/ghost"),
                    ("components[c999]", "999"),
                ],
            )
            .await;
        assert_eq!(
            unknown.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            unknown.body
        );
        assert!(unknown.body.contains("components"), "{}", unknown.body);
        let bad_kind = server
            .call(
                "add_webhook",
                Some(&admin),
                &[
                    ("name", "x"),
                    ("kind", "msteams"),
                    ("url", "http://127.0.0.1:9/x"),
                ],
            )
            .await;
        assert_eq!(
            bad_kind.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bad_kind.body
        );
        assert_eq!(
            app::store::webhooks::webhooks(&server.db)
                .await
                .expect("hooks")
                .len(),
            6,
            "refused webhooks are not half-written"
        );

        let mark = server
            .call(
                "set_affected_component",
                Some(&cory),
                &[
                    ("number", "1"),
                    ("component_id", payments),
                    ("status", "partial_outage"),
                ],
            )
            .await;
        assert_eq!(mark.status, StatusCode::OK, "{}", mark.body);
        let published = server
            .publish(&cory, "customer", customer_update(), false)
            .await;
        assert!(
            json(&published)["Published"].is_object(),
            "{}",
            published.body
        );

        let deliverer = server::webhooks::Deliverer::new(server.db.clone(), true).expect("client");
        assert_eq!(
            deliverer
                .deliver_due(chrono::Utc::now())
                .await
                .expect("deliver"),
            5,
            "four chat webhooks and the payments team's, not the dashboard team's"
        );
        let got = received.lock().map(|l| l.clone()).unwrap_or_default();
        let body_of = |platform: &str| -> serde_json::Value {
            let (_, body) = got
                .iter()
                .find(|(p, _)| p == platform)
                .unwrap_or_else(|| panic!("{platform} received nothing: {got:?}"));
            serde_json::from_str(body).expect("json body")
        };
        assert_eq!(
            body_of("teams")["attachments"][0]["content"]["type"],
            "AdaptiveCard"
        );
        assert!(body_of("mattermost")["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("#### Card payments failing")));
        assert_eq!(
            body_of("discord")["embeds"][0]["title"],
            "Card payments failing"
        );
        assert_eq!(
            body_of("google_chat")["cardsV2"][0]["card"]["header"]["title"],
            "Card payments failing"
        );
        assert_eq!(body_of("payments-team")["event"], "update.published");
        assert!(!got.iter().any(|(p, _)| p == "dashboard-team"));
        let hooks = app::store::webhooks::webhooks(&server.db)
            .await
            .expect("hooks");
        for hook in hooks.iter().filter(|h| h.name != "dashboard-team") {
            let log = app::store::webhooks::deliveries(&server.db, hook.id, 10)
                .await
                .expect("log");
            assert_eq!(log.len(), 1, "{}", hook.name);
            assert_eq!(log[0].state, "delivered", "{}: {:?}", hook.name, log[0]);
        }
        let payments_team = hooks.iter().find(|h| h.name == "payments-team");
        assert_eq!(
            payments_team.map(|h| h.components.clone()),
            Some(vec!["Payments API".to_owned()])
        );

        // A maintenance window on the dashboard reaches every chat webhook and
        // the dashboard team's, not the payments team's.
        let dashboard_component = format!("components[c{dashboard}]");
        let window = server
            .call(
                "schedule_maintenance",
                Some(&admin),
                &[
                    ("title", "Dashboard database upgrade"),
                    ("description", "Short pauses."),
                    ("starts_at", "2030-01-01T10:00"),
                    ("ends_at", "2030-01-01T11:00"),
                    (dashboard_component.as_str(), dashboard.as_str()),
                ],
            )
            .await;
        assert_eq!(window.status, StatusCode::OK, "{}", window.body);
        assert_eq!(
            deliverer
                .deliver_due(chrono::Utc::now())
                .await
                .expect("deliver"),
            5,
            "four chat webhooks and the dashboard team's"
        );
        let got = received.lock().map(|l| l.clone()).unwrap_or_default();
        let (_, notice) = got
            .iter()
            .find(|(p, _)| p == "dashboard-team")
            .unwrap_or_else(|| panic!("the dashboard team heard nothing: {got:?}"));
        let notice: serde_json::Value = serde_json::from_str(notice).expect("json body");
        assert_eq!(notice["event"], "maintenance.scheduled");
        assert_eq!(
            notice["maintenance"]["scheduled_for"],
            "2030-01-01T10:00:00Z"
        );
        assert_eq!(
            notice["maintenance"]["components"],
            serde_json::json!(["Dashboard"])
        );
        assert_eq!(got.iter().filter(|(p, _)| p == "payments-team").count(), 1);
        let teams = got
            .iter()
            .filter(|(p, _)| p == "teams")
            .map(|(_, b)| b.as_str())
            .collect::<Vec<_>>();
        assert!(
            teams.len() == 2 && teams[1].contains("Dashboard database upgrade"),
            "{teams:?}"
        );
        let dashboard_team = hooks
            .iter()
            .find(|h| h.name == "dashboard-team")
            .map(|h| h.id);
        let log =
            app::store::webhooks::deliveries(&server.db, dashboard_team.unwrap_or_default(), 10)
                .await
                .expect("log");
        assert_eq!(log.len(), 1);
        assert_eq!(
            log[0].maintenance_title.as_deref(),
            Some("Dashboard database upgrade")
        );
        assert_eq!(log[0].state, "delivered", "{}", server.db.backend());
    }
}
