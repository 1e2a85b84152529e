//! The services' tests, over a real, migrated SQLite database (the storage suite itself runs
//! on both backends).

mod account;
mod activity;
mod common;
mod fuzz;
mod rate_limits;
mod registration;
mod registration_tokens;
mod second_factor;
mod sessions;
mod upstream;
