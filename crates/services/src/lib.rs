//! The rules of Portcullis, one module per flow, in plain functions that HTTP handlers, the
//! `mas-cli manage` commands and the jobs all call, so that each rule exists once.
//!
//! A service takes what it needs explicitly (the repositories, the password manager, the rate
//! limiters, the settings it reads, the instant) and answers with domain values or its own error
//! enum; it knows nothing of HTTP, pages or Matrix error codes, which stay with the callers.
//!
//! - [`account`]: creating, locking, unlocking, deactivating and reactivating users; their
//!   password, addresses and display name.
//! - [`admin_access`]: who calls the Admin API, from the bearer token of the request.
//! - [`activity`]: when and from where sessions were last active, gathered in memory and
//!   written in batches.
//! - [`sign_in`]: who a typed username names, whether the password is theirs, whether their
//!   account may sign in.
//! - [`authorization`]: a user allowing a client's authorization request.
//! - [`captcha`]: the CAPTCHA providers and the verification of an answer at the provider.
//! - [`client_auth`]: which client the credentials of a back-channel request prove, with the
//!   method it registered; [`jwks_cache`] holds the keys clients publish.
//! - [`client_registration`]: storing a dynamically registered client.
//! - [`compat`]: the Matrix login API's sessions: device IDs, starting a session on a device,
//!   its tokens.
//! - [`device_grant`]: starting a device authorization grant and a user's answer to it.
//! - [`devices`]: devices made known to the homeserver before their tokens exist.
//! - [`logout`]: which client asks to sign the user out, and where the browser goes next.
//! - [`personal_sessions`]: personal sessions and their access tokens, for bots and tools.
//! - [`rate_limit`]: the per-address and per-account limits of guessable inputs.
//! - [`reauth`]: the password, or a recent sign-in, before a sensitive account change.
//! - [`recovery`]: password recovery tickets, and a new password through one.
//! - [`registration_tokens`]: the tokens that let someone register when tokens are required.
//! - [`app_services`]: the bridges that sign their users in with `m.login.application_service`.
//! - [`login_tokens`]: one-shot login tokens an operator issues for a bot.
//! - [`registration`]: what a registration form must hold, and whether its name, address and
//!   token are still free.
//! - [`sessions`]: ending browser, OAuth 2.0 and compatibility sessions, and what goes with it.
//! - [`tokens`]: the grants of the token endpoint and the ID token.
//! - [`upstream_links`]: tying accounts at upstream providers to users.
//! - [`upstream_logout`]: back-channel logout from an upstream provider.
//! - [`upstream_registration`]: a new upstream account: registering from the provider's
//!   claims, or linking it to an existing or signed-in user.
//! - [`upstream_sign_in`]: signing in through an upstream provider: the request, the answer,
//!   the linked user's sign-in.
//! - [`passkey`]: passkeys (WebAuthn): adding one, signing in with one.
//! - [`ways_in`]: the ways a user signs in, so that what they remove leaves them one.
//! - [`user_agent`]: a readable name for the software behind a `User-Agent`.
//! - [`email_codes`]: six-digit codes that prove an email address.
//! - [`introspection`]: whether a token is active and what it stands for (RFC 7662).
//! - [`jobs`]: the payloads of the background jobs the rules queue.

pub mod account;
pub mod activity;
pub mod admin_access;
pub mod app_services;
pub mod authorization;
pub mod captcha;
pub mod client_auth;
pub mod client_registration;
pub mod compat;
pub mod device_grant;
pub mod devices;
pub mod email_codes;
pub mod introspection;
/// The key sets clients publish, fetched when needed (shared with the upstream client).
pub use portcullis_oidc_client::jwks as jwks_cache;
pub mod jobs;
pub mod login_tokens;
pub mod logout;
pub mod passkey;
pub mod personal_sessions;
pub mod policy;
pub mod rate_limit;
pub mod reauth;
pub mod recovery;
pub mod registration;
pub mod registration_tokens;
pub mod second_factor;
pub mod sessions;
pub mod sign_in;
pub mod sso_login;
pub mod tokens;
pub mod upstream_links;
pub mod upstream_logout;
pub mod upstream_registration;
pub mod upstream_sign_in;
pub mod user_agent;
pub mod ways_in;
