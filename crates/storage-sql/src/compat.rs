//! The Matrix compatibility login: sessions, tokens, single sign-on logins.

mod access_token;
mod refresh_token;
mod session;
mod sso_login;
