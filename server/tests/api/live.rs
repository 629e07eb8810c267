//! The event stream: who hears what, and resuming with Last-Event-ID.

use super::*;

#[tokio::test]
async fn the_event_stream_needs_sign_in_and_announces_a_change() {
    for server in servers().await {
        let admin = server.set_up().await;
        assert_eq!(
            server.get("/events", None).await.status,
            StatusCode::UNAUTHORIZED
        );

        let request = Request::get("/events")
            .header(header::COOKIE, &admin)
            .body(Body::empty())
            .expect("request");
        let response = server.app.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body();
        let mut seen = String::new();
        seen.push_str(&next_event(&mut body).await);
        assert!(seen.contains("event: resync"), "{seen}");
        declare(&server, &admin).await;
        while !seen.contains("incident:1") {
            seen.push_str(&next_event(&mut body).await);
        }
        assert!(seen.contains("event: change"), "{seen}");
    }
}

#[tokio::test]
async fn the_event_stream_tells_only_people_inside_a_restricted_incident_and_ends_at_sign_out() {
    let quiet = std::time::Duration::from_millis(1500);
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        let mut inside = open_events(&server, &ivy).await;
        let mut outside = open_events(&server, &obi).await;
        read_events(&mut inside, "connected", quiet).await;
        read_events(&mut outside, "connected", quiet).await;
        declare_restricted(&server, &ivy).await;
        let heard = read_events(&mut inside, "incident:1", quiet).await;
        assert!(
            heard.contains("incident:1"),
            "{}: {heard}",
            server.db.backend()
        );
        let note = server
            .call(
                "add_timeline_note",
                Some(&ivy),
                &[("number", "1"), ("body", "Export bucket was public")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        let overheard = read_events(&mut outside, "incident:1", quiet).await;
        assert!(
            !overheard.contains("incident:1"),
            "{}: an outsider heard {overheard}",
            server.db.backend()
        );

        // Signing out ends the open stream: nothing more reaches it.
        server.call("sign_out", Some(&ivy), &[]).await;
        declare(&server, &admin).await;
        let after = read_events(&mut inside, "incident:2", quiet).await;
        assert!(
            !after.contains("incident:2"),
            "{}: a signed-out stream heard {after}",
            server.db.backend()
        );
    }
}

#[tokio::test]
async fn a_browser_that_reconnects_with_last_event_id_hears_exactly_what_it_missed() {
    let quiet = std::time::Duration::from_millis(1500);
    for server in servers().await {
        let backend = server.db.backend();
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        let mut first = open_events(&server, &obi).await;
        let hello = parse_events(&read_events(&mut first, "connected", quiet).await);
        assert_eq!(hello.len(), 1, "{backend}: {hello:?}");
        assert_eq!(hello[0].0, "resync");
        let connected_at: i64 = hello[0].1.parse().expect("the resync carries an id");
        declare(&server, &obi).await;
        let heard = parse_events(&read_events(&mut first, "incident:1", quiet).await);
        let last_id = heard
            .iter()
            .find(|(_, _, data)| data == "incident:1")
            .map(|(_, id, _)| id.clone())
            .expect("incident 1 announced");
        assert!(last_id.parse::<i64>().expect("numeric id") > connected_at);
        drop(first);

        // While Obi's browser is away: a note on incident 1, a new incident 2,
        // and a restricted incident 3 that Obi may not see.
        let note = server
            .call(
                "add_timeline_note",
                Some(&obi),
                &[("number", "1"), ("body", "Rolled back the deploy")],
            )
            .await;
        assert_eq!(note.status, StatusCode::OK, "{}", note.body);
        for declared in [
            declare(&server, &ivy).await,
            declare_restricted(&server, &ivy).await,
            declare(&server, &admin).await,
        ] {
            assert_eq!(declared.status, StatusCode::OK, "{}", declared.body);
        }

        let mut again = open_events_after(&server, &obi, &last_id).await;
        let missed = parse_events(&read_events(&mut again, "incident:4", quiet).await);
        let said: Vec<&str> = missed.iter().map(|(_, _, d)| d.as_str()).collect();
        assert_eq!(
            said,
            vec!["incident:1", "incident:2", "incident:4"],
            "{backend}: {missed:?}"
        );
        assert!(missed.iter().all(|(event, _, _)| event == "change"));
        let ids: Vec<i64> = missed
            .iter()
            .map(|(_, id, _)| id.parse().expect("id"))
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{backend}: {ids:?}");

        // Ivy, inside the restricted incident, hears it on resuming from the same point.
        let mut inside = open_events_after(&server, &ivy, &last_id).await;
        let heard = read_events(&mut inside, "incident:4", quiet).await;
        assert!(heard.contains("incident:3"), "{backend}: {heard}");

        // An id this log never gave (another database, a forged header): refetch everything.
        let mut forged = open_events_after(&server, &obi, "99999999").await;
        let told = parse_events(&read_events(&mut forged, "gap", quiet).await);
        assert_eq!(
            told.first().map(|e| e.0.as_str()),
            Some("resync"),
            "{backend}: {told:?}"
        );
        assert_eq!(told.first().map(|e| e.2.as_str()), Some("gap"));
    }
}

/// The status `get_war_room` of incident 1 answers `cookie` on `server`.
async fn war_room_status(server: &TestServer, cookie: &str) -> StatusCode {
    server
        .call("get_war_room", Some(cookie), &[("number", "1")])
        .await
        .status
}

/// Asks `status` until it answers `wanted`, for up to 5 s (another replica
/// hears a change through the log: at once on PostgreSQL, whose NOTIFY wakes
/// it, and within its 2 s poll otherwise). Answers the last status.
async fn eventually<F, Fut>(wanted: StatusCode, status: F) -> StatusCode
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = status().await;
        if now == wanted || tokio::time::Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn what_a_replica_keeps_in_memory_gives_way_to_changes_made_on_another() {
    for a in servers().await {
        let backend = a.db.backend();
        // A second replica on the same database, with its own memory.
        let b = server_on(a.db.clone(), false).await;
        let admin = a.set_up().await;
        let (ivy_id, password) = a
            .create_user(&admin, "Ivy", "ivy@example.com", "responder")
            .await;
        let ivy_id = ivy_id.to_string();
        let ivy = a
            .sign_in("ivy@example.com", &password)
            .await
            .cookie
            .expect("in");
        let ivy_phone = a
            .sign_in("ivy@example.com", &password)
            .await
            .cookie
            .expect("in");
        let (obi_id, obi) = member(&a, &admin, "Obi", "responder").await;
        let declared = declare_restricted(&a, &ivy).await;
        assert_eq!(declared.status, StatusCode::OK, "{}", declared.body);

        // B reads (and keeps) Ivy's sessions, Ivy and Obi, and where each
        // stands on the restricted incident 1.
        assert_eq!(war_room_status(&b, &ivy).await, StatusCode::OK, "{backend}");
        assert_eq!(
            war_room_status(&b, &ivy_phone).await,
            StatusCode::OK,
            "{backend}"
        );
        assert_eq!(
            war_room_status(&b, &obi).await,
            StatusCode::NOT_FOUND,
            "{backend}"
        );

        // Ivy adds Obi on A: B lets him in.
        let obi_id = obi_id.to_string();
        let added = a
            .call(
                "add_responder",
                Some(&ivy),
                &[("number", "1"), ("user_id", &obi_id)],
            )
            .await;
        assert_eq!(added.status, StatusCode::OK, "{backend}: {}", added.body);
        let on_b = eventually(StatusCode::OK, || war_room_status(&b, &obi)).await;
        assert_eq!(on_b, StatusCode::OK, "{backend}: B kept Obi outside");

        // The admin makes Obi a stakeholder on A: A refuses his war room at
        // once (a writer answers after its own replica has heard the change),
        // and B as soon as it hears.
        let viewer = a
            .call(
                "change_org_role",
                Some(&admin),
                &[("user_id", &obi_id), ("org_role", "viewer")],
            )
            .await;
        assert_eq!(viewer.status, StatusCode::OK, "{backend}: {}", viewer.body);
        assert_eq!(
            war_room_status(&a, &obi).await,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        let on_b = eventually(StatusCode::FORBIDDEN, || war_room_status(&b, &obi)).await;
        assert_eq!(
            on_b,
            StatusCode::FORBIDDEN,
            "{backend}: B kept Obi a responder"
        );

        // Ivy signs out on A: that session no longer opens anything on B;
        // her phone's session still does.
        a.call("sign_out", Some(&ivy), &[]).await;
        let on_b = eventually(StatusCode::UNAUTHORIZED, || war_room_status(&b, &ivy)).await;
        assert_eq!(
            on_b,
            StatusCode::UNAUTHORIZED,
            "{backend}: B kept a signed-out session"
        );
        assert_eq!(
            war_room_status(&b, &ivy_phone).await,
            StatusCode::OK,
            "{backend}"
        );

        // Ivy is disabled on A: her phone is refused on B too.
        let disabled = a
            .call(
                "set_user_disabled",
                Some(&admin),
                &[("user_id", &ivy_id), ("disabled", "true")],
            )
            .await;
        assert_eq!(
            disabled.status,
            StatusCode::OK,
            "{backend}: {}",
            disabled.body
        );
        let on_b = eventually(StatusCode::UNAUTHORIZED, || war_room_status(&b, &ivy_phone)).await;
        assert_eq!(
            on_b,
            StatusCode::UNAUTHORIZED,
            "{backend}: B kept a disabled person"
        );
    }
}

/// A deploy stops a replica while responders have the war room open. The
/// process must exit (and their browsers reconnect elsewhere), not wait for
/// every open event stream to end by itself: one open stream used to keep a
/// stopped server alive until it was killed.
#[tokio::test]
async fn shutting_down_ends_open_event_streams_and_the_server_exits_before_its_grace_runs_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let grace = std::time::Duration::from_secs(30);
    for server in servers().await {
        let admin = server.set_up().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        let address = listener.local_addr().expect("address");
        let serving = axum::serve(
            listener,
            server
                .app
                .clone()
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(server.closing.when_closed());
        let serving = tokio::spawn(server::closing::serve(
            serving,
            server.closing.clone(),
            grace,
        ));
        let mut browser = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let request =
            format!("GET /events HTTP/1.1\r\nHost: calmroom.test\r\nCookie: {admin}\r\n\r\n");
        browser
            .write_all(request.as_bytes())
            .await
            .expect("request");
        let mut heard = Vec::new();
        let mut chunk = [0_u8; 4096];
        while !String::from_utf8_lossy(&heard).contains("connected") {
            let n =
                tokio::time::timeout(std::time::Duration::from_secs(10), browser.read(&mut chunk))
                    .await
                    .expect("the stream said nothing")
                    .expect("read");
            assert!(
                n > 0,
                "the stream closed early: {}",
                String::from_utf8_lossy(&heard)
            );
            heard.extend_from_slice(&chunk[..n]);
        }

        server.closing.close();
        let stopped = tokio::time::timeout(std::time::Duration::from_secs(5), serving).await;
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "{}: the server was still running 5 s after shutdown began, with one event stream open",
            server.db.backend()
        );
        // The browser sees its stream end (and would reconnect).
        let mut rest = Vec::new();
        let ended = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            browser.read_to_end(&mut rest),
        )
        .await;
        assert!(
            matches!(ended, Ok(Ok(_))),
            "{}: the browser's stream did not end",
            server.db.backend()
        );
        assert!(
            String::from_utf8_lossy(&rest).ends_with("0\r\n\r\n"),
            "{}: the stream was cut rather than ended: {:?}",
            server.db.backend(),
            String::from_utf8_lossy(&rest)
        );
    }
}
