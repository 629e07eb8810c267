//! The incident list and "not found".

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn IncidentsPage() -> impl IntoView {
    view! {
        <Title text="Incidents" />
        <h1>"Incidents"</h1>
        <super::dashboard::IncidentList />
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p class="lede">"There is nothing at this address."</p>
                <a href="/">"Go to the dashboard"</a>
            </div>
        </main>
    }
}
