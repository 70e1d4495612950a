//! The bodies of the admin server functions in [`crate::api::admin`]: the caller as the route
//! table admits them, the rules of [`super`], and the answers the pages show.

use leptos::prelude::expect_context;
use secrecy::SecretString;

use crate::api::{
    ActOnUser, CreateUser, EditUser, ListUsers, ManagedUser, SetTemporaryPassword, UserAction, UserDetails,
    UserList, UserOverview,
};
use crate::domain::Password;
use crate::error::{AppError, Problem};
use crate::server::admin::{self, AdminError, NewAccount};
use crate::server::audit::Actor;
use crate::server::audit::pages::acting;
use crate::server::auth::access::admitted;
use crate::server::auth::actions::redirect;
use crate::server::auth::current_user::human_time;
use crate::server::auth::sessions::{Liveness, liveness};
use crate::server::errors::internal;
use crate::server::state::AppState;
use crate::server::store::{UserQuery, UserRow};

/// Users shown on one page of the table.
const PAGE_SIZE: u32 = 50;

impl From<AdminError> for AppError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::Refused(problem) => Self::Invalid(problem),
            AdminError::Failed(error) => internal(error),
        }
    }
}

/// What the pages show of `user`.
pub fn managed(user: &UserRow) -> Result<ManagedUser, AppError> {
    Ok(ManagedUser {
        username: user.username.clone(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        disabled: user.disabled,
        admin: user.admin,
        must_change_password: user.must_change_password,
        created: human_time(user.created_at).map_err(internal)?,
    })
}

/// See [`crate::api::list_users`].
pub async fn list_users(
    search: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    after: Option<String>,
) -> Result<UserList, AppError> {
    admitted::<ListUsers>()?;
    let state = expect_context::<AppState>();
    let page = state
        .store
        .search_users(&UserQuery {
            search: search.unwrap_or_default(),
            filter: admin::parse_filter(status.as_deref()),
            order: admin::parse_order(sort.as_deref()),
            after: after.filter(|after| !after.is_empty()),
            limit: PAGE_SIZE,
        })
        .await
        .map_err(internal)?;
    Ok(UserList {
        users: page.users.iter().map(managed).collect::<Result<_, _>>()?,
        next: page.next,
    })
}

/// See [`crate::api::user_details`].
pub async fn user_details(username: String) -> Result<UserOverview, AppError> {
    let admin = admitted::<UserDetails>()?;
    let state = expect_context::<AppState>();
    let name = admin::parse_username(&username).map_err(|_| AppError::Invalid(Problem::UnknownUser))?;
    let user = state
        .store
        .find_user(&name)
        .await
        .map_err(internal)?
        .ok_or(AppError::Invalid(Problem::UnknownUser))?;
    // The one rule of whether a session is alive: a disabled account has none.
    let live: Vec<_> = state
        .store
        .sessions_of(user.id, state.clock.now())
        .await
        .map_err(internal)?
        .into_iter()
        .filter(|session| liveness(&state, session, &user) == Liveness::Alive)
        .collect();
    let last_seen = live
        .iter()
        .map(|session| session.last_used_at.unwrap_or(session.created_at))
        .max()
        .map(human_time)
        .transpose()
        .map_err(internal)?;
    Ok(UserOverview {
        user: managed(&user)?,
        live_sessions: live.len(),
        last_seen,
        two_step: state.store.has_second_factor(user.id).await.map_err(internal)?,
        passkeys: state.store.passkeys_of(user.id).await.map_err(internal)?.len(),
        is_you: user.id == admin.user.id,
    })
}

/// See [`crate::api::create_user`]: on success, the new account's page.
pub async fn create_user(
    username: String,
    full_name: Option<String>,
    email: Option<String>,
    password: Password,
    is_admin: bool,
) -> Result<(), AppError> {
    let admin = admitted::<CreateUser>()?;
    let state = expect_context::<AppState>();
    let user = admin::create_user(
        &state,
        &acting(Actor::user(&admin.user)),
        NewAccount {
            username,
            full_name,
            email,
            password: SecretString::from(password.expose()),
            admin: is_admin,
        },
    )
    .await?;
    // A valid username is letters, digits, '.', '_' and '-': safe in a path and a header.
    redirect(&format!("/admin/users/{}", user.username));
    Ok(())
}

/// See [`crate::api::edit_user`].
pub async fn edit_user(
    username: String,
    full_name: Option<String>,
    email: Option<String>,
) -> Result<(), AppError> {
    let admin = admitted::<EditUser>()?;
    let state = expect_context::<AppState>();
    admin::edit_user(
        &state,
        &acting(Actor::user(&admin.user)),
        &username,
        full_name.as_deref(),
        email.as_deref(),
    )
    .await?;
    Ok(())
}

/// See [`crate::api::act_on_user`]: after a deletion, the user table.
pub async fn act_on_user(
    username: String,
    action: UserAction,
    confirm: Option<String>,
) -> Result<UserAction, AppError> {
    let admin = admitted::<ActOnUser>()?;
    let state = expect_context::<AppState>();
    admin::act_on_user(
        &state,
        &acting(Actor::user(&admin.user)),
        &username,
        action,
        confirm.as_deref(),
    )
    .await?;
    if action == UserAction::Delete {
        redirect("/admin/users");
    }
    Ok(action)
}

/// See [`crate::api::set_temporary_password`].
pub async fn set_temporary_password(username: String, password: Password) -> Result<(), AppError> {
    let admin = admitted::<SetTemporaryPassword>()?;
    let state = expect_context::<AppState>();
    admin::set_temporary_password(
        &state,
        &acting(Actor::user(&admin.user)),
        &username,
        &SecretString::from(password.expose()),
    )
    .await?;
    Ok(())
}
