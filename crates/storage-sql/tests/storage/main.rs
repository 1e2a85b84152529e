//! The repository test suite, run on SQLite and on PostgreSQL.
//!
//! Every scenario is declared once with `backend_test!` and becomes two tests,
//! `<scenario>::on_sqlite` and `<scenario>::on_postgres`. See [`support`] for where the
//! databases come from and when PostgreSQL is skipped.

#[macro_use]
mod support;
mod fixtures;

mod access_token;
mod authorization_grant;
mod browser_session;
mod cleanup;
mod client_assertion;
mod compat_access_token;
mod compat_login_token;
mod compat_refresh_token;
mod compat_session;
mod compat_sso_login;
mod connect;
mod consent;
mod device_code_grant;
mod email_client_list;
mod foreign_keys;
mod migrations;
mod oauth_client;
mod oauth_session;
mod personal_session;
mod policy_data;
mod queue_job;
mod queue_worker;
mod rate_limit;
mod refresh_token;
mod registration_token;
mod session_activity;
mod session_list;
mod timing;
mod transaction;
mod transitions;
mod types;
mod upstream_authorization_session;
mod upstream_link;
mod upstream_provider;
mod user;
mod user_email;
mod user_email_authentication;
mod user_list;
mod user_passkey;
mod user_password;
mod user_recovery_ticket;
mod user_second_factor;
mod user_terms;
