//! One module per page.

mod admin_users;
mod dashboard;
mod placeholders;
mod setup;
mod sign_in;
mod war_room;

pub use admin_users::AdminUsersPage;
pub use dashboard::DashboardPage;
pub use placeholders::{ActionItemsPage, IncidentsPage, NotFoundPage, StatusPage};
pub use setup::SetupPage;
pub use sign_in::SignInPage;
pub use war_room::WarRoomPage;
