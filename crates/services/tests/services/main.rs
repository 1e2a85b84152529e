//! The services' tests, over a real, migrated SQLite database (the storage suite itself runs
//! on both backends).

mod activity;
mod common;
mod sessions;
