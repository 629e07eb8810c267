//! Configuration from the environment, parsed once at start into typed values.

use std::net::SocketAddr;
use std::path::PathBuf;

/// One environment variable the server reads: its name, default and meaning.
pub struct Variable {
    pub name: &'static str,
    pub default: &'static str,
    pub meaning: &'static str,
}

/// Every variable, in the order `--help` and the README list them.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "CALMROOM_DATA_DIR",
        default: "./data",
        meaning: "folder for the embedded SQLite database; created when missing",
    },
    Variable {
        name: "CALMROOM_DATABASE_URL",
        default: "sqlite://<CALMROOM_DATA_DIR>/calmroom.db",
        meaning: "sqlite://path, or postgres://user@host:port/db for several replicas",
    },
    Variable {
        name: "CALMROOM_LISTEN_DATABASE_URL",
        default: "CALMROOM_DATABASE_URL",
        meaning: "PostgreSQL only: where each replica LISTENs for the others' changes (past a pooling proxy)",
    },
    Variable {
        name: "CALMROOM_BIND",
        default: "127.0.0.1:3000",
        meaning: "address and port to listen on",
    },
    Variable {
        name: "CALMROOM_BASE_URL",
        default: "http://<CALMROOM_BIND>",
        meaning: "public URL of this instance; https:// makes session cookies Secure",
    },
    Variable {
        name: "CALMROOM_SESSION_IDLE_MINUTES",
        default: "720",
        meaning: "minutes of inactivity after which a session ends (5 to 43200)",
    },
    Variable {
        name: "CALMROOM_STATUS_TITLE",
        default: "Service status",
        meaning: "heading of the public status page at /status and title of its feeds",
    },
    Variable {
        name: "CALMROOM_LOG",
        default: "info",
        meaning: "log filter: error, warn, info, debug, trace, or per module (calmroom=debug)",
    },
    Variable {
        name: "CALMROOM_TRUSTED_PROXIES",
        default: "(none)",
        meaning:
            "comma-separated addresses of reverse proxies whose X-Forwarded-For names the client",
    },
    Variable {
        name: "CALMROOM_ALERT_EVENTS_PER_SECOND",
        default: "100",
        meaning: "alert events each integration may send per second per replica (bursts of 10 s); past it, 429",
    },
    Variable {
        name: "CALMROOM_WEBHOOK_PRIVATE_TARGETS",
        default: "false",
        meaning: "true lets webhooks reach loopback and private addresses (a chat server inside)",
    },
    Variable {
        name: "CALMROOM_SMTP_URL",
        default: "(unset: no e-mail subscriptions)",
        meaning: "mail server for status subscriptions: smtp://host:25 (plain, a local relay), smtp://user:pass@host:587?tls=required (STARTTLS) or smtps://user:pass@host:465",
    },
    Variable {
        name: "CALMROOM_MAIL_FROM",
        default: "status@<host of CALMROOM_BASE_URL>",
        meaning: "sender of subscription mail, as an address or \"Name <address>\"",
    },
    Variable {
        name: "CALMROOM_ADMIN_EMAIL",
        default: "(unset)",
        meaning:
            "with CALMROOM_ADMIN_PASSWORD: create this first admin at start when no user exists",
    },
    Variable {
        name: "CALMROOM_ADMIN_PASSWORD",
        default: "(unset)",
        meaning: "password of that first admin (at least 12 characters)",
    },
    Variable {
        name: "CALMROOM_ADMIN_NAME",
        default: "Admin",
        meaning: "display name of that first admin",
    },
    Variable {
        name: "CALMROOM_OIDC_ISSUER",
        default: "(unset: no company sign-in)",
        meaning: "OpenID Connect issuer URL of the company's identity provider",
    },
    Variable {
        name: "CALMROOM_OIDC_CLIENT_ID",
        default: "(unset)",
        meaning: "client id registered at that provider (redirect URI <CALMROOM_BASE_URL>/auth/oidc/callback)",
    },
    Variable {
        name: "CALMROOM_OIDC_CLIENT_SECRET",
        default: "(unset)",
        meaning: "that client's secret",
    },
    Variable {
        name: "CALMROOM_OIDC_SCOPES",
        default: "openid email profile",
        meaning: "scopes asked for, separated by spaces (openid is always asked for)",
    },
    Variable {
        name: "CALMROOM_OIDC_ROLE_CLAIM",
        default: "(unset: roles are set by admins)",
        meaning: "ID-token claim whose values admin, responder, viewer and leadership set the role at each sign-in",
    },
    Variable {
        name: "CALMROOM_OIDC_NAME",
        default: "your company account",
        meaning: "the provider's name on the sign-in button",
    },
];

/// Company sign-in through an OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Besides `openid`.
    pub scopes: Vec<String>,
    pub role_claim: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminBootstrap {
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// PostgreSQL: the URL of the dedicated connection that hears other replicas.
    pub listen_database_url: Option<String>,
    pub bind: SocketAddr,
    pub base_url: String,
    pub session_idle_minutes: i64,
    pub status_title: String,
    pub log: String,
    pub admin: Option<AdminBootstrap>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Webhooks may reach loopback and private addresses.
    pub webhook_private_targets: bool,
    /// Alert events per second per integration on this replica.
    pub alert_events_per_second: u32,
    /// Subscription mail goes out through this server (`CALMROOM_SMTP_URL`).
    pub smtp_url: Option<String>,
    /// The sender of subscription mail.
    pub mail_from: lettre::message::Mailbox,
    pub oidc: Option<OidcConfig>,
}

/// A variable with a value the server cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn error(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses from any lookup (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let data_dir = PathBuf::from(get("CALMROOM_DATA_DIR").unwrap_or_else(|| "./data".into()));

        let database_url = match get("CALMROOM_DATABASE_URL") {
            Some(url) => {
                let known = ["sqlite:", "postgres:", "postgresql:"];
                if !known.iter().any(|scheme| url.starts_with(scheme)) {
                    return Err(error(
                        "CALMROOM_DATABASE_URL",
                        format!("{url:?} is neither sqlite://... nor postgres://..."),
                    ));
                }
                url
            }
            None => format!("sqlite://{}", data_dir.join("calmroom.db").display()),
        };

        let bind_raw = get("CALMROOM_BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind: SocketAddr = bind_raw.parse().map_err(|_| {
            error(
                "CALMROOM_BIND",
                format!("{bind_raw:?} is not an address and port such as 127.0.0.1:3000"),
            )
        })?;

        let base_url = match get("CALMROOM_BASE_URL") {
            Some(url) => {
                let rest = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                        url.trim_end_matches('/').to_owned()
                    }
                    _ => {
                        return Err(error(
                            "CALMROOM_BASE_URL",
                            format!("{url:?} must start with http:// or https:// and name a host"),
                        ))
                    }
                }
            }
            None => format!("http://{bind}"),
        };

        let idle_raw = get("CALMROOM_SESSION_IDLE_MINUTES").unwrap_or_else(|| "720".into());
        let session_idle_minutes: i64 = idle_raw
            .trim()
            .parse()
            .ok()
            .filter(|m| (5..=43_200).contains(m))
            .ok_or_else(|| {
                error(
                    "CALMROOM_SESSION_IDLE_MINUTES",
                    format!("{idle_raw:?} is not a whole number of minutes from 5 to 43200"),
                )
            })?;

        let status_title = get("CALMROOM_STATUS_TITLE").unwrap_or_else(|| "Service status".into());
        let status_title = status_title.trim().to_owned();
        if status_title.is_empty() || status_title.chars().count() > 80 {
            return Err(error(
                "CALMROOM_STATUS_TITLE",
                "must be 1 to 80 characters".to_owned(),
            ));
        }

        let log = get("CALMROOM_LOG").unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log).is_err() {
            return Err(error(
                "CALMROOM_LOG",
                format!("{log:?} is not a log filter such as info or calmroom=debug"),
            ));
        }

        let mut trusted_proxies = Vec::new();
        for raw in get("CALMROOM_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
        {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            trusted_proxies.push(raw.parse().map_err(|_| {
                error(
                    "CALMROOM_TRUSTED_PROXIES",
                    format!("{raw:?} is not an IP address such as 10.0.0.2"),
                )
            })?);
        }

        let webhook_private_targets = match get("CALMROOM_WEBHOOK_PRIVATE_TARGETS")
            .unwrap_or_else(|| "false".into())
            .trim()
        {
            "true" => true,
            "false" => false,
            other => {
                return Err(error(
                    "CALMROOM_WEBHOOK_PRIVATE_TARGETS",
                    format!("{other:?} is neither true nor false"),
                ))
            }
        };

        let alert_events_per_second = match get("CALMROOM_ALERT_EVENTS_PER_SECOND") {
            None => crate::alerts::DEFAULT_EVENTS_PER_SECOND,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if (1..=100_000).contains(&n) => n,
                _ => {
                    return Err(error(
                        "CALMROOM_ALERT_EVENTS_PER_SECOND",
                        format!("{raw:?} is not a whole number from 1 to 100000"),
                    ))
                }
            },
        };

        let admin = match (get("CALMROOM_ADMIN_EMAIL"), get("CALMROOM_ADMIN_PASSWORD")) {
            (Some(email), Some(password)) => Some(AdminBootstrap {
                name: get("CALMROOM_ADMIN_NAME").unwrap_or_else(|| "Admin".into()),
                email,
                password,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(error(
                    "CALMROOM_ADMIN_PASSWORD",
                    "is required when CALMROOM_ADMIN_EMAIL is set",
                ))
            }
            (None, Some(_)) => {
                return Err(error(
                    "CALMROOM_ADMIN_EMAIL",
                    "is required when CALMROOM_ADMIN_PASSWORD is set",
                ))
            }
        };

        let smtp_url = match get("CALMROOM_SMTP_URL") {
            None => None,
            Some(url) => {
                use lettre::{AsyncSmtpTransport, Tokio1Executor};
                if let Err(e) = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim()) {
                    return Err(error(
                        "CALMROOM_SMTP_URL",
                        format!("is not a usable smtp:// or smtps:// URL: {e}"),
                    ));
                }
                Some(url.trim().to_owned())
            }
        };
        let host = base_url
            .split_once("://")
            .map_or("localhost", |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        let mail_from: lettre::message::Mailbox = match get("CALMROOM_MAIL_FROM") {
            Some(raw) => raw.trim().parse().map_err(|_| {
                error(
                    "CALMROOM_MAIL_FROM",
                    format!(
                        "{raw:?} is not an address such as \"Acme status <status@example.com>\""
                    ),
                )
            })?,
            None => format!("status@{host}")
                .parse()
                .or_else(|_| "status@localhost".parse())
                .map_err(|_| error("CALMROOM_MAIL_FROM", "set it: no default address fits"))?,
        };

        let oidc = Self::oidc(&get)?;

        let postgres = database_url.starts_with("postgres");
        let listen_database_url = match get("CALMROOM_LISTEN_DATABASE_URL") {
            Some(_) if !postgres => {
                return Err(error(
                    "CALMROOM_LISTEN_DATABASE_URL",
                    "is only for a PostgreSQL CALMROOM_DATABASE_URL (SQLite runs one server)",
                ))
            }
            Some(url) if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) => {
                return Err(error(
                    "CALMROOM_LISTEN_DATABASE_URL",
                    "must be a postgres:// URL of the same database",
                ))
            }
            Some(url) => Some(url),
            None if postgres => Some(database_url.clone()),
            None => None,
        };

        Ok(Config {
            data_dir,
            database_url,
            listen_database_url,
            bind,
            base_url,
            session_idle_minutes,
            status_title,
            log,
            admin,
            trusted_proxies,
            webhook_private_targets,
            alert_events_per_second,
            smtp_url,
            mail_from,
            oidc,
        })
    }

    /// The identity provider's settings: all three of issuer, client id and
    /// secret, or none of them.
    fn oidc(get: &impl Fn(&str) -> Option<String>) -> Result<Option<OidcConfig>, ConfigError> {
        let issuer = get("CALMROOM_OIDC_ISSUER");
        let client_id = get("CALMROOM_OIDC_CLIENT_ID");
        let client_secret = get("CALMROOM_OIDC_CLIENT_SECRET");
        let Some(issuer) = issuer else {
            for (name, value) in [
                ("CALMROOM_OIDC_CLIENT_ID", &client_id),
                ("CALMROOM_OIDC_CLIENT_SECRET", &client_secret),
            ] {
                if value.is_some() {
                    return Err(error(name, "needs CALMROOM_OIDC_ISSUER too"));
                }
            }
            return Ok(None);
        };
        let issuer = issuer.trim().to_owned();
        match url::Url::parse(&issuer) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => {}
            _ => {
                return Err(error(
                    "CALMROOM_OIDC_ISSUER",
                    format!("{issuer:?} is not an http(s) URL such as https://id.example.com"),
                ))
            }
        }
        let client_id = client_id
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                error(
                    "CALMROOM_OIDC_CLIENT_ID",
                    "is needed with CALMROOM_OIDC_ISSUER",
                )
            })?;
        let client_secret = client_secret.filter(|v| !v.is_empty()).ok_or_else(|| {
            error(
                "CALMROOM_OIDC_CLIENT_SECRET",
                "is needed with CALMROOM_OIDC_ISSUER",
            )
        })?;
        let scopes = get("CALMROOM_OIDC_SCOPES")
            .unwrap_or_else(|| "openid email profile".to_owned())
            .split_whitespace()
            .filter(|s| *s != "openid")
            .map(str::to_owned)
            .collect();
        let role_claim = get("CALMROOM_OIDC_ROLE_CLAIM")
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        let name = get("CALMROOM_OIDC_NAME")
            .map(|n| n.trim().chars().take(60).collect::<String>())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "your company account".to_owned());
        Ok(Some(OidcConfig {
            issuer,
            client_id,
            client_secret,
            scopes,
            role_claim,
            name,
        }))
    }

    /// Session cookies are Secure when the instance is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The `--help` text: usage, then every variable with its default.
    pub fn help() -> String {
        let mut text = String::from(
            "Calmroom: a self-hosted incident command system.\n\n\
             Usage: server [--help | --version]\n\n\
             Configuration comes from the environment:\n",
        );
        for v in VARIABLES {
            text.push_str(&format!(
                "  {:<30} {}\n  {:<30} default: {}\n",
                v.name, v.meaning, "", v.default
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_put_sqlite_in_the_data_folder_on_localhost_3000() {
        let config = parse(&[]).expect("defaults are valid");
        assert_eq!(config.database_url, "sqlite://./data/calmroom.db");
        assert_eq!(config.listen_database_url, None);
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.base_url, "http://127.0.0.1:3000");
        assert_eq!(config.session_idle_minutes, 720);
        assert!(!config.secure_cookies());
        assert_eq!(config.admin, None);
    }

    #[test]
    fn the_database_follows_the_data_folder() {
        let config = parse(&[("CALMROOM_DATA_DIR", "/srv/calm")]).expect("valid");
        assert_eq!(config.database_url, "sqlite:///srv/calm/calmroom.db");
    }

    #[test]
    fn a_bad_bind_address_names_the_variable() {
        let err = parse(&[("CALMROOM_BIND", "localhost")]).expect_err("invalid");
        assert_eq!(err.variable, "CALMROOM_BIND");
        assert!(err.to_string().starts_with("CALMROOM_BIND:"));
    }

    #[test]
    fn an_alert_rate_that_is_not_a_positive_number_names_the_variable() {
        assert_eq!(parse(&[]).expect("defaults").alert_events_per_second, 100);
        let err = parse(&[("CALMROOM_ALERT_EVENTS_PER_SECOND", "0")]).expect_err("invalid");
        assert_eq!(err.variable, "CALMROOM_ALERT_EVENTS_PER_SECOND");
        let config = parse(&[("CALMROOM_ALERT_EVENTS_PER_SECOND", "5000")]).expect("valid");
        assert_eq!(config.alert_events_per_second, 5000);
    }

    #[test]
    fn a_mysql_url_is_refused() {
        let err = parse(&[("CALMROOM_DATABASE_URL", "mysql://x")]).expect_err("invalid");
        assert_eq!(err.variable, "CALMROOM_DATABASE_URL");
    }

    #[test]
    fn an_https_base_url_makes_cookies_secure() {
        let config = parse(&[("CALMROOM_BASE_URL", "https://calm.example.com/")]).expect("valid");
        assert!(config.secure_cookies());
        assert_eq!(config.base_url, "https://calm.example.com");
        let err = parse(&[("CALMROOM_BASE_URL", "calm.example.com")]).expect_err("no scheme");
        assert_eq!(err.variable, "CALMROOM_BASE_URL");
    }

    #[test]
    fn session_idle_minutes_outside_5_to_43200_are_refused() {
        for bad in ["0", "4", "43201", "ten"] {
            let err = parse(&[("CALMROOM_SESSION_IDLE_MINUTES", bad)]).expect_err(bad);
            assert_eq!(err.variable, "CALMROOM_SESSION_IDLE_MINUTES");
        }
        let config = parse(&[("CALMROOM_SESSION_IDLE_MINUTES", "30")]).expect("valid");
        assert_eq!(config.session_idle_minutes, 30);
    }

    #[test]
    fn an_admin_email_without_a_password_is_refused() {
        let err = parse(&[("CALMROOM_ADMIN_EMAIL", "a@example.com")]).expect_err("half");
        assert_eq!(err.variable, "CALMROOM_ADMIN_PASSWORD");
        let config = parse(&[
            ("CALMROOM_ADMIN_EMAIL", "a@example.com"),
            ("CALMROOM_ADMIN_PASSWORD", "long enough password"),
        ])
        .expect("valid");
        assert_eq!(config.admin.map(|a| a.name), Some("Admin".to_owned()));
    }

    #[test]
    fn a_bad_log_filter_names_the_variable() {
        let err = parse(&[("CALMROOM_LOG", "calmroom=[")]).expect_err("invalid");
        assert_eq!(err.variable, "CALMROOM_LOG");
    }

    #[test]
    fn company_sign_in_needs_issuer_client_and_secret_together() {
        assert_eq!(parse(&[]).expect("defaults").oidc, None);
        let only_id = parse(&[("CALMROOM_OIDC_CLIENT_ID", "calmroom")]).expect_err("no issuer");
        assert_eq!(only_id.variable, "CALMROOM_OIDC_CLIENT_ID");
        let no_secret = parse(&[
            ("CALMROOM_OIDC_ISSUER", "https://id.example.com"),
            ("CALMROOM_OIDC_CLIENT_ID", "calmroom"),
        ])
        .expect_err("no secret");
        assert_eq!(no_secret.variable, "CALMROOM_OIDC_CLIENT_SECRET");
        let bad = parse(&[
            ("CALMROOM_OIDC_ISSUER", "id.example.com"),
            ("CALMROOM_OIDC_CLIENT_ID", "calmroom"),
            ("CALMROOM_OIDC_CLIENT_SECRET", "s"),
        ])
        .expect_err("not a URL");
        assert_eq!(bad.variable, "CALMROOM_OIDC_ISSUER");
        let ok = parse(&[
            ("CALMROOM_OIDC_ISSUER", "https://id.example.com"),
            ("CALMROOM_OIDC_CLIENT_ID", "calmroom"),
            ("CALMROOM_OIDC_CLIENT_SECRET", "s"),
            ("CALMROOM_OIDC_SCOPES", "openid email groups"),
            ("CALMROOM_OIDC_ROLE_CLAIM", "groups"),
        ])
        .expect("complete")
        .oidc
        .expect("configured");
        assert_eq!(ok.scopes, vec!["email", "groups"]);
        assert_eq!(ok.role_claim.as_deref(), Some("groups"));
        assert_eq!(ok.name, "your company account");
    }

    #[test]
    fn help_lists_every_variable() {
        let help = Config::help();
        for v in VARIABLES {
            assert!(help.contains(v.name), "{} missing from --help", v.name);
        }
    }

    #[test]
    fn replicas_listen_on_the_database_url_unless_told_otherwise() {
        let pg = "postgres://calm@db:5432/calmroom";
        let config = parse(&[("CALMROOM_DATABASE_URL", pg)]).expect("valid");
        assert_eq!(config.listen_database_url.as_deref(), Some(pg));
        let direct = "postgres://calm@db-direct:5432/calmroom";
        let config = parse(&[
            ("CALMROOM_DATABASE_URL", pg),
            ("CALMROOM_LISTEN_DATABASE_URL", direct),
        ])
        .expect("valid");
        assert_eq!(config.listen_database_url.as_deref(), Some(direct));
        let err = parse(&[("CALMROOM_LISTEN_DATABASE_URL", direct)]).expect_err("sqlite");
        assert_eq!(err.variable, "CALMROOM_LISTEN_DATABASE_URL");
        let err = parse(&[
            ("CALMROOM_DATABASE_URL", pg),
            ("CALMROOM_LISTEN_DATABASE_URL", "mysql://x"),
        ])
        .expect_err("not postgres");
        assert!(err.message.contains("postgres://"), "{}", err.message);
    }
}
