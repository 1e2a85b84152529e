//! OAuth 2.0 clients, grants, sessions and tokens.

pub mod access_token;
pub mod authorization_grant;
pub mod client;
pub mod client_assertion;
pub mod consent;
pub mod device_code_grant;
pub mod refresh_token;
pub mod session;
