//! `/admin/users`: the user table for administrators (search, filters, order, pages) and the
//! form that creates an account. The search is a plain GET form and the pages are links, so
//! the table works without JavaScript and every view of it has its own URL.

use leptos::html::Form as FormElement;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;
use leptos_router::location::Url;

use crate::api::{CreateUser, ManagedUser, UserList, list_users};
use crate::components::island::count_when_alive;
use crate::components::with_user::WithUser;

/// The user table and the new-account form.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <Title text="Users"/>
        <WithUser page=|_| view! {
            <UserTable/>
            <CreateUserForm/>
        }/>
    }
}

/// What the table shows, as the URL's query says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct TableView {
    search: String,
    status: String,
    sort: String,
    after: String,
}

impl TableView {
    /// The URL of this view, starting after `after` (the first page when empty).
    fn href(&self, after: &str) -> String {
        let mut query = Vec::new();
        for (key, value) in [
            ("search", &self.search),
            ("status", &self.status),
            ("sort", &self.sort),
        ] {
            if !value.is_empty() {
                query.push((key, value.as_str()));
            }
        }
        if !after.is_empty() {
            query.push(("after", after));
        }
        let encoded: String = query
            .iter()
            .map(|(key, value)| format!("{key}={}", Url::escape(value)))
            .collect::<Vec<_>>()
            .join("&");
        if encoded.is_empty() {
            "/admin/users".to_owned()
        } else {
            format!("/admin/users?{encoded}")
        }
    }
}

#[component]
fn UserTable() -> impl IntoView {
    let query = use_query_map();
    let view_of_url = Memo::new(move |_| {
        query.with(|query| TableView {
            search: query.get("search").unwrap_or_default(),
            status: query.get("status").unwrap_or_default(),
            sort: query.get("sort").unwrap_or_default(),
            after: query.get("after").unwrap_or_default(),
        })
    });
    let users = Resource::new(
        move || view_of_url.get(),
        |view| {
            list_users(
                Some(view.search),
                Some(view.status),
                Some(view.sort),
                Some(view.after),
            )
        },
    );
    let selected = move |field: fn(&TableView) -> &String, value: &'static str| {
        move || view_of_url.with(|view| field(view) == value)
    };

    view! {
        <section class="card wide">
            <h1>"Users"</h1>
            <Form method="get" action="/admin/users" attr:class="toolbar" attr:role="search">
                <div class="field grow">
                    <label for="search">"Search"</label>
                    <input id="search" name="search" type="search" placeholder="Username, name or e-mail"
                        value=move || view_of_url.with(|view| view.search.clone())/>
                </div>
                <div class="field">
                    <label for="status">"Show"</label>
                    <select id="status" name="status">
                        <option value="" selected=selected(|view| &view.status, "")>"Everyone"</option>
                        <option value="active" selected=selected(|view| &view.status, "active")>"Active"</option>
                        <option value="disabled" selected=selected(|view| &view.status, "disabled")>"Disabled"</option>
                        <option value="admins" selected=selected(|view| &view.status, "admins")>"Administrators"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="sort">"Order"</label>
                    <select id="sort" name="sort">
                        <option value="" selected=selected(|view| &view.sort, "")>"By username"</option>
                        <option value="newest" selected=selected(|view| &view.sort, "newest")>"Newest first"</option>
                    </select>
                </div>
                <button type="submit" class="button">"Search"</button>
            </Form>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UserRows list view=view_of_url.get_untracked()/> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UserRows(list: UserList, view: TableView) -> impl IntoView {
    if list.users.is_empty() {
        return view! { <p>"No user matches."</p> }.into_any();
    }
    let row = |user: ManagedUser| {
        let href = format!("/admin/users/{}", user.username);
        view! {
            <tr>
                <th scope="row"><A href=href>{user.username.clone()}</A></th>
                <td>{user.full_name.clone().unwrap_or_default()}</td>
                <td class="email">{user.email.clone().unwrap_or_default()}</td>
                <td>
                    {if user.disabled {
                        view! { <span class="badge muted">"Disabled"</span> }.into_any()
                    } else {
                        view! { <span class="badge ok">"Active"</span> }.into_any()
                    }}
                    {user.admin.then(|| view! { <span class="badge">"Admin"</span> })}
                </td>
                <td>{user.created.clone()}</td>
            </tr>
        }
    };
    let first_page = (!view.after.is_empty()).then(|| view.href(""));
    let next_page = list.next.as_deref().map(|next| view.href(next));
    view! {
        <div class="table-scroll">
            <table class="users">
                <caption class="visually-hidden">"Users"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Full name"</th>
                        <th scope="col">"E-mail"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>{list.users.into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {first_page.map(|href| view! { <A href=href>"First page"</A> })}
            {next_page.map(|href| view! { <A href=href attr:rel="next">"Next page"</A> })}
        </nav>
    }
    .into_any()
}

/// Creates an account; on success the server's redirect leads to its page. An island, loaded
/// on demand.
#[island(lazy)]
fn CreateUserForm() -> impl IntoView {
    count_when_alive();
    let action = ServerAction::<CreateUser>::new();
    let form = NodeRef::<FormElement>::new();
    let pending = action.pending();
    view! {
        <section class="card" aria-labelledby="create-account">
            <h2 id="create-account">"Create an account"</h2>
            <ActionForm action=action node_ref=form attr:class="form">
                <div class="field">
                    <label for="new-username">"Username"</label>
                    <input id="new-username" name="username" autocomplete="off" required minlength="3" maxlength="32"
                        pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*" aria-describedby="new-username-rules"/>
                    <p id="new-username-rules" class="hint">"3 to 32 letters, digits, '.', '_' or '-'."</p>
                </div>
                <div class="field">
                    <label for="new-full-name">"Full name (optional)"</label>
                    <input id="new-full-name" name="full_name" autocomplete="off" maxlength="100"/>
                </div>
                <div class="field">
                    <label for="new-email">"E-mail (optional)"</label>
                    <input id="new-email" name="email" type="email" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="new-password">"Password"</label>
                    <input id="new-password" name="password" type="password" autocomplete="new-password" required
                        minlength="8" maxlength="1024" aria-describedby="new-password-rules"/>
                    <p id="new-password-rules" class="hint">"At least 8 characters; common passwords are refused. Give it to the person safely."</p>
                </div>
                <label class="checkbox">
                    <input type="checkbox" name="admin" value="on"/>
                    "Administrator"
                </label>
                <p class="form-status" aria-live="polite">
                    {move || action.value().get().and_then(Result::err).map(|error| view! {
                        <span class="form-error">{error.to_string()}</span>
                    })}
                </p>
                <button type="submit" class="button" disabled=pending>
                    {move || if pending.get() { "Creating…" } else { "Create account" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_keeps_its_filters_from_page_to_page() {
        let view = TableView {
            search: "a&b c".into(),
            status: "active".into(),
            sort: String::new(),
            after: "x".into(),
        };
        assert_eq!(
            view.href("bob"),
            "/admin/users?search=a%26b%20c&status=active&after=bob"
        );
        assert_eq!(TableView::default().href(""), "/admin/users");
    }
}
