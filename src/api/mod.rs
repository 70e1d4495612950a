//! Server functions and the wire types they exchange, compiled on both sides: the browser calls
//! them over HTTP, the server runs their bodies (which hand over to `crate::server` at once).

pub mod account;
pub mod session;

pub use account::{
    ChangePassword, CurrentUser, ListSessions, RevokeOtherSessions, RevokeSession, SessionSummary,
    UserSummary, change_password, current_user, list_sessions, revoke_other_sessions, revoke_session,
};
pub use session::{Login, Logout, login, logout};
