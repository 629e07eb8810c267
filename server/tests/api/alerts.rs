//! Alerts in: PagerDuty Events v2 and the Alertmanager webhook as senders
//! use them, the inbox, declaring from an alert, and what bad input gets.

use super::*;
use serde_json::json;

/// Adds an integration of `kind` as `admin`; answers its id and secret.
pub(super) async fn add_integration(server: &TestServer, admin: &str, kind: &str) -> (i64, String) {
    let reply = server
        .call(
            "add_integration",
            Some(admin),
            &[
                ("name", "Prometheus"),
                ("kind", kind),
                ("critical", "sev1"),
                ("error", "sev2"),
                ("warning", "sev3"),
                ("info", "sev4"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let created = json(&reply);
    (
        created["id"].as_i64().expect("id"),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn post_json(server: &TestServer, path: &str, auth: Option<&str>, body: String) -> Reply {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(auth) = auth {
        request = request.header(header::AUTHORIZATION, auth);
    }
    server
        .send(request.body(Body::from(body)).expect("request"))
        .await
}

async fn enqueue(server: &TestServer, body: serde_json::Value) -> Reply {
    post_json(server, "/v2/enqueue", None, body.to_string()).await
}

fn trigger(key: &str, dedup: &str) -> serde_json::Value {
    json!({
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {"summary": "Checkout error rate above 5%", "source": "checkout-api", "severity": "critical"}
    })
}

pub(super) fn alertmanager_notice(status: &str, name: &str) -> serde_json::Value {
    let alert = |fingerprint: &str, alert_status: &str| {
        json!({
            "status": alert_status,
            "labels": {"alertname": name, "instance": fingerprint, "severity": "warning"},
            "annotations": {"summary": format!("{name} on {fingerprint}")},
            "startsAt": "2026-12-02T09:55:00Z",
            "endsAt": if alert_status == "firing" { "0001-01-01T00:00:00Z" } else { "2026-12-02T10:05:00Z" },
            "fingerprint": fingerprint
        })
    };
    let mut body = json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"{name}\"}}"),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "calmroom",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "severity": "warning", "job": "api"},
        "commonAnnotations": {"summary": format!("{name}: p99 above 2 s")},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [alert("a1", status), alert("b2", status)]
    });
    // The startsAt of a firing alert is near now, as Alertmanager sends it.
    let now = chrono::Utc::now().to_rfc3339();
    if let Some(alerts) = body["alerts"].as_array_mut() {
        for a in alerts {
            a["startsAt"] = json!(now);
            if status != "firing" {
                a["endsAt"] = json!(now);
            }
        }
    }
    body
}

pub(super) async fn send_alertmanager(
    server: &TestServer,
    integration: i64,
    token: &str,
    body: &serde_json::Value,
) -> Reply {
    post_json(
        server,
        &format!("/hooks/alertmanager/{integration}"),
        Some(&format!("Bearer {token}")),
        body.to_string(),
    )
    .await
}

async fn inbox(server: &TestServer, cookie: &str) -> Vec<serde_json::Value> {
    let reply = server.call("get_alert_inbox", Some(cookie), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    json(&reply)["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_pagerduty_trigger_opens_one_group_repeats_only_count_and_resolve_closes_it() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, key) = add_integration(&server, &admin, "pagerduty").await;
        let first = enqueue(&server, trigger(&key, "checkout-errors")).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
        let answer = json(&first);
        assert_eq!(answer["status"], "success");
        assert_eq!(answer["message"], "Event processed");
        assert_eq!(answer["dedup_key"], "checkout-errors");
        for _ in 0..3 {
            let again = enqueue(&server, trigger(&key, "checkout-errors")).await;
            assert_eq!(again.status, StatusCode::ACCEPTED);
        }
        let groups = inbox(&server, &admin).await;
        assert_eq!(groups.len(), 1, "{}: {groups:?}", server.db.backend());
        assert_eq!(groups[0]["events"], 4);
        assert_eq!(groups[0]["severity"], "Sev1");
        assert_eq!(groups[0]["summary"], "Checkout error rate above 5%");

        // Without a dedup_key the answer carries the key made for it.
        let mut keyless = trigger(&key, "");
        keyless.as_object_mut().map(|o| o.remove("dedup_key"));
        let made = json(&enqueue(&server, keyless).await);
        let made_key = made["dedup_key"]
            .as_str()
            .expect("a generated key")
            .to_owned();
        assert_eq!(made_key.len(), 32);
        assert_eq!(inbox(&server, &admin).await.len(), 2);

        let resolve =
            json!({"routing_key": key, "event_action": "resolve", "dedup_key": "checkout-errors"});
        assert_eq!(
            enqueue(&server, resolve.clone()).await.status,
            StatusCode::ACCEPTED
        );
        let left = inbox(&server, &admin).await;
        assert_eq!(left.len(), 1);
        // Resolving an unknown key is accepted and dropped, as PagerDuty does.
        let unknown =
            json!({"routing_key": key, "event_action": "resolve", "dedup_key": "never-seen"});
        assert_eq!(enqueue(&server, unknown).await.status, StatusCode::ACCEPTED);
        // A trigger after the resolve opens a new group.
        enqueue(&server, trigger(&key, "checkout-errors")).await;
        assert_eq!(inbox(&server, &admin).await.len(), 2);
    }
}

#[tokio::test]
async fn bad_events_get_a_4xx_naming_the_field_and_nothing_is_written() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (id, key) = add_integration(&server, &admin, "pagerduty").await;
        let mut no_summary = trigger(&key, "k1");
        no_summary["payload"]
            .as_object_mut()
            .map(|p| p.remove("summary"));
        let reply = enqueue(&server, no_summary).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        let errors = json(&reply)["errors"].to_string();
        assert!(errors.contains("payload.summary"), "{errors}");

        let mut wrong_action = trigger(&key, "k1");
        wrong_action["event_action"] = json!("explode");
        let errors = json(&enqueue(&server, wrong_action).await)["errors"].to_string();
        assert!(errors.contains("event_action"), "{errors}");

        let reply = enqueue(&server, trigger("0123456789abcdef0123456789abcdef", "k1")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(json(&reply)["errors"].to_string().contains("routing_key"));

        let reply = post_json(
            &server,
            "/v2/enqueue",
            None,
            "{\"routing_key\": ".to_owned(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(json(&reply)["errors"]
            .to_string()
            .contains("not valid JSON"));

        let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let reply = post_json(&server, "/v2/enqueue", None, nested).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);

        let mut huge = trigger(&key, "k1");
        huge["payload"]["custom_details"] = json!({"log": "x".repeat(600 * 1024)});
        let reply = enqueue(&server, huge).await;
        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            reply.body
        );

        let paused = server
            .call(
                "update_integration",
                Some(&admin),
                &[
                    ("id", &id.to_string()),
                    ("paused", "on"),
                    ("critical", "sev1"),
                    ("error", "sev2"),
                    ("warning", "sev3"),
                    ("info", "sev4"),
                ],
            )
            .await;
        assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
        let reply = enqueue(&server, trigger(&key, "k1")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(
            inbox(&server, &admin).await.is_empty(),
            "{}",
            server.db.backend()
        );
    }
}

#[tokio::test]
async fn a_rotated_secret_replaces_the_old_one_at_once() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (id, old) = add_integration(&server, &admin, "pagerduty").await;
        let rotated = server
            .call(
                "rotate_integration_secret",
                Some(&admin),
                &[("id", &id.to_string())],
            )
            .await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
        let new = json(&rotated)["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        assert_ne!(new, old);
        assert_eq!(
            enqueue(&server, trigger(&old, "k")).await.status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            enqueue(&server, trigger(&new, "k")).await.status,
            StatusCode::ACCEPTED
        );
        // The list never shows a secret again.
        let listed = server.call("list_integrations", Some(&admin), &[]).await;
        assert!(!listed.body.contains(&new));
    }
}

#[tokio::test]
async fn an_alertmanager_group_needs_its_token_and_resolves_when_its_alerts_do() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (id, token) = add_integration(&server, &admin, "alertmanager").await;
        let notice = alertmanager_notice("firing", "HighLatency");
        let path = format!("/hooks/alertmanager/{id}");
        let reply = post_json(&server, &path, None, notice.to_string()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let reply = post_json(&server, &path, Some("Bearer wrong"), notice.to_string()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        // Another integration's token does not open this one.
        let (other, other_token) = add_integration(&server, &admin, "alertmanager").await;
        assert_ne!(other, id);
        let reply = send_alertmanager(&server, id, &other_token, &notice).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

        let reply = send_alertmanager(&server, id, &token, &notice).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        // Alertmanager repeats the notification: still one group.
        send_alertmanager(&server, id, &token, &notice).await;
        let groups = inbox(&server, &admin).await;
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert_eq!(groups[0]["alerts"], 2);
        assert_eq!(groups[0]["firing"], 2);
        assert_eq!(groups[0]["severity"], "Sev3");
        assert_eq!(groups[0]["summary"], "HighLatency: p99 above 2 s");

        // Basic auth with the token as password works too (Alertmanager's basic_auth).
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("am:{token}"));
        let resolved = alertmanager_notice("resolved", "HighLatency");
        let reply = post_json(
            &server,
            &path,
            Some(&format!("Basic {basic}")),
            resolved.to_string(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        assert!(inbox(&server, &admin).await.is_empty());

        let mut broken = alertmanager_notice("firing", "Broken");
        broken["alerts"][1]
            .as_object_mut()
            .map(|a| a.remove("fingerprint"));
        let reply = send_alertmanager(&server, id, &token, &broken).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(json(&reply)["errors"]
            .to_string()
            .contains("alerts[1].fingerprint"));
        assert!(inbox(&server, &admin).await.is_empty());
    }
}

#[tokio::test]
async fn declaring_from_an_alert_attaches_it_and_its_resolution_reaches_the_timeline() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, key) = add_integration(&server, &admin, "pagerduty").await;
        enqueue(&server, trigger(&key, "checkout-errors")).await;
        let group = inbox(&server, &admin).await[0]["id"].as_i64().expect("id");
        let declared = server
            .call(
                "declare_incident",
                Some(&admin),
                &[
                    ("title", "Checkout error rate above 5%"),
                    ("severity", "sev1"),
                    ("impact", ""),
                    ("best_guess", ""),
                    ("alert", &group.to_string()),
                ],
            )
            .await;
        assert!(
            declared.status.is_success() || declared.status.is_redirection(),
            "{}",
            declared.body
        );
        assert!(
            inbox(&server, &admin).await.is_empty(),
            "a declared alert leaves the inbox"
        );
        let room = war_room(&server, &admin).await;
        assert_eq!(room["alerts"][0]["state"], "Firing", "{}", room["alerts"]);
        assert_eq!(room["alerts"][0]["incident"], 1);
        let timeline = room["timeline"].to_string();
        assert!(timeline.contains("attached the alert"), "{timeline}");

        let resolve =
            json!({"routing_key": key, "event_action": "resolve", "dedup_key": "checkout-errors"});
        enqueue(&server, resolve).await;
        let room = war_room(&server, &admin).await;
        assert_eq!(room["alerts"][0]["state"], "Resolved");
        assert!(
            room["timeline"].to_string().contains("resolved"),
            "{}",
            room["timeline"]
        );

        // A change event while the incident is open is a suspect in its war room.
        let change = json!({
            "routing_key": key,
            "payload": {"summary": "Deployed checkout v2.3.1", "source": "ci"},
            "links": [{"href": "https://ci.example.com/run/7"}]
        });
        let reply = post_json(&server, "/v2/change/enqueue", None, change.to_string()).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
        let room = war_room(&server, &admin).await;
        assert_eq!(room["changes"][0]["summary"], "Deployed checkout v2.3.1");

        // The postmortem draft says when the alert fired and when it resolved.
        let version = room["version"].to_string();
        let resolved = server
            .call(
                "change_status",
                Some(&admin),
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
            .call("start_postmortem", Some(&admin), &[("number", "1")])
            .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        let draft = server
            .call("get_postmortem", Some(&admin), &[("number", "1")])
            .await;
        let lines = json(&draft)["Document"]["lines"].to_string();
        assert!(
            lines.contains("Alert fired: \\\"Checkout error rate above 5%\\\" from checkout-api"),
            "{lines}"
        );
        assert!(lines.contains("resolved"), "{lines}");
    }
}

#[tokio::test]
async fn an_alert_is_attached_once_and_dismissing_needs_a_reason() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, viewer) = member(&server, &admin, "Vera", "viewer").await;
        let (_, key) = add_integration(&server, &admin, "pagerduty").await;
        declare(&server, &admin).await;
        enqueue(&server, trigger(&key, "one")).await;
        enqueue(&server, trigger(&key, "two")).await;
        let groups = inbox(&server, &admin).await;
        let (two, one) = (groups[0]["id"].to_string(), groups[1]["id"].to_string());

        let reply = server.call("get_alert_inbox", Some(&viewer), &[]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);

        let attach = server
            .call(
                "attach_alert",
                Some(&admin),
                &[("group", &one), ("number", "1")],
            )
            .await;
        assert_eq!(attach.status, StatusCode::OK, "{}", attach.body);
        let again = server
            .call(
                "attach_alert",
                Some(&admin),
                &[("group", &one), ("number", "1")],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert!(again.body.contains("INC-1"), "{}", again.body);

        let blank = server
            .call(
                "dismiss_alert",
                Some(&admin),
                &[("group", &two), ("reason", " ")],
            )
            .await;
        assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(blank.body.contains("reason"), "{}", blank.body);
        assert_eq!(inbox(&server, &admin).await.len(), 1);
        let dismissed = server
            .call(
                "dismiss_alert",
                Some(&admin),
                &[("group", &two), ("reason", "Known flapping check")],
            )
            .await;
        assert_eq!(dismissed.status, StatusCode::OK, "{}", dismissed.body);
        assert!(inbox(&server, &admin).await.is_empty());
        // Its repeats keep counting without bringing it back.
        enqueue(&server, trigger(&key, "two")).await;
        assert!(inbox(&server, &admin).await.is_empty());
    }
}

#[tokio::test]
async fn a_sender_past_its_rate_gets_429_with_retry_after_and_its_accepted_events_are_kept() {
    for db in fresh_databases().await {
        let server = server_with_intake(db, server::alerts::Intake::new(1)).await;
        let admin = server.set_up().await;
        let (_, key) = add_integration(&server, &admin, "pagerduty").await;
        let mut accepted: u64 = 0;
        let mut throttled = None;
        let started = std::time::Instant::now();
        for i in 0..40 {
            let reply = enqueue(&server, trigger(&key, &format!("storm-{}", i % 3))).await;
            match reply.status {
                StatusCode::ACCEPTED => accepted += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    throttled = Some(reply);
                    break;
                }
                other => panic!("{other}: {}", reply.body),
            }
        }
        // One per second with ten seconds of burst: ten at once, and one more
        // for each second the sending itself took on a slow machine.
        let refilled = started.elapsed().as_secs() + 1;
        assert!(
            (10..=10 + refilled).contains(&accepted),
            "{}: {accepted} accepted in {refilled} s",
            server.db.backend()
        );
        let throttled = throttled.expect("the eleventh event is throttled");
        assert_eq!(json(&throttled)["status"], "throttle event");
        let wait: u64 = throttled
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((1..=2).contains(&wait), "{wait}");
        let groups = inbox(&server, &admin).await;
        let events: i64 = groups
            .iter()
            .map(|g| g["events"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(events as u64, accepted, "every accepted event is counted");
    }
}

#[tokio::test]
async fn an_integration_set_to_declare_opens_an_incident_with_the_ic_role_open() {
    for server in servers().await {
        let admin = server.set_up().await;
        let reply = server
            .call(
                "add_integration",
                Some(&admin),
                &[
                    ("name", "Uptime probes"),
                    ("kind", "pagerduty"),
                    ("critical", "sev1"),
                    ("error", "sev2"),
                    ("warning", "sev3"),
                    ("info", "sev4"),
                    ("auto_declare", "sev1"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let key = json(&reply)["secret"].as_str().expect("secret").to_owned();
        // A warning stays in the inbox; a critical alert becomes INC-1 at once.
        let mut warning = trigger(&key, "disk");
        warning["payload"]["severity"] = json!("warning");
        assert_eq!(enqueue(&server, warning).await.status, StatusCode::ACCEPTED);
        assert_eq!(
            enqueue(&server, trigger(&key, "checkout")).await.status,
            StatusCode::ACCEPTED
        );
        // Repeats of the declared group declare nothing more.
        enqueue(&server, trigger(&key, "checkout")).await;
        let groups = inbox(&server, &admin).await;
        assert_eq!(groups.len(), 1, "{}: {groups:?}", server.db.backend());
        assert_eq!(groups[0]["severity"], "Sev3");
        let room = war_room(&server, &admin).await;
        assert_eq!(room["title"], "Checkout error rate above 5%");
        assert_eq!(room["severity"], "Sev1");
        assert_eq!(room["alerts"].as_array().map(Vec::len), Some(1));
        let timeline = room["timeline"].to_string();
        assert!(
            timeline.contains("Uptime probes declared INC-1 (Sev1) from an alert"),
            "{timeline}"
        );
        let ic = room["roles"]
            .as_array()
            .and_then(|roles| roles.iter().find(|r| r["role"] == "IncidentCommander"))
            .map(|r| r["holder"].clone());
        assert_eq!(ic, Some(serde_json::Value::Null), "nobody is IC yet");
        let cards = server.call("list_incidents", Some(&admin), &[]).await;
        assert_eq!(json(&cards).as_array().map(Vec::len), Some(1));
    }
}
