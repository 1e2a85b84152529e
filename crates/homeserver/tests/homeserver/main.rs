//! Tests of the homeserver connection: the requests it sends, and a real Synapse.
//!
//! One test binary for the whole crate, one module per area.

mod requests;
mod synapse;
