//! Sign in with e-mail and password.

use crate::api::auth::AuthState;
use crate::components::{FieldMessage, FormMessage};
use crate::Auth;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <Title text="Sign in" />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.state.await {
                    Ok(AuthState { needs_setup: true, .. }) => {
                        view! { <Redirect path="/setup" /> }.into_any()
                    }
                    Ok(AuthState { user: Some(_), .. }) => view! { <Redirect path="/" /> }.into_any(),
                    _ => view! { <SignInForm /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SignInForm() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let error = Signal::derive(move || auth.sign_in.value().get().and_then(Result::err));
    let pending = auth.sign_in.pending();
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand-mark">"Calmroom"</p>
                <h1>"Sign in"</h1>
                <ActionForm action=auth.sign_in>
                    <div class="field">
                        <label for="email">"E-mail"</label>
                        <input
                            id="email"
                            name="email"
                            type="email"
                            autocomplete="username"
                            required
                            autofocus
                        />
                        <FieldMessage error field="email" />
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input
                            id="password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                        />
                    </div>
                    <FormMessage error />
                    <button type="submit" class="button-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
