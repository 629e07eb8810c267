//! The one access rule: observers, restricted incidents, leadership, the matrix.

use super::*;

#[tokio::test]
async fn an_observer_is_refused_the_responder_timeline_until_the_ic_adds_them() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (obi_id, obi) = member(&server, &admin, "Obi", "responder").await;
        declare(&server, &ic).await;
        let note = [("number", "1"), ("body", "Looks like DNS to me")];
        let refused = server.call("add_timeline_note", Some(&obi), &note).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        assert!(refused.body.contains("observing"), "{}", refused.body);
        let room = war_room(&server, &obi).await;
        assert_eq!(room["can_edit"], false, "an observer reads the war room");
        let asked = server
            .call(
                "ask_question",
                Some(&obi),
                &[
                    ("number", "1"),
                    ("question", "Is the EU the only region hit?"),
                ],
            )
            .await;
        assert_eq!(
            asked.status,
            StatusCode::OK,
            "observers use the question queue"
        );

        let obi_id = obi_id.to_string();
        let by_observer = server
            .call(
                "add_responder",
                Some(&obi),
                &[("number", "1"), ("user_id", &obi_id)],
            )
            .await;
        assert_eq!(by_observer.status, StatusCode::FORBIDDEN);
        let added = server
            .call(
                "add_responder",
                Some(&ic),
                &[("number", "1"), ("user_id", &obi_id)],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let posted = server.call("add_timeline_note", Some(&obi), &note).await;
        assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(room["responders"][0]["name"], "Obi");
        assert!(room["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["body"] == "Looks like DNS to me"));
    }
}

#[tokio::test]
async fn a_restricted_incident_is_not_found_by_anyone_outside_it_on_every_endpoint() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        let (vera_id, vera) = member(&server, &admin, "Vera", "viewer").await;
        let declared = declare_restricted(&server, &ic).await;
        assert!(declared.status.is_success() || declared.status.is_redirection());
        let vera_id = vera_id.to_string();
        let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("get_war_room", vec![("number", "1")]),
            ("get_comms", vec![("number", "1")]),
            ("get_status_channel", vec![("number", "1")]),
            ("get_postmortem", vec![("number", "1")]),
            (
                "ask_question",
                vec![("number", "1"), ("question", "What broke?")],
            ),
            (
                "add_timeline_note",
                vec![("number", "1"), ("body", "hello")],
            ),
            ("check_in", vec![("number", "1")]),
            (
                "assign_role",
                vec![("number", "1"), ("role", "scribe"), ("user_id", "3")],
            ),
            (
                "raise_blocker",
                vec![("number", "1"), ("description", "need access")],
            ),
            (
                "request_approval",
                vec![
                    ("number", "1"),
                    ("mitigation", "shift traffic"),
                    ("reason", "down"),
                ],
            ),
            ("take_blocker", vec![("number", "1"), ("blocker_id", "1")]),
            (
                "add_responder",
                vec![("number", "1"), ("user_id", &vera_id)],
            ),
            ("flag_restricted", vec![("number", "1")]),
        ];
        for (function, pairs) in &calls {
            let reply = server.call(function, Some(&obi), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{function} answered {} to a responder outside the incident on {}: {}",
                reply.status,
                server.db.backend(),
                reply.body
            );
        }
        for function in ["get_war_room", "get_status_channel", "get_postmortem"] {
            let reply = server.call(function, Some(&vera), &[("number", "1")]).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{function} to a viewer"
            );
        }
        for cookie in [&obi, &vera] {
            let list = server.call("list_incidents", Some(cookie), &[]).await;
            assert_eq!(list.status, StatusCode::OK);
            assert!(
                !list.body.contains("Customer export leaked"),
                "{}",
                list.body
            );
            let page = server.get("/incidents/1", Some(cookie)).await;
            assert!(!page.body.contains("Customer export leaked"));
            let export = server
                .get("/incidents/1/postmortem/export.md", Some(cookie))
                .await;
            assert_eq!(export.status, StatusCode::NOT_FOUND);
        }
        // Inside: the IC and admins see it, and the Security Lead is an open gap.
        let room = war_room(&server, &ic).await;
        assert_eq!(room["restricted"], true);
        let security = room["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["role"] == "SecurityLead")
            .expect("security lead")
            .clone();
        assert_eq!(security["required"], true);
        assert!(security["holder"].is_null());
        let list = server.call("list_incidents", Some(&admin), &[]).await;
        assert!(list.body.contains("Customer export leaked"));
        assert!(list.body.contains("SecurityLead"), "{}", list.body);
        // Adding someone lets them in.
        let added = server
            .call(
                "add_responder",
                Some(&ic),
                &[("number", "1"), ("user_id", &vera_id)],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let channel = server
            .call("get_status_channel", Some(&vera), &[("number", "1")])
            .await;
        assert_eq!(channel.status, StatusCode::OK, "{}", channel.body);
    }
}

#[tokio::test]
async fn approving_a_high_impact_mitigation_needs_the_leadership_permission() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ic) = member(&server, &admin, "Ivy", "responder").await;
        let (tess_id, tess) = member(&server, &admin, "Tess", "responder").await;
        let (lee_id, lee) = member(&server, &admin, "Lee", "viewer").await;
        declare(&server, &ic).await;
        let tess_id = tess_id.to_string();
        let assigned = server
            .call(
                "assign_role",
                Some(&ic),
                &[
                    ("number", "1"),
                    ("role", "tech_lead"),
                    ("user_id", &tess_id),
                ],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
        let asked = server
            .call(
                "request_approval",
                Some(&tess),
                &[
                    ("number", "1"),
                    ("mitigation", "shift traffic to the secondary region"),
                    ("reason", "the primary region is failing"),
                ],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        let approve = [
            ("number", "1"),
            ("approval_id", "1"),
            ("approve", "true"),
            ("note", "go"),
        ];
        let refused = server.call("decide_approval", Some(&lee), &approve).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        let by_admin = server.call("decide_approval", Some(&admin), &approve).await;
        assert_eq!(
            by_admin.status,
            StatusCode::FORBIDDEN,
            "being admin is not the permission"
        );
        let none = server.call("pending_approvals", Some(&lee), &[]).await;
        assert_eq!(json(&none), serde_json::json!([]));

        let lee_id = lee_id.to_string();
        let granted = server
            .call(
                "set_can_lead",
                Some(&admin),
                &[("user_id", &lee_id), ("can_lead", "true")],
            )
            .await;
        assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
        let by_responder = server
            .call(
                "set_can_lead",
                Some(&tess),
                &[("user_id", &tess_id), ("can_lead", "true")],
            )
            .await;
        assert_eq!(by_responder.status, StatusCode::FORBIDDEN);
        let pending = json(&server.call("pending_approvals", Some(&lee), &[]).await);
        assert_eq!(
            pending[0]["mitigation"],
            "shift traffic to the secondary region"
        );
        let approved = server.call("decide_approval", Some(&lee), &approve).await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
        let room = war_room(&server, &ic).await;
        assert_eq!(
            room["decisions"][0]["decision"],
            "Approved by Lee: shift traffic to the secondary region"
        );
        assert_eq!(room["approvals"][0]["status"], "Approved");
        let board = server.call("get_leadership", Some(&lee), &[]).await;
        assert_eq!(board.status, StatusCode::OK, "{}", board.body);
        assert_eq!(json(&board)["incidents"][0]["ic"], "Ivy");
        let not_leader = server.call("get_leadership", Some(&tess), &[]).await;
        assert_eq!(not_leader.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn an_outsider_can_neither_change_nor_detect_the_action_items_of_a_restricted_incident() {
    for server in servers().await {
        let (_, ivy, obi, item) = restricted_with_item(&server).await;
        let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "move_action_item",
                vec![
                    ("item", &item),
                    ("version", "1"),
                    ("status", "in_progress"),
                    ("evidence", ""),
                ],
            ),
            (
                "reassign_action_item",
                vec![
                    ("item", &item),
                    ("version", "1"),
                    ("owner", ""),
                    ("due", ""),
                ],
            ),
            (
                "confirm_action_item",
                vec![("item", &item), ("version", "1")],
            ),
        ];
        for (function, pairs) in &attempts {
            let real = server.call(function, Some(&obi), pairs).await;
            let unknown_pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (*k, if *k == "item" { "999" } else { *v }))
                .collect();
            let unknown = server.call(function, Some(&obi), &unknown_pairs).await;
            assert_eq!(
                real.status,
                StatusCode::NOT_FOUND,
                "{function} on {}: {}",
                server.db.backend(),
                real.body
            );
            assert_eq!(
                (real.status, real.body.clone()),
                (unknown.status, unknown.body),
                "{function}: a real item and a missing one answer alike"
            );
        }
        let document = server
            .call("get_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        let item = &json(&document)["Document"]["items"][0];
        assert_eq!(item["status"], "Open", "{item}");
        assert_eq!(item["version"], 1, "{item}");
    }
}

#[tokio::test]
async fn insights_leave_out_restricted_incidents_for_people_outside_them() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        declare_restricted(&server, &ivy).await;
        let counted = |cookie: String| {
            let server = &server;
            async move {
                let reply = server
                    .call("get_insights", Some(&cookie), &[("from", ""), ("to", "")])
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                json(&reply)["by_severity"]
                    .as_array()
                    .expect("by severity")
                    .iter()
                    .map(|pair| pair[1].as_i64().expect("count"))
                    .sum::<i64>()
            }
        };
        assert_eq!(counted(obi).await, 0, "{}", server.db.backend());
        assert_eq!(counted(ivy).await, 1);
        assert_eq!(counted(admin).await, 1);
    }
}

#[tokio::test]
async fn the_authorization_matrix_lets_in_exactly_whom_each_rule_names() {
    for server in servers().await {
        let (personas, ids) = matrix_world(&server).await;
        let rows = matrix();
        // Every registered server function is in the matrix or tested on its own.
        let covered: Vec<&str> = rows
            .iter()
            .map(|r| r.function)
            .chain(["auth_state", "sign_in", "sign_out", "create_first_admin"])
            // Revoking answers 404 for anything but a token of one's own (tokens.rs).
            .chain(["revoke_api_token"])
            .collect();
        for (path, _) in leptos::server_fn::axum::server_fn_paths() {
            let name = path.trim_start_matches("/api/");
            assert!(
                covered.contains(&name),
                "{name} is missing from the authorization matrix"
            );
        }
        let mut escapes = Vec::new();
        for row in &rows {
            let cases: Vec<(bool, i64)> = match row.target {
                Target::None => vec![(false, 0)],
                Target::Active => vec![(false, 1), (true, 2)],
                Target::Resolved => vec![(false, 3), (true, 4)],
            };
            for (restricted, number) in cases {
                let args = fill(row.args, number, &ids);
                for (who, cookie) in &personas {
                    let mut request = if row.function.starts_with('/') {
                        Request::get(fill(row.function, number, &ids))
                    } else {
                        Request::post(format!("/api/{}", row.function)).header(
                            header::CONTENT_TYPE,
                            if row.json {
                                "application/json"
                            } else {
                                "application/x-www-form-urlencoded"
                            },
                        )
                    };
                    if let Some(cookie) = cookie {
                        request = request.header(header::COOKIE, cookie);
                    }
                    let reply = server
                        .send(request.body(Body::from(args.clone())).expect("request"))
                        .await;
                    let want = expected(row.rule, *who, restricted);
                    let ok = match want {
                        Expect::Refused(status) => reply.status == status,
                        Expect::LetIn => ![
                            StatusCode::UNAUTHORIZED,
                            StatusCode::FORBIDDEN,
                            StatusCode::NOT_FOUND,
                        ]
                        .contains(&reply.status),
                    };
                    if !ok {
                        escapes.push(format!(
                            "{} on {} incident {number} as {who:?}: expected {want:?}, got {} {}",
                            row.function,
                            if restricted { "restricted" } else { "ordinary" },
                            reply.status,
                            reply.body.chars().take(120).collect::<String>()
                        ));
                    }
                }
            }
        }
        assert!(
            escapes.is_empty(),
            "{} on {}:\n{}",
            escapes.len(),
            server.db.backend(),
            escapes.join("\n")
        );
    }
}
