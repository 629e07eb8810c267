//! The frame of every signed-in page: navigation, the user menu, and the sign-in gate.

use crate::api::auth::{AuthState, CurrentUser};
use crate::Auth;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};

/// Shows its child route to signed-in users; sends everyone else to sign in (or setup).
///
/// The page (`<Outlet/>`) sits beside the sign-in gate, not inside it: during
/// server rendering a `Transition` walks its children more than once, so a
/// page inside it ran twice and every resource it made was sent twice. A
/// closed gate hides the page with CSS (`.gate-closed ~ .page`), and the
/// page's own server functions refuse anyone the gate would stop.
#[component]
pub fn SignedInLayout() -> impl IntoView {
    let auth = expect_context::<Auth>();
    super::provide_live();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.state.await {
                    Ok(AuthState { user: Some(user), .. }) if user.must_change_password => {
                        view! {
                            <div class="auth-page gate-closed">
                                <div class="auth-card">
                                    <p class="brand-mark">"Calmroom"</p>
                                    <crate::pages::ChangePasswordForm forced=true />
                                    <ActionForm action=auth.sign_out attr:class="inline-form forced-sign-out">
                                        <button type="submit" class="button-quiet">"Not now: sign out"</button>
                                    </ActionForm>
                                </div>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(AuthState { user: Some(user), .. }) => {
                        let leads = user.can_lead;
                        view! {
                            <AppHeader user />
                            {leads.then(|| view! { <crate::pages::ApprovalBanner /> })}
                        }
                            .into_any()
                    }
                    Ok(AuthState { needs_setup: true, .. }) => {
                        view! {
                            <span class="gate-closed" hidden></span>
                            <Redirect path="/setup" />
                        }
                            .into_any()
                    }
                    Ok(AuthState { sign_in, .. }) => {
                        // Just signed out here: the sign-in page offers
                        // signing out of the company provider too.
                        let offer = auth.sign_out.version().get_untracked() > 0
                            && sign_in.company.is_some_and(|c| c.sign_out_url.is_some());
                        let path = if offer { "/sign-in?signed-out" } else { "/sign-in" };
                        view! {
                            <span class="gate-closed" hidden></span>
                            <Redirect path />
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <div class="page gate-closed">
                                <p class="notice notice-error">{e.to_string()}</p>
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
        <main class="page">
            <Outlet />
        </main>
    }
}

#[component]
fn AppHeader(user: CurrentUser) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let is_admin = user.is_admin();
    view! {
        <header class="app-header">
            <a class="brand" href="/">
                "Calmroom"
            </a>
            <nav class="main-nav" aria-label="Main">
                <A href="/incidents">"Incidents"</A>
                {(!user.is_viewer())
                    .then(|| {
                        view! {
                            <A href="/alerts">"Alerts"</A>
                            <A href="/action-items">"Action items"</A>
                            <A href="/insights">"Insights"</A>
                        }
                    })}
                {user.sees_leadership().then(|| view! { <A href="/leadership">"Leadership"</A> })}
                <a href="/status" rel="external">"Status page"</a>
                {is_admin.then(|| view! { <A href="/admin/users">"Admin"</A> })}
            </nav>
            <div class="user-menu">
                <a class="user-name" href="/account" title="Your account" data-testid="user-name">
                    {user.name.clone()}
                </a>
                <span class="user-role">{user.org_role.label()}</span>
                <ActionForm action=auth.sign_out attr:class="inline-form">
                    <button type="submit" class="button-quiet">
                        "Sign out"
                    </button>
                </ActionForm>
            </div>
        </header>
    }
}
