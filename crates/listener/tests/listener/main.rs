//! End-to-end tests of the listeners: real sockets on loopback, real HTTP requests.

mod bind_errors;
mod plain_http;
mod proxy_protocol;
mod shutdown;
mod support;
mod tls;
mod unix_socket;
