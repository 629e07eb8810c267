//! One module per page.

mod admin_status;
mod admin_users;
mod comms;
mod dashboard;
mod placeholders;
mod setup;
mod sign_in;
mod war_room;

pub use admin_status::{AdminStatusPage, AdminTemplatesPage};
pub use admin_users::AdminUsersPage;
pub use comms::CommsPage;
pub use dashboard::DashboardPage;
pub use placeholders::{ActionItemsPage, IncidentsPage, NotFoundPage};
pub use setup::SetupPage;
pub use sign_in::SignInPage;
pub use war_room::WarRoomPage;
