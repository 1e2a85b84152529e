//! `GET` and `POST /_matrix/client/{v3,r0}/login`: the Matrix login API.
//!
//! `GET` lists the flows: passwords (when enabled), single sign-on through our pages, and the
//! login token that single sign-on ends with. `POST` signs in with one of them
//! ([`password`], [`token`]) and starts a compatibility session on a device, which is created
//! on the homeserver before the answer. Everything the request says is checked here, before any
//! password is hashed or any homeserver called.

mod appservice;
mod password;
mod token;

use axum::{
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use portcullis_model::{CompatSession, User};
use portcullis_services::sign_in::Identifier;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{
    error::{MatrixError, json_ok},
    request::parse_json,
};
use portcullis_services::compat::{IssuedTokens, choose_device_id, millis};

use crate::{
    AppState,
    client_ip::ClientIp,
    hashing_room::{HashingRoom, Matrix},
};

/// The flows, in MAS's order (then Synapse's appservice login): passwords only when they are
/// enabled. The single sign-on flow
/// tells clients that we are an OAuth 2.0 server they should rather use (MSC3824), and lists
/// the upstream providers a client may offer as buttons (`/login/sso/redirect/{id}` goes
/// straight to one); MAS lists none.
#[must_use]
pub fn flows(password_login_enabled: bool, identity_providers: &[Value]) -> Value {
    let mut flows = Vec::new();
    if password_login_enabled {
        flows.push(json!({"type": "m.login.password"}));
    }
    flows.push(json!({
        "type": "m.login.sso",
        "identity_providers": identity_providers,
        "org.matrix.msc3824.delegated_oidc_compatibility": true,
        "oauth_aware_preferred": true,
    }));
    flows.push(json!({"type": "m.login.token"}));
    // As Synapse: bridges sign their users in with their appservice's token.
    flows.push(json!({"type": "m.login.application_service"}));
    json!({ "flows": flows })
}

/// An enabled upstream provider as the Matrix API describes one: its Synapse id when it has
/// one (what clients of a deployment moved from Synapse already know), else its own id.
fn identity_provider(
    provider: &portcullis_config::sections::upstream_oauth2::ProviderConfig,
) -> Value {
    let mut entry = json!({
        "id": provider.synapse_idp_id.as_deref().unwrap_or(&provider.id),
        "name": provider.human_name.as_deref().unwrap_or(&provider.id),
    });
    if let Some(brand) = &provider.brand_name {
        entry["brand"] = json!(brand);
    }
    entry
}

pub async fn get(State(state): State<AppState>) -> Response {
    let providers = async {
        let mut repo = state.database().read_transaction().await?;
        let providers =
            portcullis_services::upstream_sign_in::enabled_providers(&mut *repo).await?;
        repo.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>(providers)
    }
    .await;
    match providers {
        Ok(providers) => {
            let providers: Vec<Value> = providers.iter().map(identity_provider).collect();
            json_ok(&flows(
                state.site_config().password_login_enabled,
                &providers,
            ))
        }
        Err(error) => MatrixError::from(error).into_response(),
    }
}

/// The body of `POST /login`, every login type's fields together.
#[derive(Deserialize)]
pub struct LoginRequest {
    #[serde(rename = "type")]
    kind: String,
    /// How the user is named (`m.id.user`, `m.id.thirdparty`...).
    identifier: Option<Value>,
    /// The deprecated way to name the user.
    user: Option<String>,
    /// The deprecated way to name the user by a third-party identifier.
    medium: Option<String>,
    address: Option<String>,
    password: Option<Zeroizing<String>>,
    /// The login token of `m.login.token`.
    token: Option<String>,
    device_id: Option<String>,
    initial_device_display_name: Option<String>,
    #[serde(default)]
    refresh_token: bool,
}

impl LoginRequest {
    /// Whom the request names, by [`identifier`].
    fn who(&self) -> Result<Identifier, MatrixError> {
        identifier(
            self.identifier.as_ref(),
            self.user.as_deref(),
            self.medium.as_deref(),
            self.address.as_deref(),
        )
    }
}

/// The user a password login names: `identifier` if given, else the deprecated top-level
/// `user`, or `medium` and `address`.
///
/// # Errors
/// `M_BAD_JSON` when nobody is named or an identifier lacks its fields; `M_UNRECOGNIZED` for
/// an identifier type or a medium we do not sign in with.
pub fn identifier(
    identifier: Option<&Value>,
    user: Option<&str>,
    medium: Option<&str>,
    address: Option<&str>,
) -> Result<Identifier, MatrixError> {
    let field = |name: &str| -> Result<Option<&str>, MatrixError> {
        match identifier.and_then(|identifier| identifier.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(MatrixError::bad_json(format!(
                "`identifier.{name}` must be a string"
            ))),
        }
    };
    let third_party = |medium: &str, address: &str| {
        if medium == "email" {
            Ok(Identifier::Email(address.trim().to_owned()))
        } else {
            Err(MatrixError::unrecognized(format!(
                "signing in with a `{medium}` address is not supported"
            )))
        }
    };
    if identifier.is_some() {
        return match field("type")? {
            Some("m.id.user") => field("user")?
                .map(|user| Identifier::Username(user.to_owned()))
                .ok_or_else(|| MatrixError::bad_json("`identifier.user` is missing")),
            Some("m.id.thirdparty") => match (field("medium")?, field("address")?) {
                (Some(medium), Some(address)) => third_party(medium, address),
                _ => Err(MatrixError::bad_json(
                    "`identifier.medium` and `identifier.address` are required",
                )),
            },
            Some("m.id.phone") => Err(MatrixError::unrecognized(
                "signing in with a phone number is not supported",
            )),
            Some(other) => Err(MatrixError::unrecognized(format!(
                "unknown identifier type `{other}`"
            ))),
            None => Err(MatrixError::bad_json("`identifier.type` is missing")),
        };
    }
    match (user, medium, address) {
        (Some(user), _, _) => Ok(Identifier::Username(user.to_owned())),
        (None, Some(medium), Some(address)) => third_party(medium, address),
        _ => Err(MatrixError::bad_json("the request names no user")),
    }
}

/// The answer to a successful login.
#[derive(Serialize)]
pub struct LoginResponse {
    user_id: String,
    access_token: String,
    device_id: String,
    home_server: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

impl LoginResponse {
    fn new(state: &AppState, user: &User, session: &CompatSession, tokens: IssuedTokens) -> Self {
        let server_name = &state.site_config().server_name;
        Self {
            user_id: format!("@{}:{server_name}", user.username),
            access_token: tokens.access_token,
            device_id: session.device_id.clone(),
            home_server: server_name.clone(),
            expires_in_ms: tokens.expires_in.map(millis),
            refresh_token: tokens.refresh_token,
        }
    }
}

/// What a login type's module needs besides the state.
/// What a sign-in stores, or must take, in the unit of work that starts its session.
pub(super) enum With<'a> {
    Nothing,
    /// A password hash to upgrade to the current scheme.
    PasswordUpgrade(&'a portcullis_services::sign_in::PasswordUpgrade),
    /// The single sign-on login whose token is exchanged.
    SsoLogin(ulid::Ulid),
    /// The issued login token redeemed.
    IssuedToken(&'a portcullis_model::CompatLoginToken),
    /// An application service signs its user in.
    AppService,
}

impl With<'_> {
    /// The login as the policy is told about it; `None` for application services.
    const fn policy_login(&self) -> Option<portcullis_policy::CompatLogin<'static>> {
        match self {
            Self::Nothing | Self::PasswordUpgrade(_) => {
                Some(portcullis_policy::CompatLogin::Password)
            }
            Self::SsoLogin(_) | Self::IssuedToken(_) => Some(portcullis_policy::CompatLogin::Token),
            Self::AppService => None,
        }
    }
}

#[derive(Clone)]
pub(super) struct Login<'a> {
    ip: ClientIp,
    user_agent: Option<&'a str>,
    device_id: String,
    /// The device the client asked for (`device_id` was chosen at random without one).
    requested_device_id: Option<&'a str>,
    display_name: Option<&'a str>,
    with_refresh: bool,
}

impl Login<'_> {
    /// Signs `user` in on this login's device: the device is created on the homeserver first
    /// (outside any unit of work), then the session starts, for a single sign-on in
    /// `browser_session_id` if given (see `services::compat::start_session`), in one unit of
    /// work with what goes with it (`with`): a password hash upgraded, or a login token
    /// exchanged, which another login may have taken first. Then nothing is kept, the device
    /// created for it goes too, and the answer is `None`. `how` names the sign-in in the log.
    async fn sign_in(
        &self,
        state: &AppState,
        user: &portcullis_model::User,
        browser_session_id: Option<ulid::Ulid>,
        with: With<'_>,
        how: &'static str,
    ) -> Result<Option<LoginResponse>, MatrixError> {
        // Application services sign their own users in; the policy is for people and clients.
        if let Some(kind) = with.policy_login() {
            self.ask_policy(state, user, kind).await?;
        }
        portcullis_services::devices::provision_device(
            state.homeserver().as_ref(),
            &user.username,
            &self.device_id,
            self.display_name,
        )
        .await
        .map_err(|error| MatrixError::homeserver_unavailable(&error))?;

        let now = state.now();
        let mut repo = state.database().transaction().await?;
        let new_login = portcullis_services::compat::NewLogin {
            user,
            device_id: &self.device_id,
            display_name: self.display_name,
            browser_session_id,
            user_agent: self.user_agent,
            with_refresh: self.with_refresh,
            is_synapse_admin: false,
        };
        let portcullis_services::compat::Started {
            session, tokens, ..
        } = portcullis_services::compat::start_session(
            &mut *repo,
            &new_login,
            state.site_config().compat_token_ttl,
            &mut state.rng(),
            now,
        )
        .await?;
        let kept = match with {
            With::Nothing | With::AppService => true,
            With::PasswordUpgrade(upgrade) => {
                upgrade.save(&mut *repo, user, now).await?;
                true
            }
            With::SsoLogin(id) => repo
                .compat_sso_logins()
                .exchange(id, session.id, now)
                .await?
                .is_some(),
            With::IssuedToken(token) => {
                portcullis_services::login_tokens::consume(&mut *repo, token, session.id, now)
                    .await?
            }
        };
        if !kept {
            repo.rollback().await?;
            self.forget_device(state, user).await;
            return Ok(None);
        }
        repo.commit().await?;
        state.activity().record(
            portcullis_storage::SessionRef::Compat(session.id),
            now,
            self.ip.0,
        );
        tracing::info!(user.id = %user.id, user.username = %user.username, compat_session.id = %session.id, device.id = %session.device_id, "signed in with {how} through the Matrix login API");
        Ok(Some(LoginResponse::new(state, user, &session, tokens)))
    }

    /// Refuses the login when the policy does (`compat_login/violation`): `M_FORBIDDEN` with
    /// its reasons, before any device is created.
    async fn ask_policy(
        &self,
        state: &AppState,
        user: &portcullis_model::User,
        kind: portcullis_policy::CompatLogin<'_>,
    ) -> Result<(), MatrixError> {
        use portcullis_services::policy::Decision;
        let requester = AppState::requester(self.ip.0, self.user_agent);
        let policy = state.policy();
        let site = state.site_config();
        let limit = site.session_limit.as_ref();
        let now = state.now();
        // Only eviction writes: without it, the decision's reads need no transaction.
        let mut repo = if limit.is_some_and(|limit| limit.dangerous_hard_limit_eviction) {
            state.database().transaction().await?
        } else {
            state.database().reader().await?
        };
        let mut decision = portcullis_services::policy::compat_login(
            &mut *repo,
            &policy,
            user,
            Some(&self.device_id),
            kind.clone(),
            &requester,
            limit,
            now,
        )
        .await?;
        // At the hard limit, `dangerous_hard_limit_eviction` ends old sessions instead.
        if let Decision::Refused(verdict) = &decision
            && portcullis_services::policy::evict_for_login(&mut *repo, user, verdict, limit, now)
                .await?
                > 0
        {
            decision = portcullis_services::policy::compat_login(
                &mut *repo,
                &policy,
                user,
                Some(&self.device_id),
                kind,
                &requester,
                limit,
                now,
            )
            .await?;
            if matches!(decision, Decision::Allowed) {
                repo.commit().await?;
                return Ok(());
            }
        }
        repo.rollback().await?;
        match decision {
            Decision::Allowed => Ok(()),
            Decision::Refused(verdict) => {
                tracing::info!(user.id = %user.id, reasons = %verdict.messages(), "login refused by the policy");
                Err(MatrixError::forbidden(format!(
                    "This login is not allowed: {}",
                    verdict.messages()
                )))
            }
            Decision::Failed(_) => Err(MatrixError::forbidden(
                "This login cannot be allowed now: the server's policy failed",
            )),
        }
    }

    /// Queues the deletion of a device created for a login that did not happen; the job keeps
    /// it if a session uses it.
    async fn forget_device(&self, state: &AppState, user: &portcullis_model::User) {
        let now = state.now();
        let result = async {
            let mut repo = state.database().transaction().await?;
            portcullis_services::sessions::forget_device(
                &mut *repo,
                user.id,
                self.device_id.clone(),
                now,
            )
            .await?;
            repo.commit().await
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, device.id = %self.device_id, "cannot queue the deletion of an unused device");
        }
    }
}

pub async fn post(
    _room: HashingRoom<Matrix>,
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match login(&state, ip, &headers, &body).await {
        Ok(response) => json_ok(&response),
        Err(error) => error.into_response(),
    }
}

async fn login(
    state: &AppState,
    ip: ClientIp,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<LoginResponse, MatrixError> {
    let request: LoginRequest = parse_json(body)?;
    let device_id =
        choose_device_id(request.device_id.as_deref(), &mut state.rng()).map_err(|_| {
            MatrixError::invalid_param("`device_id` has characters a device ID cannot have")
        })?;
    let user_agent = crate::requester::user_agent(headers);
    let login = Login {
        ip,
        user_agent,
        device_id,
        requested_device_id: request.device_id.as_deref(),
        display_name: request.initial_device_display_name.as_deref(),
        with_refresh: request.refresh_token,
    };
    let kind = crate::telemetry::compat_login_type(&request.kind);
    // Named only by the login types that name someone; the others ignore it.
    let who = request.who();
    let outcome = async move {
        match request.kind.as_str() {
            "m.login.password" => {
                if !state.site_config().password_login_enabled {
                    return Err(MatrixError::unrecognized(
                        "password login is disabled on this server",
                    ));
                }
                let who = who?;
                let password = request
                    .password
                    .ok_or_else(|| MatrixError::bad_json("`password` is missing"))?;
                password::login(state, &login, &who, password).await
            }
            "m.login.token" => {
                let token = request
                    .token
                    .as_deref()
                    .ok_or_else(|| MatrixError::bad_json("`token` is missing"))?;
                token::login(state, &login, token).await
            }
            "m.login.application_service" => {
                let who = who?;
                appservice::login(state, &login, &who, crate::requester::bearer(headers)).await
            }
            other => Err(MatrixError::unrecognized(format!(
                "unknown login type `{other}`"
            ))),
        }
    }
    .await;
    crate::telemetry::compat_login(kind, outcome.is_ok());
    outcome
}

/// `M_USER_DEACTIVATED` or `M_USER_LOCKED` when `user` may not sign in.
fn check_active(user: &User) -> Result<(), MatrixError> {
    if user.deactivated_at.is_some() {
        Err(MatrixError::user_deactivated())
    } else if user.locked_at.is_some() {
        Err(MatrixError::user_locked())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<Identifier, MatrixError> {
        let request: LoginRequest = serde_json::from_value(body).expect("a login request");
        identifier(
            request.identifier.as_ref(),
            request.user.as_deref(),
            request.medium.as_deref(),
            request.address.as_deref(),
        )
    }

    #[test]
    fn a_user_identifier_names_the_user() {
        assert_eq!(
            parse(
                json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "@alice:example.com"}})
            ),
            Ok(Identifier::Username("@alice:example.com".to_owned()))
        );
    }

    #[test]
    fn the_deprecated_user_field_still_works() {
        assert_eq!(
            parse(json!({"type": "m.login.password", "user": "alice"})),
            Ok(Identifier::Username("alice".to_owned()))
        );
        assert_eq!(
            parse(
                json!({"type": "m.login.password", "medium": "email", "address": "a@example.org"})
            ),
            Ok(Identifier::Email("a@example.org".to_owned()))
        );
    }

    #[test]
    fn an_email_identifier_names_an_address() {
        assert_eq!(
            parse(
                json!({"type": "m.login.password", "identifier": {"type": "m.id.thirdparty", "medium": "email", "address": " a@example.org "}})
            ),
            Ok(Identifier::Email("a@example.org".to_owned()))
        );
    }

    #[test]
    fn phone_numbers_and_unknown_identifiers_are_unrecognised() {
        for identifier in [
            json!({"type": "m.id.phone", "country": "GB", "phone": "123"}),
            json!({"type": "m.id.thirdparty", "medium": "msisdn", "address": "123"}),
            json!({"type": "org.example.id"}),
        ] {
            let error = parse(json!({"type": "m.login.password", "identifier": identifier}))
                .expect_err("not supported");
            assert_eq!(error.errcode, "M_UNRECOGNIZED");
        }
    }

    #[test]
    fn a_request_naming_nobody_is_bad_json() {
        for body in [
            json!({"type": "m.login.password"}),
            json!({"type": "m.login.password", "identifier": {"type": "m.id.user"}}),
            json!({"type": "m.login.password", "identifier": {"user": "alice"}}),
            json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": 3}}),
        ] {
            assert_eq!(parse(body).expect_err("nobody").errcode, "M_BAD_JSON");
        }
    }

    #[test]
    fn the_password_flow_is_listed_only_when_enabled() {
        let types = |flows: Value| -> Vec<String> {
            flows["flows"]
                .as_array()
                .expect("a list")
                .iter()
                .map(|flow| flow["type"].as_str().expect("a type").to_owned())
                .collect()
        };
        assert_eq!(
            types(flows(true, &[])),
            [
                "m.login.password",
                "m.login.sso",
                "m.login.token",
                "m.login.application_service"
            ]
        );
        assert_eq!(
            types(flows(false, &[])),
            [
                "m.login.sso",
                "m.login.token",
                "m.login.application_service"
            ]
        );
        assert_eq!(flows(false, &[])["flows"][0]["oauth_aware_preferred"], true);
    }
}
