//! One module per page.

mod account;
mod action_items;
mod admin_integrations;
mod admin_status;
mod admin_users;
mod alerts;
mod comms;
pub(crate) mod dashboard;
mod insights;
mod leadership;
pub mod on_demand;
mod placeholders;
mod postmortem;
mod setup;
mod sign_in;
mod war_room;

pub use account::{AccountPage, ChangePasswordForm};
pub use action_items::ActionItemsPage;
pub use admin_integrations::AdminIntegrationsPage;
pub use admin_status::{AdminStatusPage, AdminTemplatesPage};
pub use admin_users::AdminUsersPage;
pub use alerts::AlertsPage;
pub use comms::{ChannelPage, CommsPage};
pub use dashboard::DashboardPage;
pub use insights::InsightsPage;
pub use leadership::{ApprovalBanner, LeadershipPage};
pub use placeholders::{IncidentsPage, NotFoundPage};
pub use postmortem::{PostmortemPage, PostmortemReviewPage};
pub use setup::SetupPage;
pub use sign_in::SignInPage;
pub use war_room::WarRoomPage;
