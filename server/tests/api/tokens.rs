//! API tokens and `/api/v1`: a token acts as its owner, never more.

use super::*;

/// Makes a token as the person signed in with `cookie`; returns (id, secret).
async fn token(server: &TestServer, cookie: &str, access: &str) -> (i64, String) {
    let reply = server
        .call(
            "create_api_token",
            Some(cookie),
            &[("name", "deploy bot"), ("access", access), ("days", "30")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let made = json(&reply);
    (
        made["token"]["id"].as_i64().expect("id"),
        made["secret"].as_str().expect("secret").to_owned(),
    )
}

/// `secret` with its last digit changed: the right shape, another token.
fn other_last_digit(secret: &str) -> String {
    let (head, last) = secret.split_at(secret.len() - 1);
    format!("{head}{}", if last == "0" { "1" } else { "0" })
}

/// One call to `/api/v1` with `secret` as the bearer token.
async fn v1(
    server: &TestServer,
    method: &str,
    path: &str,
    secret: Option<&str>,
    body: &str,
) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("/api/v1{path}"));
    if let Some(secret) = secret {
        request = request.header(header::AUTHORIZATION, format!("Bearer {secret}"));
    }
    if !body.is_empty() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    server
        .send(request.body(Body::from(body.to_owned())).expect("request"))
        .await
}

#[tokio::test]
async fn a_token_declares_and_runs_an_incident_as_its_owner() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, secret) = token(&server, &ivy, "write").await;
        assert!(secret.starts_with("calmroom_"), "{secret}");

        let me = v1(&server, "GET", "/me", Some(&secret), "").await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert_eq!(json(&me)["email"], "ivy@example.com");

        let declared = v1(
            &server,
            "POST",
            "/incidents",
            Some(&secret),
            r#"{"title":"Checkout fails","severity":"sev2","impact":"EU cannot pay"}"#,
        )
        .await;
        assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);
        let number = json(&declared)["number"].as_i64().expect("number");
        assert_eq!(
            declared
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some(format!("/api/v1/incidents/{number}").as_str())
        );

        let note = v1(
            &server,
            "POST",
            &format!("/incidents/{number}/timeline"),
            Some(&secret),
            r#"{"body":"Rolled back the 14:02 deploy"}"#,
        )
        .await;
        assert_eq!(note.status, StatusCode::NO_CONTENT, "{}", note.body);
        let decided = v1(
            &server,
            "POST",
            &format!("/incidents/{number}/decisions"),
            Some(&secret),
            r#"{"decision":"Fail over to eu-west-2","reason":"primary is degraded"}"#,
        )
        .await;
        assert_eq!(decided.status, StatusCode::NO_CONTENT, "{}", decided.body);
        let moved = v1(
            &server,
            "POST",
            &format!("/incidents/{number}/status"),
            Some(&secret),
            r#"{"status":"mitigating"}"#,
        )
        .await;
        assert_eq!(moved.status, StatusCode::NO_CONTENT, "{}", moved.body);

        let read = v1(
            &server,
            "GET",
            &format!("/incidents/{number}"),
            Some(&secret),
            "",
        )
        .await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        let incident = json(&read);
        assert_eq!(incident["status"], "mitigating");
        assert_eq!(incident["severity"], "sev2");
        assert_eq!(incident["decisions"][0]["owner"], "Ivy");
        assert!(
            incident["timeline"]
                .as_array()
                .expect("timeline")
                .iter()
                .any(|e| e["body"] == "Rolled back the 14:02 deploy" && e["author"] == "Ivy"),
            "{}",
            read.body
        );
        // The people in the war room see the same incident.
        let list = v1(&server, "GET", "/incidents?open=true", Some(&secret), "").await;
        assert_eq!(json(&list)["incidents"][0]["number"], number);
        assert_eq!(war_room(&server, &admin).await["title"], "Checkout fails");
    }
}

#[tokio::test]
async fn a_token_never_does_more_than_its_owner_and_a_read_only_token_writes_nothing() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (vera_id, vera) = member(&server, &admin, "Vera", "viewer").await;
        declare(&server, &admin).await;

        // A viewer makes read-only tokens only.
        let refused = server
            .call(
                "create_api_token",
                Some(&vera),
                &[("name", "status bot"), ("access", "write"), ("days", "30")],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        let (_, viewer_token) = token(&server, &vera, "read").await;
        let viewer_declares = v1(
            &server,
            "POST",
            "/incidents",
            Some(&viewer_token),
            r#"{"title":"Fake","severity":"sev4"}"#,
        )
        .await;
        assert_eq!(
            viewer_declares.status,
            StatusCode::FORBIDDEN,
            "{}",
            viewer_declares.body
        );

        let (_, read_only) = token(&server, &ivy, "read").await;
        let listed = v1(&server, "GET", "/incidents", Some(&read_only), "").await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let write = v1(
            &server,
            "POST",
            "/incidents/1/timeline",
            Some(&read_only),
            r#"{"body":"should not land"}"#,
        )
        .await;
        assert_eq!(write.status, StatusCode::FORBIDDEN, "{}", write.body);
        assert_eq!(
            write
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let room = war_room(&server, &admin).await;
        assert!(
            !room["timeline"].to_string().contains("should not land"),
            "a read-only token wrote"
        );

        // Disabling the owner stops the token at once.
        let disabled = server
            .call(
                "set_user_disabled",
                Some(&admin),
                &[("user_id", &vera_id.to_string()), ("disabled", "true")],
            )
            .await;
        assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
        let after = v1(&server, "GET", "/me", Some(&viewer_token), "").await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
        assert_eq!(
            after
                .headers
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
    }
}

#[tokio::test]
async fn a_restricted_incident_is_not_found_for_a_token_whose_owner_is_outside_it() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, pat) = member(&server, &admin, "Pat", "responder").await;
        let restricted = server
            .call(
                "declare_incident",
                Some(&admin),
                &[
                    ("title", "Possible data exposure"),
                    ("severity", "sev1"),
                    ("impact", ""),
                    ("best_guess", ""),
                    ("restricted", "on"),
                ],
            )
            .await;
        assert!(restricted.status.is_success() || restricted.status.is_redirection());
        let (_, secret) = token(&server, &pat, "write").await;
        let read = v1(&server, "GET", "/incidents/1", Some(&secret), "").await;
        assert_eq!(read.status, StatusCode::NOT_FOUND, "{}", read.body);
        let write = v1(
            &server,
            "POST",
            "/incidents/1/timeline",
            Some(&secret),
            r#"{"body":"x"}"#,
        )
        .await;
        assert_eq!(write.status, StatusCode::NOT_FOUND, "{}", write.body);
        let list = v1(&server, "GET", "/incidents", Some(&secret), "").await;
        assert_eq!(
            json(&list)["incidents"],
            serde_json::json!([]),
            "{}",
            list.body
        );
    }
}

#[tokio::test]
async fn bad_tokens_and_bad_input_get_4xx_problems_at_their_field() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (token_id, secret) = token(&server, &admin, "write").await;
        for bad in [
            None,
            Some("calmroom_nope"),
            Some(&*other_last_digit(&secret)),
        ] {
            let reply = v1(&server, "GET", "/incidents", bad, "").await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{bad:?}: {}",
                reply.body
            );
        }
        // A session cookie does not stand in for a token.
        let mut request = Request::get("/api/v1/me");
        request = request.header(header::COOKIE, &admin);
        let cookie_only = server
            .send(request.body(Body::empty()).expect("request"))
            .await;
        assert_eq!(cookie_only.status, StatusCode::UNAUTHORIZED);

        let cases = [
            (r#"{"severity":"sev1"}"#, "title"),
            (r#"{"title":"x","severity":"sev9"}"#, "severity"),
            (r#"{"title":"","severity":"sev1"}"#, "title"),
            (r#"{"title":"x","severity":"sev1","bogus":1}"#, "bogus"),
            (
                r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["#,
                "request",
            ),
        ];
        // Past 16 KB a body is decoded on a blocking thread: the same answers.
        let huge_title = format!(r#"{{"title":"{}","severity":"sev1"}}"#, "x".repeat(40_000));
        let huge_unknown = format!(
            r#"{{"title":"x","severity":"sev1","padding":"{}"}}"#,
            "y".repeat(40_000)
        );
        let cases: Vec<(&str, &str)> = cases
            .into_iter()
            .chain([
                (huge_title.as_str(), "title"),
                (huge_unknown.as_str(), "padding"),
            ])
            .collect();
        for (body, field) in cases {
            let reply = v1(&server, "POST", "/incidents", Some(&secret), body).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {}",
                reply.body
            );
            assert_eq!(json(&reply)["field"], field, "{body}: {}", reply.body);
        }
        let page = v1(&server, "GET", "/incidents?limit=0", Some(&secret), "").await;
        assert_eq!(json(&page)["field"], "limit", "{}", page.body);
        let not_a_time = v1(
            &server,
            "GET",
            "/incidents?since=yesterday",
            Some(&secret),
            "",
        )
        .await;
        assert_eq!(
            not_a_time.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            not_a_time.body
        );
        // Nothing was declared by any of it.
        let list = v1(&server, "GET", "/incidents", Some(&secret), "").await;
        assert_eq!(json(&list)["incidents"], serde_json::json!([]));

        // Revoked: refused from the next call on; revoking again is not found.
        let revoked = server
            .call(
                "revoke_api_token",
                Some(&admin),
                &[("id", &token_id.to_string())],
            )
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
        let after = v1(&server, "GET", "/me", Some(&secret), "").await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
        let again = server
            .call(
                "revoke_api_token",
                Some(&admin),
                &[("id", &token_id.to_string())],
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn people_see_and_revoke_their_own_tokens_and_admins_everyones() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, pat) = member(&server, &admin, "Pat", "responder").await;
        let (ivy_token, ivy_secret) = token(&server, &ivy, "read").await;
        v1(&server, "GET", "/me", Some(&ivy_secret), "").await;

        let mine = json(
            &server
                .call("list_api_tokens", Some(&ivy), &[("everyone", "false")])
                .await,
        );
        assert_eq!(mine.as_array().map(Vec::len), Some(1));
        assert!(
            mine[0]["last_used_at"].is_string(),
            "its use is listed: {mine}"
        );
        assert!(
            !mine.to_string().contains(&ivy_secret),
            "the secret is never listed"
        );
        let others = json(
            &server
                .call("list_api_tokens", Some(&pat), &[("everyone", "false")])
                .await,
        );
        assert_eq!(others, serde_json::json!([]));
        let everyone = server
            .call("list_api_tokens", Some(&pat), &[("everyone", "true")])
            .await;
        assert_eq!(everyone.status, StatusCode::FORBIDDEN);
        let stolen = server
            .call(
                "revoke_api_token",
                Some(&pat),
                &[("id", &ivy_token.to_string())],
            )
            .await;
        assert_eq!(
            stolen.status,
            StatusCode::NOT_FOUND,
            "Pat cannot revoke Ivy's token"
        );

        let all = json(
            &server
                .call("list_api_tokens", Some(&admin), &[("everyone", "true")])
                .await,
        );
        assert_eq!(all[0]["owner_name"], "Ivy");
        let revoked = server
            .call(
                "revoke_api_token",
                Some(&admin),
                &[("id", &ivy_token.to_string())],
            )
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
        let after = v1(&server, "GET", "/me", Some(&ivy_secret), "").await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_token() {
    for server in servers().await {
        let reply = server.get("/api/v1/openapi.json", None).await;
        assert_eq!(reply.status, StatusCode::OK);
        let doc = json(&reply);
        assert!(doc["paths"]["/api/v1/incidents"]["post"].is_object());
    }
}

#[tokio::test]
async fn roles_hypotheses_results_and_stakeholder_updates_keep_the_war_rooms_rules() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (pat_id, pat) = member(&server, &admin, "Pat", "responder").await;
        let (_, ivy_token) = token(&server, &ivy, "write").await;
        let (_, pat_token) = token(&server, &pat, "write").await;
        let declared = v1(
            &server,
            "POST",
            "/incidents",
            Some(&ivy_token),
            r#"{"title":"Checkout fails","severity":"sev1"}"#,
        )
        .await;
        let number = json(&declared)["number"].as_i64().expect("number");
        let at = |rest: &str| format!("/incidents/{number}{rest}");

        let seat = format!(r#"{{"role":"comms_lead","user_id":{pat_id}}}"#);
        let seated = v1(&server, "POST", &at("/roles"), Some(&ivy_token), &seat).await;
        assert_eq!(seated.status, StatusCode::NO_CONTENT, "{}", seated.body);
        let guess = v1(
            &server,
            "POST",
            &at("/hypotheses"),
            Some(&ivy_token),
            r#"{"statement":"The 14:02 deploy broke the payment client"}"#,
        )
        .await;
        assert_eq!(guess.status, StatusCode::NO_CONTENT, "{}", guess.body);
        v1(
            &server,
            "POST",
            &at("/decisions"),
            Some(&ivy_token),
            r#"{"decision":"Roll back"}"#,
        )
        .await;
        let read = json(&v1(&server, "GET", &at(""), Some(&ivy_token), "").await);
        let decision = read["decisions"][0]["id"].as_i64().expect("decision id");
        assert_eq!(read["hypotheses"][0]["status"], "open");
        assert!(
            read["roles"]
                .to_string()
                .contains("\"holder_name\":\"Pat\""),
            "{read}"
        );
        let result = v1(
            &server,
            "POST",
            &at(&format!("/decisions/{decision}/result")),
            Some(&ivy_token),
            r#"{"result":"Errors back to normal"}"#,
        )
        .await;
        assert_eq!(result.status, StatusCode::NO_CONTENT, "{}", result.body);

        // Only the Comms Lead speaks, through the same guards as the Comms page.
        let update = |confirm: bool| {
            format!(
                r#"{{"kind":"initial_internal","confirm":{confirm},"values":{{"severity":"Sev1","impact":"EU checkout down","status":"Investigating","known":"Payments fail since 14:02 UTC","next_steps":"It will be fixed in 20 minutes"}}}}"#
            )
        };
        let ic_speaks = v1(
            &server,
            "POST",
            &at("/updates"),
            Some(&ivy_token),
            &update(false),
        )
        .await;
        assert_eq!(
            ic_speaks.status,
            StatusCode::FORBIDDEN,
            "{}",
            ic_speaks.body
        );
        let warned = v1(
            &server,
            "POST",
            &at("/updates"),
            Some(&pat_token),
            &update(false),
        )
        .await;
        assert_eq!(warned.status, StatusCode::CONFLICT, "{}", warned.body);
        assert!(
            json(&warned)["warnings"][0]["message"].is_string(),
            "{}",
            warned.body
        );
        let published = v1(
            &server,
            "POST",
            &at("/updates"),
            Some(&pat_token),
            &update(true),
        )
        .await;
        assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);

        let released = v1(
            &server,
            "DELETE",
            &at("/roles/comms_lead"),
            Some(&ivy_token),
            "",
        )
        .await;
        assert_eq!(released.status, StatusCode::NO_CONTENT, "{}", released.body);
        let bad_role = v1(&server, "DELETE", &at("/roles/chief"), Some(&ivy_token), "").await;
        assert_eq!(json(&bad_role)["field"], "role", "{}", bad_role.body);
        let room = war_room(&server, &admin).await;
        assert_eq!(room["decisions"][0]["result"], "Errors back to normal");
    }
}

/// A form post to the tokens page as the person with `cookie`.

#[tokio::test]
async fn the_tokens_page_makes_shows_once_and_revokes_without_script() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let signed_out = server.get("/account/tokens", None).await;
        assert!(signed_out.status.is_redirection(), "{}", signed_out.status);

        let empty = server.get("/account/tokens", Some(&ivy)).await;
        assert_eq!(empty.status, StatusCode::OK);
        assert!(empty.body.contains("No tokens yet."));
        assert!(!empty.body.contains("<script"), "the page runs no script");
        assert!(
            !empty.body.contains("Everyone's tokens"),
            "only admins see everyone's"
        );

        let refused = post_form(
            &server,
            "/account/tokens",
            &ivy,
            &[("name", " "), ("access", "read"), ("days", "30")],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("id=\"name-error\""),
            "the error is at its field"
        );

        let made = post_form(
            &server,
            "/account/tokens",
            &ivy,
            &[("name", "deploy bot"), ("access", "write"), ("days", "7")],
        )
        .await;
        assert_eq!(made.status, StatusCode::OK, "{}", made.body);
        let secret = made
            .body
            .split("data-testid=\"token-secret\" class=\"secret\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("the secret is shown")
            .to_owned();
        assert_eq!(
            v1(&server, "GET", "/me", Some(&secret), "").await.status,
            StatusCode::OK
        );
        let again = server.get("/account/tokens", Some(&ivy)).await;
        assert!(!again.body.contains(&secret), "the secret is shown once");

        let all = server.get("/account/tokens", Some(&admin)).await;
        assert!(
            all.body.contains("all-api-tokens") && all.body.contains("Ivy"),
            "{}",
            all.body
        );
        let id = json(
            &server
                .call("list_api_tokens", Some(&ivy), &[("everyone", "false")])
                .await,
        )[0]["id"]
            .as_i64()
            .expect("id");
        let (_, pat) = member(&server, &admin, "Pat", "responder").await;
        let stolen = post_form(&server, &format!("/account/tokens/{id}/revoke"), &pat, &[]).await;
        assert_eq!(stolen.status, StatusCode::NOT_FOUND);
        let revoked = post_form(&server, &format!("/account/tokens/{id}/revoke"), &ivy, &[]).await;
        assert!(revoked.status.is_redirection(), "{}", revoked.status);
        assert_eq!(
            v1(&server, "GET", "/me", Some(&secret), "").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn action_items_are_added_listed_and_verified_through_the_api() {
    for server in servers().await {
        let (_admin, ivy, otto_id, _otto, vera) = resolved_incident(&server).await;
        let (_, secret) = token(&server, &ivy, "write").await;
        let early = v1(
            &server,
            "POST",
            "/incidents/1/action-items",
            Some(&secret),
            r#"{"title":"x","kind":"process","verification":"v"}"#,
        )
        .await;
        assert_eq!(early.status, StatusCode::NOT_FOUND, "no postmortem yet");
        let started = server
            .call("start_postmortem", Some(&ivy), &[("number", "1")])
            .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        let new = format!(
            r#"{{"title":"Alert on WAL volume","kind":"detection","verification":"The alert fires in a drill","owner_id":{otto_id},"due":"2026-12-20"}}"#
        );
        let added = v1(
            &server,
            "POST",
            "/incidents/1/action-items",
            Some(&secret),
            &new,
        )
        .await;
        assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
        for (body, field) in [
            (
                r#"{"title":"x","kind":"wishful","verification":"v"}"#,
                "kind",
            ),
            (
                r#"{"title":"x","kind":"process","verification":"v","due":"2026-13-40"}"#,
                "due",
            ),
            (
                r#"{"title":" ","kind":"process","verification":"v"}"#,
                "title",
            ),
        ] {
            let refused = v1(
                &server,
                "POST",
                "/incidents/1/action-items",
                Some(&secret),
                body,
            )
            .await;
            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {}",
                refused.body
            );
            assert_eq!(json(&refused)["field"], field, "{body}: {}", refused.body);
        }

        let listed = v1(
            &server,
            "GET",
            "/action-items?incident=1&status=outstanding",
            Some(&secret),
            "",
        )
        .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let items = json(&listed)["items"].clone();
        assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
        assert_eq!(items[0]["kind"], "detection");
        assert_eq!(items[0]["status"], "open");
        assert_eq!(items[0]["owner_name"], "Otto");
        assert_eq!(items[0]["due"], "2026-12-20");
        let id = items[0]["id"].as_i64().expect("id");

        // Forward one step at a time; verifying needs evidence.
        let path = format!("/action-items/{id}/status");
        for status in ["in_progress", "done"] {
            let moved = v1(
                &server,
                "POST",
                &path,
                Some(&secret),
                &format!(r#"{{"status":"{status}"}}"#),
            )
            .await;
            assert_eq!(
                moved.status,
                StatusCode::NO_CONTENT,
                "{status}: {}",
                moved.body
            );
        }
        let bare = v1(
            &server,
            "POST",
            &path,
            Some(&secret),
            r#"{"status":"verified"}"#,
        )
        .await;
        assert_eq!(
            bare.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bare.body
        );
        assert_eq!(json(&bare)["field"], "evidence");
        let verified = v1(
            &server,
            "POST",
            &path,
            Some(&secret),
            r#"{"status":"verified","evidence":"Drill on 3 Dec: paged in 40 s"}"#,
        )
        .await;
        assert_eq!(verified.status, StatusCode::NO_CONTENT, "{}", verified.body);
        let outstanding = v1(
            &server,
            "GET",
            "/action-items?status=outstanding",
            Some(&secret),
            "",
        )
        .await;
        assert_eq!(json(&outstanding)["items"], serde_json::json!([]));
        let all = v1(&server, "GET", "/action-items", Some(&secret), "").await;
        assert_eq!(json(&all)["items"][0]["status"], "verified");

        // A stale version is a conflict; a viewer's token reads nothing here and writes nothing.
        let stale = v1(
            &server,
            "POST",
            &path,
            Some(&secret),
            r#"{"status":"done","version":0}"#,
        )
        .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
        let (_, viewer) = token(&server, &vera, "read").await;
        let refused = v1(
            &server,
            "POST",
            "/incidents/1/action-items",
            Some(&viewer),
            &new,
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let missing = v1(
            &server,
            "POST",
            "/action-items/999/status",
            Some(&secret),
            r#"{"status":"done"}"#,
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    }
}
