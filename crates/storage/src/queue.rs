//! The background job queue.

pub mod job;
