//! Pure rules and types of the product: no I/O, no database, no browser.

pub mod throttle;
pub mod users;
