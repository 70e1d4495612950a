//! The site's messages, written from the templates in `templates/` (a plain-text and an HTML
//! version of each, and the HTML layout around them). Every message says what happened, from
//! which address and browser, when, and what to do if it was not you.
//!
//! Templates hold `{{name}}` placeholders. Values are escaped for the HTML part, so a name a
//! visitor typed (a sign-up's username) cannot add markup to a mail.

use lettre::message::Mailbox;
use time::OffsetDateTime;
use time::macros::format_description;

use super::Mail;

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A password reset link.
    Reset,
    /// "Your password was changed", after a reset.
    PasswordChanged,
    /// A link proving an address of an account.
    Verify,
    /// To the old address: someone asked to replace it.
    EmailChanging,
    /// A link finishing a sign-up.
    Signup,
    /// A sign-up that created nothing (the address has an account, or the name is taken).
    SignupRefused,
    /// Two-step sign-in was turned on or off, or removed by an administrator (`change` says which).
    TwoStepChanged,
    /// A passkey was added to or removed from the account (`change`: "added to", "removed from";
    /// `passkey`: its name).
    PasskeysChanged,
}

impl Template {
    pub const ALL: [Self; 8] = [
        Self::Reset,
        Self::PasswordChanged,
        Self::Verify,
        Self::EmailChanging,
        Self::Signup,
        Self::SignupRefused,
        Self::TwoStepChanged,
        Self::PasskeysChanged,
    ];

    fn subject(self, site: &str) -> String {
        match self {
            Self::Reset => format!("Reset your {site} password"),
            Self::PasswordChanged => format!("Your {site} password was changed"),
            Self::Verify => format!("Confirm your e-mail address for {site}"),
            Self::EmailChanging => format!("Your {site} e-mail address is being changed"),
            Self::Signup => format!("Finish signing up to {site}"),
            Self::SignupRefused => format!("Your sign-up to {site}"),
            Self::TwoStepChanged => format!("Two-step sign-in of your {site} account was changed"),
            Self::PasskeysChanged => format!("The passkeys of your {site} account were changed"),
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::Reset => include_str!("templates/reset.txt"),
            Self::PasswordChanged => include_str!("templates/password_changed.txt"),
            Self::Verify => include_str!("templates/verify.txt"),
            Self::EmailChanging => include_str!("templates/email_changing.txt"),
            Self::Signup => include_str!("templates/signup.txt"),
            Self::SignupRefused => include_str!("templates/signup_refused.txt"),
            Self::TwoStepChanged => include_str!("templates/two_step_changed.txt"),
            Self::PasskeysChanged => include_str!("templates/passkeys_changed.txt"),
        }
    }

    fn html(self) -> &'static str {
        match self {
            Self::Reset => include_str!("templates/reset.html"),
            Self::PasswordChanged => include_str!("templates/password_changed.html"),
            Self::Verify => include_str!("templates/verify.html"),
            Self::EmailChanging => include_str!("templates/email_changing.html"),
            Self::Signup => include_str!("templates/signup.html"),
            Self::SignupRefused => include_str!("templates/signup_refused.html"),
            Self::TwoStepChanged => include_str!("templates/two_step_changed.html"),
            Self::PasskeysChanged => include_str!("templates/passkeys_changed.html"),
        }
    }
}

const LAYOUT: &str = include_str!("templates/layout.html");

/// What every message says about where it comes from: the site, and the request that caused it.
#[derive(Debug, Clone)]
pub struct Circumstances {
    pub site: String,
    /// The site's public URL, e.g. `https://login.example.com`.
    pub origin: String,
    /// The client address of the request.
    pub address: String,
    /// Its browser, described ("Firefox on Linux").
    pub device: String,
    pub at: OffsetDateTime,
}

impl Circumstances {
    /// A link to `path` (with its query) on this site.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

/// `template` to `to`, its placeholders filled from `circumstances` and `fields`.
pub fn compose(
    template: Template,
    to: Mailbox,
    circumstances: &Circumstances,
    fields: &[(&str, &str)],
) -> Mail {
    let time = circumstances
        .at
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
        ))
        .unwrap_or_else(|_| circumstances.at.to_string());
    let subject = template.subject(&circumstances.site);
    let mut values: Vec<(&str, &str)> = vec![
        ("site", &circumstances.site),
        ("origin", &circumstances.origin),
        ("address", &circumstances.address),
        ("device", &circumstances.device),
        ("time", &time),
    ];
    values.extend_from_slice(fields);
    let text = fill(template.text(), &values, |value| value.to_owned());
    let body = fill(template.html(), &values, escape_html);
    let html = fill(LAYOUT, &values, escape_html)
        .replace("{{subject}}", &escape_html(&subject))
        // Last: the body is already HTML, and its text must not be searched for placeholders.
        .replace("{{body}}", &body);
    Mail {
        to,
        subject,
        text,
        html,
    }
}

/// `template` with every `{{name}}` of `values` replaced by its value, written by `write`.
fn fill(template: &str, values: &[(&str, &str)], write: impl Fn(&str) -> String) -> String {
    let mut filled = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        filled.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = &after[..end];
                match values.iter().find(|(key, _)| *key == name) {
                    Some((_, value)) => filled.push_str(&write(value)),
                    // Left for a later pass (the layout's subject and body).
                    None => filled.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                filled.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    filled.push_str(rest);
    filled
}

/// `text` safe inside HTML text and attribute values.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circumstances() -> Circumstances {
        Circumstances {
            site: "Example".into(),
            origin: "https://login.example.com".into(),
            address: "203.0.113.9".into(),
            device: "Firefox on Linux".into(),
            at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    const FIELDS: &[(&str, &str)] = &[
        ("username", "jo<b>"),
        ("link", "https://login.example.com/reset-password?token=abc&x=1"),
        ("minutes", "30"),
        ("new_email", "new@example.com"),
        ("forgot_link", "https://login.example.com/forgot-password"),
        ("login_link", "https://login.example.com/login"),
        ("signup_link", "https://login.example.com/signup"),
        ("reason", "this address already has an account."),
        ("change", "turned off"),
        ("passkey", "laptop"),
    ];

    #[test]
    fn every_template_fills_every_placeholder_and_says_where_and_when() {
        for template in Template::ALL {
            let mail = compose(
                template,
                "jo@example.com".parse().unwrap(),
                &circumstances(),
                FIELDS,
            );
            for part in [&mail.text, &mail.html] {
                assert!(!part.contains("{{"), "{template:?}: {part}");
                assert!(part.contains("203.0.113.9"), "{template:?} names the address");
                assert!(
                    part.contains("1 January 1970, 00:00 UTC"),
                    "{template:?} says when"
                );
                assert!(part.contains("If it was not you"), "{template:?} says what to do");
            }
            assert!(mail.subject.contains("Example"));
        }
    }

    #[test]
    fn values_cannot_add_markup_to_the_html_part() {
        let mail = compose(
            Template::Reset,
            "jo@example.com".parse().unwrap(),
            &circumstances(),
            FIELDS,
        );
        assert!(mail.html.contains("jo&lt;b&gt;"));
        assert!(!mail.html.contains("jo<b>"));
        assert!(mail.html.contains("token=abc&amp;x=1"));
        assert!(mail.text.contains("token=abc&x=1"), "the text part is as written");
    }
}
