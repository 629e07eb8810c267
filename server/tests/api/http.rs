//! HTTP as a browser and an attacker meet it: health, 404s, headers, CSRF, CSP, bad input.

use super::*;

#[tokio::test]
async fn healthz_answers_200_while_the_database_answers_and_503_after() {
    for server in servers().await {
        assert_eq!(server.get("/healthz", None).await.status, StatusCode::OK);
        server.db.close().await;
        assert_eq!(
            server.get("/healthz", None).await.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            server.db.backend()
        );
    }
}

#[tokio::test]
async fn an_unknown_address_answers_404_with_a_page_that_says_so() {
    for server in servers().await {
        let request = Request::get("/no/such/page")
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .expect("request");
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.body.contains("Page not found"), "{}", reply.body);
    }
}

#[tokio::test]
async fn pages_cannot_be_framed_or_sniffed() {
    for server in servers().await {
        let response = server
            .app
            .clone()
            .oneshot(
                Request::get("/sign-in")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let headers = response.headers();
        assert_eq!(
            headers.get("x-frame-options").map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
        assert_eq!(
            headers.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
    }
}

#[tokio::test]
async fn dates_outside_this_era_are_refused_at_their_field_not_with_a_500() {
    for server in servers().await {
        let (_, ivy, _, _) = restricted_with_item(&server).await;
        for (from, to, field) in [
            ("", "+262142-12-31", "to"),
            ("-262143-01-01", "2026-01-01", "from"),
            ("", "9999-12-31", "to"),
        ] {
            let reply = server
                .call("get_insights", Some(&ivy), &[("from", from), ("to", to)])
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{from}..{to}: {}",
                reply.body
            );
            assert_eq!(json(&reply)["Invalid"]["field"], field);
        }
        let far = server
            .call(
                "add_action_item",
                Some(&ivy),
                &[
                    ("number", "1"),
                    ("title", "Someday"),
                    ("kind", "process"),
                    ("owner", ""),
                    ("due", "+262142-12-31"),
                    ("verification", "never"),
                ],
            )
            .await;
        assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", far.body);
        assert_eq!(json(&far)["Invalid"]["field"], "due");
    }
}

#[tokio::test]
async fn writes_from_another_site_or_as_plain_text_are_refused() {
    for server in servers().await {
        let admin = server.set_up().await;
        let note = |origin: Option<&'static str>,
                    site: Option<&'static str>,
                    content_type: &'static str| {
            let mut request = Request::post("/api/declare_incident")
                .header(header::CONTENT_TYPE, content_type)
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::COOKIE, &admin);
            if let Some(origin) = origin {
                request = request.header(header::ORIGIN, origin);
            }
            if let Some(site) = site {
                request = request.header("sec-fetch-site", site);
            }
            request
                .body(Body::from(form(&[
                    ("title", "Planted incident"),
                    ("severity", "sev4"),
                    ("impact", ""),
                    ("best_guess", ""),
                ])))
                .expect("request")
        };
        let form_type = "application/x-www-form-urlencoded";
        for (origin, site) in [
            (Some("http://127.0.0.1:8080"), None),
            (Some("http://evil.example"), Some("cross-site")),
            (None, Some("same-site")),
        ] {
            let reply = server.send(note(origin, site, form_type)).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin:?} {site:?}");
        }
        let plain = server.send(note(None, None, "text/plain")).await;
        assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let list = server.call("list_incidents", Some(&admin), &[]).await;
        assert!(!list.body.contains("Planted incident"), "{}", list.body);

        let own = server
            .send(note(
                Some("http://127.0.0.1:3000"),
                Some("same-origin"),
                form_type,
            ))
            .await;
        assert!(
            own.status.is_success() || own.status.is_redirection(),
            "{}: {}",
            own.status,
            own.body
        );
    }
}

#[tokio::test]
async fn signed_in_answers_are_not_stored_and_https_instances_insist_on_https() {
    for server in servers_with(true).await {
        let admin = server.set_up().await;
        let request = Request::post("/api/list_incidents")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin)
            .body(Body::empty())
            .expect("request");
        let response = server.app.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        assert!(response
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY));
        // The public page stays cacheable.
        let request = Request::get("/status")
            .body(Body::empty())
            .expect("request");
        let response = server.app.clone().oneshot(request).await.expect("response");
        let cache = response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(cache.starts_with("public"), "{cache}");
    }
}

#[tokio::test]
async fn incident_pages_of_a_missing_or_hidden_incident_answer_404_every_time() {
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        let (_, obi) = member(&server, &admin, "Obi", "responder").await;
        declare_restricted(&server, &ivy).await;
        for _ in 0..3 {
            for (path, cookie) in [
                ("/incidents/99", &ivy),
                ("/incidents/99/comms", &ivy),
                ("/incidents/99/postmortem", &ivy),
                ("/incidents/1", &obi),
                ("/incidents/1/comms", &obi),
                ("/incidents/1/postmortem/review", &obi),
            ] {
                let page = server.get(path, Some(cookie)).await;
                assert_eq!(
                    page.status,
                    StatusCode::NOT_FOUND,
                    "{path} on {}",
                    server.db.backend()
                );
                assert!(!page.body.contains("Customer export leaked"));
            }
        }
        let own = server.get("/incidents/1", Some(&ivy)).await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(own.body.contains("Customer export leaked"));
    }
}

#[tokio::test]
async fn malformed_oversized_and_boundary_input_to_every_server_function_gets_a_4xx_and_writes_nothing(
) {
    let huge_text = "x".repeat(200_000);
    let fields = [
        "number",
        "item",
        "version",
        "user_id",
        "owner",
        "owner_id",
        "line",
        "status",
        "severity",
        "role",
        "title",
        "body",
        "text",
        "decision",
        "reason",
        "due",
        "from",
        "to",
        "held_at",
        "attendees",
        "evidence",
        "email",
        "name",
        "password",
        "org_role",
        "kind",
        "url",
        "question",
        "answer",
        "question_id",
        "blocker_id",
        "approval_id",
        "note",
        "excluded",
        "confirm",
        "reset",
        "disabled",
        "can_lead",
        "component_id",
    ];
    let filled = |value: &str| {
        fields
            .iter()
            .map(|f| format!("{f}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let bodies: Vec<(&str, &'static str, String)> = vec![
        (
            "nothing",
            "application/x-www-form-urlencoded",
            String::new(),
        ),
        (
            "not numbers",
            "application/x-www-form-urlencoded",
            filled("abc"),
        ),
        (
            "invalid utf-8 escapes",
            "application/x-www-form-urlencoded",
            filled("%FF%FE"),
        ),
        (
            "largest number",
            "application/x-www-form-urlencoded",
            filled("9223372036854775807"),
        ),
        (
            "past the largest number",
            "application/x-www-form-urlencoded",
            filled("9223372036854775808"),
        ),
        (
            "negative",
            "application/x-www-form-urlencoded",
            filled("-1"),
        ),
        (
            "far dates",
            "application/x-www-form-urlencoded",
            filled("%2B262142-12-31"),
        ),
        (
            "long text",
            "application/x-www-form-urlencoded",
            filled(&huge_text[..20_000]),
        ),
        (
            "broken json",
            "application/json",
            "{\"number\": ".to_owned(),
        ),
        (
            "deep json",
            "application/json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        ),
        (
            "wrong json types",
            "application/json",
            "{\"number\": \"x\", \"fields\": 3, \"filter\": []}".to_owned(),
        ),
        (
            "over the size limit",
            "application/x-www-form-urlencoded",
            format!("text={huge_text}{huge_text}{huge_text}{huge_text}{huge_text}{huge_text}"),
        ),
    ];
    for server in servers().await {
        let admin = server.set_up().await;
        let (_, ivy) = member(&server, &admin, "Ivy", "responder").await;
        declare(&server, &ivy).await;
        let mut paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .filter(|path| path.starts_with("/api/"))
            .collect();
        paths.sort_unstable();
        assert!(paths.len() > 60, "{} server functions found", paths.len());
        for path in paths {
            for (what, content_type, body) in &bodies {
                let before = fingerprint(&server.db).await;
                let request = Request::post(path)
                    .header(header::CONTENT_TYPE, *content_type)
                    .header(header::COOKIE, &admin)
                    .body(Body::from(body.clone()))
                    .expect("request");
                let reply = server.send(request).await;
                assert!(
                    reply.status.is_client_error() || reply.status.is_success(),
                    "{path} with {what} answered {} on {}: {}",
                    reply.status,
                    server.db.backend(),
                    reply.body.chars().take(300).collect::<String>()
                );
                if reply.status.is_client_error() {
                    assert_eq!(
                        fingerprint(&server.db).await,
                        before,
                        "{path} with {what} refused ({}) but wrote",
                        reply.status
                    );
                }
                if *what == "over the size limit" {
                    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
                }
            }
        }
        // The admin is still signed in and the incident intact.
        assert_eq!(war_room(&server, &ivy).await["title"], "Checkout fails");
    }
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_whose_nonce_is_on_every_inline_script() {
    for server in servers().await {
        let admin = server.set_up().await;
        declare(&server, &admin).await;
        for path in ["/sign-in", "/", "/incidents/1", "/incidents/1/comms"] {
            let request = Request::get(path)
                .header(header::COOKIE, &admin)
                .body(Body::empty())
                .expect("request");
            let response = server.app.clone().oneshot(request).await.expect("response");
            let policy = response
                .headers()
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{path} has a policy"))
                .to_owned();
            let nonce = policy
                .split("'nonce-")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .expect("a nonce")
                .to_owned();
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let html = String::from_utf8_lossy(&body);
            let scripts = html.matches("<script").count();
            assert!(scripts > 0, "{path}: {html}");
            let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
            assert!(
                with_nonce >= scripts,
                "{path}: {with_nonce} of {scripts} scripts carry the nonce:\n{html}"
            );
        }
    }
}

/// The response to `GET path`, with `cookie` and `Accept-Encoding: accept` when given.
async fn get_response(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
    accept: Option<&str>,
) -> axum::response::Response {
    let mut request = Request::get(path);
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_ENCODING, accept);
    }
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    server
        .app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

/// Header `name` of `response`, as text.
fn header_of(response: &axum::response::Response, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `path` fetched with `Accept-Encoding: accept` (none when `None`): the
/// status, the `Content-Encoding` and the body bytes as sent.
async fn fetch_encoded(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
    accept: Option<&str>,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let response = get_response(server, path, cookie, accept).await;
    let status = response.status();
    let encoding = header_of(&response, header::CONTENT_ENCODING);
    (status, encoding, body_of(response).await)
}

/// The whole body of `response`, as sent.
async fn body_of(response: axum::response::Response) -> Vec<u8> {
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
}

/// `sent` unpacked as its `Content-Encoding` says (brotli, gzip or none).
fn unpacked(encoding: Option<&str>, sent: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut unpacked = Vec::new();
    match encoding {
        Some("br") => {
            brotli::Decompressor::new(sent, 4096)
                .read_to_end(&mut unpacked)
                .expect("valid brotli");
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(sent)
                .read_to_end(&mut unpacked)
                .expect("valid gzip");
        }
        None => unpacked.extend_from_slice(sent),
        Some(other) => panic!("sent as {other}"),
    }
    unpacked
}

/// `url` asked for as `accept` until the answer is the server's prepared
/// brotli copy (its `ETag` ends in `-br`), within 10 s.
async fn once_packed(server: &TestServer, url: &str, accept: &str) -> axum::response::Response {
    once_copied(server, url, accept, "br").await
}

/// `url` asked for as `accept` until the answer is the server's prepared
/// `encoding` copy (its `ETag` ends in `-<encoding>`), within 10 s.
async fn once_copied(
    server: &TestServer,
    url: &str,
    accept: &str,
    encoding: &str,
) -> axum::response::Response {
    let suffix = format!("-{encoding}\"");
    for _ in 0..200 {
        let response = get_response(server, url, None, Some(accept)).await;
        if header_of(&response, header::ETAG).is_some_and(|e| e.ends_with(&suffix)) {
            return response;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the {encoding} copy of {url} was not made within 10 s");
}

/// `GET path` asking for brotli from a browser that holds version `etag`.
async fn revalidated(server: &TestServer, path: &str, etag: &str) -> axum::response::Response {
    let request = Request::get(path)
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .expect("request");
    server.app.clone().oneshot(request).await.expect("response")
}

#[tokio::test]
async fn pages_and_json_are_compressed_as_the_client_accepts_and_the_event_stream_is_not() {
    let server = servers().await.remove(0);
    let admin = server.set_up().await;
    declare(&server, &admin).await;
    for path in ["/status", "/api/v2/summary.json", "/incidents/1"] {
        let cookie = path.starts_with("/incidents").then_some(admin.as_str());
        let (status, plain_encoding, plain) = fetch_encoded(&server, path, cookie, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            plain_encoding, None,
            "{path}: nothing accepted, nothing encoded"
        );

        let (_, encoding, gzipped) = fetch_encoded(&server, path, cookie, Some("gzip")).await;
        assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
        let unzipped = unpacked(Some("gzip"), &gzipped);
        let text = String::from_utf8_lossy(&unzipped);
        let plain_text = String::from_utf8_lossy(&plain);
        // Pages carry per-request nonces and times: compare their opening.
        assert_eq!(text.get(..40), plain_text.get(..40), "{path}");
        assert!(gzipped.len() < plain.len(), "{path}: gzip made it bigger");

        let (_, encoding, brotli) = fetch_encoded(&server, path, cookie, Some("br, gzip")).await;
        assert_eq!(encoding.as_deref(), Some("br"), "{path}: brotli preferred");
        assert!(brotli.len() < plain.len(), "{path}");
    }

    // The event stream is never held back by a compressor.
    let request = Request::get("/events")
        .header(header::COOKIE, &admin)
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .body(Body::empty())
        .expect("request");
    let response = server.app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
}

/// The status and `Cache-Control` of `GET path`.
async fn cache_control(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, Option<String>) {
    let response = get_response(server, path, cookie, None).await;
    (
        response.status(),
        header_of(&response, header::CACHE_CONTROL),
    )
}

/// The loader of the split-out screens, as `cargo leptos build --split` names it.
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// A built site in a fresh folder: styles, the JS glue, a "wasm", the loader
/// of split-out screens and an icon.
fn site_with(css: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let site = std::env::temp_dir().join(format!("calmroom-site-{}-{n}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).expect("site folder");
    std::fs::write(site.join("pkg/calmroom.css"), css).expect("css");
    std::fs::write(
        site.join("pkg/calmroom.js"),
        "export default function init() {}\n".repeat(80),
    )
    .expect("js");
    let wasm: Vec<u8> = (0..40_000u32).map(|i| (i % 7 + i / 500) as u8).collect();
    std::fs::write(site.join("pkg/calmroom.wasm"), wasm).expect("wasm");
    std::fs::write(
        site.join(format!("pkg/{SPLIT_LOADER}")),
        "import { initSync } from \"./calmroom.js\";\n",
    )
    .expect("split loader");
    std::fs::write(
        site.join("favicon.svg"),
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
    )
    .expect("icon");
    site
}

/// The `/pkg/` address a page links for the bundle file `name` (`calmroom.css`).
fn linked(page: &str, name: &str) -> Option<String> {
    page.split('"')
        .find(|part| part.starts_with("/pkg/") && part.ends_with(&format!("/{name}")))
        .map(str::to_owned)
}

#[tokio::test]
async fn the_bundle_is_linked_in_a_folder_per_build_kept_a_year_and_pages_are_never_stored() {
    let css = "body { color: black }\n".repeat(100);
    let site = site_with(&css);
    let db = fresh_databases().await.remove(0);
    let server = server_on_site(db.clone(), false, Some(&site)).await;
    let admin = server.set_up().await;

    let page = server.get("/", Some(&admin)).await.body;
    let css_url = linked(&page, "calmroom.css").expect("the page links its styles");
    let wasm_url = linked(&page, "calmroom.wasm").expect("the page preloads the wasm");
    let js_url = linked(&page, "calmroom.js").expect("the page loads the JS glue");
    let loader_url = linked(&page, SPLIT_LOADER).expect("the page preloads the screens' loader");
    let folder = css_url.trim_end_matches("calmroom.css");
    assert_ne!(folder, "/pkg/", "the name carries the build's hash");
    for url in [&wasm_url, &js_url, &loader_url] {
        // They import each other by relative names, which must stay in one build.
        assert!(url.starts_with(folder), "{url} beside {css_url}");
    }
    assert!(page.contains(&format!("import(\"{js_url}\")")), "{page}");

    for cookie in [None, Some(admin.as_str())] {
        for url in [&css_url, &wasm_url, &js_url, &loader_url] {
            let (status, cache) = cache_control(&server, url, cookie).await;
            assert_eq!(status, StatusCode::OK, "{url}");
            assert_eq!(
                cache.as_deref(),
                Some("public, max-age=31536000, immutable"),
                "{url}, signed in: {}",
                cookie.is_some()
            );
        }
        // The plain names still answer, but browsers must ask again.
        let (status, cache) = cache_control(&server, "/pkg/calmroom.css", cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(cache.as_deref(), Some("no-cache"));
    }
    let (_, _, sent) = fetch_encoded(&server, &css_url, None, None).await;
    assert_eq!(sent, css.as_bytes(), "asked for nothing, sent as built");
    let (_, cache) = cache_control(&server, "/", Some(&admin)).await;
    assert_eq!(cache.as_deref(), Some("no-store"));
    let (status, _) = cache_control(&server, "/pkg/0123456789abcdef/calmroom.css", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a name from another build");

    // A build that changes any file moves the whole bundle to a new folder;
    // the old folder is not served for it.
    let site2 = site_with(&css.replace("black", "navy"));
    let server2 = server_on_site(db, false, Some(&site2)).await;
    let page2 = server2.get("/", Some(&admin)).await.body;
    let wasm_url2 = linked(&page2, "calmroom.wasm").expect("wasm");
    assert_ne!(wasm_url2, wasm_url);
    assert_eq!(
        wasm_url2.trim_end_matches("calmroom.wasm"),
        linked(&page2, "calmroom.css")
            .expect("styles")
            .trim_end_matches("calmroom.css")
    );
    let (status, _) = cache_control(&server2, &css_url, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let _ = std::fs::remove_dir_all(site);
    let _ = std::fs::remove_dir_all(site2);
}

#[tokio::test]
async fn the_bundle_is_sent_as_its_best_compressed_copy_and_revalidates_with_a_304() {
    let site = site_with("body { color: black }\n");
    let db = fresh_databases().await.remove(0);
    let server = server_on_site(db, false, Some(&site)).await;
    let wasm = std::fs::read(site.join("pkg/calmroom.wasm")).expect("wasm");
    server.set_up().await;
    let page = server.get("/sign-in", None).await.body;
    let url = linked(&page, "calmroom.wasm").expect("wasm linked");

    // The first request starts the copies; meanwhile answers are still compressed.
    let first = get_response(&server, &url, None, Some("br")).await;
    assert_eq!(
        header_of(&first, header::CONTENT_ENCODING).as_deref(),
        Some("br")
    );
    let response = once_packed(&server, &url, "gzip, deflate, br, zstd").await;
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE).as_deref(),
        Some("application/wasm")
    );
    assert_eq!(
        header_of(&response, header::VARY).as_deref(),
        Some("accept-encoding")
    );
    let etag = header_of(&response, header::ETAG).expect("etag");
    let brotli = body_of(response).await;
    assert_eq!(unpacked(Some("br"), &brotli), wasm);
    assert!(
        brotli.len() < wasm.len() / 2,
        "{} of {}",
        brotli.len(),
        wasm.len()
    );

    // A client that takes gzip and not brotli (a browser on plain HTTP) gets
    // gzip at once, squeezed on the fly, and its first request has the
    // server make the gzip copy, which later requests get.
    let (_, encoding, gzipped) = fetch_encoded(&server, &url, None, Some("gzip")).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(unpacked(Some("gzip"), &gzipped), wasm);
    let response = once_copied(&server, &url, "gzip, deflate", "gzip").await;
    assert_eq!(
        header_of(&response, header::CONTENT_ENCODING).as_deref(),
        Some("gzip")
    );
    assert_eq!(unpacked(Some("gzip"), &body_of(response).await), wasm);
    let (_, encoding, plain) = fetch_encoded(&server, &url, None, Some("br;q=0, identity")).await;
    assert_eq!((encoding, plain), (None, wasm));

    // A browser that has this copy hears "not modified", with no body.
    let response = revalidated(&server, &url, &etag).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert!(body_of(response).await.is_empty());
    let _ = std::fs::remove_dir_all(site);
}

#[tokio::test]
async fn a_status_page_reader_who_has_the_current_copy_hears_not_modified_until_it_changes() {
    let server = servers().await.remove(0);
    let admin = server.set_up().await;
    let first = get_response(&server, "/status", None, Some("br")).await;
    assert_eq!(
        header_of(&first, header::CONTENT_ENCODING).as_deref(),
        Some("br")
    );
    let etag = header_of(&first, header::ETAG).expect("the status page names its version");
    assert_eq!(
        revalidated(&server, "/status", &etag).await.status(),
        StatusCode::NOT_MODIFIED
    );

    // A public change makes a new copy: the old version is sent again in full.
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
    assert_eq!(
        revalidated(&server, "/status", &etag).await.status(),
        StatusCode::OK
    );
}

/// `bytes` compressed by brotli and by gzip, as `cargo leptos build --precompress` leaves them
/// beside a file.
fn packed_copies(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    use std::io::Write;
    let mut br = Vec::new();
    // Quality 4: not what the server would make itself (11), so a test can
    // tell the build's copy from the server's.
    let params = brotli::enc::BrotliEncoderParams {
        quality: 4,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params).expect("brotli");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes).expect("gzip");
    (br, gzip.finish().expect("gzip"))
}

#[tokio::test]
async fn copies_a_build_left_beside_a_file_are_sent_only_when_they_unpack_to_it() {
    let css = "main { margin: 0 auto }\n".repeat(200);
    let site = site_with(&css);
    let (br, gzip) = packed_copies(css.as_bytes());
    std::fs::write(site.join("pkg/calmroom.css.br"), &br).expect("br");
    std::fs::write(site.join("pkg/calmroom.css.gz"), &gzip).expect("gz");
    // Copies of an older wasm: they must never go out under the new wasm's name.
    let (old_br, old_gzip) = packed_copies(b"an older build of the bundle, long gone");
    std::fs::write(site.join("pkg/calmroom.wasm.br"), &old_br).expect("br");
    std::fs::write(site.join("pkg/calmroom.wasm.gz"), &old_gzip).expect("gz");
    let wasm = std::fs::read(site.join("pkg/calmroom.wasm")).expect("wasm");

    let db = fresh_databases().await.remove(0);
    let server = server_on_site(db, false, Some(&site)).await;
    server.set_up().await;
    let page = server.get("/sign-in", None).await.body;
    let css_url = linked(&page, "calmroom.css").expect("css linked");
    let wasm_url = linked(&page, "calmroom.wasm").expect("wasm linked");

    // Once the copies are ready, the build's brotli goes out byte for byte.
    let sent = body_of(once_packed(&server, &css_url, "br").await).await;
    assert_eq!(sent, br);
    let (_, encoding, sent) = fetch_encoded(&server, &css_url, None, Some("gzip")).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(unpacked(Some("gzip"), &sent), css.as_bytes());

    // The stale copies are ignored: whatever is sent unpacks to the wasm of this build.
    for accept in ["br", "gzip"] {
        let (_, encoding, sent) = fetch_encoded(&server, &wasm_url, None, Some(accept)).await;
        assert!(encoding.is_some(), "{accept}: sent uncompressed");
        assert_eq!(unpacked(encoding.as_deref(), &sent), wasm, "{accept}");
    }
    let _ = std::fs::remove_dir_all(site);
}
