//! Validated values shared by the server and the browser.
//!
//! Each type is built only through its `parse` function, so a value of the type is valid by
//! construction and the rest of the code never checks again.

mod email;
mod full_name;
mod password;
mod username;

pub use email::{Email, EmailError};
pub use full_name::{FullName, FullNameError};
pub use password::Password;
pub use username::{Username, UsernameError};
