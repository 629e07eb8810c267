//! Stakeholder updates and the public status page, its feeds and JSON.

use super::*;

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
            "mitigation": "Fixed by 14:30 UTC.",
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
async fn each_component_shows_ninety_days_of_uptime_on_the_page_in_the_json_and_as_a_badge() {
    for server in servers().await {
        let (admin, _, cory) = incident_with_comms_lead(&server).await;
        let add = server
            .call(
                "add_component",
                Some(&admin),
                &[
                    ("name", "Payments <API>"),
                    ("group_name", ""),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(add.status, StatusCode::OK, "{}", add.body);
        let id = add.body.trim().to_owned();
        let mark = server
            .call(
                "set_affected_component",
                Some(&cory),
                &[
                    ("number", "1"),
                    ("component_id", &id),
                    ("status", "major_outage"),
                ],
            )
            .await;
        assert_eq!(mark.status, StatusCode::OK, "{}", mark.body);

        let components = server
            .public_once("/api/v2/components.json", |b| b.contains("major_outage"))
            .await;
        let components = json(&components);
        let uptime = &components["components"][0]["uptime"];
        assert_eq!(uptime["days"], 90);
        let history = uptime["history"].as_array().cloned().unwrap_or_default();
        assert_eq!(history.len(), 90);
        let today = chrono::Utc::now().date_naive().to_string();
        assert_eq!(history[89]["date"], today.as_str());
        assert_eq!(history[89]["status"], "major_outage");
        assert_eq!(history[0]["status"], serde_json::Value::Null, "no data yet");
        let summary = server.get("/api/v2/summary.json", None).await;
        assert!(
            !summary.body.contains("\"uptime\""),
            "the summary keeps the size tools expect"
        );

        let page = server.get("/status", None).await;
        assert_eq!(
            page.body.matches("<span class=\"d-").count(),
            90,
            "one bar per day"
        );
        assert!(page.body.contains("class=\"d-major_outage\""));
        assert!(page.body.contains("uptime, 90 days"));

        let badge = server.get(&format!("/status/badge/{id}.svg"), None).await;
        assert_eq!(badge.status, StatusCode::OK);
        assert_eq!(
            badge
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("image/svg+xml")
        );
        assert!(badge.body.starts_with("<svg"), "{}", badge.body);
        assert!(badge.body.contains(">major outage<"), "{}", badge.body);
        assert!(
            badge.body.contains("Payments &lt;API&gt;"),
            "{}",
            badge.body
        );
        for missing in [
            "/status/badge/999.svg",
            "/status/badge/x.svg",
            &format!("/status/badge/{id}.png"),
        ] {
            assert_eq!(
                server.get(missing, None).await.status,
                StatusCode::NOT_FOUND,
                "{missing}"
            );
        }
    }
}

#[tokio::test]
async fn a_reader_may_see_the_status_page_in_their_zone_without_script_or_cookie() {
    for server in servers().await {
        let admin = server.set_up().await;
        let window = server
            .call(
                "schedule_maintenance",
                Some(&admin),
                &[
                    ("title", "Database upgrade"),
                    ("description", ""),
                    ("starts_at", "2030-01-01T10:00"),
                    ("ends_at", "2030-01-01T11:00"),
                ],
            )
            .await;
        assert_eq!(window.status, StatusCode::OK, "{}", window.body);
        let utc = server
            .public_once("/status", |page| page.contains("Database upgrade"))
            .await;
        assert!(
            utc.body
                .contains(r#"<time datetime="2030-01-01T10:00:00Z">1 Jan 2030, 10:00 UTC</time>"#),
            "{}",
            utc.body
        );
        assert!(utc
            .body
            .contains("Times are in UTC. <a href=\"/status/zone\">"));

        let kolkata = server.get("/status?tz=Asia%2FKolkata", None).await;
        assert_eq!(kolkata.status, StatusCode::OK);
        assert!(
            kolkata
                .body
                .contains(r#"<time datetime="2030-01-01T10:00:00Z">1 Jan 2030, 15:30 IST</time>"#),
            "{}",
            kolkata.body
        );
        assert!(kolkata.body.contains("Times are in Asia/Kolkata (IST)."));
        assert!(kolkata.set_cookie.is_none());
        assert!(!kolkata.body.contains("<script"));

        // The zoned page is as fresh as the plain one.
        server
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
        server
            .public_once("/status", |page| page.contains("Payments API"))
            .await;
        let fresh = server.get("/status?tz=Asia%2FKolkata", None).await;
        assert!(
            fresh.body.contains("Payments API"),
            "{}",
            server.db.backend()
        );

        let unknown = server.get("/status?tz=Mars%2FOlympus", None).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(unknown.body.contains("Unknown time zone"));

        let picker = server.get("/status/zone", None).await;
        assert_eq!(picker.status, StatusCode::OK);
        assert!(picker
            .body
            .contains(r#"<form method="get" action="/status">"#));
        assert!(picker.body.contains(r#"<option value="Asia/Kolkata">"#));
        assert!(!picker.body.contains("<script"));
    }
}
