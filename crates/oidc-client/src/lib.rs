//! Portcullis as an OpenID Connect client (a relying party) of the upstream providers users
//! sign in with, as MAS's `upstream_oauth2` providers: no HTTP handler here, only what the
//! sign-in flow asks of a provider.
//!
//! - [`metadata`]: the provider's endpoints, from OpenID Connect Discovery (checked, or not in
//!   `insecure` mode) or from the configuration (`discovery_mode: disabled`).
//! - [`jwks`]: key sets fetched from a `jwks_uri` and kept a few minutes.
//! - [`authorization`]: the authorization request: `state`, `nonce`, PKCE, the scope, the
//!   response mode and the extra parameters.
//! - [`token`]: the code exchanged at the token endpoint, with the configured client
//!   authentication.
//! - [`id_token`]: the ID token's validation (OpenID Connect Core §3.1.3.7).
//! - [`userinfo`]: the userinfo endpoint, as JSON or as a signed JWT.
//! - [`logout_token`]: the logout tokens of OpenID Connect Back-Channel Logout.
//! - [`template`]: the claims templates (`claims_imports`), in Jinja syntax.
//!
//! Every request goes to the provider's configured or discovered endpoints only, with a
//! timeout, a size limit and no redirects followed ([`fetch`]).

pub mod authorization;
pub mod fetch;
pub mod id_token;
pub mod jwks;
pub mod logout_token;
pub mod metadata;
pub mod template;
pub mod token;
pub mod userinfo;

pub use self::jwks::JwksCache;
