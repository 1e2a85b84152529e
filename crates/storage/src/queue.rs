//! The background job queue.

pub mod job;
pub mod worker;
