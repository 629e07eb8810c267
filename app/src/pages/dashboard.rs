//! The first page after sign-in.

use crate::api::auth::AuthState;
use crate::Auth;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let first_name = move || {
        auth.state
            .get()
            .and_then(|state| state.ok())
            .and_then(|AuthState { user, .. }| user)
            .map(|user| user.name.split_whitespace().next().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <p class="lede">"Signed in as " {first_name} "."</p>
        <section class="panel" aria-labelledby="active-heading">
            <h2 id="active-heading">"Active incidents"</h2>
            <p class="empty">"No active incidents."</p>
            <p class="hint">
                "Declaring incidents and the war room come in the next release of Calmroom."
            </p>
        </section>
    }
}
