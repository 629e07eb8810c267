//! Outbound webhooks: what kinds there are, what a valid target is, and how
//! long to wait between delivery attempts.

use super::incidents::bounded_text;
use super::users::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookKind {
    /// A Slack-compatible incoming webhook: `text` plus `blocks`.
    Slack,
    /// Our own JSON body, signed with HMAC-SHA256.
    Json,
    /// A Microsoft Teams Workflows webhook: an Adaptive Card.
    Teams,
    /// A Mattermost incoming webhook: Markdown `text`.
    Mattermost,
    /// A Discord webhook: an embed, with every mention turned off.
    Discord,
    /// A Google Chat space webhook: a card (`cardsV2`).
    GoogleChat,
}

impl WebhookKind {
    /// Every kind, in the order an admin is offered them.
    pub const ALL: [WebhookKind; 6] = [
        WebhookKind::Slack,
        WebhookKind::Teams,
        WebhookKind::Mattermost,
        WebhookKind::Discord,
        WebhookKind::GoogleChat,
        WebhookKind::Json,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Slack => "slack",
            WebhookKind::Json => "json",
            WebhookKind::Teams => "teams",
            WebhookKind::Mattermost => "mattermost",
            WebhookKind::Discord => "discord",
            WebhookKind::GoogleChat => "google_chat",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WebhookKind::Slack => "Slack",
            WebhookKind::Json => "JSON (signed)",
            WebhookKind::Teams => "Microsoft Teams (Workflows)",
            WebhookKind::Mattermost => "Mattermost",
            WebhookKind::Discord => "Discord",
            WebhookKind::GoogleChat => "Google Chat",
        }
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        WebhookKind::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| FieldError::new(field, "Choose one of the listed kinds."))
    }
}

/// A webhook target: an absolute http(s) URL without spaces, up to 2000 characters.
pub fn target_url(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let url = bounded_text(field, raw, 2000, Some("Enter the URL to POST to."))?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| FieldError::new(field, "Use an http:// or https:// URL."))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(FieldError::new(field, "This is not a complete URL."));
    }
    Ok(url)
}

/// Whether a webhook may be sent to `ip` without the operator allowing private
/// targets: not loopback, private, link-local, shared (CGNAT), unspecified,
/// broadcast or documentation space, in IPv4 or IPv6 (mapped addresses too).
/// A signed update must not be turned against the machine's own network.
pub fn is_public_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Attempts before a delivery is marked failed.
pub const MAX_ATTEMPTS: i64 = 6;

/// Seconds to wait after failed attempt number `attempt` (1-based): 10 s, 30 s,
/// 90 s, ... capped at one hour. `None` once the attempts are used up.
pub fn retry_delay_seconds(attempt: i64) -> Option<i64> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(10);
    Some((10 * 3_i64.pow(exponent)).min(3600))
}

/// Whether a response status is worth retrying (server errors, throttling, timeouts).
pub fn is_retryable(status: Option<u16>) -> bool {
    match status {
        None => true,
        Some(code) => code >= 500 || code == 429 || code == 408,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop() {
        assert_eq!(retry_delay_seconds(1), Some(10));
        assert_eq!(retry_delay_seconds(2), Some(30));
        assert_eq!(retry_delay_seconds(3), Some(90));
        assert_eq!(retry_delay_seconds(MAX_ATTEMPTS), None);
    }

    #[test]
    fn server_errors_and_timeouts_are_retried_but_client_errors_are_not() {
        assert!(is_retryable(None));
        assert!(is_retryable(Some(503)));
        assert!(is_retryable(Some(429)));
        assert!(!is_retryable(Some(404)));
        assert!(!is_retryable(Some(400)));
    }

    #[test]
    fn every_kind_reads_back_from_its_stored_name_and_nothing_else_does() {
        for kind in WebhookKind::ALL {
            assert_eq!(WebhookKind::parse("kind", kind.as_str()), Ok(kind));
        }
        assert!(WebhookKind::parse("kind", "msteams").is_err());
        assert!(WebhookKind::parse("kind", "").is_err());
    }

    #[test]
    fn only_complete_http_urls_are_targets() {
        assert!(target_url("url", "https://hooks.slack.com/services/T0/B0/x").is_ok());
        assert!(target_url("url", "http://127.0.0.1:9000/hook").is_ok());
        assert!(target_url("url", "ftp://example.com").is_err());
        assert!(target_url("url", "https://").is_err());
        assert!(target_url("url", "").is_err());
    }

    #[test]
    fn webhooks_reach_public_addresses_only_by_default() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            let ip: std::net::IpAddr = private.parse().expect("ip");
            assert!(!is_public_address(ip), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111"] {
            let ip: std::net::IpAddr = public.parse().expect("ip");
            assert!(is_public_address(ip), "{public}");
        }
    }
}
