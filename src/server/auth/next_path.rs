//! Where to send someone after they sign in: only ever a path on this site.
//!
//! `next` arrives from the query string and the login form, i.e. from anyone. Followed blindly
//! it would make the login page an open redirect (`/login?next=//evil.example`), and
//! `leptos_axum::redirect` panics on a value that is not a valid header, so every candidate
//! passes through [`safe_next`] first.

/// Where people go when `next` is missing or refused.
pub const DEFAULT_AFTER_SIGN_IN: &str = "/dashboard";

const MAX_LEN: usize = 2048;

/// `candidate` when it is a plain path on this site, else `None`.
///
/// Accepted: one leading `/`, then URL-safe characters only (letters, digits and
/// `/ - _ . ~ ? = & % +`). Refused: `//host` and `/\host` (browsers read both as another
/// site), schemes, backslashes, control characters such as CR/LF, `@`, and percent-encoded
/// slashes or backslashes that a later decoding step could turn into one of the above.
pub fn safe_next(candidate: &str) -> Option<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "/-_.~?=&%+".contains(c);
    let lower = candidate.to_ascii_lowercase();
    let acceptable = candidate.len() <= MAX_LEN
        && candidate.starts_with('/')
        && !candidate.starts_with("//")
        && candidate.chars().all(allowed)
        && !lower.contains("%2f")
        && !lower.contains("%5c")
        && !lower.contains("%25");
    acceptable.then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_site_are_kept() {
        for path in [
            "/dashboard",
            "/profile",
            "/admin/users?page=2&sort=name",
            "/a-b_c.d~e",
            "/",
        ] {
            assert_eq!(safe_next(path), Some(path));
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused() {
        for attack in [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/%2F%2Fevil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "/@evil.example",
            "/dashboard\r\nSet-Cookie: x=1",
            "/dashboard\n",
            "/dash board",
            "/dashbörd",
            "",
        ] {
            assert_eq!(safe_next(attack), None, "{attack:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(MAX_LEN))), None);
    }
}
