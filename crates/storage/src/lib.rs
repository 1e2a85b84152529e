//! What the services need from a database, as traits.
//!
//! The layout mirrors the aggregates: [`user`] (with [`user::password`], [`user::email`],
//! [`user::session`] for browser sessions, [`user::registration_token`],
//! [`user::email_authentication`], [`user::registration`]), [`oauth::client`],
//! [`oauth::authorization_grant`], [`oauth::device_code_grant`], [`oauth::session`],
//! [`oauth::access_token`], [`oauth::refresh_token`], [`oauth::consent`],
//! [`oauth::client_assertion`], [`compat::session`], [`compat::access_token`],
//! [`compat::refresh_token`], [`compat::sso_login`] (the Matrix login API's sessions, tokens
//! and single sign-on logins), [`personal`] (personal sessions and their tokens),
//! [`upstream::provider`], [`upstream::link`] (upstream accounts tied to users), [`upstream::authorization_session`]
//! (sign-in attempts through a provider), [`queue::job`], [`activity`] (when
//! sessions were last active), and [`pagination`] for the lists read page by page. The one
//! implementation,
//! `portcullis-storage-sql`, keeps the same relative paths.
//!
//! Work happens inside a [`Repository`], a unit of work that is one database transaction:
//! nothing it writes is visible to others until [`Repository::commit`], and dropping it without
//! committing rolls everything back.
//!
//! Conventions shared by every repository:
//! - identifiers are ULIDs and instants are UTC; the current instant is always passed in (`now`),
//!   never read from the wall clock, so tests can move time;
//! - secrets that only need comparing (authorization and device codes, access, refresh and
//!   personal access tokens, single sign-on login tokens) are passed in clear and hashed by the
//!   repository, so no caller can store one in clear; registration tokens, which administrators
//!   hand out and read back, are kept in clear beside their hash;
//! - single-use things are consumed by one conditional update, so two processes can never both
//!   win; such methods return `None` to the losers;
//! - ending something (a session, a token) twice keeps the first instant.

pub mod activity;
pub mod cleanup;
pub mod compat;
pub mod error;
pub mod oauth;
pub mod pagination;
pub mod personal;
pub mod policy;
pub mod queue;
pub mod rate_limit;
pub mod repository;
pub mod upstream;
pub mod user;

pub use self::{
    activity::{SessionActivity, SessionActivityRepository, SessionRef},
    cleanup::CleanupRepository,
    compat::{
        access_token::{ActiveCompatAccessToken, CompatAccessTokenRepository},
        login_token::CompatLoginTokenRepository,
        refresh_token::CompatRefreshTokenRepository,
        session::{CompatSessionFilter, CompatSessionRepository, NewCompatSession},
        sso_login::CompatSsoLoginRepository,
    },
    error::StorageError,
    oauth::{
        access_token::{AccessTokenRepository, ActiveAccessToken},
        authorization_grant::{AuthorizationGrantRepository, NewAuthorizationGrant},
        client::{OAuthClientFilter, OAuthClientRepository},
        client_assertion::ClientAssertionRepository,
        consent::ConsentRepository,
        device_code_grant::{DeviceCodeGrantRepository, NewDeviceCodeGrant},
        refresh_token::RefreshTokenRepository,
        session::{NewOAuthSession, OAuthSessionFilter, OAuthSessionRepository},
    },
    pagination::{Direction, Page, Pagination, SessionFilter},
    personal::{
        ActivePersonalAccessToken, NewPersonalSession, PersonalSessionFilter,
        PersonalSessionRepository,
    },
    policy::{PolicyData, PolicyDataRepository},
    queue::{job::JobRepository, worker::QueueWorkerRepository},
    rate_limit::RateLimitRepository,
    repository::{BoxRepository, Repository, RepositoryFactory},
    upstream::{
        authorization_session::{
            NewUpstreamAuthorizationSession, UpstreamAuthorizationSessionRepository,
        },
        link::{UpstreamLinkFilter, UpstreamLinkRepository},
        provider::UpstreamProviderRepository,
    },
    user::{
        UserFilter, UserRepository, UserState,
        email::{UserEmailFilter, UserEmailRepository},
        email_authentication::UserEmailAuthenticationRepository,
        password::UserPasswordRepository,
        recovery_ticket::UserRecoveryTicketRepository,
        registration::{NewUserRegistration, UserRegistrationRepository},
        registration_token::{
            RegistrationTokenChange, RegistrationTokenFilter, RegistrationTokenRepository,
        },
        second_factor::{
            NewPasskey, PasskeyChallengeRepository, UserPasskeyRepository,
            UserRecoveryCodeRepository, UserTotpRepository,
        },
        session::BrowserSessionRepository,
        terms::UserTermsRepository,
        third_party_id::UserThirdPartyIdRepository,
    },
};
