//! `account/*.html`: the pages where signed-in people manage their account, under `/account/`.
//!
//! Every page but the two that follow a sign-out ([`AccountDeactivatedPage`],
//! [`AccountLockedPage`]) carries an [`AccountNav`] for the navigation between them. Forms post
//! `csrf` to the URL in their `action` (or to the page's own URL when it has none).

use serde::Serialize;

use super::{Page, ProviderButton};

/// The account page being shown, for the navigation to mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSection {
    Profile,
    Sessions,
    Password,
    CrossSigningReset,
    Tokens,
    SecondFactors,
    Deactivate,
}

/// The navigation between the account pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountNav {
    /// The page shown, marked `aria-current="page"`.
    pub current: AccountSection,
    /// Who is signed in (the localpart).
    pub username: String,
    /// Their full Matrix ID (`@alice:example.com`), shown in the page header of every account
    /// page so that a person with two accounts knows which one they are changing.
    pub mxid: String,
    /// Their display name, as the homeserver keeps it; `None` when they have none or the
    /// homeserver could not be asked.
    pub display_name: Option<String>,
    /// Links the password page.
    pub password_change_allowed: bool,
    /// Links the deactivation page.
    pub deactivation_allowed: bool,
    /// Where a form asks for the password: the providers the user may sign in at again instead
    /// (coming back to this page), those of their linked accounts.
    pub reauth: Vec<ProviderButton>,
    /// Where a form asks for the password: confirming with a passkey instead, when the user has
    /// one (not on the deactivation page, which takes the password every time, unless the user
    /// has no password).
    pub passkey_reauth: Option<super::PasskeyForm>,
    /// The user has a password: forms ask for it; without one, they confirm who they are with a
    /// passkey or at their provider instead.
    pub has_password: bool,
}

/// An instant, as a machine reads it (`datetime`) and as a person does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timestamp {
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
    /// For people: `2026-11-23 12:00 UTC`.
    pub text: String,
}

/// What kind of session a [`SessionView`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// Signed in to this service in a web browser.
    Browser,
    /// An application signed in with OAuth 2.0.
    #[serde(rename = "oauth")]
    OAuth,
    /// An application signed in with the Matrix login API.
    Compat,
}

/// One session of the user, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// The session's id, unique among all of the user's sessions.
    pub id: String,
    pub kind: SessionKind,
    /// What to call it: the application's name, the device's name, or the browser.
    pub title: String,
    /// The Matrix device, when it has one.
    pub device_id: Option<String>,
    /// The device's page, when it has a device.
    pub device_url: Option<String>,
    pub created_at: Timestamp,
    pub last_active_at: Option<Timestamp>,
    /// The client's address when it was last active, if known.
    pub last_active_ip: Option<String>,
    /// The software, readable: `Firefox on Linux`, `Element X`; the raw user agent when
    /// nothing readable is in it.
    pub client: Option<String>,
    /// The raw `User-Agent`, shown on hover.
    pub user_agent: Option<String>,
    /// The browser session this page is shown in.
    pub current: bool,
    /// Where its "End" form posts.
    pub end_url: String,
}

/// `account/profile.html`: who the user is, their display name and email addresses.
///
/// When `displayname_change_allowed`, a form posts `csrf` and `display_name` to
/// `display_name_url`. When `email_change_allowed`, a form adds an address and each address
/// has a remove form. A sign-out form posts `csrf` to `{base_path}/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountProfilePage {
    pub nav: AccountNav,
    /// Anti-CSRF token of the page's forms.
    pub csrf: String,
    /// The full Matrix ID, `@alice:example.com`.
    pub mxid: String,
    /// The display name on the homeserver's profile, if any.
    pub display_name: Option<String>,
    /// The homeserver could not be asked for the display name.
    pub display_name_unavailable: bool,
    /// Shows the display name form.
    pub displayname_change_allowed: bool,
    /// Where the display name form posts.
    pub display_name_url: String,
    /// What was typed in the display name field before an error.
    pub display_name_input: Option<String>,
    /// Why the display name was refused.
    pub display_name_error: Option<String>,
    /// The user's email addresses.
    pub emails: Vec<EmailView>,
    /// Shows the forms that add and remove addresses.
    pub email_change_allowed: bool,
    /// Where the "Add an address" form posts `csrf` and `email`.
    pub add_email_url: String,
    /// What was typed in the address field before an error.
    pub email_input: Option<String>,
    /// Why adding or removing an address was refused.
    pub email_error: Option<String>,
    /// The forms removing an address or a linked account ask for the password (no sign-in in
    /// the last 5 minutes).
    pub email_password_required: bool,
    /// The user's accounts at upstream providers.
    pub linked_accounts: Vec<LinkedAccountView>,
    /// Why unlinking an account was refused.
    pub link_error: Option<String>,
    /// Enabled providers the user has no account linked at: buttons that link one.
    pub link_providers: Vec<ProviderButton>,
    /// A confirmation of what was just done.
    pub notice: Option<String>,
}

/// An account at an upstream provider on the profile page, with where its unlink form posts
/// `csrf` (and `password` when required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedAccountView {
    /// The provider's name.
    pub provider: String,
    /// The account, as a person recognises it (its name at the provider, else its subject).
    pub account: String,
    pub remove_url: String,
}

/// One email address on the profile page, with where its remove form posts `csrf` (and
/// `password` when required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailView {
    pub email: String,
    pub remove_url: String,
}

impl Page for AccountProfilePage {
    const TEMPLATE: &'static str = "account/profile.html";
}

/// `account/sessions.html`: every open session of the user, with a form to end each (but the
/// current browser session, which the sign-out button ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSessionsPage {
    pub nav: AccountNav,
    pub csrf: String,
    pub browser_sessions: Vec<SessionView>,
    pub oauth_sessions: Vec<SessionView>,
    pub compat_sessions: Vec<SessionView>,
    /// A confirmation of what was just done.
    pub notice: Option<String>,
}

impl Page for AccountSessionsPage {
    const TEMPLATE: &'static str = "account/sessions.html";
}

/// `account/device.html`: the sessions of one Matrix device, each with an "End this session"
/// form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountDevicePage {
    pub nav: AccountNav,
    pub csrf: String,
    pub device_id: String,
    pub sessions: Vec<SessionView>,
    /// The client asked to end the session (MSC4191 `org.matrix.device_delete`): the page asks
    /// for confirmation first.
    pub confirm_end: bool,
}

impl Page for AccountDevicePage {
    const TEMPLATE: &'static str = "account/device.html";
}

/// The problems of a password change, each next to its field.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PasswordChangeErrors {
    pub form: Option<String>,
    pub current_password: Option<String>,
    pub new_password: Option<String>,
    pub new_password_confirm: Option<String>,
}

/// `account/password.html`: posts back `csrf`, `current_password`, `new_password` and
/// `new_password_confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountPasswordPage {
    pub nav: AccountNav,
    pub csrf: String,
    /// The current password is required (the last sign-in is not recent enough to do
    /// without); otherwise the field is optional.
    pub current_password_required: bool,
    pub errors: PasswordChangeErrors,
    /// A confirmation of what was just done.
    pub notice: Option<String>,
    /// Where to post to give up the password for passkeys, when the user may
    /// (`account.second_factors.passkey_only_accounts_allowed`, and they have a passkey).
    pub remove_password_url: Option<String>,
}

impl Page for AccountPasswordPage {
    const TEMPLATE: &'static str = "account/password.html";
}

/// `account/cross_signing_reset.html`: explains the reset and posts back `csrf` (and
/// `password` when `password_required`); once `allowed`, says for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountCrossSigningResetPage {
    pub nav: AccountNav,
    pub csrf: String,
    /// Asks for the password: the last sign-in is not recent enough.
    pub password_required: bool,
    /// Why the last attempt was refused.
    pub error: Option<String>,
    /// The homeserver now allows the reset.
    pub allowed: bool,
}

impl Page for AccountCrossSigningResetPage {
    const TEMPLATE: &'static str = "account/cross_signing_reset.html";
}

/// `account/deactivate.html`: posts back `csrf`, `password` when `password_required`, and
/// `erase` (`yes` when ticked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountDeactivatePage {
    pub nav: AccountNav,
    pub csrf: String,
    /// The full Matrix ID, to say which account goes.
    pub mxid: String,
    /// Asks for the password: the last sign-in is not recent enough.
    pub password_required: bool,
    /// Why the last attempt was refused.
    pub error: Option<String>,
}

impl Page for AccountDeactivatePage {
    const TEMPLATE: &'static str = "account/deactivate.html";
}

/// `account/deactivated.html`: the account is deactivated, and this browser signed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountDeactivatedPage {}

impl Page for AccountDeactivatedPage {
    const TEMPLATE: &'static str = "account/deactivated.html";
}

/// `account/locked.html`: the account is locked by the administrators, and this browser
/// signed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountLockedPage {}

impl Page for AccountLockedPage {
    const TEMPLATE: &'static str = "account/locked.html";
}

/// One personal access token of the user, as the tokens page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonalTokenView {
    pub name: String,
    /// What it may do, in plain words.
    pub scopes: Vec<crate::ScopeView>,
    pub created_at: Timestamp,
    pub last_active_at: Option<Timestamp>,
    /// `None`: until revoked.
    pub expires_at: Option<Timestamp>,
    /// Expired already (still listed until revoked).
    pub expired: bool,
    /// Where its "Revoke" form posts.
    pub revoke_url: String,
}

/// A token just made: shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPersonalToken {
    pub name: String,
    pub token: String,
}

/// `account/tokens.html`: the user's personal access tokens, each with a revoke form posting
/// `csrf`, and a form posting `csrf`, `name`, `device` (optional), `admin` (`yes` when ticked,
/// offered only when `admin_allowed`), `expires_in_days` (one of `expiry_choices`)
/// and `password` when `password_required`. A token just made is in `created`, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountTokensPage {
    pub nav: AccountNav,
    pub csrf: String,
    pub password_required: bool,
    pub tokens: Vec<PersonalTokenView>,
    pub created: Option<NewPersonalToken>,
    /// The user may give their tokens the Admin API.
    pub admin_allowed: bool,
    /// The expiries offered, in days; the first is the default.
    pub expiry_choices: Vec<u32>,
    /// What the form held when it was refused.
    pub name_input: Option<String>,
    pub device_input: Option<String>,
    /// Why the last attempt was refused.
    pub error: Option<String>,
    /// What the last action did.
    pub notice: Option<String>,
}

impl Page for AccountTokensPage {
    const TEMPLATE: &'static str = "account/tokens.html";
}

/// An authenticator app being added: the QR code to scan, or the secret to type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotpEnrolmentView {
    /// The QR code of [`uri`](Self::uri), as a `data:` URL of an SVG image.
    pub qr_code: String,
    /// The secret in base32, in groups of four letters for typing.
    pub secret: String,
    /// The `otpauth://` URI, a link for a phone that has the app.
    pub uri: String,
}

/// `account/second_factors.html`: the authenticator app and the recovery codes. Its forms post
/// `csrf` (and `password` when `password_required`) to `start_url`, `confirm_url` (with `code`),
/// `recovery_codes_url` and `remove_url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each flag shows or hides one part of the page"
)]
pub struct AccountSecondFactorsPage {
    pub nav: AccountNav,
    pub csrf: String,
    /// Asks for the password in the forms that change factors: the last sign-in is not recent
    /// enough.
    pub password_required: bool,
    /// The operator lets users add an authenticator app.
    pub totp_allowed: bool,
    /// The user has a confirmed authenticator app.
    pub totp: bool,
    /// An authenticator app being added, waiting for its first code.
    pub enrolment: Option<TotpEnrolmentView>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u64,
    /// Recovery codes just made, shown this once.
    pub new_recovery_codes: Vec<String>,
    /// The operator requires a second factor of this user: it cannot be removed.
    pub required: bool,
    /// The user's passkeys.
    pub passkeys: Vec<PasskeyView>,
    /// Adding a passkey, when passkeys are allowed (and the server is reached by a name).
    pub add_passkey: Option<super::PasskeyForm>,
    /// Where a passkey is removed (its `id` in the form).
    pub remove_passkey_url: String,
    pub start_url: String,
    pub confirm_url: String,
    pub recovery_codes_url: String,
    pub remove_url: String,
    /// Why the last attempt was refused.
    pub error: Option<String>,
    /// A confirmation of what was just done.
    pub notice: Option<String>,
}

/// A passkey in the list of the account's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeyView {
    pub id: String,
    /// The name the user gave it.
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl Page for AccountSecondFactorsPage {
    const TEMPLATE: &'static str = "account/second_factors.html";
}
