//! Reusable pieces of the interface.

mod form;
mod incident_bits;
mod layout;
mod live;

pub use form::{FieldMessage, FormMessage};
pub use incident_bits::{
    clock, clock_seconds, day, in_zone, stamp, use_incident_number, use_now, SeverityBadge,
    StatusBadge, ZoneNote,
};
pub use layout::SignedInLayout;
pub use live::{provide_live, use_live, Live};
