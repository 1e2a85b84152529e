//! Tests of the mail transports against stand-ins: an SMTP server in the test and a sendmail script.
//!
//! One test binary for the whole crate, one module per area.

mod sendmail;
mod smtp;
