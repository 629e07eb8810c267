//! Postmortems, Markdown and action items.

use super::*;

#[tokio::test]
async fn only_the_ic_or_an_admin_starts_and_publishes_a_postmortem_and_viewers_read_it_once_published(
) {
    for server in servers().await {
        let (_, ivy, _, otto, vera) = resolved_incident(&server).await;
        let number = [("number", "1")];
        let refused = server.call("start_postmortem", Some(&otto), &number).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let refused = server.call("start_postmortem", Some(&vera), &number).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let started = server.call("start_postmortem", Some(&ivy), &number).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);

        let draft = server.call("get_postmortem", Some(&ivy), &number).await;
        assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
        assert!(draft
            .body
            .contains("Decision: Roll back release 4.2. Reason: Errors began with it."));
        let hidden = server.call("get_postmortem", Some(&vera), &number).await;
        assert_eq!(hidden.status, StatusCode::FORBIDDEN, "{}", hidden.body);
        let hidden = server
            .get("/incidents/1/postmortem/export.md", Some(&vera))
            .await;
        assert_eq!(hidden.status, StatusCode::FORBIDDEN);

        let version = postmortem_version(&draft);
        let publish = |cookie: &str, confirm: &'static str| {
            let version = version.clone();
            let cookie = cookie.to_owned();
            let server = &server;
            async move {
                server
                    .call(
                        "publish_postmortem",
                        Some(&cookie),
                        &[("number", "1"), ("version", &version), ("confirm", confirm)],
                    )
                    .await
            }
        };
        let refused = publish(&otto, "true").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let stopped = json(&publish(&ivy, "false").await);
        let failing: Vec<&str> = stopped["NeedsOverride"]["failing"]
            .as_array()
            .expect("failing checks")
            .iter()
            .filter_map(|c| c["rule"].as_str())
            .collect();
        assert!(
            failing.contains(&"HasPrevention") && failing.contains(&"HasDetection"),
            "{failing:?}"
        );
        let still_draft = server.call("get_postmortem", Some(&ivy), &number).await;
        assert_eq!(json(&still_draft)["Document"]["status"], "Draft");
        let published = publish(&ivy, "true").await;
        assert_eq!(published.status, StatusCode::OK, "{}", published.body);

        let read = server.call("get_postmortem", Some(&vera), &number).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        let doc = json(&read);
        assert_eq!(doc["Document"]["status"], "Published");
        assert_eq!(doc["Document"]["can_write"], false);
        let overridden = doc["Document"]["overridden"]
            .as_array()
            .expect("overridden");
        assert!(!overridden.is_empty(), "the override is recorded");
        let export = server
            .get("/incidents/1/postmortem/export.md", Some(&vera))
            .await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(
            export
                .body
                .starts_with("# Postmortem: INC-1 Checkout fails"),
            "{}",
            export.body
        );
        assert!(export.body.contains("## Timeline"));
        let print = server
            .get("/incidents/1/postmortem/print", Some(&vera))
            .await;
        assert_eq!(print.status, StatusCode::OK);
        assert!(
            print.body.contains("<h2>Root causes</h2>"),
            "{}",
            print.body
        );
        let channel = server
            .call("get_status_channel", Some(&vera), &number)
            .await;
        assert_eq!(
            json(&channel)["postmortem_published"],
            true,
            "{}",
            channel.body
        );
        let stranger = server.get("/incidents/1/postmortem/export.md", None).await;
        assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn markdown_in_a_section_is_rendered_without_script() {
    for server in servers().await {
        let (_, ivy, _, _, _) = resolved_incident(&server).await;
        server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let preview = server
            .call(
                "preview_markdown",
                Some(&ivy),
                &[(
                    "text",
                    "**Cache** stampede <script>alert(1)</script> [x](javascript:alert(1))",
                )],
            )
            .await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
        assert!(
            preview.body.contains("<strong>Cache</strong>"),
            "{}",
            preview.body
        );
        assert!(!preview.body.contains("<script"), "{}", preview.body);
        assert!(!preview.body.contains("javascript:"), "{}", preview.body);
    }
}

#[tokio::test]
async fn action_items_need_a_verification_method_and_evidence_and_reach_the_owners_calendar() {
    for server in servers().await {
        let (_, ivy, otto_id, otto, _) = resolved_incident(&server).await;
        server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let otto_id = otto_id.to_string();
        let item = |verification: &'static str| {
            let otto_id = otto_id.clone();
            let ivy = ivy.clone();
            let server = &server;
            async move {
                server
                    .call(
                        "add_action_item",
                        Some(&ivy),
                        &[
                            ("number", "1"),
                            ("title", "Alert on checkout error rate"),
                            ("kind", "detection"),
                            ("owner", &otto_id),
                            ("due", "2026-12-10"),
                            ("verification", verification),
                        ],
                    )
                    .await
            }
        };
        let refused = item("").await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(&refused)["Invalid"]["field"], "verification");
        let added = item("The alert pages within 2 minutes in a drill").await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);

        let mine = server.call("get_follow_up", Some(&otto), &[]).await;
        let mine = json(&mine);
        let id = mine["my_items"][0]["id"].to_string();
        let step = |version: &'static str, status: &'static str, evidence: &'static str| {
            let id = id.clone();
            let otto = otto.clone();
            let server = &server;
            async move {
                server
                    .call(
                        "move_action_item",
                        Some(&otto),
                        &[
                            ("item", &id),
                            ("version", version),
                            ("status", status),
                            ("evidence", evidence),
                        ],
                    )
                    .await
            }
        };
        let skipped = step("1", "verified", "drill").await;
        assert_eq!(
            skipped.status,
            StatusCode::CONFLICT,
            "one step at a time: {}",
            skipped.body
        );
        assert_eq!(step("1", "in_progress", "").await.status, StatusCode::OK);

        let link = server
            .call("get_calendar_link", Some(&otto), &[("reset", "false")])
            .await;
        let path: String = serde_json::from_str(&link.body).expect("path");
        let feed = server.get(&path, None).await;
        assert_eq!(feed.status, StatusCode::OK);
        assert!(feed.body.contains("BEGIN:VTODO"), "{}", feed.body);
        assert!(
            feed.body.contains("DUE;VALUE=DATE:20261210"),
            "{}",
            feed.body
        );
        assert!(feed.body.contains("STATUS:IN-PROCESS"), "{}", feed.body);
        assert!(
            feed.body.contains("Alert on checkout error rate (INC-1)"),
            "{}",
            feed.body
        );

        assert_eq!(step("2", "done", "").await.status, StatusCode::OK);
        let bare = step("3", "verified", "  ").await;
        assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(&bare)["Invalid"]["field"], "evidence");
        assert_eq!(
            step("3", "verified", "Drill on 3 Dec paged in 90 s")
                .await
                .status,
            StatusCode::OK
        );
        let feed = server.get(&path, None).await;
        assert!(feed.body.contains("STATUS:COMPLETED"), "{}", feed.body);

        let reset = server
            .call("get_calendar_link", Some(&otto), &[("reset", "true")])
            .await;
        let new_path: String = serde_json::from_str(&reset.body).expect("path");
        assert_ne!(new_path, path);
        assert_eq!(server.get(&path, None).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn observers_cannot_rewrite_a_postmortem_and_its_review_record_stays_once_published() {
    for server in servers().await {
        let (admin, ivy, otto_id, otto, _) = resolved_incident(&server).await;
        server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let document = server
            .call("get_postmortem", Some(&otto), &[("number", "1")])
            .await;
        assert_eq!(json(&document)["Document"]["can_write"], false);
        let version = postmortem_version(&document);
        let saved = server
            .call_json(
                "save_postmortem",
                &otto,
                serde_json::json!({
                    "number": 1,
                    "version": version.parse::<i64>().expect("version"),
                    "fields": { "summary": "Otto rewrote this" },
                }),
            )
            .await;
        assert_eq!(saved.status, StatusCode::FORBIDDEN, "{}", saved.body);
        let otto_id = otto_id.to_string();
        let writes: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "exclude_line",
                vec![("number", "1"), ("line", "1"), ("excluded", "true")],
            ),
            (
                "add_action_item",
                vec![
                    ("number", "1"),
                    ("title", "Otto's item"),
                    ("kind", "process"),
                    ("owner", &otto_id),
                    ("due", ""),
                    ("verification", "none"),
                ],
            ),
            (
                "record_meeting",
                vec![
                    ("number", "1"),
                    ("held_at", "2026-11-30T10:00"),
                    ("attendees", "Otto alone"),
                ],
            ),
        ];
        for (function, pairs) in &writes {
            let reply = server.call(function, Some(&otto), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{function} by an observer on {}: {}",
                server.db.backend(),
                reply.body
            );
        }
        // Once published, not even the IC rewrites the review record.
        let version = postmortem_version(
            &server
                .call("get_postmortem", Some(&ivy), &[("number", "1")])
                .await,
        );
        let published = server
            .call(
                "publish_postmortem",
                Some(&admin),
                &[("number", "1"), ("version", &version), ("confirm", "true")],
            )
            .await;
        assert_eq!(published.status, StatusCode::OK, "{}", published.body);
        let late = server
            .call(
                "record_meeting",
                Some(&ivy),
                &[
                    ("number", "1"),
                    ("held_at", "2026-11-30T10:00"),
                    ("attendees", "Rewritten"),
                ],
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
        let document = server
            .call("get_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let document = &json(&document)["Document"];
        assert_eq!(document["attendees"], "", "{document}");
        assert!(document["items"].as_array().expect("items").is_empty());
        assert!(!document["sections"].to_string().contains("Otto rewrote"));
    }
}

#[tokio::test]
async fn markdown_nested_too_deep_is_refused_at_its_field_and_never_loads_remote_images() {
    for server in servers().await {
        let admin = server.set_up().await;
        let deep = format!("{} too deep", ">".repeat(40));
        let reply = server
            .call("preview_markdown", Some(&admin), &[("text", &deep)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert_eq!(json(&reply)["Invalid"]["field"], "text");
        let image = server
            .call(
                "preview_markdown",
                Some(&admin),
                &[("text", "![pixel](https://tracker.example/p.png)")],
            )
            .await;
        assert_eq!(image.status, StatusCode::OK);
        assert!(!image.body.contains("<img"), "{}", image.body);
    }
}

#[tokio::test]
async fn a_published_postmortem_gets_a_public_summary_that_the_status_page_shows_after_the_resolution(
) {
    for server in servers().await {
        let (_, ivy, _, otto, _) = resolved_incident(&server).await;
        let published = server
            .publish(&ivy, "customer", customer_update(), true)
            .await;
        assert!(
            json(&published)["Published"].is_object(),
            "{}",
            published.body
        );
        let summary = |cookie: &str, text: &str, confirm: &str| {
            let (cookie, text, confirm) = (cookie.to_owned(), text.to_owned(), confirm.to_owned());
            let server = &server;
            async move {
                server
                    .call(
                        "publish_postmortem_summary",
                        Some(&cookie),
                        &[("number", "1"), ("text", &text), ("confirm", &confirm)],
                    )
                    .await
            }
        };
        let started = server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        let early = summary(&ivy, "Card payments failed for 40 minutes.", "false").await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
        assert!(
            early.body.contains("Publish the postmortem first"),
            "{}",
            early.body
        );

        let draft = server
            .call("get_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let version = postmortem_version(&draft);
        let done = server
            .call(
                "publish_postmortem",
                Some(&ivy),
                &[("number", "1"), ("version", &version), ("confirm", "true")],
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);

        let refused = summary(&otto, "Card payments failed for 40 minutes.", "true").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let empty = summary(&ivy, "  ", "true").await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("\"text\""), "{}", empty.body);
        let warned = summary(
            &ivy,
            "Ivy rolled back release 4.2 on db-7.internal.",
            "false",
        )
        .await;
        let warnings = json(&warned)["NeedsConfirmation"]["warnings"].to_string();
        assert!(warnings.contains("Ivy"), "{warnings}");
        let text = "For 40 minutes some card payments failed after a release. We rolled it back and now check every release against payment errors before it reaches everyone.";
        let out = summary(&ivy, text, "false").await;
        assert!(json(&out)["Published"].is_object(), "{}", out.body);

        let page = server
            .public_once("/status", |b| b.contains("now check every release"))
            .await;
        assert!(
            page.body.contains("now check every release"),
            "{}",
            page.body
        );
        assert!(
            !page.body.contains("Current incidents"),
            "a summary does not reopen it"
        );
        let incidents = json(&server.get("/api/v2/incidents.json", None).await);
        let incident = &incidents["incidents"][0];
        assert_eq!(incident["status"], "postmortem");
        assert_eq!(
            incident["name"], "Card payments failing",
            "the public title stays"
        );
        assert!(incident["resolved_at"].is_string());
        let unresolved = json(&server.get("/api/v2/incidents/unresolved.json", None).await);
        assert_eq!(unresolved["incidents"].as_array().map(Vec::len), Some(0));
        let doc = json(
            &server
                .call("get_postmortem", Some(&ivy), &[("number", "1")])
                .await,
        );
        assert_eq!(doc["Document"]["public_summaries"][0][1], text);
        let atom = server.get("/status/history.atom", None).await;
        assert!(atom.body.contains("now check every release"));
    }
}
