//! Integration tests of the HTTP layer: the real router over a real, migrated SQLite database.
//!
//! One test binary for the whole crate: each module is one area; they share [`common`].

mod common;

mod account_emails;
mod account_pages;
mod account_security;
mod account_sessions;
mod account_tokens;
mod authorization;
mod compat_appservice;
mod compat_introspection;
mod compat_login;
mod compat_login_token;
mod compat_logout;
mod compat_refresh;
mod compat_sso;
mod cors;
mod device_pages;
mod end_session;
mod fuzz;
mod hashing_saturation;
mod homeserver_devices;
mod introspection_cache;
mod login_rate_limit;
mod oauth_client_auth;
mod oauth_device;
mod oauth_introspection;
mod oauth_refresh_token;
mod oauth_registration;
mod oauth_revocation;
mod oauth_token;
mod oauth_userinfo;
mod passkey_only;
mod passkeys;
mod password_recovery;
mod personal_introspection;
mod policy;
mod registration;
mod router;
mod second_factors;
mod sign_in;
mod translations;
