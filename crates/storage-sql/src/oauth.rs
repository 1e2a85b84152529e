//! OAuth 2.0 clients, grants, sessions and tokens.

mod access_token;
mod authorization_grant;
mod client;
mod client_assertion;
mod consent;
mod device_code_grant;
mod refresh_token;
mod session;
