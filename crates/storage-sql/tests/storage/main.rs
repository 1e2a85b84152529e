//! The repository test suite, run on SQLite and on PostgreSQL.
//!
//! Every scenario is declared once with `backend_test!` and becomes two tests,
//! `<scenario>::on_sqlite` and `<scenario>::on_postgres`. See [`support`] for where the
//! databases come from and when PostgreSQL is skipped.

#[macro_use]
mod support;

mod connect;
mod migrations;
mod oauth_client;
mod queue_job;
mod registration_token;
mod transaction;
mod types;
mod upstream_provider;
mod user;
