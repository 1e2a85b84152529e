//! The unit of work: one transaction on whichever backend is active.

use std::sync::{Arc, Mutex, PoisonError, atomic::Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_storage::{
    AccessTokenRepository, AuthorizationGrantRepository, BrowserSessionRepository,
    CleanupRepository, ClientAssertionRepository, CompatAccessTokenRepository,
    CompatLoginTokenRepository, CompatRefreshTokenRepository, CompatSessionRepository,
    CompatSsoLoginRepository, ConsentRepository, DeviceCodeGrantRepository, JobRepository,
    OAuthClientRepository, OAuthSessionRepository, PasskeyChallengeRepository,
    PersonalSessionRepository, PolicyDataRepository, QueueWorkerRepository, RateLimitRepository,
    RefreshTokenRepository, RegistrationTokenRepository, Repository, SessionActivityRepository,
    StorageError, UpstreamAuthorizationSessionRepository, UpstreamLinkRepository,
    UpstreamProviderRepository, UserEmailAuthenticationRepository, UserEmailRepository,
    UserPasskeyRepository, UserPasswordRepository, UserRecoveryCodeRepository,
    UserRecoveryTicketRepository, UserRegistrationRepository, UserRepository, UserTermsRepository,
    UserThirdPartyIdRepository, UserTotpRepository,
};
use rand::RngCore;
use sqlx::{Postgres, Sqlite};
use ulid::Ulid;

use crate::{
    database::{Backend, PoolState},
    error::storage_error,
    timing::timed,
};

/// An open transaction on one of the two backends.
pub(crate) enum Transaction {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(PgUnit),
}

/// A PostgreSQL unit of work: a transaction, or, for single statements, a bare connection on
/// which each statement commits by itself (one round trip instead of `BEGIN`, the statement and
/// `COMMIT`).
pub(crate) enum PgUnit {
    Transaction(sqlx::Transaction<'static, Postgres>),
    Autocommit(sqlx::pool::PoolConnection<Postgres>),
}

impl std::ops::Deref for PgUnit {
    type Target = sqlx::PgConnection;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Transaction(transaction) => transaction,
            Self::Autocommit(connection) => connection,
        }
    }
}

impl std::ops::DerefMut for PgUnit {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Self::Transaction(transaction) => &mut *transaction,
            Self::Autocommit(connection) => &mut *connection,
        }
    }
}

/// Runs the same code against the active backend's connection.
///
/// `on_backend!(repo, |conn| sqlx::query(SQL).bind(x).execute(conn).await)` expands into a
/// `match` with one arm per backend, in which `conn` is a `&mut SqliteConnection` or a
/// `&mut PgConnection`: the query text and binds are written once and type-checked against
/// both backends. sqlx errors are turned into [`StorageError`]s.
///
/// The unit of work then counts as one that may have changed rows that existed before it
/// (`SqlRepository::changes_existing`): its commit tells the caches of what storage holds that
/// they may be stale ([`portcullis_storage::RepositoryFactory::committed_changes`]). A statement
/// that only reads or only inserts new rows may say so with [`on_backend_keeping_existing!`].
macro_rules! on_backend {
    ($repo:expr, |$conn:ident| $body:expr) => {{
        $repo.changes_existing = true;
        $crate::repository::on_backend_keeping_existing!($repo, |$conn| $body)
    }};
}
pub(crate) use on_backend;

/// [`on_backend!`] for a statement that changes no row that existed before it: a `SELECT`, or
/// an `INSERT` of new rows without `ON CONFLICT … UPDATE`; or one that writes only rows no
/// cache reads (the rate limits' buckets). Such a unit of work leaves every cached read valid
/// (a new session or token is no answer anyone cached). Anything else, or any doubt, is
/// [`on_backend!`].
macro_rules! on_backend_keeping_existing {
    ($repo:expr, |$conn:ident| $body:expr) => {{
        let started = ::std::time::Instant::now();
        let result = match &mut $repo.transaction {
            $crate::repository::Transaction::Sqlite(transaction) => {
                let $conn: &mut ::sqlx::SqliteConnection = &mut *transaction;
                $body
            }
            $crate::repository::Transaction::Postgres(transaction) => {
                let $conn: &mut ::sqlx::PgConnection = &mut *transaction;
                $body
            }
        };
        $crate::timing::add(started.elapsed());
        result.map_err(|error| $repo.failed(error))
    }};
}
pub(crate) use on_backend_keeping_existing;

/// The [`Repository`] over one SQL transaction; each aggregate's repository trait is
/// implemented on it, in the module of the same path as the trait.
pub(crate) struct SqlRepository {
    pub(crate) transaction: Transaction,
    /// Where the rows this unit of work adds take their ids from.
    ids: Arc<IdSource>,
    /// What the units of work of the pool share: the count of commits that changed existing
    /// rows ([`crate::Database`]'s `RepositoryFactory::committed_changes`, counted once this
    /// one's commit is done if it ran a statement of [`on_backend!`]), the workers to wake
    /// when a unit of work that queued a job commits, and whether PostgreSQL is in reach.
    state: Arc<PoolState>,
    /// Whether this unit of work queued a job.
    pub(crate) queued_job: bool,
    /// Whether a statement that may change existing rows ran ([`on_backend!`]).
    pub(crate) changes_existing: bool,
    /// The place this unit of work holds among a limited number, given back when it ends.
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// Where new rows take their ids from: a ULID made of the instant the row is added and 80 bits
/// of the random source the database was given ([`crate::Database::with_random_source`]).
pub(crate) struct IdSource(Mutex<Box<dyn RngCore + Send>>);

impl std::fmt::Debug for IdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdSource")
    }
}

impl IdSource {
    pub(crate) fn new(rng: Box<dyn RngCore + Send>) -> Self {
        Self(Mutex::new(rng))
    }

    /// A fresh id for a row added at `now`.
    fn id_at(&self, now: DateTime<Utc>) -> Ulid {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
        // A panic while the lock was held cannot leave a random source half-updated in a way
        // that matters: its next numbers are as good as any.
        let mut rng = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let random = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        Ulid::from_parts(millis, random)
    }
}

impl SqlRepository {
    pub(crate) fn new(transaction: Transaction, ids: Arc<IdSource>, state: Arc<PoolState>) -> Self {
        Self {
            transaction,
            ids,
            state,
            queued_job: false,
            changes_existing: false,
            _slot: None,
        }
    }

    /// Classifies a failed statement, noting when it says PostgreSQL is out of reach.
    pub(crate) fn failed(&self, error: sqlx::Error) -> StorageError {
        if matches!(self.transaction, Transaction::Postgres(_)) {
            self.state.reachability.observe(&error);
        }
        storage_error(error)
    }

    /// The id of a row added at `now`.
    pub(crate) fn new_id(&self, now: DateTime<Utc>) -> Ulid {
        self.ids.id_at(now)
    }

    /// This unit of work, holding `slot` until it ends.
    pub(crate) fn holding(self, slot: tokio::sync::OwnedSemaphorePermit) -> Self {
        Self {
            _slot: Some(slot),
            ..self
        }
    }

    /// The backend of this transaction, for the rare query that must differ.
    pub(crate) fn backend(&self) -> Backend {
        match self.transaction {
            Transaction::Sqlite(_) => Backend::Sqlite,
            Transaction::Postgres(_) => Backend::Postgres,
        }
    }
}

#[async_trait]
impl Repository for SqlRepository {
    fn users(&mut self) -> &mut dyn UserRepository {
        self
    }

    fn user_passwords(&mut self) -> &mut dyn UserPasswordRepository {
        self
    }

    fn user_emails(&mut self) -> &mut dyn UserEmailRepository {
        self
    }

    fn user_terms(&mut self) -> &mut dyn UserTermsRepository {
        self
    }

    fn user_totp(&mut self) -> &mut dyn UserTotpRepository {
        self
    }

    fn user_recovery_codes(&mut self) -> &mut dyn UserRecoveryCodeRepository {
        self
    }

    fn user_passkeys(&mut self) -> &mut dyn UserPasskeyRepository {
        self
    }

    fn passkey_challenges(&mut self) -> &mut dyn PasskeyChallengeRepository {
        self
    }

    fn user_third_party_ids(&mut self) -> &mut dyn UserThirdPartyIdRepository {
        self
    }

    fn browser_sessions(&mut self) -> &mut dyn BrowserSessionRepository {
        self
    }

    fn oauth_clients(&mut self) -> &mut dyn OAuthClientRepository {
        self
    }

    fn oauth_client_assertions(&mut self) -> &mut dyn ClientAssertionRepository {
        self
    }

    fn oauth_authorization_grants(&mut self) -> &mut dyn AuthorizationGrantRepository {
        self
    }

    fn oauth_device_code_grants(&mut self) -> &mut dyn DeviceCodeGrantRepository {
        self
    }

    fn oauth_sessions(&mut self) -> &mut dyn OAuthSessionRepository {
        self
    }

    fn oauth_access_tokens(&mut self) -> &mut dyn AccessTokenRepository {
        self
    }

    fn oauth_refresh_tokens(&mut self) -> &mut dyn RefreshTokenRepository {
        self
    }

    fn oauth_consents(&mut self) -> &mut dyn ConsentRepository {
        self
    }

    fn compat_sessions(&mut self) -> &mut dyn CompatSessionRepository {
        self
    }

    fn compat_access_tokens(&mut self) -> &mut dyn CompatAccessTokenRepository {
        self
    }

    fn compat_refresh_tokens(&mut self) -> &mut dyn CompatRefreshTokenRepository {
        self
    }

    fn compat_sso_logins(&mut self) -> &mut dyn CompatSsoLoginRepository {
        self
    }

    fn compat_login_tokens(&mut self) -> &mut dyn CompatLoginTokenRepository {
        self
    }

    fn personal_sessions(&mut self) -> &mut dyn PersonalSessionRepository {
        self
    }

    fn policy_data(&mut self) -> &mut dyn PolicyDataRepository {
        self
    }

    fn upstream_providers(&mut self) -> &mut dyn UpstreamProviderRepository {
        self
    }

    fn upstream_links(&mut self) -> &mut dyn UpstreamLinkRepository {
        self
    }

    fn upstream_authorization_sessions(
        &mut self,
    ) -> &mut dyn UpstreamAuthorizationSessionRepository {
        self
    }

    fn registration_tokens(&mut self) -> &mut dyn RegistrationTokenRepository {
        self
    }

    fn user_email_authentications(&mut self) -> &mut dyn UserEmailAuthenticationRepository {
        self
    }

    fn user_recovery_tickets(&mut self) -> &mut dyn UserRecoveryTicketRepository {
        self
    }

    fn user_registrations(&mut self) -> &mut dyn UserRegistrationRepository {
        self
    }

    fn jobs(&mut self) -> &mut dyn JobRepository {
        self
    }

    fn queue_workers(&mut self) -> &mut dyn QueueWorkerRepository {
        self
    }

    fn rate_limits(&mut self) -> &mut dyn RateLimitRepository {
        self
    }

    fn cleanup(&mut self) -> &mut dyn CleanupRepository {
        self
    }

    fn session_activity(&mut self) -> &mut dyn SessionActivityRepository {
        self
    }

    async fn try_lock(&mut self, name: &str) -> Result<bool, StorageError> {
        match &mut self.transaction {
            Transaction::Sqlite(transaction) => {
                // A statement that may write takes the database's write lock, even when it
                // changes nothing.
                sqlx::query("DELETE FROM users WHERE 0")
                    .execute(&mut **transaction)
                    .await
                    .map_err(storage_error)?;
                Ok(true)
            }
            Transaction::Postgres(PgUnit::Transaction(transaction)) => {
                sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1))")
                    .bind(name)
                    .fetch_one(&mut **transaction)
                    .await
                    .map_err(storage_error)
            }
            // A unit of work of single statements holds no lock past each statement.
            Transaction::Postgres(PgUnit::Autocommit(_)) => Ok(false),
        }
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let state = Arc::clone(&self.state);
        let on_postgres = matches!(self.transaction, Transaction::Postgres(_));
        let changes_existing = self.changes_existing;
        let queued_job = self.queued_job;
        match self.transaction {
            Transaction::Sqlite(transaction) => timed(transaction.commit()).await,
            Transaction::Postgres(PgUnit::Transaction(transaction)) => {
                timed(transaction.commit()).await
            }
            // Every statement committed as it ran: what they changed is counted below.
            Transaction::Postgres(PgUnit::Autocommit(_)) => Ok(()),
        }
        .map_err(|error| {
            if on_postgres {
                state.reachability.observe(&error);
            }
            storage_error(error)
        })?;
        if changes_existing {
            state.commits.fetch_add(1, Ordering::Release);
        }
        if queued_job {
            state.wakeups.queued.notify_one();
        }
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<(), StorageError> {
        match self.transaction {
            Transaction::Sqlite(transaction) => timed(transaction.rollback()).await,
            Transaction::Postgres(PgUnit::Transaction(transaction)) => {
                timed(transaction.rollback()).await
            }
            // Nothing to undo: each statement committed as it ran.
            Transaction::Postgres(PgUnit::Autocommit(_)) => Ok(()),
        }
        .map_err(storage_error)
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    #[tokio::test]
    async fn sqlite_binds_numbered_parameters_by_number_even_when_repeated() {
        let mut connection = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("an in-memory SQLite database always opens");

        let (text,): (String,) = sqlx::query_as("SELECT $2 || $1 || $2")
            .bind("a")
            .bind("b")
            .fetch_one(&mut connection)
            .await
            .expect("numbered parameters are supported");

        assert_eq!(text, "bab");
    }
}
