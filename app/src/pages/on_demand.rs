//! Screens fetched on demand. Each route below is a split point:
//! `cargo leptos build --split` moves the code only it reaches into a wasm
//! file of its own, loaded when the route is first shown. The bundle a
//! browser starts with then holds the shell and the war room; every other
//! screen is a part. (A split point awaited inside a `Suspend`, tried for
//! the stakeholder's view of an incident and the leaders' banner, never
//! finished hydrating: only routes are split. So the stakeholder's view is
//! a route of its own, `/incidents/<n>/channel`, where the war room sends
//! viewers.)
//!
//! Every `cargo leptos` build must pass `--split` (the scripts do): a split
//! point is a wasm import that only the splitter resolves.
// The split-point macro declares an `extern "C"` import/export pair in the
// browser build; that is the only unsafe code here.
#![allow(unsafe_code)]

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// One route whose screen is a split point of its own, per `Route => Page`.
macro_rules! on_demand {
    ($($route:ident => $page:ident,)*) => {$(
        #[doc = concat!("`", stringify!($page), "`, loaded on demand.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <super::$page /> }.into_any()
            }
        }
    )*};
}

on_demand! {
    SetupRoute => SetupPage,
    AccountRoute => AccountPage,
    ActionItemsRoute => ActionItemsPage,
    InsightsRoute => InsightsPage,
    LeadershipRoute => LeadershipPage,
    CommsRoute => CommsPage,
    ChannelRoute => ChannelPage,
    PostmortemRoute => PostmortemPage,
    PostmortemReviewRoute => PostmortemReviewPage,
    AdminStatusRoute => AdminStatusPage,
    AdminTemplatesRoute => AdminTemplatesPage,
    AdminUsersRoute => AdminUsersPage,
    SignInRoute => SignInPage,
    DashboardRoute => DashboardPage,
    IncidentsRoute => IncidentsPage,
    AlertsRoute => AlertsPage,
    AdminIntegrationsRoute => AdminIntegrationsPage,
}
