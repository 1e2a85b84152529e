//! The Matrix compatibility login: sessions, tokens, single sign-on logins, issued login
//! tokens.

mod access_token;
mod login_token;
mod refresh_token;
mod session;
mod sso_login;
