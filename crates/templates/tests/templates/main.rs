//! Tests of the templates as the HTTP layer renders them and as operators override them.
//!
//! One test binary for the whole crate: each module is one area.

mod emails;
mod pages;
