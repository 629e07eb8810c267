//! The war room: its view, windows, roles and status changes.

use super::*;

#[tokio::test]
async fn the_war_room_shows_the_newest_hundred_pages_older_and_stays_fresh_for_every_watcher() {
    for server in servers().await {
        let backend = server.db.backend();
        let admin = server.set_up().await;
        let (rob_id, rob) = member(&server, &admin, "Rob", "responder").await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        declare(&server, &ivy).await;
        for i in 0..110 {
            let body = format!("check {i}");
            let note = server
                .call(
                    "add_timeline_note",
                    Some(&ivy),
                    &[("number", "1"), ("body", &body)],
                )
                .await;
            assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        }
        let room = war_room(&server, &ivy).await;
        let total = room["timeline_count"].as_i64().expect("count");
        assert!(total > 110, "{backend}: {total}");
        assert_eq!(room["timeline"].as_array().map(Vec::len), Some(100));
        assert_eq!(room["timeline"][0]["body"], "check 109");
        let more = server
            .call(
                "get_war_room",
                Some(&ivy),
                &[("number", "1"), ("timeline", "200")],
            )
            .await;
        assert_eq!(more.status, StatusCode::OK, "{}", more.body);
        let more = room_view(&more);
        assert_eq!(
            more["timeline"].as_array().map(|t| t.len() as i64),
            Some(total)
        );
        for bad in ["0", "5001", "-3"] {
            let reply = server
                .call(
                    "get_war_room",
                    Some(&ivy),
                    &[("number", "1"), ("timeline", bad)],
                )
                .await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert_eq!(json(&reply)["Invalid"]["field"], "timeline");
        }

        // Both watchers share one view but each gets their own permissions.
        let theirs = war_room(&server, &rob).await;
        assert_eq!(theirs["me"], rob_id);
        assert_eq!(theirs["is_ic"], false, "{backend}");
        assert_eq!(theirs["can_edit"], false, "{backend}");
        assert_eq!(war_room(&server, &ivy).await["is_ic"], true);

        // A change shows at once for everyone, with what it changes for each.
        let rob_id = rob_id.to_string();
        let assigned = server
            .call(
                "assign_role",
                Some(&ivy),
                &[("number", "1"), ("role", "tech_lead"), ("user_id", &rob_id)],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
        let theirs = war_room(&server, &rob).await;
        assert_eq!(theirs["can_edit"], true, "{backend}");
        assert_eq!(theirs["can_request_approval"], true, "{backend}");
        assert_eq!(theirs["is_ic"], false, "{backend}");
        let before = theirs["timeline_count"].as_i64().expect("count");
        let note = server
            .call(
                "add_timeline_note",
                Some(&rob),
                &[("number", "1"), ("body", "Rob is on the database")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        for watcher in [&ivy, &rob, &admin] {
            let room = war_room(&server, watcher).await;
            assert_eq!(room["timeline"][0]["body"], "Rob is on the database");
            assert_eq!(room["timeline_count"].as_i64(), Some(before + 1));
        }
    }
}

#[tokio::test]
async fn a_viewer_is_refused_every_mutating_war_room_function() {
    for server in servers().await {
        let admin = server.set_up().await;
        declare(&server, &admin).await;
        let (viewer_id, viewer) = member(&server, &admin, "Vera", "viewer").await;
        let viewer_id = viewer_id.to_string();
        let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "declare_incident",
                vec![
                    ("title", "x"),
                    ("severity", "sev2"),
                    ("impact", ""),
                    ("best_guess", ""),
                ],
            ),
            (
                "assign_role",
                vec![("number", "1"), ("role", "scribe"), ("user_id", &viewer_id)],
            ),
            ("release_role", vec![("number", "1"), ("role", "scribe")]),
            (
                "change_status",
                vec![
                    ("number", "1"),
                    ("version", "1"),
                    ("status", "mitigating"),
                    ("severity", "sev1"),
                ],
            ),
            (
                "set_cadence",
                vec![
                    ("number", "1"),
                    ("version", "1"),
                    ("decision_minutes", "10"),
                    ("update_minutes", "15"),
                ],
            ),
            (
                "tick_rhythm_item",
                vec![("number", "1"), ("item", "signals_checked")],
            ),
            ("check_in", vec![("number", "1")]),
            (
                "log_decision",
                vec![
                    ("number", "1"),
                    ("decision", "x"),
                    ("reason", ""),
                    ("owner_id", &viewer_id),
                ],
            ),
            (
                "record_decision_result",
                vec![
                    ("number", "1"),
                    ("decision_id", "1"),
                    ("version", "1"),
                    ("result", "x"),
                ],
            ),
            (
                "add_timeline_note",
                vec![("number", "1"), ("body", "hello")],
            ),
            (
                "add_hypothesis",
                vec![("number", "1"), ("statement", "x"), ("owner_id", "")],
            ),
            (
                "update_hypothesis",
                vec![
                    ("number", "1"),
                    ("hypothesis_id", "1"),
                    ("version", "1"),
                    ("status", "open"),
                    ("evidence", ""),
                    ("owner_id", ""),
                ],
            ),
            (
                "record_restore_step",
                vec![
                    ("number", "1"),
                    ("step", "rollback"),
                    ("outcome", "tried"),
                    ("safety", "canary"),
                    ("note", ""),
                ],
            ),
            (
                "correct_milestone",
                vec![
                    ("number", "1"),
                    ("milestone", "declared"),
                    ("at", "2026-01-01T10:00"),
                ],
            ),
            (
                "update_summary",
                vec![
                    ("number", "1"),
                    ("version", "1"),
                    ("impact", "x"),
                    ("best_guess", "y"),
                    ("bridge_url", ""),
                ],
            ),
        ];
        for (function, pairs) in &calls {
            let reply = server.call(function, Some(&viewer), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{function} on {}: {}",
                server.db.backend(),
                reply.body
            );
        }
        // Stakeholders follow the status channel, not the responder war room.
        let room = server
            .call("get_war_room", Some(&viewer), &[("number", "1")])
            .await;
        assert_eq!(room.status, StatusCode::FORBIDDEN, "{}", room.body);
        let channel = server
            .call("get_status_channel", Some(&viewer), &[("number", "1")])
            .await;
        assert_eq!(channel.status, StatusCode::OK, "{}", channel.body);
        let incidents = app::store::incidents::list(&server.db).await.expect("list");
        assert_eq!(incidents.len(), 1, "the viewer declared nothing");
    }
}

#[tokio::test]
async fn a_non_ic_cannot_reassign_a_held_role() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (rob_id, rob) = member(&server, &admin, "Rob", "responder").await;
        declare(&server, &ic).await;
        let ivy_is_ic = war_room(&server, &ic).await;
        assert_eq!(ivy_is_ic["roles"][0]["holder"]["name"], "Ivy");

        let grab = server
            .call(
                "assign_role",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("role", "ic"),
                    ("user_id", &rob_id.to_string()),
                ],
            )
            .await;
        assert_eq!(
            grab.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        assert!(
            grab.body.contains("Only the Incident Commander"),
            "{}",
            grab.body
        );

        // Taking an empty role is allowed; the IC may then hand it on.
        let take = server
            .call(
                "assign_role",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("role", "scribe"),
                    ("user_id", &rob_id.to_string()),
                ],
            )
            .await;
        assert_eq!(take.status, StatusCode::OK, "{}", take.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(
            room["roles"][0]["holder"]["name"], "Ivy",
            "the IC seat is unchanged"
        );
        assert_eq!(room["roles"][3]["holder"]["name"], "Rob");
    }
}

#[tokio::test]
async fn a_stale_status_change_answers_409() {
    for server in servers().await {
        let admin = server.set_up().await;
        declare(&server, &admin).await;
        let version = war_room(&server, &admin).await["version"]
            .as_i64()
            .expect("version")
            .to_string();
        let first = server
            .call(
                "change_status",
                Some(&admin),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("status", "mitigating"),
                    ("severity", "sev1"),
                ],
            )
            .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let stale = server
            .call(
                "change_status",
                Some(&admin),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("status", "resolved"),
                    ("severity", "sev2"),
                ],
            )
            .await;
        assert_eq!(
            stale.status,
            StatusCode::CONFLICT,
            "{}",
            server.db.backend()
        );
        let room = war_room(&server, &admin).await;
        assert_eq!(room["status"], "Mitigating");
        assert_eq!(room["severity"], "Sev1");
    }
}

#[tokio::test]
async fn only_the_ic_corrects_a_milestone_and_a_bad_bridge_link_is_refused_at_its_field() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (rob_id, rob) = member(&server, &admin, "Rob", "responder").await;
        declare(&server, &ic).await;
        let rob_id = rob_id.to_string();
        let added = server
            .call(
                "add_responder",
                Some(&ic),
                &[("number", "1"), ("user_id", &rob_id)],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let pairs = [
            ("number", "1"),
            ("milestone", "declared"),
            ("at", "2026-01-01T10:00"),
        ];
        let refused = server.call("correct_milestone", Some(&rob), &pairs).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        let done = server.call("correct_milestone", Some(&ic), &pairs).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(room["milestones"][0]["corrected_by"], "Ivy");
        assert_eq!(room["milestones"][0]["at"], "2026-01-01T10:00:00Z");

        let version = room["version"].as_i64().expect("version").to_string();
        let bad = server
            .call(
                "update_summary",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("impact", "EU"),
                    ("best_guess", "4.2"),
                    ("bridge_url", "zoom"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("bridge_url"), "{}", bad.body);
        let good = server
            .call(
                "update_summary",
                Some(&rob),
                &[
                    ("number", "1"),
                    ("version", &version),
                    ("impact", "EU"),
                    ("best_guess", "4.2"),
                    ("bridge_url", "https://meet.example.com/inc-1"),
                ],
            )
            .await;
        assert_eq!(good.status, StatusCode::OK, "{}", good.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(room["bridge_url"], "https://meet.example.com/inc-1");
        let initial = room["rhythm"]
            .as_array()
            .expect("rhythm")
            .iter()
            .find(|r| r["item"] == "InitialStatusPosted")
            .expect("item")
            .clone();
        assert!(
            !initial["done_at"].is_null(),
            "posting impact and best guess ticks the initial status"
        );
    }
}

/// The page's data travels once: before, the layout's sign-in gate rendered
/// the page twice on the server and both copies went to the browser. And a
/// stranger is still sent to sign in, not answered 401 by the page's data.
#[tokio::test]
async fn a_war_room_page_carries_its_room_once_and_sends_strangers_to_sign_in() {
    for server in servers().await {
        let backend = server.db.backend();
        let admin = server.set_up().await;
        declare(&server, &admin).await;
        let note = server
            .call(
                "add_timeline_note",
                Some(&admin),
                &[("number", "1"), ("body", "Needle7f3a in the logs")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        let page = server.get("/incidents/1", Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        // Once on the page, once in the data the browser takes over with.
        assert_eq!(
            page.body.matches("Needle7f3a").count(),
            2,
            "{backend}: {}",
            page.body
        );

        for path in ["/incidents/1", "/incidents/1/comms", "/"] {
            let request = Request::get(path)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .expect("request");
            let response = server.app.clone().oneshot(request).await.expect("response");
            assert_eq!(response.status(), StatusCode::FOUND, "{backend} {path}");
            assert_eq!(
                response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok()),
                Some("/sign-in"),
                "{backend} {path}"
            );
        }
    }
}
