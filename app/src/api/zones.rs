//! The time zone a person reads times in. It is chosen on the account page
//! and kept on the account; a cookie mirrors it so the server renders every
//! page in it from the first byte, and the page carries the zone's rules so
//! the browser goes on in the same zone without a time zone database.

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

/// The cookie that mirrors the account's zone. It holds only a zone name:
/// nothing in it is secret, and a forged one changes nothing but how the
/// forger's own pages show times.
pub const COOKIE: &str = "calmroom_zone";

/// The `<meta name=…>` that carries the rules to the browser.
pub const META: &str = "calmroom-zone";

/// The zone this page shows times in, shared by every page.
#[derive(Clone, Copy)]
pub struct Zone(pub RwSignal<ZoneRules>);

/// The zone the page starts in: on the server, the cookie's; in the browser,
/// the rules the server wrote into the page.
pub fn starting_zone() -> ZoneRules {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| cookie_zone(&parts.headers))
            .and_then(|name| zones::lookup(&name).ok())
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
    serde_json::from_str(&meta.get_attribute("content")?).ok()
}

#[cfg(not(any(feature = "hydrate", feature = "ssr")))]
fn written_zone() -> Option<ZoneRules> {
    None
}

/// The zone named by the request's cookie, if any.
#[cfg(feature = "ssr")]
pub fn cookie_zone(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Makes the response set (or, with `None`, clear) the zone cookie, unless
/// the request's cookie says so already.
#[cfg(feature = "ssr")]
pub(crate) fn remember(zone: Option<&str>) {
    let current = use_context::<axum::http::request::Parts>().and_then(|p| cookie_zone(&p.headers));
    if current.as_deref() == zone {
        return;
    }
    let Some(options) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let cookie = match zone {
        Some(name) => format!("{COOKIE}={name}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly"),
        None => format!("{COOKIE}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly"),
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        options.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// The zone `user` reads and types times in (UTC until they choose one).
#[cfg(feature = "ssr")]
pub(crate) fn zone_of(user: &store::users::User) -> ZoneRules {
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

/// The caller's zone, for a browser whose cookie says otherwise (the zone
/// was chosen on another device): its cookie is set, and the page follows.
#[server(endpoint = "time_zone")]
pub async fn get_time_zone() -> Result<ZoneRules, ApiError> {
    respond(async {
        let user = require_user(&state()?).await?;
        remember(user.time_zone.as_deref());
        Ok(zone_of(&user))
    })
    .await
}

/// Sets the caller's zone ("": not chosen, so UTC) and returns its rules.
#[server(endpoint = "set_time_zone")]
pub async fn set_time_zone(zone: String) -> Result<ZoneRules, ApiError> {
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
        remember(rules.as_ref().map(|r| r.name.as_str()));
        Ok(rules.unwrap_or_default())
    };
    // Answers once this server's kept copy of the account has the new zone.
    respond(super::incidents::recorded(&[], work)).await
}
