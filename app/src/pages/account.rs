//! The signed-in person's account: the time zone they read times in, their
//! own password, and their API tokens.

use crate::api::auth::AuthState;
use crate::api::zones::{list_time_zones, SetTimeZone, Zone};
use crate::components::{clock, use_now, FieldMessage, FormMessage};
use crate::domain::zones::ZoneRules;
use crate::Auth;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/account`: your time zone, and a new password.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account" />
        <h1>"Your account"</h1>
        <TimeZonePanel />
        <ChangePasswordForm forced=false />
        <ApiTokensLink />
    }
}

/// The zone the browser runs in, to offer before anything is chosen.
#[cfg(feature = "hydrate")]
fn browser_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    let name = js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()?
        .as_string()?;
    Some(crate::domain::zones::current_name(&name).to_owned())
}

/// Picks the zone every page shows times in. Until one is saved, the list
/// offers the browser's zone and pages show UTC.
#[component]
fn TimeZonePanel() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let Zone(zone) = expect_context::<Zone>();
    let now = use_now();
    let names = OnceResource::new(list_time_zones());
    let action = ServerAction::<SetTimeZone>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let pending = action.pending();
    // The page follows at once; the account is read again for what was saved.
    Effect::new(move |_| {
        if let Some(Ok(rules)) = action.value().get() {
            if let Some(rules) = ZoneRules::from_text(&rules) {
                zone.set(rules);
            }
            auth.state.refetch();
        }
    });
    let saved = move || {
        auth.state
            .get()
            .and_then(Result::ok)
            .and_then(|AuthState { user, .. }| user)
            .and_then(|u| u.time_zone)
    };
    // What the browser says, known once the page runs in it.
    let browser = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| browser.set(browser_zone()));
    let choice = move || {
        saved()
            .or_else(|| browser.get())
            .unwrap_or_else(|| "UTC".to_owned())
    };
    view! {
        <section class="panel account-panel" aria-labelledby="zone-heading">
            <h2 id="zone-heading">"Time zone"</h2>
            <p class="hint">
                "Every page shows times in this zone, labelled. Stakeholder updates, the status page and mail stay in UTC, so every reader sees the same time."
            </p>
            <p data-testid="zone-now">
                {move || {
                    let at = now.get();
                    format!("Showing {}: now {}.", zone.with(|z| z.describe(at)), clock(at))
                }}
            </p>
            {move || match (saved(), browser.get()) {
                (None, Some(offer)) if offer != "UTC" => Some(view! {
                    <p class="notice">{format!("Not chosen yet, so times show in UTC. Your browser is set to {offer}: save to use it.")}</p>
                }),
                _ => None,
            }}
            <ActionForm action attr:class="stack-form">
                <div class="field">
                    <label for="zone">"Zone"</label>
                    <Suspense fallback=|| view! { <p class="loading">"Loading zones…"</p> }>
                        {move || Suspend::new(async move {
                            let names = names.await.unwrap_or_default();
                            view! {
                                <select id="zone" name="zone">
                                    {names
                                        .into_iter()
                                        .map(|name| {
                                            let value = name.clone();
                                            let label = name.replace('_', " ");
                                            view! {
                                                <option value=value selected=move || choice() == name>{label}</option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            }
                        })}
                    </Suspense>
                    <FieldMessage error field="zone" />
                </div>
                <FormMessage error />
                <button type="submit" class="button-primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Saving…" } else { "Save time zone" }}
                </button>
                {move || matches!(action.value().get(), Some(Ok(_))).then(|| view! {
                    <p class="notice-success-inline" role="status">{move || zone.with(|z| format!("Times now show in {}.", z.name))}</p>
                })}
            </ActionForm>
        </section>
    }
}

/// Where API tokens are made: a page of the server's own, with no script
/// (`/account/tokens`), so the browser's bundle carries nothing for them.
#[component]
fn ApiTokensLink() -> impl IntoView {
    view! {
        <section class="panel account-panel" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p class="hint">
                "For scripts and bots that use the API. A token acts as you, with your permissions, until it expires or you revoke it."
            </p>
            <a href="/account/tokens" rel="external" class="button-primary">"Manage API tokens"</a>
        </section>
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
