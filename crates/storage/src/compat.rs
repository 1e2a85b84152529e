//! The Matrix compatibility login: sessions, tokens, single sign-on logins, issued login
//! tokens.

pub mod access_token;
pub mod login_token;
pub mod refresh_token;
pub mod session;
pub mod sso_login;
