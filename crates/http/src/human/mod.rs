//! The `human` resource: pages for people (sign-in, sign-out, registration, recovery, account
//! management). The pages of the OAuth 2.0 flows and of the Matrix login API's single sign-on
//! live with their flows ([`crate::oauth::pages`], [`crate::compat::pages`]); [`crate::router`]
//! serves them with this resource.

pub mod account;
pub mod email_code;
pub mod index;
pub mod login;
pub mod logout;
pub mod messages;
pub mod passkey;
pub mod post_auth;
pub mod recover;
pub mod register;
pub mod second_factor;

use axum::{
    Router,
    routing::{get, post},
};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index::get))
        .route("/login", get(login::get).post(login::post))
        .route(
            "/login/second-factor",
            get(second_factor::get).post(second_factor::post),
        )
        .route(
            "/login/second-factor/passkey/options",
            post(second_factor::passkey_options),
        )
        .route("/login/passkey", post(passkey::sign_in))
        .route("/login/passkey/options", post(passkey::options))
        .route("/logout", post(logout::post))
        .route("/recover", get(recover::get).post(recover::post))
        .route(
            "/recover/complete",
            get(recover::complete_get).post(recover::complete_post),
        )
        // Where MAS's recovery emails point: links sent before a move from MAS keep working.
        .route(
            "/account/password/recovery",
            get(recover::complete_get).post(recover::complete_post),
        )
        .route("/register", get(register::get))
        .route(
            "/register/password",
            get(register::password_get).post(register::password_post),
        )
        .route(
            "/register/steps/{id}/verify-email",
            get(register::verify_get).post(register::verify_post),
        )
        .route("/register/steps/{id}/resend", post(register::resend_post))
        .route("/account", get(account::without_slash))
        .route("/account/", get(account::profile::get))
        .route("/account/profile", post(account::profile::post))
        .route("/account/emails", post(account::emails::add))
        .route(
            "/account/emails/verify/{id}",
            get(account::emails::verify_get).post(account::emails::verify_post),
        )
        .route(
            "/account/emails/verify/{id}/resend",
            post(account::emails::resend),
        )
        .route("/account/emails/{id}/remove", post(account::emails::remove))
        .route(
            "/account/upstream-links/{id}/remove",
            post(account::links::remove),
        )
        .route("/account/sessions", get(account::sessions::list))
        .route(
            "/account/tokens",
            get(account::tokens::get).post(account::tokens::post),
        )
        .route("/account/tokens/{id}/revoke", post(account::tokens::revoke))
        .route("/account/second-factors", get(account::second_factors::get))
        .route(
            "/account/reauthenticate",
            post(account::reauthenticate::post),
        )
        .route(
            "/account/second-factors/passkeys",
            post(account::second_factors::add_passkey),
        )
        .route(
            "/account/second-factors/passkeys/options",
            post(account::second_factors::passkey_options),
        )
        .route(
            "/account/second-factors/passkeys/remove",
            post(account::second_factors::remove_passkey),
        )
        .route(
            "/account/second-factors/totp",
            post(account::second_factors::start),
        )
        .route(
            "/account/second-factors/totp/confirm",
            post(account::second_factors::confirm),
        )
        .route(
            "/account/second-factors/recovery-codes",
            post(account::second_factors::recovery_codes),
        )
        .route(
            "/account/second-factors/remove",
            post(account::second_factors::remove),
        )
        .route("/account/sessions/{id}/end", post(account::sessions::end))
        .route(
            "/account/devices/{device_id}",
            get(account::sessions::device),
        )
        .route(
            "/account/password",
            get(account::password::get).post(account::password::post),
        )
        .route("/account/password/remove", post(account::password::remove))
        .route(
            "/account/cross-signing-reset",
            get(account::cross_signing::get).post(account::cross_signing::post),
        )
        .route(
            "/account/deactivate",
            get(account::deactivate::get).post(account::deactivate::post),
        )
        .route("/account/deactivated", get(account::deactivate::done))
        .route(
            "/.well-known/change-password",
            get(account::well_known_change_password),
        )
        .merge(crate::assets::router())
}
