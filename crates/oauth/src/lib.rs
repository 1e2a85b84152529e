//! OAuth 2.0 and OpenID Connect protocol types and the pure rules attached to them.
//!
//! This crate does no I/O and depends on nothing else of Portcullis: it turns what arrives on the
//! wire into typed values (parse, don't validate), and holds the rules that need no database or
//! clock to be decided. Each module names the specification sections it implements.
//!
//! | module | concept |
//! | --- | --- |
//! | [`token`] | the format of access/refresh tokens, authorization codes and device user codes |
//! | [`scope`] | scopes (RFC 6749 §3.3), the Matrix scopes and the policy on who may request them |
//! | [`pkce`] | Proof Key for Code Exchange (RFC 7636) |
//! | [`redirect_uri`] | matching a requested redirect URI against the registered ones |
//! | [`errors`] | OAuth/OIDC error codes and the JSON error body |
//! | [`requests`] | endpoint requests and responses (authorization, token, introspection, revocation, device) |
//! | [`registration`] | dynamic client registration metadata (RFC 7591, OIDC Registration, MSC2966) |
//! | [`id_token`] | the `at_hash`/`c_hash` ID token claims |

pub mod errors;
pub mod id_token;
pub mod pkce;
pub mod redirect_uri;
pub mod registration;
pub mod requests;
pub mod scope;
pub mod token;

mod form;

pub use self::errors::{ClientError, ErrorCode, ToClientError};
