//! Accounts: first admin, sign-in and its throttle, sessions, passwords, user administration.

use super::*;

#[tokio::test]
async fn setup_is_refused_by_the_server_once_a_user_exists() {
    for server in servers().await {
        server.set_up().await;
        let again = server
            .call(
                "create_first_admin",
                None,
                &[
                    ("name", "Mallory"),
                    ("email", "mallory@example.com"),
                    ("password", "mallory password 1"),
                ],
            )
            .await;
        assert_eq!(
            again.status,
            StatusCode::FORBIDDEN,
            "{}",
            server.db.backend()
        );
        assert_eq!(
            server
                .sign_in("mallory@example.com", "mallory password 1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn a_short_setup_password_is_refused_at_its_field_and_nothing_is_written() {
    for server in servers().await {
        let reply = server
            .call(
                "create_first_admin",
                None,
                &[
                    ("name", "Ada"),
                    ("email", "ada@example.com"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            reply.body.contains("\"field\":\"password\""),
            "{}",
            reply.body
        );
        assert_eq!(
            app::store::users::count(&server.db).await.expect("count"),
            0
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    for server in servers().await {
        server.set_up().await;
        let wrong = server.sign_in("ada@example.com", "not the password").await;
        let unknown = server
            .sign_in("nobody@example.com", "not the password")
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.body, unknown.body);
        assert!(wrong.cookie.is_none(), "no session for a failed sign-in");
    }
}

#[tokio::test]
async fn signing_in_sets_a_lax_http_only_cookie_and_signing_out_ends_the_session() {
    for server in servers().await {
        server.set_up().await;
        let reply = server.sign_in("ADA@example.com ", ADMIN_PASSWORD).await;
        let set_cookie = reply.set_cookie.expect("cookie");
        assert!(set_cookie.starts_with(&format!("{SESSION_COOKIE}=")));
        assert!(set_cookie.contains("HttpOnly"));
        assert!(set_cookie.contains("SameSite=Lax"));
        assert!(!set_cookie.contains("Secure"));
        let cookie = reply.cookie.expect("cookie");
        assert_eq!(
            server.signed_in_as(&cookie).await.as_deref(),
            Some("ada@example.com")
        );

        server.call("sign_out", Some(&cookie), &[]).await;
        assert_eq!(
            server.signed_in_as(&cookie).await,
            None,
            "{}",
            server.db.backend()
        );
    }
}

#[tokio::test]
async fn cookies_are_secure_when_the_base_url_is_https() {
    for server in servers_with(true).await {
        server.set_up().await;
        let reply = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert!(reply.set_cookie.expect("cookie").contains("Secure"));
    }
}

#[tokio::test]
async fn signing_in_rotates_the_session_id() {
    for server in servers().await {
        let first = server.set_up().await;
        let mut request = Request::post("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &first);
        request = request.header(header::ACCEPT, "application/json");
        let reply = server
            .send(
                request
                    .body(Body::from(form(&[
                        ("email", "ada@example.com"),
                        ("password", ADMIN_PASSWORD),
                    ])))
                    .expect("request"),
            )
            .await;
        let second = reply.cookie.expect("a new cookie");
        assert_ne!(first, second);
        assert_eq!(
            server.signed_in_as(&first).await,
            None,
            "the old id is dead"
        );
        assert!(server.signed_in_as(&second).await.is_some());
    }
}

#[tokio::test]
async fn five_failures_on_an_account_throttle_even_the_right_password() {
    for server in servers().await {
        server.set_up().await;
        for _ in 0..5 {
            let reply = server.sign_in("ada@example.com", "wrong password!").await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        }
        let throttled = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert_eq!(
            throttled.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            server.db.backend()
        );
        assert!(
            throttled.body.contains("Too many failed sign-ins"),
            "{}",
            throttled.body
        );
        assert!(throttled.cookie.is_none());
    }
}

#[tokio::test]
async fn past_twenty_failures_from_one_address_only_a_right_password_gets_through() {
    for server in servers().await {
        server.set_up().await;
        for i in 0..20 {
            let email = format!("guess{i}@example.com");
            assert_eq!(
                server.sign_in(&email, "wrong password!").await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let guess = server.sign_in("ada@example.com", "wrong password!").await;
        assert_eq!(
            guess.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            server.db.backend()
        );
        // Someone else behind the same address is not locked out.
        let right = server.sign_in("ada@example.com", ADMIN_PASSWORD).await;
        assert!(
            right.cookie.is_some(),
            "{}: {} {}",
            server.db.backend(),
            right.status,
            right.body
        );
    }
}

#[tokio::test]
async fn forty_parallel_wrong_passwords_on_one_account_check_at_most_five() {
    for server in servers().await {
        server.set_up().await;
        let attempts = (0..40).map(|_| server.sign_in("ada@example.com", "wrong password!"));
        let replies = futures::future::join_all(attempts).await;
        let checked = replies
            .iter()
            .filter(|r| r.status == StatusCode::UNAUTHORIZED)
            .count();
        let throttled = replies
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!(checked, 5, "{}", server.db.backend());
        assert_eq!(throttled, 35, "{}", server.db.backend());
    }
}

#[tokio::test]
async fn every_admin_function_answers_403_to_a_responder_and_401_to_strangers() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (rob_id, password) = server
            .create_user(&admin, "Rob Responder", "rob@example.com", "responder")
            .await;
        let rob = server
            .sign_in("rob@example.com", &password)
            .await
            .cookie
            .expect("rob signs in");
        let rob_id = rob_id.to_string();
        let calls: [(&str, Vec<(&str, &str)>); 4] = [
            ("list_users", vec![]),
            (
                "create_user",
                vec![
                    ("name", "Eve"),
                    ("email", "eve@example.com"),
                    ("org_role", "admin"),
                ],
            ),
            (
                "change_org_role",
                vec![("user_id", &rob_id), ("org_role", "admin")],
            ),
            (
                "set_user_disabled",
                vec![("user_id", "1"), ("disabled", "true")],
            ),
        ];
        for (function, pairs) in &calls {
            let reply = server.call(function, Some(&rob), pairs).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{function} on {}",
                server.db.backend()
            );
            let stranger = server.call(function, None, pairs).await;
            assert_eq!(stranger.status, StatusCode::UNAUTHORIZED, "{function}");
        }
        let users = app::store::users::list(&server.db).await.expect("list");
        assert_eq!(users.len(), 2, "nothing was created");
        assert!(users.iter().all(|u| !u.disabled));
        assert!(users.iter().any(|u| u.email == "rob@example.com"
            && u.org_role == app::domain::users::OrgRole::Responder));
    }
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_at_once() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (rob_id, password) = server
            .create_user(&admin, "Rob Responder", "rob@example.com", "responder")
            .await;
        let rob = server
            .sign_in("rob@example.com", &password)
            .await
            .cookie
            .expect("rob signs in");
        assert!(server.signed_in_as(&rob).await.is_some());

        let reply = server
            .call(
                "set_user_disabled",
                Some(&admin),
                &[("user_id", &rob_id.to_string()), ("disabled", "true")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            server.signed_in_as(&rob).await,
            None,
            "{}",
            server.db.backend()
        );
        assert_eq!(
            server.sign_in("rob@example.com", &password).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn an_admin_changes_an_org_role_but_not_away_from_the_last_admin() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (rob_id, _) = server
            .create_user(&admin, "Rob", "rob@example.com", "responder")
            .await;
        let reply = server
            .call(
                "change_org_role",
                Some(&admin),
                &[("user_id", &rob_id.to_string()), ("org_role", "viewer")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains("\"Viewer\""), "{}", reply.body);

        let ada_id = app::store::users::list(&server.db)
            .await
            .expect("list")
            .into_iter()
            .find(|u| u.email == "ada@example.com")
            .expect("ada")
            .id
            .0
            .to_string();
        let demote = server
            .call(
                "change_org_role",
                Some(&admin),
                &[("user_id", &ada_id), ("org_role", "viewer")],
            )
            .await;
        assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.body);
        let bad_role = server
            .call(
                "change_org_role",
                Some(&admin),
                &[("user_id", &ada_id), ("org_role", "owner")],
            )
            .await;
        assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn a_duplicate_email_is_refused_at_the_email_field() {
    for server in servers().await {
        let admin = server.set_up().await;
        let reply = server
            .call(
                "create_user",
                Some(&admin),
                &[
                    ("name", "Ada Two"),
                    ("email", "Ada@Example.com"),
                    ("org_role", "viewer"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("\"field\":\"email\""), "{}", reply.body);
    }
}

#[tokio::test]
async fn the_admin_page_answers_403_to_a_responder() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, password) = server
            .create_user(&admin, "Rob", "rob@example.com", "responder")
            .await;
        let rob = server
            .sign_in("rob@example.com", &password)
            .await
            .cookie
            .expect("rob signs in");
        let page = server.get("/admin/users", Some(&rob)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.body.contains("Only admins can manage users."),
            "{}",
            server.db.backend()
        );
        let admin_page = server.get("/admin/users", Some(&admin)).await;
        assert_eq!(admin_page.status, StatusCode::OK);
        assert!(admin_page.body.contains("rob@example.com"));
    }
}

#[tokio::test]
async fn an_active_session_is_renewed_instead_of_ending_at_a_fixed_time() {
    use tower_sessions::SessionStore;
    for server in servers().await {
        let admin = server.set_up().await;
        let value = admin
            .split_once('=')
            .map(|(_, v)| v.to_owned())
            .expect("cookie value");
        let id: tower_sessions::session::Id = value.parse().expect("session id");
        let mut record = server
            .sessions
            .load(&id)
            .await
            .expect("load")
            .expect("record");
        // As if signed in long ago: two minutes of the idle time are left.
        let now = tower_sessions::cookie::time::OffsetDateTime::now_utc();
        record.expiry_date = now + tower_sessions::cookie::time::Duration::minutes(2);
        record.data.insert(
            "seen_at".to_owned(),
            serde_json::json!(chrono::Utc::now().timestamp() - 3600),
        );
        server.sessions.save(&record).await.expect("save");

        assert_eq!(
            server.signed_in_as(&admin).await.as_deref(),
            Some("ada@example.com")
        );
        let renewed = server
            .sessions
            .load(&id)
            .await
            .expect("load")
            .expect("still signed in");
        assert!(
            renewed.expiry_date > now + tower_sessions::cookie::time::Duration::minutes(55),
            "{}: the session still ends at {}",
            server.db.backend(),
            renewed.expiry_date
        );
    }
}

#[tokio::test]
async fn changing_a_password_needs_the_current_one_and_ends_the_other_sessions() {
    for server in servers().await {
        let admin = server.set_up().await;
        let laptop = server
            .sign_in("ada@example.com", ADMIN_PASSWORD)
            .await
            .cookie
            .expect("second session");
        let wrong = server
            .call(
                "change_password",
                Some(&admin),
                &[
                    ("current", "not my password"),
                    ("new", "a brand new password"),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(&wrong)["Invalid"]["field"], "current");
        let changed = server
            .call(
                "change_password",
                Some(&admin),
                &[("current", ADMIN_PASSWORD), ("new", "a brand new password")],
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        // This browser stays signed in; the other one is signed out.
        assert_eq!(
            server.signed_in_as(&admin).await.as_deref(),
            Some("ada@example.com"),
            "{}",
            server.db.backend()
        );
        assert_eq!(server.signed_in_as(&laptop).await, None);
        assert_eq!(
            server
                .sign_in("ada@example.com", ADMIN_PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert!(server
            .sign_in("ada@example.com", "a brand new password")
            .await
            .cookie
            .is_some());
    }
}

#[tokio::test]
async fn an_admin_reset_signs_the_user_out_and_forces_a_new_password_first() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (ivy_id, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let reset = server
            .call(
                "reset_password",
                Some(&ivy),
                &[("user_id", &ivy_id.to_string())],
            )
            .await;
        assert_eq!(reset.status, StatusCode::FORBIDDEN, "only admins reset");
        let reset = server
            .call(
                "reset_password",
                Some(&admin),
                &[("user_id", &ivy_id.to_string())],
            )
            .await;
        assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
        let temporary: String = serde_json::from_str(&reset.body).expect("password");
        assert_eq!(server.signed_in_as(&ivy).await, None, "old session ended");

        let ivy = server
            .sign_in("ivy@example.com", &temporary)
            .await
            .cookie
            .expect("signs in with the reset password");
        let state = json(&server.call("auth_state", Some(&ivy), &[]).await);
        assert_eq!(state["user"]["must_change_password"], true);
        let refused = server.call("list_incidents", Some(&ivy), &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let chosen = server
            .call(
                "change_password",
                Some(&ivy),
                &[("current", &temporary), ("new", "ivy's own password")],
            )
            .await;
        assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
        let listed = server.call("list_incidents", Some(&ivy), &[]).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    }
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    for server in servers().await {
        let ada = server.set_up().await;
        let (bo_id, bo) = member(&server, &ada, "Bo", "admin").await;
        let ada_id = json(&server.call("auth_state", Some(&ada), &[]).await)["user"]["id"]
            .as_i64()
            .expect("id");
        let (bo_key, ada_key) = (bo_id.to_string(), ada_id.to_string());
        let demote_bo = [("user_id", bo_key.as_str()), ("org_role", "responder")];
        let demote_ada = [("user_id", ada_key.as_str()), ("org_role", "responder")];
        for _ in 0..5 {
            let (a, b) = tokio::join!(
                server.call("change_org_role", Some(&ada), &demote_bo),
                server.call("change_org_role", Some(&bo), &demote_ada),
            );
            let admins = app::store::users::list(&server.db)
                .await
                .expect("users")
                .into_iter()
                .filter(|u| u.org_role == app::domain::users::OrgRole::Admin && !u.disabled)
                .count();
            assert_eq!(
                admins,
                1,
                "{}: {} / {}",
                server.db.backend(),
                a.status,
                b.status
            );
            // Make both admins again for the next round (whoever is left does it).
            let left = if a.status == StatusCode::OK {
                &ada
            } else {
                &bo
            };
            for id in [ada_id, bo_id] {
                server
                    .call(
                        "change_org_role",
                        Some(left),
                        &[("user_id", &id.to_string()), ("org_role", "admin")],
                    )
                    .await;
            }
        }
    }
}

#[tokio::test]
async fn two_first_admins_set_up_at_once_make_exactly_one_account() {
    for server in servers().await {
        let ada = [
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", "a long password 1"),
        ];
        let bea = [
            ("name", "Bea"),
            ("email", "bea@example.com"),
            ("password", "a long password 1"),
        ];
        let (a, b) = tokio::join!(
            server.call("create_first_admin", None, &ada),
            server.call("create_first_admin", None, &bea)
        );
        let created = [a.status, b.status]
            .iter()
            .filter(|s| s.is_success() || s.is_redirection())
            .count();
        assert_eq!(
            created,
            1,
            "{}: {} / {}",
            server.db.backend(),
            a.status,
            b.status
        );
        assert_eq!(
            app::store::users::count(&server.db).await.expect("count"),
            1
        );
    }
}

#[tokio::test]
async fn a_chosen_time_zone_shapes_every_page_on_every_device_signed_in() {
    for server in servers().await {
        let ada = server.set_up().await;
        let elsewhere = server
            .sign_in("ada@example.com", ADMIN_PASSWORD)
            .await
            .cookie
            .expect("a second device");
        assert_eq!(declare(&server, &ada).await.status, StatusCode::OK);
        let before = server.get("/incidents/1", Some(&ada)).await;
        assert!(before.body.contains(" UTC"), "{}", server.db.backend());
        assert!(!before.body.contains("UTC+5:45"));

        let bad = server
            .call("set_time_zone", Some(&ada), &[("zone", "Mars/Olympus")])
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(
            bad.body.contains("zone") && bad.body.contains("Choose a time zone"),
            "{}",
            bad.body
        );

        let set = server
            .call("set_time_zone", Some(&ada), &[("zone", "Asia/Kathmandu")])
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        assert!(set.body.contains("Asia/Kathmandu"));

        // Every device's next page is rendered in the zone and carries its rules.
        for cookie in [&ada, &elsewhere] {
            let page = server.get("/incidents/1", Some(cookie)).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("UTC+5:45"), "{}", page.body);
            assert!(page.body.contains("times in Asia/Kathmandu"));
            assert!(
                page.body.contains(
                    r#"<meta name="calmroom-zone" content="Asia/Kathmandu;_ 20700 +0545""#
                ),
                "{}",
                page.body
            );
        }
        // Signed out, pages are in UTC.
        let stranger = server.get("/sign-in", None).await;
        assert!(
            stranger
                .body
                .contains(r#"<meta name="calmroom-zone" content="UTC;_ 0 UTC""#),
            "{}",
            stranger.body
        );

        // Typed times are read in the zone: 10:00 in Kathmandu is 04:15 UTC.
        let component = server
            .call(
                "add_component",
                Some(&ada),
                &[
                    ("name", "Checkout"),
                    ("group_name", ""),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(component.status, StatusCode::OK, "{}", component.body);
        let window = server
            .call(
                "schedule_maintenance",
                Some(&ada),
                &[
                    ("title", "Database upgrade"),
                    ("description", ""),
                    ("starts_at", "2030-01-01T10:00"),
                    ("ends_at", "2030-01-01T11:00"),
                ],
            )
            .await;
        assert_eq!(window.status, StatusCode::OK, "{}", window.body);
        let admin = server.call("get_status_admin", Some(&ada), &[]).await;
        assert!(
            admin.body.contains("2030-01-01T04:15:00Z"),
            "{}",
            admin.body
        );
    }
}
