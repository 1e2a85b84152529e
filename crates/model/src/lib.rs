//! The domain types of Portcullis.
//!
//! This crate does no I/O: it holds the values the services reason about (users and their
//! passwords, emails and browser sessions, OAuth clients, grants, sessions and tokens, Matrix
//! compatibility sessions and tokens, upstream providers, registration tokens, background jobs),
//! the pure rules attached to them, and the [`Clock`] through which every piece of logic learns
//! the time.
//!
//! Things with a life are explicit state machines (an authorization grant is `Pending →
//! Fulfilled → Exchanged`, a refresh token `Valid → Consumed | Revoked`): their transitions are
//! methods that return a [`Result`], failing with [`InvalidTransition`] when the current state
//! forbids them.
//!
//! Identifiers are [`ulid::Ulid`]s and instants are [`chrono::DateTime<Utc>`](chrono::DateTime).

pub mod browser_session;
pub mod clock;
pub mod compat;
pub mod localpart;
pub mod oauth;
pub mod personal;
pub mod queue;
pub mod state;
pub mod token;
pub mod upstream;
pub mod user;

pub use self::{
    browser_session::{Authentication, AuthenticationKind, BrowserSession},
    clock::{Clock, MockClock, SystemClock},
    compat::{
        CompatAccessToken, CompatLoginToken, CompatRefreshToken, CompatSession, CompatSsoLogin,
        CompatSsoLoginState,
    },
    localpart::{Localpart, LocalpartError},
    oauth::{
        AccessToken, AuthorizationGrant, AuthorizationGrantStage, CodeChallenge,
        CodeChallengeMethod, DeviceCodeGrant, DeviceCodeGrantStage, OAuthClient, OAuthSession,
        RefreshToken, RefreshTokenState, ResponseMode,
    },
    personal::{PersonalAccessToken, PersonalSession, PersonalSessionOwner},
    queue::{FailureOutcome, Job, JobStatus, UnknownJobStatus},
    state::{InvalidTransition, UnknownName},
    upstream::{UpstreamAnswer, UpstreamAuthorizationSession, UpstreamLink, UpstreamProvider},
    user::{
        RegistrationToken, User, UserEmail, UserEmailAuthentication, UserPasskey, UserPassword,
        UserRecoveryTicket, UserRegistration, UserTotp,
    },
};
pub use ulid::Ulid;
