//! Tests of configuration loading, checking and output, including the real-world fixtures.
//!
//! One test binary for the whole crate: each module is one area; they share [`common`].

mod common;

mod fixtures;
mod fuzz;
mod loading;
mod output;
