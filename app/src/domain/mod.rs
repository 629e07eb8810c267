//! Pure rules and types of the product: no I/O, no database, no browser.

pub mod access;
pub mod alerts;
pub mod identities;
pub mod incidents;
pub mod leadership;
pub mod milestones;
pub mod mitigation;
pub mod postmortems;
pub mod rhythm;
pub mod roles;
pub mod status;
pub mod subscriptions;
pub mod throttle;
pub mod timeline;
pub mod tokens;
pub mod updates;
pub mod uptime;
pub mod users;
pub mod webhooks;
pub mod zones;
