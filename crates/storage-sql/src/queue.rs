//! The background job queue.

mod job;
