//! Server functions and the wire types they exchange, compiled on both sides: the browser calls
//! them over HTTP, the server runs their bodies (which hand over to `crate::server` at once).

pub mod account;
pub mod session;

pub use account::{ChangePassword, UserSummary, change_password, current_user};
pub use session::{Login, Logout, login, logout};
