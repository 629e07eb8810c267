//! The browser entry point: hydrates the server-rendered page.

use std::panic::PanicHookInfo;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    std::panic::set_hook(Box::new(on_panic));
    // Asynchronous: a screen split out of the bundle is fetched before it
    // hydrates. Only then is the page marked as interactive.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::tachys::dom::body();
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        app::mark_hydrated();
    });
}

/// What the split-point macro panics with when a screen's part of the bundle
/// cannot be fetched.
const PART_NOT_LOADED: &str = "load callback should succeed";

/// How long after such a reload another one is not tried (the part is
/// missing for good, and reloading again would loop).
const RELOAD_AT_MOST_EVERY_MS: i64 = 30_000;

/// Logs the panic to the console. When a screen's part of the bundle could
/// not be fetched (typically a tab opened before an upgrade asking for a
/// part of the old build), the page is dead: load the screen it was going
/// to from the server, which brings the current build, unless that was
/// just tried.
fn on_panic(info: &PanicHookInfo<'_>) {
    console_error_panic_hook::hook(info);
    if !info.to_string().contains(PART_NOT_LOADED) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    // Whole milliseconds: formatting and parsing a float would bring about
    // 20 KB of float code into the bundle for this one line.
    let now = js_sys::Date::now() as i64;
    let storage = window.session_storage().ok().flatten();
    let key = "calmroom-reloaded-for-a-part-at";
    let last = storage
        .as_ref()
        .and_then(|s| s.get_item(key).ok().flatten())
        .and_then(|v| v.parse::<i64>().ok());
    if last.is_some_and(|at| now - at < RELOAD_AT_MOST_EVERY_MS) {
        return;
    }
    if let Some(storage) = storage {
        let _ = storage.set_item(key, &now.to_string());
    }
    let location = window.location();
    let _ = match app::destination() {
        Some(destination) => location.assign(&destination),
        None => location.reload(),
    };
}
