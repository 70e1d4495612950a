//! The administrators' user table: search, filters, two orders and keyset pagination.
//!
//! Keyset, not offsets: the next page starts after the last row shown (its name, or its id for
//! "newest first"), so every page costs the same however deep it is, and a user created or
//! deleted meanwhile does not shift rows between pages. Ordered by name, the unfiltered table
//! reads the case-insensitive username index in order and stops after one page.

use anyhow::Context;

use super::users::USER_COLUMNS;
use super::{Store, StoreError, UserRow};

/// Which users the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserFilter {
    #[default]
    All,
    Active,
    Disabled,
    Admins,
}

/// The table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrder {
    /// By username, A to Z, ignoring case.
    #[default]
    Name,
    /// Most recently created first.
    Newest,
}

/// One page of the user table, asked for.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Matched, ignoring case, anywhere in the username, full name or email; empty for all.
    pub search: String,
    pub filter: UserFilter,
    pub order: UserOrder,
    /// Where the previous page ended (see [`UserPage::next`]); `None` for the first page.
    pub after: Option<String>,
    pub limit: u32,
}

/// One page of the user table.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<UserRow>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
}

impl Store {
    /// One page of users matching `query`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn search_users(&self, query: &UserQuery) -> Result<UserPage, StoreError> {
        let filter = match query.filter {
            UserFilter::All => "TRUE",
            UserFilter::Active => "NOT disabled",
            UserFilter::Disabled => "disabled",
            UserFilter::Admins => "admin AND NOT disabled",
        };
        // Each order with the condition that starts after the previous page's last row. The
        // first page starts after a bound beyond every row, so the condition is always a plain
        // range that the index reads from its start (an `IS NULL OR` would make it scan).
        let (after, order) = match query.order {
            UserOrder::Name => ("lower(username) > $3", "lower(username)"),
            UserOrder::Newest => ("id < $3", "id DESC"),
        };
        enum Cursor {
            Name(String),
            Id(i64),
        }
        let cursor = match query.order {
            UserOrder::Name => Cursor::Name(query.after.clone().unwrap_or_default()),
            UserOrder::Newest => Cursor::Id(
                query
                    .after
                    .as_deref()
                    .and_then(|after| after.parse().ok())
                    .unwrap_or(i64::MAX),
            ),
        };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE {filter} AND {after} \
               AND ($1 = '' OR lower(username) LIKE $2 ESCAPE '\\' \
                    OR lower(coalesce(full_name, '')) LIKE $2 ESCAPE '\\' \
                    OR lower(coalesce(email, '')) LIKE $2 ESCAPE '\\') \
             ORDER BY {order} LIMIT $4"
        );
        let search = query.search.trim().to_lowercase();
        let pattern = format!("%{}%", escape_like(&search));
        // One more than asked, to know whether a next page exists.
        let fetch = i64::from(query.limit) + 1;
        let mut users = on_pool!(self, pool => {
            let statement = sqlx::query_as::<_, UserRow>(&sql).bind(&search).bind(&pattern);
            let statement = match &cursor {
                Cursor::Name(name) => statement.bind(name.clone()),
                Cursor::Id(id) => statement.bind(*id),
            };
            statement.bind(fetch).fetch_all(pool).await
        })
        .context("Failed to search users")?;
        let next = if users.len() > query.limit as usize {
            users.truncate(query.limit as usize);
            users.last().map(|last| match query.order {
                UserOrder::Name => last.username.to_lowercase(),
                UserOrder::Newest => last.id.to_string(),
            })
        } else {
            None
        };
        Ok(UserPage { users, next })
    }
}

/// `text` with LIKE's wildcards taken literally (escaped with `\`).
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, FullName, Username};
    use crate::server::auth::password::PasswordHash;
    use crate::server::store::{NewUser, open_for_test};

    async fn add(store: &Store, name: &str, full_name: &str, email: &str, disabled: bool, admin: bool) {
        store
            .create_user(&NewUser {
                username: Username::parse(name).unwrap(),
                full_name: Some(FullName::parse(full_name).unwrap()),
                email: Some(Email::parse(email).unwrap()),
                password_hash: PasswordHash::from_stored("$argon2id$placeholder".into()),
                admin,
                disabled,
            })
            .await
            .unwrap();
    }

    fn names(page: &UserPage) -> Vec<&str> {
        page.users.iter().map(|user| user.username.as_str()).collect()
    }

    async fn people() -> (Store, impl Sized) {
        let (store, scratch) = open_for_test().await;
        add(&store, "carol", "Carol Danvers", "carol@example.com", false, true).await;
        add(&store, "Bob", "Robert Paulson", "bob@example.org", true, false).await;
        add(
            &store,
            "alice",
            "Alice Liddell",
            "alice@wonder.land",
            false,
            false,
        )
        .await;
        add(&store, "dave_x", "Dave 100%", "dave@example.com", false, false).await;
        (store, scratch)
    }

    #[tokio::test]
    async fn search_matches_name_full_name_and_email_ignoring_case() {
        let (store, _scratch) = people().await;
        let search = |text: &str| UserQuery {
            search: text.into(),
            limit: 10,
            ..UserQuery::default()
        };
        assert_eq!(names(&store.search_users(&search("BOB")).await.unwrap()), ["Bob"]);
        assert_eq!(
            names(&store.search_users(&search("liddell")).await.unwrap()),
            ["alice"]
        );
        assert_eq!(
            names(&store.search_users(&search("EXAMPLE.COM")).await.unwrap()),
            ["carol", "dave_x"]
        );
        // Wildcards are taken literally.
        assert_eq!(
            names(&store.search_users(&search("_")).await.unwrap()),
            ["dave_x"]
        );
        assert_eq!(
            names(&store.search_users(&search("100%")).await.unwrap()),
            ["dave_x"]
        );
        assert!(store.search_users(&search("zzz")).await.unwrap().users.is_empty());
    }

    #[tokio::test]
    async fn filters_pick_active_disabled_or_admin_users() {
        let (store, _scratch) = people().await;
        let filtered = |filter| UserQuery {
            filter,
            limit: 10,
            ..UserQuery::default()
        };
        let active = store.search_users(&filtered(UserFilter::Active)).await.unwrap();
        assert_eq!(names(&active), ["alice", "carol", "dave_x"]);
        let disabled = store.search_users(&filtered(UserFilter::Disabled)).await.unwrap();
        assert_eq!(names(&disabled), ["Bob"]);
        let admins = store.search_users(&filtered(UserFilter::Admins)).await.unwrap();
        assert_eq!(names(&admins), ["carol"]);
    }

    #[tokio::test]
    async fn pages_follow_each_other_in_either_order() {
        let (store, _scratch) = people().await;
        for (order, expected) in [
            (UserOrder::Name, ["alice", "Bob", "carol", "dave_x"]),
            (UserOrder::Newest, ["dave_x", "alice", "Bob", "carol"]),
        ] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .search_users(&UserQuery {
                        order,
                        after: after.clone(),
                        limit: 3,
                        ..UserQuery::default()
                    })
                    .await
                    .unwrap();
                seen.extend(page.users.iter().map(|user| user.username.clone()));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, expected, "{order:?}");
        }
    }
}
