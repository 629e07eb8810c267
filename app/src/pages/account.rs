//! The signed-in person's account: changing their own password.

use crate::components::{FieldMessage, FormMessage};
use crate::Auth;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/account`: who you are, and a new password.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account" />
        <h1>"Your account"</h1>
        <ChangePasswordForm forced=false />
    }
}

/// Changes the signed-in user's password. `forced`: an admin reset it, and
/// nothing else is reachable until a new one is chosen.
#[component]
pub fn ChangePasswordForm(forced: bool) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let action = auth.change_password;
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let done = move || matches!(action.value().get(), Some(Ok(())));
    let pending = action.pending();
    view! {
        <section class="panel account-panel" aria-labelledby="password-heading">
            <h2 id="password-heading">
                {if forced { "Choose a new password" } else { "Change your password" }}
            </h2>
            <p class="hint">
                {if forced {
                    "An admin reset your password. Type the one they gave you, then your own: at least 12 characters."
                } else {
                    "At least 12 characters. Your other signed-in browsers are signed out."
                }}
            </p>
            <ActionForm action attr:class="stack-form">
                <div class="field">
                    <label for="current-password">
                        {if forced { "Password from the admin" } else { "Current password" }}
                    </label>
                    <input id="current-password" name="current" type="password" autocomplete="current-password" required />
                    <FieldMessage error field="current" />
                </div>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new" type="password" autocomplete="new-password" minlength="12" required />
                    <FieldMessage error field="new" />
                </div>
                <FormMessage error />
                <button type="submit" class="button-primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Save the new password" }}
                </button>
                {move || done().then(|| view! {
                    <p class="notice-success-inline" role="status">"Your password is changed."</p>
                })}
            </ActionForm>
        </section>
    }
}
