//! OAuth 2.0: clients, authorization and device code grants, sessions, tokens.

pub mod access_token;
pub mod authorization_grant;
pub mod client;
pub mod device_code_grant;
pub mod refresh_token;
pub mod session;

pub use self::{
    access_token::AccessToken,
    authorization_grant::{
        AuthorizationGrant, AuthorizationGrantStage, CodeChallenge, CodeChallengeMethod,
        ResponseMode,
    },
    client::OAuthClient,
    device_code_grant::{DeviceCodeGrant, DeviceCodeGrantStage},
    refresh_token::{RefreshToken, RefreshTokenState},
    session::OAuthSession,
};
