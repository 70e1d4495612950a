//! `/admin/audit`: the audit log for administrators, newest first, filtered by person, action
//! and dates. A plain GET form and links, like the user table, so every view has its URL and
//! works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;
use leptos_router::location::Url;

use crate::api::{AuditAction, AuditList, AuditRecord, list_audit};
use crate::components::with_user::WithUser;

/// The audit log page.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log"/>
        <WithUser page=|_| view! { <AuditLog/> }/>
    }
}

/// The filters, as the URL's query says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Filters {
    user: String,
    action: String,
    since: String,
    until: String,
    before: String,
}

impl Filters {
    /// The URL of these filters, starting before `before` (the newest events when empty).
    fn href(&self, before: &str) -> String {
        let query: Vec<String> = [
            ("user", self.user.as_str()),
            ("action", self.action.as_str()),
            ("since", self.since.as_str()),
            ("until", self.until.as_str()),
            ("before", before),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", Url::escape(value)))
        .collect();
        if query.is_empty() {
            "/admin/audit".to_owned()
        } else {
            format!("/admin/audit?{}", query.join("&"))
        }
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|query| Filters {
            user: query.get("user").unwrap_or_default(),
            action: query.get("action").unwrap_or_default(),
            since: query.get("since").unwrap_or_default(),
            until: query.get("until").unwrap_or_default(),
            before: query.get("before").unwrap_or_default(),
        })
    });
    let events = Resource::new(
        move || filters.get(),
        |f| {
            list_audit(
                Some(f.user),
                Some(f.action),
                Some(f.since),
                Some(f.until),
                Some(f.before),
            )
        },
    );
    let value_of = move |field: fn(&Filters) -> &String| move || filters.with(|f| field(f).clone());

    view! {
        <section class="card wide">
            <h1>"Audit log"</h1>
            <Form method="get" action="/admin/audit" attr:class="toolbar" attr:role="search">
                <div class="field grow">
                    <label for="audit-user">"User"</label>
                    <input id="audit-user" name="user" type="search" placeholder="Username" value=value_of(|f| &f.user)/>
                </div>
                <div class="field">
                    <label for="audit-action">"Action"</label>
                    <select id="audit-action" name="action">
                        <option value="" selected=move || filters.with(|f| f.action.is_empty())>"Any"</option>
                        {AuditAction::ALL.into_iter().map(|action| view! {
                            <option value=action.as_str() selected=move || filters.with(|f| f.action == action.as_str())>
                                {action.label()}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="audit-since">"From"</label>
                    <input id="audit-since" name="since" type="date" value=value_of(|f| &f.since)/>
                </div>
                <div class="field">
                    <label for="audit-until">"To"</label>
                    <input id="audit-until" name="until" type="date" value=value_of(|f| &f.until)/>
                </div>
                <button type="submit" class="button">"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(list) => view! { <AuditRows list filters=filters.get_untracked()/> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AuditRows(list: AuditList, filters: Filters) -> impl IntoView {
    if list.events.is_empty() {
        return view! { <p>"No event matches."</p> }.into_any();
    }
    let row = |event: AuditRecord| {
        let outcome_class = format!("badge outcome-{}", event.outcome);
        view! {
            <tr>
                <td>{event.at}</td>
                <td>{event.actor}</td>
                <td>{event.action}</td>
                <td>{event.target.unwrap_or_default()}</td>
                <td><span class=outcome_class>{event.outcome}</span></td>
                <td>
                    {event.address.unwrap_or_default()}
                    {event.device.map(|device| view! { <br/><span class="hint">{device}</span> })}
                </td>
                <td class="request-id">{event.request_id.unwrap_or_default()}</td>
            </tr>
        }
    };
    let newest = (!filters.before.is_empty()).then(|| filters.href(""));
    let older = list.next.as_deref().map(|next| filters.href(next));
    view! {
        <div class="table-scroll">
            <table class="users audit">
                <caption class="visually-hidden">"Audit events, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"User"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"From"</th>
                        <th scope="col">"Request"</th>
                    </tr>
                </thead>
                <tbody>{list.events.into_iter().map(row).collect_view()}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {newest.map(|href| view! { <A href=href>"Newest events"</A> })}
            {older.map(|href| view! { <A href=href attr:rel="next">"Older events"</A> })}
        </nav>
    }
    .into_any()
}
