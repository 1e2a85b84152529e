//! The unit of work.

use async_trait::async_trait;

use crate::{
    AccessTokenRepository, AuthorizationGrantRepository, BrowserSessionRepository,
    CleanupRepository, ClientAssertionRepository, CompatAccessTokenRepository,
    CompatLoginTokenRepository, CompatRefreshTokenRepository, CompatSessionRepository,
    CompatSsoLoginRepository, ConsentRepository, DeviceCodeGrantRepository, JobRepository,
    OAuthClientRepository, OAuthSessionRepository, PasskeyChallengeRepository,
    PersonalSessionRepository, PolicyDataRepository, QueueWorkerRepository, RateLimitRepository,
    RefreshTokenRepository, RegistrationTokenRepository, SessionActivityRepository, StorageError,
    UpstreamAuthorizationSessionRepository, UpstreamLinkRepository, UpstreamProviderRepository,
    UserEmailAuthenticationRepository, UserEmailRepository, UserPasskeyRepository,
    UserPasswordRepository, UserRecoveryCodeRepository, UserRecoveryTicketRepository,
    UserRegistrationRepository, UserRepository, UserTermsRepository, UserThirdPartyIdRepository,
    UserTotpRepository,
};

/// One database transaction, through which every repository is reached.
///
/// Dropping it without calling [`commit`](Self::commit) rolls the transaction back, so an early
/// return on error never leaves half a change behind.
#[async_trait]
pub trait Repository: Send {
    /// The users.
    fn users(&mut self) -> &mut dyn UserRepository;

    /// The users' password hashes.
    fn user_passwords(&mut self) -> &mut dyn UserPasswordRepository;

    /// The users' email addresses.
    fn user_emails(&mut self) -> &mut dyn UserEmailRepository;

    /// The terms of service users accepted.
    fn user_terms(&mut self) -> &mut dyn UserTermsRepository;

    /// The users' TOTP authenticators (a second factor).
    fn user_totp(&mut self) -> &mut dyn UserTotpRepository;

    /// The users' single-use recovery codes (for when their second factor is lost).
    fn user_recovery_codes(&mut self) -> &mut dyn UserRecoveryCodeRepository;

    /// Each user's passkeys.
    fn user_passkeys(&mut self) -> &mut dyn UserPasskeyRepository;

    /// The passkey ceremonies under way.
    fn passkey_challenges(&mut self) -> &mut dyn PasskeyChallengeRepository;

    /// Third-party ids other than email addresses, kept from Synapse.
    fn user_third_party_ids(&mut self) -> &mut dyn UserThirdPartyIdRepository;

    /// The browser sessions and their authentications.
    fn browser_sessions(&mut self) -> &mut dyn BrowserSessionRepository;

    /// The OAuth 2.0 clients.
    fn oauth_clients(&mut self) -> &mut dyn OAuthClientRepository;

    /// The client assertions already accepted, against replays.
    fn oauth_client_assertions(&mut self) -> &mut dyn ClientAssertionRepository;

    /// The OAuth 2.0 authorization grants.
    fn oauth_authorization_grants(&mut self) -> &mut dyn AuthorizationGrantRepository;

    /// The OAuth 2.0 device code grants.
    fn oauth_device_code_grants(&mut self) -> &mut dyn DeviceCodeGrantRepository;

    /// The OAuth 2.0 sessions.
    fn oauth_sessions(&mut self) -> &mut dyn OAuthSessionRepository;

    /// The OAuth 2.0 access tokens.
    fn oauth_access_tokens(&mut self) -> &mut dyn AccessTokenRepository;

    /// The OAuth 2.0 refresh tokens.
    fn oauth_refresh_tokens(&mut self) -> &mut dyn RefreshTokenRepository;

    /// The consents users remember for clients.
    fn oauth_consents(&mut self) -> &mut dyn ConsentRepository;

    /// The Matrix compatibility sessions.
    fn compat_sessions(&mut self) -> &mut dyn CompatSessionRepository;

    /// The Matrix compatibility access tokens.
    fn compat_access_tokens(&mut self) -> &mut dyn CompatAccessTokenRepository;

    /// The Matrix compatibility refresh tokens.
    fn compat_refresh_tokens(&mut self) -> &mut dyn CompatRefreshTokenRepository;

    /// The Matrix single sign-on logins.
    fn compat_sso_logins(&mut self) -> &mut dyn CompatSsoLoginRepository;

    /// The login tokens operators issue for bots.
    fn compat_login_tokens(&mut self) -> &mut dyn CompatLoginTokenRepository;

    /// The personal sessions and their tokens.
    fn personal_sessions(&mut self) -> &mut dyn PersonalSessionRepository;

    /// The policy data pushed through the Admin API.
    fn policy_data(&mut self) -> &mut dyn PolicyDataRepository;

    /// The upstream providers.
    fn upstream_providers(&mut self) -> &mut dyn UpstreamProviderRepository;

    /// The upstream accounts linked to users.
    fn upstream_links(&mut self) -> &mut dyn UpstreamLinkRepository;

    /// The sign-in attempts through upstream providers.
    fn upstream_authorization_sessions(
        &mut self,
    ) -> &mut dyn UpstreamAuthorizationSessionRepository;

    /// The registration tokens.
    fn registration_tokens(&mut self) -> &mut dyn RegistrationTokenRepository;

    /// The codes sent to verify email addresses.
    fn user_email_authentications(&mut self) -> &mut dyn UserEmailAuthenticationRepository;

    /// The password recovery tickets.
    fn user_recovery_tickets(&mut self) -> &mut dyn UserRecoveryTicketRepository;

    /// The registrations waiting for their email address to be verified.
    fn user_registrations(&mut self) -> &mut dyn UserRegistrationRepository;

    /// The background job queue.
    fn jobs(&mut self) -> &mut dyn JobRepository;

    /// The workers sharing the queue, their leader and the recurring jobs' schedule.
    fn queue_workers(&mut self) -> &mut dyn QueueWorkerRepository;

    /// The rate limits' buckets, when processes share them.
    fn rate_limits(&mut self) -> &mut dyn RateLimitRepository;

    /// The deletions of the retention rules.
    fn cleanup(&mut self) -> &mut dyn CleanupRepository;

    /// Last activity of sessions of every kind.
    fn session_activity(&mut self) -> &mut dyn SessionActivityRepository;

    /// Takes the lock named `name` until this unit of work ends; `false` when another unit of
    /// work, in any process, holds it. A long job that must not run twice at once (a
    /// migration) takes it first. (On SQLite, where a single writer holds the whole database,
    /// this takes the write lock, waiting for the writer before it.)
    async fn try_lock(&mut self, name: &str) -> Result<bool, StorageError>;

    /// Makes every change of this unit of work visible, atomically.
    async fn commit(self: Box<Self>) -> Result<(), StorageError>;

    /// Discards every change of this unit of work.
    async fn rollback(self: Box<Self>) -> Result<(), StorageError>;
}

/// A unit of work behind a pointer, as handed out by a [`RepositoryFactory`].
pub type BoxRepository = Box<dyn Repository>;

/// Something that opens units of work: the database, or a fake in tests.
#[async_trait]
pub trait RepositoryFactory: Send + Sync {
    /// Starts a unit of work.
    async fn transaction(&self) -> Result<BoxRepository, StorageError>;

    /// Starts a unit of work that only reads. It may not write (the database refuses, or the
    /// write fails), and in exchange it runs beside other readers without waiting for writers'
    /// locks: the hot paths (introspection, pages that only look) use it.
    async fn read_transaction(&self) -> Result<BoxRepository, StorageError> {
        self.transaction().await
    }

    /// Starts a unit of work for a single read statement: the cheapest way to read one thing
    /// (introspection's one lookup). Unlike [`RepositoryFactory::read_transaction`], several
    /// statements in it need not see the same snapshot, and it may be outside any transaction.
    async fn reader(&self) -> Result<BoxRepository, StorageError> {
        self.read_transaction().await
    }

    /// Starts a unit of work for single write statements, each complete on its own: the
    /// cheapest way to make one change that needs no other (a rate limit's bucket). Each
    /// statement may commit as it runs: committing the unit of work is still required (it
    /// tells the caches), and rolling it back may undo nothing.
    async fn writer(&self) -> Result<BoxRepository, StorageError> {
        self.transaction().await
    }

    /// How many units of work that may have changed rows that existed before them have been
    /// committed through this factory (and its clones) so far; one that only read and added
    /// new rows is not counted. A cache of what storage holds keeps the count it saw before
    /// reading, and trusts what it read only while the count has not moved: a change made here
    /// is then never hidden by the cache. Changes made by other processes are not counted.
    fn committed_changes(&self) -> u64;

    /// Waits until a job may have been queued, or until `timeout` has passed: a worker with
    /// nothing to do waits here. A job queued by a unit of work of this factory wakes it when
    /// that unit commits; where the database can tell, a job queued by another process too.
    async fn wait_for_jobs(&self, timeout: std::time::Duration);
}
