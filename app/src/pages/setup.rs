//! First visit: create the first admin account.

use crate::api::auth::AuthState;
use crate::components::{FieldMessage, FormMessage};
use crate::Auth;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

#[component]
pub fn SetupPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <Title text="Set up" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.state.await {
                    Ok(AuthState { needs_setup: true, .. }) => view! { <SetupForm /> }.into_any(),
                    _ => view! { <Redirect path="/" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SetupForm() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let error = Signal::derive(move || auth.setup.value().get().and_then(Result::err));
    let pending = auth.setup.pending();
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand-mark">"Calmroom"</p>
                <h1>"Set up Calmroom"</h1>
                <p class="lede">
                    "Create the first admin account. You can add responders and viewers next."
                </p>
                <ActionForm action=auth.setup>
                    <div class="field">
                        <label for="name">"Your name"</label>
                        <input id="name" name="name" autocomplete="name" maxlength="100" required />
                        <FieldMessage error field="name" />
                    </div>
                    <div class="field">
                        <label for="email">"E-mail"</label>
                        <input id="email" name="email" type="email" autocomplete="email" required />
                        <FieldMessage error field="email" />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input
                            id="password"
                            name="password"
                            type="password"
                            autocomplete="new-password"
                            required
                        />
                        <p class="hint">"At least 12 characters. A short sentence works well."</p>
                        <FieldMessage error field="password" />
                    </div>
                    <FormMessage error />
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        "Create admin account"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
