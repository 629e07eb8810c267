//! Screens fetched on demand. Each route below, and `channel_screen`, is a
//! split point: `cargo leptos build --split` moves the code only it reaches
//! into a wasm file of its own, loaded when it is first shown. The bundle a
//! browser starts with then holds the shell and the war room; every other
//! screen, and what a stakeholder sees at an incident's address, is a part.
//!
//! Every `cargo leptos` build must pass `--split` (the scripts do): a split
//! point is a wasm import that only the splitter resolves.
// The split-point macro declares an `extern "C"` import/export pair in the
// browser build; that is the only unsafe code here.
#![allow(unsafe_code)]

use crate::api::auth::SignOut;
use crate::api::updates::{AskQuestion, ChannelView};
use crate::api::ApiError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// What a stakeholder (an org viewer) sees at an incident's address instead of
/// the war room, loaded on demand: responders never need it.
#[lazy]
pub fn channel_screen(
    view: ChannelView,
    ask: ServerAction<AskQuestion>,
    error: Signal<Option<ApiError>>,
    now: ReadSignal<DateTime<Utc>>,
) -> AnyView {
    view! { <super::comms::ChannelBody view ask error now /> }.into_any()
}

/// The sign-in gate for a person who must set a new password first (a new
/// account, or one an admin reset), loaded on demand.
#[lazy]
pub fn password_gate(sign_out: ServerAction<SignOut>) -> AnyView {
    view! {
        <div class="auth-page gate-closed">
            <div class="auth-card">
                <p class="brand-mark">"Calmroom"</p>
                <super::ChangePasswordForm forced=true />
                <ActionForm action=sign_out attr:class="inline-form forced-sign-out">
                    <button type="submit" class="button-quiet">"Not now: sign out"</button>
                </ActionForm>
            </div>
        </div>
    }
    .into_any()
}

/// The banner that tells leaders what waits for their authorisation, loaded
/// on demand: only people who may lead see it.
#[lazy]
pub fn approval_banner() -> AnyView {
    view! { <super::ApprovalBanner /> }.into_any()
}

/// `SetupPage`, loaded on demand.
pub struct SetupRoute;

#[lazy_route]
impl LazyRoute for SetupRoute {
    fn data() -> Self {
        SetupRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::SetupPage /> }.into_any()
    }
}

/// `AccountPage`, loaded on demand.
pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        AccountRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::AccountPage /> }.into_any()
    }
}

/// `ActionItemsPage`, loaded on demand.
pub struct ActionItemsRoute;

#[lazy_route]
impl LazyRoute for ActionItemsRoute {
    fn data() -> Self {
        ActionItemsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::ActionItemsPage /> }.into_any()
    }
}

/// `InsightsPage`, loaded on demand.
pub struct InsightsRoute;

#[lazy_route]
impl LazyRoute for InsightsRoute {
    fn data() -> Self {
        InsightsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::InsightsPage /> }.into_any()
    }
}

/// `LeadershipPage`, loaded on demand.
pub struct LeadershipRoute;

#[lazy_route]
impl LazyRoute for LeadershipRoute {
    fn data() -> Self {
        LeadershipRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::LeadershipPage /> }.into_any()
    }
}

/// `CommsPage`, loaded on demand.
pub struct CommsRoute;

#[lazy_route]
impl LazyRoute for CommsRoute {
    fn data() -> Self {
        CommsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::CommsPage /> }.into_any()
    }
}

/// `PostmortemPage`, loaded on demand.
pub struct PostmortemRoute;

#[lazy_route]
impl LazyRoute for PostmortemRoute {
    fn data() -> Self {
        PostmortemRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::PostmortemPage /> }.into_any()
    }
}

/// `PostmortemReviewPage`, loaded on demand.
pub struct PostmortemReviewRoute;

#[lazy_route]
impl LazyRoute for PostmortemReviewRoute {
    fn data() -> Self {
        PostmortemReviewRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::PostmortemReviewPage /> }.into_any()
    }
}

/// `AdminStatusPage`, loaded on demand.
pub struct AdminStatusRoute;

#[lazy_route]
impl LazyRoute for AdminStatusRoute {
    fn data() -> Self {
        AdminStatusRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::AdminStatusPage /> }.into_any()
    }
}

/// `AdminTemplatesPage`, loaded on demand.
pub struct AdminTemplatesRoute;

#[lazy_route]
impl LazyRoute for AdminTemplatesRoute {
    fn data() -> Self {
        AdminTemplatesRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::AdminTemplatesPage /> }.into_any()
    }
}

/// `AdminUsersPage`, loaded on demand.
pub struct AdminUsersRoute;

#[lazy_route]
impl LazyRoute for AdminUsersRoute {
    fn data() -> Self {
        AdminUsersRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::AdminUsersPage /> }.into_any()
    }
}

/// `SignInPage`, loaded on demand.
pub struct SignInRoute;

#[lazy_route]
impl LazyRoute for SignInRoute {
    fn data() -> Self {
        SignInRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::SignInPage /> }.into_any()
    }
}

/// `DashboardPage`, loaded on demand.
pub struct DashboardRoute;

#[lazy_route]
impl LazyRoute for DashboardRoute {
    fn data() -> Self {
        DashboardRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::DashboardPage /> }.into_any()
    }
}

/// `IncidentsPage`, loaded on demand.
pub struct IncidentsRoute;

#[lazy_route]
impl LazyRoute for IncidentsRoute {
    fn data() -> Self {
        IncidentsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::IncidentsPage /> }.into_any()
    }
}
