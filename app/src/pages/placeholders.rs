//! The incident list, pages named in the navigation whose features are not built
//! yet, and "not found".
//!
//! Each says plainly what is missing rather than showing an empty shell.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn NotYet(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <section class="panel">
            <p class="empty">{what}</p>
        </section>
    }
}

#[component]
pub fn IncidentsPage() -> impl IntoView {
    view! {
        <Title text="Incidents" />
        <h1>"Incidents"</h1>
        <super::dashboard::IncidentList />
    }
}

#[component]
pub fn ActionItemsPage() -> impl IntoView {
    view! {
        <NotYet
            title="Action items"
            what="Postmortem action items will be tracked here once postmortems are available."
        />
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
