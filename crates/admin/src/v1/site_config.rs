//! `GET /site-config`: the settings that shape what users may do.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Serialize;

use crate::call_context::CallContext;

#[derive(Serialize, JsonSchema)]
#[allow(clippy::struct_excessive_bools, reason = "the API's shape")]
pub struct SiteConfig {
    /// The Matrix server name.
    server_name: String,
    password_login_enabled: bool,
    password_registration_enabled: bool,
    password_registration_email_required: bool,
    password_registration_token_required: bool,
    /// The same as `password_registration_token_required`, under its former name.
    #[schemars(extend("deprecated" = true))]
    registration_token_required: bool,
    email_change_allowed: bool,
    displayname_change_allowed: bool,
    password_change_allowed: bool,
    account_recovery_allowed: bool,
    account_deactivation_allowed: bool,
    captcha_enabled: bool,
    /// The zxcvbn score (0 to 4) a new password must reach.
    #[schemars(range(max = 4))]
    minimum_password_complexity: u8,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("siteConfig")
        .tag("server")
        .summary("Get the site configuration")
        .response::<200, Json<SiteConfig>>()
}

pub async fn handler(_caller: CallContext, State(state): State<AppState>) -> Json<SiteConfig> {
    let site = state.site_config();
    Json(SiteConfig {
        server_name: site.server_name.clone(),
        password_login_enabled: site.password_login_enabled,
        password_registration_enabled: site.password_registration_enabled,
        password_registration_email_required: site.password_registration_email_required,
        password_registration_token_required: site.registration_token_required,
        registration_token_required: site.registration_token_required,
        email_change_allowed: site.email_change_allowed,
        displayname_change_allowed: site.displayname_change_allowed,
        password_change_allowed: site.password_change_allowed,
        account_recovery_allowed: site.password_recovery_enabled,
        account_deactivation_allowed: site.account_deactivation_allowed,
        captcha_enabled: site.captcha.is_some(),
        minimum_password_complexity: state.passwords().minimum_complexity(),
    })
}
