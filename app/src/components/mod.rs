//! Reusable pieces of the interface.

mod form;
mod layout;

pub use form::{FieldMessage, FormMessage};
pub use layout::SignedInLayout;
