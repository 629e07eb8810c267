//! Sign in with e-mail and password.

use crate::api::auth::{AuthState, SignInOptions};
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
                    Ok(AuthState { sign_in, .. }) => view! { <SignInForm options=sign_in /> }.into_any(),
                    Err(_) => {
                        let options = SignInOptions { company: None, passwords: true };
                        view! { <SignInForm options /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn SignInForm(options: SignInOptions) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let error = Signal::derive(move || auth.sign_in.value().get().and_then(Result::err));
    let pending = auth.sign_in.pending();
    let signed_out =
        leptos_router::hooks::use_query_map().with_untracked(|q| q.get("signed-out").is_some());
    let company = options.company.map(|company| {
        let sign_out = company.sign_out_url.filter(|_| signed_out).map(|url| {
            view! {
                <p class="notice" data-testid="signed-out">
                    "You are signed out of Calmroom. "
                    <a href=url rel="external">{format!("Sign out of {} too", company.label)}</a>
                </p>
            }
        });
        view! {
            {sign_out}
            <a class="button button-primary company-sign-in" href="/auth/oidc/start" rel="external">
                {format!("Sign in with {}", company.label)}
            </a>
        }
    });
    let has_company = company.is_some();
    let passwords = options.passwords;
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand-mark">"Calmroom"</p>
                <h1>"Sign in"</h1>
                {company}
                {if passwords {
                    view! {
                        {has_company.then(|| view! { <p class="or">"or with your password"</p> })}
                        <PasswordForm error pending secondary=has_company />
                    }
                        .into_any()
                } else {
                    view! { <p class="meta">"Password sign-in is off here."</p> }.into_any()
                }}
            </div>
        </main>
    }
}

#[component]
fn PasswordForm(
    error: Signal<Option<crate::api::ApiError>>,
    pending: Memo<bool>,
    /// Company sign-in is the main way in: the password button steps back.
    secondary: bool,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
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
                    <button
                        type="submit"
                        class=if secondary { "button-secondary button-wide" } else { "button-primary" }
                        disabled=move || pending.get()
                    >
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
    }
}
