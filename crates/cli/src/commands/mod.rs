//! One module per `mas-cli` command.

pub mod config;
pub mod database;
pub mod doctor;
pub mod manage;
pub mod progress;
pub mod server;
pub mod syn2mas;
pub mod templates;
pub mod worker;
