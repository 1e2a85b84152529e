//! OAuth 2.0 clients, grants, sessions and tokens.

mod client;
