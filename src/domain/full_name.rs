//! The name a person is greeted by.

use serde::{Deserialize, Serialize};

/// A display name: 1 to 100 characters once surrounding spaces are trimmed, no control
/// characters. Any script is welcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName(String);

/// Why a string is not a display name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FullNameError {
    #[error("a full name must be 1 to {max} characters long", max = FullName::MAX_CHARS)]
    Length,
    #[error("a full name may not contain control characters such as line breaks")]
    ControlCharacter,
}

impl FullName {
    pub const MAX_CHARS: usize = 100;

    /// Trims `raw` and checks it against the rules above.
    ///
    /// # Errors
    /// The first rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, FullNameError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > Self::MAX_CHARS {
            return Err(FullNameError::Length);
        }
        if name.chars().any(char::is_control) {
            return Err(FullNameError::ControlCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FullName {
    type Error = FullNameError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<FullName> for String {
    fn from(name: FullName) -> Self {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_any_script() {
        assert_eq!(FullName::parse("  John Doe ").unwrap().as_str(), "John Doe");
        assert_eq!(FullName::parse("Zoë Ōtsuka").unwrap().as_str(), "Zoë Ōtsuka");
    }

    #[test]
    fn refuses_empty_long_and_multi_line_names() {
        assert_eq!(FullName::parse("   "), Err(FullNameError::Length));
        assert_eq!(FullName::parse(&"é".repeat(101)), Err(FullNameError::Length));
        assert_eq!(FullName::parse("John\nDoe"), Err(FullNameError::ControlCharacter));
    }
}
