//! Calmroom: the pages, server functions, domain rules and storage of the incident command system.
//!
//! One crate compiled twice: with `ssr` for the server and with `hydrate` for the browser.

pub mod api;
pub mod components;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;

use api::auth::{AuthState, CreateFirstAdmin, SignIn, SignOut};
use api::ApiError;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, ParamSegment, SsrMode, StaticSegment};
use pages::on_demand;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    // The zone times are shown in, decided once per page and carried to the
    // browser so hydration starts from the same text.
    let zone = api::zones::starting_zone();
    let rules = zone.to_text();
    provide_context(api::zones::Zone(RwSignal::new(zone)));
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <meta name=api::zones::META content=rules />
                <AutoReload options />
                <Bundle />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Where the server serves each file of the built site under a name that
/// changes with the build (`/pkg/calmroom.wasm` ->
/// `/pkg/3f2a…/calmroom.wasm`), so browsers may keep it for a year. The
/// server provides it as context; a file it does not know keeps its plain
/// name.
#[derive(Clone, Debug, Default)]
pub struct AssetUrls(pub std::sync::Arc<std::collections::HashMap<String, String>>);

impl AssetUrls {
    /// The name to link `plain` (a path such as `/pkg/calmroom.css`) by.
    pub fn url(&self, plain: &str) -> String {
        self.0
            .get(plain)
            .cloned()
            .unwrap_or_else(|| plain.to_owned())
    }

    /// The name of `plain`, if the site has that file.
    pub fn known(&self, plain: &str) -> Option<String> {
        self.0.get(plain).cloned()
    }
}

/// The loader of the screens split out of the bundle
/// (`pages::on_demand`), as `cargo leptos build --split` names it.
const SPLIT_LOADER: &str = "/pkg/__wasm_split.______________________.js";

/// The stylesheet, and the browser bundle that hydrates the page: the JS glue,
/// the loader of the split-out screens (which the glue imports) and the wasm
/// are preloaded side by side, then one module script (carrying this
/// response's nonce) starts the wasm and hydrates.
#[component]
fn Bundle() -> impl IntoView {
    let urls = use_context::<AssetUrls>().unwrap_or_default();
    let (css, js, wasm) = (
        urls.url("/pkg/calmroom.css"),
        urls.url("/pkg/calmroom.js"),
        urls.url("/pkg/calmroom.wasm"),
    );
    let loader = urls.known(SPLIT_LOADER);
    let nonce = leptos::nonce::use_nonce();
    let start = format!(
        "import({js:?}).then(m => m.default({{ module_or_path: {wasm:?} }}).then(() => m.hydrate()));"
    );
    view! {
        <link id="leptos" rel="stylesheet" href=css />
        <link rel="modulepreload" href=js nonce=nonce.clone() />
        {loader.map(|href| view! { <link rel="modulepreload" href=href nonce=nonce.clone() /> })}
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous" />
        <script type="module" nonce=nonce>{start}</script>
    }
}

/// Scripts run only from this instance and only with this response's nonce
/// (Leptos puts it on the hydration and streaming scripts); wasm may compile;
/// nothing is fetched from elsewhere, and no other site may frame the page.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(options)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        options.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Sign-in state shared by every page, refetched after sign-in, sign-out and setup.
#[derive(Clone, Copy)]
pub struct Auth {
    pub state: Resource<Result<AuthState, ApiError>>,
    pub sign_in: ServerAction<SignIn>,
    pub sign_out: ServerAction<SignOut>,
    pub setup: ServerAction<CreateFirstAdmin>,
    pub change_password: ServerAction<api::auth::ChangePassword>,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    if use_context::<api::zones::Zone>().is_none() {
        provide_context(api::zones::Zone(RwSignal::new(api::zones::starting_zone())));
    }
    let sign_in = ServerAction::<SignIn>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let setup = ServerAction::<CreateFirstAdmin>::new();
    let change_password = ServerAction::<api::auth::ChangePassword>::new();
    let state = Resource::new_blocking(
        move || {
            (
                sign_in.version().get(),
                sign_out.version().get(),
                setup.version().get(),
                change_password.version().get(),
            )
        },
        |_| api::auth::get_auth_state(),
    );
    provide_context(Auth {
        state,
        sign_in,
        sign_out,
        setup,
        change_password,
    });

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Calmroom".to_owned() } else { format!("{page} · Calmroom") }
        } />
        <Router>
            <RememberDestination />
            <Routes fallback=pages::NotFoundPage>
                <Route path=StaticSegment("setup") view={Lazy::<on_demand::SetupRoute>::new()} />
                <Route path=StaticSegment("sign-in") view={Lazy::<on_demand::SignInRoute>::new()} />
                <ParentRoute path=StaticSegment("") view=components::SignedInLayout>
                    <Route path=StaticSegment("") view={Lazy::<on_demand::DashboardRoute>::new()} />
                    <Route path=StaticSegment("incidents") view={Lazy::<on_demand::IncidentsRoute>::new()} />
                    // Incident pages render whole before sending, so a missing or hidden
                    // incident answers 404 every time, not a 200 that says "not found".
                    <Route
                        path=(StaticSegment("incidents"), ParamSegment("number"))
                        view=pages::WarRoomPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("incidents"), ParamSegment("number"), StaticSegment("comms"))
                        view={Lazy::<on_demand::CommsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("incidents"), ParamSegment("number"), StaticSegment("channel"))
                        view={Lazy::<on_demand::ChannelRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("incidents"), ParamSegment("number"), StaticSegment("postmortem"))
                        view={Lazy::<on_demand::PostmortemRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(
                            StaticSegment("incidents"),
                            ParamSegment("number"),
                            StaticSegment("postmortem"),
                            StaticSegment("review"),
                        )
                        view={Lazy::<on_demand::PostmortemReviewRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("alerts") view={Lazy::<on_demand::AlertsRoute>::new()} />
                    <Route path=StaticSegment("account") view={Lazy::<on_demand::AccountRoute>::new()} />
                    <Route path=StaticSegment("action-items") view={Lazy::<on_demand::ActionItemsRoute>::new()} />
                    <Route path=StaticSegment("insights") view={Lazy::<on_demand::InsightsRoute>::new()} />
                    <Route path=StaticSegment("leadership") view={Lazy::<on_demand::LeadershipRoute>::new()} />
                    <Route
                        path=(StaticSegment("admin"), StaticSegment("status"))
                        view={Lazy::<on_demand::AdminStatusRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("admin"), StaticSegment("templates"))
                        view={Lazy::<on_demand::AdminTemplatesRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("admin"), StaticSegment("integrations"))
                        view={Lazy::<on_demand::AdminIntegrationsRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    // Rendered whole before sending, so a refusal is the page's HTTP status (403).
                    <Route
                        path=(StaticSegment("admin"), StaticSegment("users"))
                        view={Lazy::<on_demand::AdminUsersRoute>::new()}
                        ssr=SsrMode::Async
                    />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    static DESTINATION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The address the router is showing or on its way to (path, query and
/// fragment). The address bar changes only once the next page is ready, so
/// when a split-out screen cannot be fetched, this is where to load the page
/// again.
#[cfg(feature = "hydrate")]
pub fn destination() -> Option<String> {
    DESTINATION.with(|d| d.borrow().clone())
}

/// Keeps [`destination`] current (in the browser; nothing on the server).
#[component]
fn RememberDestination() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let url = leptos_router::hooks::use_url();
        Effect::new(move |_| {
            let next = url.with(|u| {
                let query = if u.search().is_empty() { "" } else { "?" };
                format!("{}{query}{}{}", u.path(), u.search(), u.hash())
            });
            DESTINATION.with(|d| *d.borrow_mut() = Some(next));
        });
    }
}

/// Sets `data-hydrated` on <body> once the browser has taken over the page,
/// split-out screens included, so tests (and people debugging) can tell when
/// the page is interactive. The browser entry point calls it when
/// hydration has finished.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
