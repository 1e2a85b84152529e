//! The Admin API through its router, on SQLite and on PostgreSQL.

#[macro_use]
mod common;

mod authorization;
mod description;
mod emails_and_clients;
mod login_tokens;
mod personal_sessions;
mod registration_tokens;
mod server;
mod sessions;
mod upstream;
mod users;
