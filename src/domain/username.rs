//! Usernames: what people type to sign in.

use serde::{Deserialize, Serialize};

/// A valid username: 3 to 32 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or
/// digit. Kept as typed; compared without regard to case.
///
/// ASCII only on purpose: case-insensitive uniqueness is then exact in every database (SQLite's
/// `lower()` folds ASCII only) and look-alike Unicode names cannot impersonate each other.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a string is not a username.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("a username must be {min} to {max} characters long", min = Username::MIN_LEN, max = Username::MAX_LEN)]
    Length,
    #[error("a username may contain only letters a-z, digits, '.', '_' and '-'")]
    Characters,
    #[error("a username must start with a letter or a digit")]
    Start,
}

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 32;

    /// Checks `raw` against the rules above.
    ///
    /// # Errors
    /// The first rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&raw.len()) {
            return Err(UsernameError::Length);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(UsernameError::Characters);
        }
        if !raw.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(UsernameError::Start);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Username> for String {
    fn from(username: Username) -> Self {
        username.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_tutorial_names_and_keeps_their_case() {
        assert_eq!(Username::parse("johndoe").unwrap().as_str(), "johndoe");
        assert_eq!(Username::parse("Alice.W-2_x").unwrap().as_str(), "Alice.W-2_x");
    }

    #[test]
    fn refuses_names_too_short_or_too_long() {
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
        assert_eq!(Username::parse(&"a".repeat(33)), Err(UsernameError::Length));
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn refuses_spaces_unicode_and_punctuation() {
        for raw in ["john doe", "jöhn", "john@example", "jo\nhn", "аlice"] {
            assert_eq!(Username::parse(raw), Err(UsernameError::Characters), "{raw:?}");
        }
    }

    #[test]
    fn refuses_a_leading_separator() {
        assert_eq!(Username::parse(".john"), Err(UsernameError::Start));
        assert_eq!(Username::parse("-john"), Err(UsernameError::Start));
    }
}
