//! Scopes: what a token lets its holder do through the API.

use crate::server::store::UserRow;

/// Read your own account.
pub const ME: &str = "me";
/// Read your own items.
pub const ITEMS: &str = "items";
/// Administer users (admins only).
pub const ADMIN: &str = "admin";

/// Every scope, in the order they are written in a grant.
pub const ALL: [&str; 3] = [ME, ITEMS, ADMIN];

/// The scopes `user` may hold: everyone gets `me` and `items`, admins also `admin`.
pub fn allowed_for(user: &UserRow) -> Vec<&'static str> {
    ALL.into_iter()
        .filter(|scope| *scope != ADMIN || user.admin)
        .collect()
}

/// Why a requested scope cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("unknown scope {0:?}; the scopes are me, items and admin")]
    Unknown(String),
    #[error("the scope {0:?} is not available to this user")]
    NotAllowed(&'static str),
    #[error("the scope {0:?} was not granted to this session")]
    NotGranted(&'static str),
    #[error("the scope list is empty; leave the parameter out to ask for every scope")]
    Empty,
}

/// The scopes named in a request (space-separated, RFC 6749 §3.3), each known. Checked before
/// any password or token is: a malformed request costs nothing and changes nothing.
///
/// # Errors
/// A scope that does not exist, or no scope at all.
pub fn parse(requested: &str) -> Result<Vec<&'static str>, ScopeError> {
    let mut scopes = Vec::new();
    for wanted in requested.split(' ').filter(|scope| !scope.is_empty()) {
        let known = ALL
            .into_iter()
            .find(|scope| *scope == wanted)
            .ok_or_else(|| ScopeError::Unknown(wanted.to_owned()))?;
        scopes.push(known);
    }
    if scopes.is_empty() {
        return Err(ScopeError::Empty);
    }
    Ok(scopes)
}

/// A refresh may ask for fewer scopes than the session holds, never more (RFC 6749 §6).
///
/// # Errors
/// A scope that is unknown or that the session does not hold.
pub fn narrow(granted: &str, requested: &str) -> Result<String, ScopeError> {
    let requested = parse(requested)?;
    if let Some(missing) = requested.iter().find(|scope| !includes(granted, scope)) {
        return Err(ScopeError::NotGranted(missing));
    }
    Ok(in_canonical_order(&requested))
}

/// The scopes to grant `user` for a request: all they may hold when `requested` is `None`,
/// else exactly the requested ones (space-separated, RFC 6749 §3.3), each of which they must be
/// allowed. The result is space-separated in a fixed order.
///
/// # Errors
/// A scope that does not exist or that the user may not hold.
pub fn grant(user: &UserRow, requested: Option<&str>) -> Result<String, ScopeError> {
    let allowed = allowed_for(user);
    let Some(requested) = requested else {
        return Ok(allowed.join(" "));
    };
    let requested = parse(requested)?;
    if let Some(forbidden) = requested.iter().find(|scope| !allowed.contains(scope)) {
        return Err(ScopeError::NotAllowed(forbidden));
    }
    Ok(in_canonical_order(&requested))
}

/// `scopes` as a grant is written: space-separated, in the order of [`ALL`], each once.
pub fn in_canonical_order(scopes: &[&str]) -> String {
    ALL.into_iter()
        .filter(|scope| scopes.contains(scope))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a space-separated grant includes `scope`.
pub fn includes(granted: &str, scope: &str) -> bool {
    granted.split(' ').any(|held| held == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(admin: bool) -> UserRow {
        UserRow::for_tests(admin)
    }

    #[test]
    fn no_request_grants_everything_the_user_may_hold() {
        assert_eq!(grant(&user(false), None).unwrap(), "me items");
        assert_eq!(grant(&user(true), None).unwrap(), "me items admin");
    }

    #[test]
    fn a_request_is_granted_exactly_in_a_fixed_order() {
        assert_eq!(grant(&user(false), Some("items me items")).unwrap(), "me items");
        assert_eq!(grant(&user(true), Some("admin")).unwrap(), "admin");
    }

    #[test]
    fn unknown_or_forbidden_scopes_are_refused() {
        assert_eq!(
            grant(&user(false), Some("admin")),
            Err(ScopeError::NotAllowed(ADMIN))
        );
        assert_eq!(
            grant(&user(false), Some("me root")),
            Err(ScopeError::Unknown("root".into()))
        );
    }

    #[test]
    fn a_refresh_can_narrow_the_scopes_but_not_widen_them() {
        assert_eq!(narrow("me items", "items").unwrap(), "items");
        assert_eq!(narrow("me items", "admin"), Err(ScopeError::NotGranted(ADMIN)));
        assert_eq!(
            narrow("me items", "root"),
            Err(ScopeError::Unknown("root".into()))
        );
        assert_eq!(narrow("me items", "  "), Err(ScopeError::Empty));
    }

    #[test]
    fn includes_matches_whole_scopes_only() {
        assert!(includes("me items", "items"));
        assert!(!includes("me itemsx", "items"));
    }
}
