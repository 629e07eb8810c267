//! The time zone a person reads times in. It is chosen on the account page
//! and kept on the account; the server reads it from the session before it
//! renders a page (`PageZone`), and the page carries the zone's rules so the
//! browser goes on in the same zone without a time zone database.

use super::ApiError;
use crate::domain::zones::ZoneRules;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    super::session::{require_user, respond, state},
    crate::domain::zones,
    crate::store,
    chrono::Utc,
};

/// The `<meta name=…>` that carries the rules to the browser.
pub const META: &str = "calmroom-zone";

/// The zone this page shows times in, shared by every page.
#[derive(Clone, Copy)]
pub struct Zone(pub RwSignal<ZoneRules>);

/// The zone of the person a page is rendered for, put into the request by
/// the server before rendering.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct PageZone(pub ZoneRules);

/// The zone the page starts in: on the server, the reader's; in the browser,
/// the rules the server wrote into the page.
pub fn starting_zone() -> ZoneRules {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<PageZone>().map(|z| z.0.clone()))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        written_zone().unwrap_or_default()
    }
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn written_zone() -> Option<ZoneRules> {
    let meta = web_sys::window()?
        .document()?
        .query_selector(&format!("meta[name=\"{META}\"]"))
        .ok()??;
    ZoneRules::from_text(&meta.get_attribute("content")?)
}

#[cfg(not(any(feature = "hydrate", feature = "ssr")))]
fn written_zone() -> Option<ZoneRules> {
    None
}

/// The zone `user` reads and types times in (UTC until they choose one).
#[cfg(feature = "ssr")]
pub fn zone_of(user: &store::users::User) -> ZoneRules {
    user.time_zone
        .as_deref()
        .and_then(|name| zones::lookup(name).ok())
        .unwrap_or_default()
}

/// Every zone a person may choose, "UTC" first.
#[server(endpoint = "time_zones")]
pub async fn list_time_zones() -> Result<Vec<String>, ApiError> {
    respond(async {
        require_user(&state()?).await?;
        tokio::task::spawn_blocking(zones::names)
            .await
            .map_err(|_| ApiError::Internal)
    })
    .await
}

/// Sets the caller's zone ("": not chosen, so UTC) and returns its rules, in
/// the text form pages carry ([`ZoneRules::to_text`]).
#[server(endpoint = "set_time_zone")]
pub async fn set_time_zone(zone: String) -> Result<String, ApiError> {
    let work = async move {
        let state = state()?;
        let user = require_user(&state).await?;
        let rules = match zone.trim() {
            "" => None,
            name => {
                Some(zones::lookup(name).map_err(|e| ApiError::invalid("zone", e.to_string()))?)
            }
        };
        store::users::set_time_zone(&state.db, user.id, rules.as_ref(), Utc::now()).await?;
        Ok(rules.unwrap_or_default().to_text())
    };
    // Answers once this server's kept copy of the account has the new zone.
    respond(super::incidents::recorded(&[], work)).await
}
