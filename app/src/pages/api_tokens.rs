//! API tokens on the account page (your own) and on the admin's users page
//! (everyone's): make one, see it once, see when it was last used, revoke it.

use crate::api::tokens::{list_api_tokens, CreateApiToken, RevokeApiToken};
use crate::components::{stamp, FieldMessage, FormMessage};
use crate::domain::tokens::{ApiToken, MadeToken};
use leptos::prelude::*;

/// The signed-in person's tokens and the form that makes one. `viewer`:
/// only read-only tokens are offered.
#[component]
pub fn ApiTokensPanel(#[prop(into)] viewer: Signal<bool>) -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(false),
    );
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    let pending = create.pending();
    view! {
        <section class="panel account-panel tokens-panel" aria-labelledby="tokens-heading" data-testid="api-tokens">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p class="hint">
                "For scripts and bots that use "
                <a href="/api/v1" rel="external">"the API"</a>
                ". A token acts as you, with your permissions, until it expires or you revoke it."
            </p>
            <ActionForm action=create attr:class="stack-form">
                <div class="field">
                    <label for="token-name">"What will use it"</label>
                    <input id="token-name" name="name" maxlength="80" placeholder="deploy bot" required />
                    <FieldMessage error field="name" />
                </div>
                <div class="form-row">
                    <div class="field">
                        <label for="token-access">"Access"</label>
                        <select id="token-access" name="access">
                            <option value="read" selected>"Read only"</option>
                            <option value="write" disabled=move || viewer.get()>"Read and write"</option>
                        </select>
                        <FieldMessage error field="access" />
                    </div>
                    <div class="field">
                        <label for="token-days">"Expires in"</label>
                        <select id="token-days" name="days">
                            <option value="7">"7 days"</option>
                            <option value="30">"30 days"</option>
                            <option value="90" selected>"90 days"</option>
                            <option value="365">"1 year"</option>
                        </select>
                        <FieldMessage error field="days" />
                    </div>
                </div>
                <FormMessage error />
                <button type="submit" class="button-primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Making…" } else { "Make a token" }}
                </button>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|made| view! { <NewSecret made /> })}
            <FormMessage error=revoke_error />
            <Transition fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokenTable tokens=list revoke show_owner=false /> }.into_any(),
                        Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Every token of everyone, for admins to revoke.
#[component]
pub fn AllApiTokensPanel() -> impl IntoView {
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(move || revoke.version().get(), |_| list_api_tokens(true));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    view! {
        <section class="panel" aria-labelledby="all-tokens-heading" data-testid="all-api-tokens">
            <h2 id="all-tokens-heading">"API tokens"</h2>
            <p class="hint">
                "Everyone's tokens. Each acts as its owner; disabling a person stops their tokens at once."
            </p>
            <FormMessage error=revoke_error />
            <Transition fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokenTable tokens=list revoke show_owner=true /> }.into_any(),
                        Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A token just made: its secret, this once.
#[component]
fn NewSecret(made: MadeToken) -> impl IntoView {
    view! {
        <div class="notice notice-success" role="status" data-testid="new-token">
            <p>
                "Token “" {made.token.name.clone()} "” is made. Copy it now: it is not shown again."
            </p>
            <p class="secret">
                <code data-testid="token-secret">{made.secret.clone()}</code>
            </p>
            <p class="hint">"Send it as: Authorization: Bearer " <code>"calmroom_…"</code></p>
        </div>
    }
}

#[component]
fn TokenTable(
    tokens: Vec<ApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    /// Admins' list: whose each token is.
    show_owner: bool,
) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="hint" data-testid="no-tokens">"No tokens yet."</p> }.into_any();
    }
    let now = chrono::Utc::now();
    view! {
        <table class="table tokens">
            <thead>
                <tr>
                    {show_owner.then(|| view! { <th scope="col">"Owner"</th> })}
                    <th scope="col">"Name"</th>
                    <th scope="col">"Access"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"State"</th>
                </tr>
            </thead>
            <tbody>
                {tokens
                    .into_iter()
                    .map(|token| {
                        let id = token.id;
                        let live = token.is_live(now);
                        let state = match (token.revoked_at, live) {
                            (Some(at), _) => format!("Revoked {}", stamp(at)),
                            (None, false) => "Expired".to_owned(),
                            (None, true) => "Live".to_owned(),
                        };
                        view! {
                            <tr class:row-disabled=!live data-token=token.name.clone()>
                                {show_owner.then(|| view! { <td data-label="Owner">{token.owner_name.clone()}</td> })}
                                <td data-label="Name">{token.name.clone()}</td>
                                <td data-label="Access">{if token.can_write { "Read and write" } else { "Read only" }}</td>
                                <td data-label="Last used">
                                    {token.last_used_at.map(stamp).unwrap_or_else(|| "Never".to_owned())}
                                </td>
                                <td data-label="Expires">{stamp(token.expires_at)}</td>
                                <td data-label="State">
                                    <span class="access">
                                        <span class="access-state">{state}</span>
                                        {live.then(|| view! {
                                            <button
                                                type="button"
                                                class="button-quiet"
                                                aria-label=format!("Revoke {}", token.name)
                                                on:click=move |_| {
                                                    revoke.dispatch(RevokeApiToken { id });
                                                }
                                            >
                                                "Revoke"
                                            </button>
                                        })}
                                    </span>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
