//! The pages, one module each, with the context its template expects.
//!
//! Every context is a Rust struct, so a handler that forgets a field does not compile. The
//! [`Site`](crate::Site) fields (`lang`, `base_path`, `branding`) are added by
//! [`Templates::render_page`](crate::Templates::render_page).

mod account;
mod compat_sso;
mod consent;
mod device_consent;
mod device_done;
mod device_link;
mod end_session;
mod error;
mod form_post;
mod index;
mod logged_out;
mod login;
mod recover;
mod register;
mod upstream;
mod verify_email;

use serde::Serialize;

pub use self::{
    account::{
        AccountCrossSigningResetPage, AccountDeactivatePage, AccountDeactivatedPage,
        AccountDevicePage, AccountLockedPage, AccountNav, AccountPasswordPage, AccountProfilePage,
        AccountSecondFactorsPage, AccountSection, AccountSessionsPage, AccountTokensPage,
        EmailView, LinkedAccountView, NewPersonalToken, PasskeyView, PasswordChangeErrors,
        PersonalTokenView, SessionKind, SessionView, Timestamp, TotpEnrolmentView,
    },
    compat_sso::CompatSsoPage,
    consent::{ClientView, ConsentPage},
    device_consent::DeviceConsentPage,
    device_done::DeviceDonePage,
    device_link::DeviceLinkPage,
    end_session::EndSessionPage,
    error::ErrorPage,
    form_post::FormPostPage,
    index::IndexPage,
    logged_out::LoggedOutPage,
    login::{LoginPage, PasskeyForm, ProviderButton, SecondFactorPage},
    recover::{RecoverCompletePage, RecoverPage, RecoverSentPage},
    register::{RegisterErrors, RegisterPage},
    upstream::{ImportedValue, UpstreamLinkPage, UpstreamRegisterPage},
    verify_email::VerifyEmailPage,
};

/// A page context and the template that renders it.
pub trait Page: Serialize {
    /// Name of the template.
    const TEMPLATE: &'static str;
}
