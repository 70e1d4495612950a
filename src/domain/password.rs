//! Passwords as they travel from a form to the server.

use serde::{Deserialize, Serialize};

/// A password exactly as typed. It never shows in `Debug` output, so a server function's
/// arguments can be logged or inspected without leaking it. The policy for new passwords is
/// applied on the server, where the list of common passwords lives.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// Shortest new password accepted, in characters (OWASP ASVS 2.1.1).
    pub const MIN_CHARS: usize = 8;
    /// Longest password accepted, in characters: long passphrases are welcome, unbounded input
    /// to argon2 is not.
    pub const MAX_CHARS: usize = 1024;

    pub fn new(typed: impl Into<String>) -> Self {
        Self(typed.into())
    }

    /// The typed text, for hashing or verification.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows_in_debug_output() {
        assert_eq!(format!("{:?}", Password::new("hunter22")), "Password(<redacted>)");
    }

    #[test]
    fn a_password_travels_as_a_plain_string() {
        let password: Password = serde_json::from_str(r#"" spaced ""#).unwrap();
        assert_eq!(password.expose(), " spaced ");
    }
}
