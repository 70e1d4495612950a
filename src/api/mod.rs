//! Server functions and the wire types they exchange, compiled on both sides: the browser calls
//! them over HTTP, the server runs their bodies (which hand over to `crate::server` at once).
//!
//! [`SERVER_FUNCTIONS`] says who may call each one: every body that needs a user is admitted by
//! it (`server::auth::access::admitted`), and a test fails when a registered function is missing
//! from it.

pub mod account;
pub mod admin;
pub mod audit;
pub mod passkeys;
pub mod self_service;
pub mod session;
pub mod setup;
pub mod two_step;

use leptos::server_fn::ServerFn;

pub use account::{
    ChangePassword, CurrentUser, ListSessions, RevokeOtherSessions, RevokeSession, SessionSummary,
    UserSummary, change_password, current_user, list_sessions, revoke_other_sessions, revoke_session,
};
pub use admin::{
    ActOnUser, CreateUser, EditUser, ListUsers, ManagedUser, SetTemporaryPassword, UserAction, UserDetails,
    UserList, UserOverview, act_on_user, create_user, edit_user, list_users, set_temporary_password,
    user_details,
};
pub use audit::{
    AuditAction, AuditList, AuditRecord, ListAudit, RecentActivity, list_audit, recent_activity,
};
pub use passkeys::{
    BeginAddPasskey, BeginPasskeySignIn, FinishAddPasskey, FinishPasskeySignIn, ListPasskeys, PasskeySummary,
    PasskeysOffered, RemovePasskey, RenamePasskey, begin_add_passkey, begin_passkey_sign_in,
    finish_add_passkey, finish_passkey_sign_in, list_passkeys, passkeys_offered, remove_passkey,
    rename_passkey,
};
pub use self_service::{
    ChangeEmail, EmailLinkState, ForgotPassword, LinkState, ResendVerification, ResetLinkState,
    ResetPassword, SignUp, SignupOpen, VerifyEmail, change_email, email_link_state, forgot_password,
    resend_verification, reset_link_state, reset_password, sign_up, signup_open, verify_email,
};
pub use session::{Login, Logout, login, logout};
pub use setup::{CompleteSetup, SetupLinkState, SetupState, complete_setup, setup_link_state};
pub use two_step::{
    BeginTwoStep, ConfirmTwoStep, FinishSignIn, NewRecoveryCodes, TotpEnrolment, TurnOffTwoStep,
    TwoStepStatus, TwoStepSummary, begin_two_step, confirm_two_step, finish_sign_in, new_recovery_codes,
    turn_off_two_step, two_step_status,
};

use crate::routes::Access;

/// Every server function with who may call it. Public ones decide for themselves what a
/// visitor gets (signing in, signing out, asking who is signed in).
pub const SERVER_FUNCTIONS: &[(&str, Access)] = &[
    (<Login as ServerFn>::PATH, Access::Public),
    (<Logout as ServerFn>::PATH, Access::Public),
    (<CurrentUser as ServerFn>::PATH, Access::Public),
    // Guarded by the setup link, and only while no administrator exists.
    (<SetupLinkState as ServerFn>::PATH, Access::Public),
    (<CompleteSetup as ServerFn>::PATH, Access::Public),
    // Self-service by mail: each guarded by its link, its throttle or --allow-signup.
    (<ForgotPassword as ServerFn>::PATH, Access::Public),
    (<ResetLinkState as ServerFn>::PATH, Access::Public),
    (<ResetPassword as ServerFn>::PATH, Access::Public),
    (<EmailLinkState as ServerFn>::PATH, Access::Public),
    (<VerifyEmail as ServerFn>::PATH, Access::Public),
    (<SignupOpen as ServerFn>::PATH, Access::Public),
    (<SignUp as ServerFn>::PATH, Access::Public),
    // Guarded by the browser's half-finished sign-in (a right password, minutes ago).
    (<FinishSignIn as ServerFn>::PATH, Access::Public),
    // Guarded by the passkey's signature over a challenge this browser was given.
    (<PasskeysOffered as ServerFn>::PATH, Access::Public),
    (<BeginPasskeySignIn as ServerFn>::PATH, Access::Public),
    (<FinishPasskeySignIn as ServerFn>::PATH, Access::Public),
    (<ListPasskeys as ServerFn>::PATH, Access::SignedIn),
    (<BeginAddPasskey as ServerFn>::PATH, Access::SignedIn),
    (<FinishAddPasskey as ServerFn>::PATH, Access::SignedIn),
    (<RenamePasskey as ServerFn>::PATH, Access::SignedIn),
    (<RemovePasskey as ServerFn>::PATH, Access::SignedIn),
    (<TwoStepStatus as ServerFn>::PATH, Access::SignedIn),
    (<BeginTwoStep as ServerFn>::PATH, Access::SignedIn),
    (<ConfirmTwoStep as ServerFn>::PATH, Access::SignedIn),
    (<NewRecoveryCodes as ServerFn>::PATH, Access::SignedIn),
    (<TurnOffTwoStep as ServerFn>::PATH, Access::SignedIn),
    (<ResendVerification as ServerFn>::PATH, Access::SignedIn),
    (<ChangeEmail as ServerFn>::PATH, Access::SignedIn),
    (<ChangePassword as ServerFn>::PATH, Access::OwnPassword),
    (<ListSessions as ServerFn>::PATH, Access::SignedIn),
    (<RevokeSession as ServerFn>::PATH, Access::SignedIn),
    (<RevokeOtherSessions as ServerFn>::PATH, Access::SignedIn),
    (<ListUsers as ServerFn>::PATH, Access::Admin),
    (<UserDetails as ServerFn>::PATH, Access::Admin),
    (<CreateUser as ServerFn>::PATH, Access::Admin),
    (<EditUser as ServerFn>::PATH, Access::Admin),
    (<ActOnUser as ServerFn>::PATH, Access::Admin),
    (<SetTemporaryPassword as ServerFn>::PATH, Access::Admin),
    (<RecentActivity as ServerFn>::PATH, Access::SignedIn),
    (<ListAudit as ServerFn>::PATH, Access::Admin),
];

/// Who may call the server function at `path`; `None` when no server function lives there.
pub fn access_of(path: &str) -> Option<Access> {
    SERVER_FUNCTIONS
        .iter()
        .find(|(function, _)| *function == path)
        .map(|(_, access)| *access)
}
