//! The background job queue.

mod job;
mod worker;
