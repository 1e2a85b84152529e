//! Opening the database, migrating it, and starting units of work.

use std::{path::PathBuf, str::FromStr, sync::Arc, time::Duration};

use rand::RngCore;

use async_trait::async_trait;
use portcullis_storage::{BoxRepository, RepositoryFactory, StorageError};
use sqlx::{
    PgPool, SqlitePool,
    migrate::Migrator,
    pool::PoolOptions as SqlxPoolOptions,
    postgres::{PgConnectOptions, PgSslMode},
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
};
use tokio::sync::Semaphore;

use crate::{
    error::{DatabaseError, storage_error},
    reachability::Reachability,
    repository::{IdSource, PgUnit, SqlRepository, Transaction},
    timing::timed,
};

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another connection's write lock before giving up.
///
/// Writers take turns on SQLite; waiting (rather than failing with `SQLITE_BUSY`) is what makes
/// concurrent requests behave like on PostgreSQL, only slower.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of a SQLite database file each connection reads through a memory map rather than
/// with `read` calls into its own page cache (see `docs/performance.md`, Admin API lists).
const SQLITE_MMAP_SIZE: u64 = 1 << 30;

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once at start-up; boxing would only make it clumsier to write"
)]
pub enum ConnectOptions {
    /// A SQLite file, created if missing.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// A PostgreSQL server.
    Postgres(PostgresOptions),
}

/// Where a PostgreSQL server is and how to talk to it.
///
/// The fields left `None` come from `uri` if given, then from the usual `PG*` environment
/// variables and libpq defaults; the fields given override the `uri`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PostgresOptions {
    /// A `postgresql://` connection URI.
    pub uri: Option<String>,
    /// The server's host name or address.
    pub host: Option<String>,
    /// The server's port.
    pub port: Option<u16>,
    /// The directory of the server's Unix socket, instead of host and port.
    pub socket: Option<PathBuf>,
    /// The user to connect as.
    pub username: Option<String>,
    /// The user's password.
    pub password: Option<String>,
    /// The database name.
    pub database: Option<String>,
    /// `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`.
    pub ssl_mode: Option<String>,
    /// The certificate authority to trust, in PEM.
    pub ssl_ca_pem: Option<Vec<u8>>,
    /// The client certificate, in PEM.
    pub ssl_certificate_pem: Option<Vec<u8>>,
    /// The client certificate's private key, in PEM.
    pub ssl_key_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for PostgresOptions {
    /// Shows where, never the secrets: options end up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |present: bool| if present { Some("[redacted]") } else { None };
        f.debug_struct("PostgresOptions")
            .field("uri", &redacted(self.uri.is_some()))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("socket", &self.socket)
            .field("username", &self.username)
            .field("password", &redacted(self.password.is_some()))
            .field("database", &self.database)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_ca_pem", &self.ssl_ca_pem.as_ref().map(Vec::len))
            .field(
                "ssl_certificate_pem",
                &self.ssl_certificate_pem.as_ref().map(Vec::len),
            )
            .field("ssl_key_pem", &redacted(self.ssl_key_pem.is_some()))
            .finish()
    }
}

/// How many connections to keep, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Connections kept open even when idle.
    pub min_connections: u32,
    /// The most connections open at once; further requests wait for one.
    pub max_connections: u32,
    /// How long to wait for a connection (opening one, or a free one from the pool).
    pub connect_timeout: Duration,
    /// Idle connections above `min_connections` are closed after this long.
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long, whatever their use.
    pub max_lifetime: Option<Duration>,
}

impl Default for PoolOptions {
    /// The defaults of MAS's `database` section.
    fn default() -> Self {
        Self {
            min_connections: 0,
            max_connections: 10,
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
        }
    }
}

/// Which database engine is behind a [`Database`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The engine's usual name, for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// Which migrations a database has, and which it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Applied migrations, as (version, description), oldest first.
    pub applied: Vec<(i64, String)>,
    /// Migrations embedded in this binary and not yet applied, oldest first.
    pub pending: Vec<(i64, String)>,
}

impl MigrationStatus {
    /// Whether nothing is left to apply.
    #[must_use]
    pub fn is_up_to_date(&self) -> bool {
        self.pending.is_empty()
    }
}

/// A pool of connections to SQLite or PostgreSQL; cheap to clone (clones share the pool).
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool,
    /// One permit per [`Database::reader`] unit of work in flight.
    readers: Arc<Semaphore>,
    /// The permits `readers` started with.
    reader_slots: usize,
    /// Where new rows take their ids from.
    ids: Arc<IdSource>,
    /// What every unit of work of this pool shares.
    state: Arc<PoolState>,
}

/// What the units of work of one pool share.
#[derive(Debug, Default)]
pub(crate) struct PoolState {
    /// Units of work that changed existing rows committed so far
    /// ([`RepositoryFactory::committed_changes`]).
    pub(crate) commits: std::sync::atomic::AtomicU64,
    /// Wakes this process's workers when a job is queued.
    pub(crate) wakeups: JobWakeups,
    /// Whether PostgreSQL answered when last tried.
    pub(crate) reachability: Reachability,
}

/// Wakes the workers of a process when a job is queued: by this process (a unit of work that
/// queued one commits) or, on PostgreSQL, by any process (`NOTIFY queue_available`, sent by a
/// trigger on `queue_jobs`, which one listening connection per process receives).
#[derive(Debug, Default)]
pub(crate) struct JobWakeups {
    pub(crate) queued: tokio::sync::Notify,
    listening: std::sync::OnceLock<()>,
}

/// The channel the `queue_jobs` trigger notifies.
const QUEUE_CHANNEL: &str = "queue_available";

/// How long to wait before listening again after the listening connection failed.
const RELISTEN_AFTER: Duration = Duration::from_secs(5);

/// Listens for jobs queued by other processes, for as long as the pool is open.
async fn listen_for_jobs(pool: PgPool, state: Arc<PoolState>) {
    while !pool.is_closed() {
        let Err(error) = relay_notifications(&pool, &state.wakeups).await;
        if pool.is_closed() {
            break;
        }
        tracing::warn!(%error, "cannot listen for queued jobs; the workers look every few seconds meanwhile");
        tokio::time::sleep(RELISTEN_AFTER).await;
    }
}

/// Wakes a worker at each notification, until the listening connection fails for good.
async fn relay_notifications(
    pool: &PgPool,
    wakeups: &JobWakeups,
) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(QUEUE_CHANNEL).await?;
    loop {
        // Reconnects by itself when the connection drops; a notification lost meanwhile is
        // caught by the workers' next look at the queue.
        listener.recv().await?;
        wakeups.queued.notify_one();
    }
}

/// A pool's connections at one moment ([`Database::connections`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Open connections, idle or in use.
    pub open: u32,
    /// Open connections waiting for work.
    pub idle: u32,
    /// The most connections the pool may open.
    pub max: u32,
}

/// How many [`Database::reader`] units of work may run at once: three per core of this machine
/// (at least four), and never more than the pool has connections.
///
/// The readers serve the hot path (introspection), and a database answers a few busy
/// connections faster than many: with PostgreSQL on the same two cores, twenty lookups in
/// flight at once put twenty backend processes in the scheduler's queue, and a burst of other
/// work (a storm of logins) then stretches the slowest answers past 50 ms; six in flight, with
/// the others waiting their turn in order, keep them under 10 ms (`docs/performance.md`).
fn reader_slots(max_connections: u32) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let pool = usize::try_from(max_connections)
        .unwrap_or(usize::MAX)
        .max(1);
    cores.saturating_mul(3).max(4).min(pool)
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Creates a missing SQLite file readable by its owner only, before SQLite creates it with the
/// usual permissions: it holds password hashes and encrypted secrets. SQLite gives its WAL and
/// shared-memory files the permissions of the database file. Any failure (a missing
/// directory, say) is left for opening the database to report.
fn create_private(path: &std::path::Path) {
    if path.as_os_str() == ":memory:" || path.exists() {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Err(error) = options.open(path) {
        tracing::debug!(%error, path = %path.display(), "cannot create the SQLite file beforehand");
    }
}

impl Database {
    /// Opens a pool to the database and checks that one connection can be made.
    ///
    /// # Errors
    /// If the options are invalid or no connection could be made within the connect timeout.
    pub async fn connect(
        options: &ConnectOptions,
        pool_options: &PoolOptions,
    ) -> Result<Self, DatabaseError> {
        match options {
            ConnectOptions::Sqlite { path } => {
                create_private(path);
                let connect_options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    // WAL lets readers proceed while one connection writes.
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .pragma("mmap_size", SQLITE_MMAP_SIZE.to_string());
                let pool = open_pool::<sqlx::SqliteConnection>(connect_options, pool_options)
                    .await
                    .map_err(|cause| DatabaseError::SqliteConnect {
                        path: path.clone(),
                        cause,
                    })?;
                tracing::debug!(path = %path.display(), "opened the SQLite database");
                Ok(Self::new(Pool::Sqlite(pool), pool_options))
            }
            ConnectOptions::Postgres(options) => {
                let connect_options = postgres_connect_options(options)?;
                let target = describe_postgres_target(&connect_options);
                let pool = open_pool::<sqlx::PgConnection>(connect_options, pool_options)
                    .await
                    .map_err(|cause| DatabaseError::PostgresConnect {
                        target: target.clone(),
                        cause,
                    })?;
                tracing::info!(%target, "connected to PostgreSQL");
                Ok(Self::new(Pool::Postgres(pool), pool_options))
            }
        }
    }

    fn new(pool: Pool, options: &PoolOptions) -> Self {
        let slots = reader_slots(options.max_connections);
        Self {
            pool,
            readers: Arc::new(Semaphore::new(slots)),
            reader_slots: slots,
            ids: Arc::new(IdSource::new(Box::new(rand::rngs::OsRng))),
            state: Arc::default(),
        }
    }

    /// This database, with the random part of new rows' ids drawn from `rng` rather than from
    /// the operating system (a seeded source makes them reproducible).
    #[must_use]
    pub fn with_random_source(self, rng: impl RngCore + Send + 'static) -> Self {
        Self {
            ids: Arc::new(IdSource::new(Box::new(rng))),
            ..self
        }
    }

    /// How many [`Database::reader`] units of work may run at once; the next ones wait, in
    /// order, for one of them to end.
    #[must_use]
    pub fn reader_slots(&self) -> usize {
        self.reader_slots
    }

    /// The engine behind this database.
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The pool's connections now: open, idle, and the most it may open.
    #[must_use]
    pub fn connections(&self) -> Connections {
        let (open, idle, max) = match &self.pool {
            Pool::Sqlite(pool) => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
            Pool::Postgres(pool) => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        Connections { open, idle, max }
    }

    /// The engine's name, `SQLite` or `PostgreSQL`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        self.backend().name()
    }

    /// The SQLite pool, for bulk tools and tests; services go through the repositories.
    #[must_use]
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for bulk tools and tests; services go through the repositories.
    #[must_use]
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// Checks that the database answers a trivial query (for `/health`).
    ///
    /// # Errors
    /// If no connection is available or the query fails.
    pub async fn ping(&self) -> Result<(), StorageError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
        .map_err(storage_error)
    }

    /// Applies every pending migration embedded in this binary.
    ///
    /// On PostgreSQL, an advisory lock makes concurrent processes migrate one after the other.
    ///
    /// # Errors
    /// If a migration fails, or an applied migration differs from the embedded one.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        let backend = self.backend_name();
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await,
        }
        .map_err(|source| DatabaseError::Migrate { backend, source })
    }

    /// Which migrations are applied and which are pending, without changing anything (an
    /// unmigrated database has every migration pending).
    ///
    /// # Errors
    /// If the database cannot be queried.
    pub async fn migration_status(&self) -> Result<MigrationStatus, DatabaseError> {
        let backend = self.backend_name();
        let status_error = |source| DatabaseError::MigrationStatus { backend, source };

        // sqlx creates its bookkeeping table on the first migration; before that, asking it
        // would fail, and creating it here would make a status check write.
        const APPLIED: &str = "SELECT version, description FROM _sqlx_migrations \
                               WHERE success ORDER BY version";
        let (migrator, applied) = match &self.pool {
            Pool::Sqlite(pool) => {
                let (exists,): (bool,) = sqlx::query_as(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                     WHERE type = 'table' AND name = '_sqlx_migrations')",
                )
                .fetch_one(pool)
                .await
                .map_err(status_error)?;
                let applied = if exists {
                    sqlx::query_as(APPLIED)
                        .fetch_all(pool)
                        .await
                        .map_err(status_error)?
                } else {
                    Vec::new()
                };
                (&SQLITE_MIGRATOR, applied)
            }
            Pool::Postgres(pool) => {
                let (exists,): (bool,) =
                    sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                        .fetch_one(pool)
                        .await
                        .map_err(status_error)?;
                let applied = if exists {
                    sqlx::query_as(APPLIED)
                        .fetch_all(pool)
                        .await
                        .map_err(status_error)?
                } else {
                    Vec::new()
                };
                (&POSTGRES_MIGRATOR, applied)
            }
        };

        let pending = migrator
            .iter()
            .filter(|migration| migration.migration_type.is_up_migration())
            .filter(|migration| {
                !applied
                    .iter()
                    .any(|(version, _): &(i64, String)| *version == migration.version)
            })
            .map(|migration| (migration.version, migration.description.to_string()))
            .collect();
        Ok(MigrationStatus { applied, pending })
    }

    /// Starts a unit of work.
    ///
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock at once:
    /// a transaction that started as a reader and later writes would fail with `SQLITE_BUSY`
    /// if another connection wrote meanwhile, whereas waiting for the lock up front just
    /// queues writers behind each other (within the busy timeout).
    ///
    /// # Errors
    /// If no connection is available or the transaction cannot start.
    pub async fn transaction(&self) -> Result<BoxRepository, StorageError> {
        let transaction = match &self.pool {
            Pool::Sqlite(pool) => Transaction::Sqlite(
                timed(pool.begin_with("BEGIN IMMEDIATE"))
                    .await
                    .map_err(storage_error)?,
            ),
            Pool::Postgres(pool) => Transaction::Postgres(PgUnit::Transaction(
                self.state
                    .reachability
                    .start(pool, timed(pool.begin()))
                    .await?,
            )),
        };
        Ok(Box::new(SqlRepository::new(
            transaction,
            Arc::clone(&self.ids),
            Arc::clone(&self.state),
        )))
    }

    /// Starts a unit of work that only reads; see
    /// [`RepositoryFactory::read_transaction`]. On SQLite it is a deferred transaction, which
    /// in WAL mode reads a snapshot without taking the write lock, so readers never queue
    /// behind `BEGIN IMMEDIATE` writers; on PostgreSQL it is `READ ONLY`.
    ///
    /// # Errors
    /// If no connection is available or the transaction cannot start.
    pub async fn read_transaction(&self) -> Result<BoxRepository, StorageError> {
        let transaction = match &self.pool {
            Pool::Sqlite(pool) => sqlite_reader(pool).await?,
            Pool::Postgres(pool) => Transaction::Postgres(PgUnit::Transaction(
                self.state
                    .reachability
                    .start(pool, timed(pool.begin_with("BEGIN READ ONLY")))
                    .await?,
            )),
        };
        Ok(Box::new(SqlRepository::new(
            transaction,
            Arc::clone(&self.ids),
            Arc::clone(&self.state),
        )))
    }

    /// Starts a unit of work for one read statement; see [`RepositoryFactory::reader`]. At most
    /// [`Database::reader_slots`] run at once. On PostgreSQL it is a bare pooled connection, so
    /// the statement is one round trip; on SQLite, where a transaction costs no round trip, it
    /// is [`Database::read_transaction`].
    ///
    /// # Errors
    /// If no connection is available.
    pub async fn reader(&self) -> Result<BoxRepository, StorageError> {
        // The semaphore is never closed: this error cannot happen.
        let slot = Arc::clone(&self.readers)
            .acquire_owned()
            .await
            .map_err(|closed| StorageError::Backend(closed.to_string()))?;
        let unit = match &self.pool {
            Pool::Sqlite(pool) => sqlite_reader(pool).await?,
            Pool::Postgres(pool) => Transaction::Postgres(PgUnit::Autocommit(
                self.state
                    .reachability
                    .start(pool, timed(pool.acquire()))
                    .await?,
            )),
        };
        Ok(Box::new(
            SqlRepository::new(unit, Arc::clone(&self.ids), Arc::clone(&self.state)).holding(slot),
        ))
    }

    /// Starts a unit of work of single statements that each commit as they run; see
    /// [`RepositoryFactory::writer`]. On PostgreSQL it is a bare pooled connection, so each
    /// statement is one round trip; on SQLite it is [`Database::transaction`].
    ///
    /// # Errors
    /// If no connection is available.
    pub async fn writer(&self) -> Result<BoxRepository, StorageError> {
        let unit = match &self.pool {
            Pool::Sqlite(_) => return self.transaction().await,
            Pool::Postgres(pool) => Transaction::Postgres(PgUnit::Autocommit(
                self.state
                    .reachability
                    .start(pool, timed(pool.acquire()))
                    .await?,
            )),
        };
        Ok(Box::new(SqlRepository::new(
            unit,
            Arc::clone(&self.ids),
            Arc::clone(&self.state),
        )))
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

#[async_trait]
impl RepositoryFactory for Database {
    async fn transaction(&self) -> Result<BoxRepository, StorageError> {
        Database::transaction(self).await
    }

    fn committed_changes(&self) -> u64 {
        self.state
            .commits
            .load(std::sync::atomic::Ordering::Acquire)
    }

    async fn read_transaction(&self) -> Result<BoxRepository, StorageError> {
        Database::read_transaction(self).await
    }

    async fn reader(&self) -> Result<BoxRepository, StorageError> {
        Database::reader(self).await
    }

    async fn writer(&self) -> Result<BoxRepository, StorageError> {
        Database::writer(self).await
    }

    async fn wait_for_jobs(&self, timeout: Duration) {
        if let Pool::Postgres(pool) = &self.pool
            && self.state.wakeups.listening.set(()).is_ok()
        {
            tokio::spawn(listen_for_jobs(pool.clone(), Arc::clone(&self.state)));
        }
        let _ = tokio::time::timeout(timeout, self.state.wakeups.queued.notified()).await;
    }
}

/// A deferred SQLite transaction: in WAL mode it reads a snapshot without taking the write
/// lock.
async fn sqlite_reader(pool: &SqlitePool) -> Result<Transaction, StorageError> {
    let transaction = timed(pool.begin_with("BEGIN DEFERRED"))
        .await
        .map_err(storage_error)?;
    Ok(Transaction::Sqlite(transaction))
}

/// Opens one connection to check the target, then the pool.
///
/// The pool alone would retry a failing connection until its timeout and then report only
/// "pool timed out"; the single connection first gives the real cause (refused, unknown host,
/// authentication failed...).
async fn open_pool<C>(
    connect_options: <C as sqlx::Connection>::Options,
    options: &PoolOptions,
) -> Result<sqlx::Pool<C::Database>, sqlx::Error>
where
    C: sqlx::Connection,
    C::Database: sqlx::Database<Connection = C>,
{
    let timeout = options.connect_timeout;
    match tokio::time::timeout(timeout, C::connect_with(&connect_options)).await {
        Ok(connection) => connection?.close().await?,
        Err(_) => {
            return Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no connection within {} s", timeout.as_secs()),
            )));
        }
    }
    Ok(SqlxPoolOptions::new()
        .min_connections(options.min_connections)
        .max_connections(options.max_connections)
        .acquire_timeout(options.connect_timeout)
        .idle_timeout(options.idle_timeout)
        .max_lifetime(options.max_lifetime)
        // sqlx pings every connection it hands out by default: one more round trip on every
        // request, introspection included. A dead connection still fails its query, and the
        // lifetimes above retire connections before servers and proxies drop them.
        .test_before_acquire(false)
        // A request dropped while it waits (its client went away) can leave its connection
        // inside a transaction that no one will end: sqlx's SQLite driver counts a `BEGIN` as
        // done before the unit of work that asked for it exists. Such a connection would fail
        // every later unit of work, so it is closed instead of going back to the pool.
        .after_release(|connection: &mut C, _| {
            let clean = !connection.is_in_transaction();
            if !clean {
                tracing::debug!("closing a connection left inside a transaction");
            }
            Box::pin(std::future::ready(Ok(clean)))
        })
        .connect_lazy_with(connect_options))
}

fn postgres_connect_options(options: &PostgresOptions) -> Result<PgConnectOptions, DatabaseError> {
    let PostgresOptions {
        uri,
        host,
        port,
        socket,
        username,
        password,
        database,
        ssl_mode,
        ssl_ca_pem,
        ssl_certificate_pem,
        ssl_key_pem,
    } = options;

    let mut connect_options = match uri {
        Some(uri) => PgConnectOptions::from_str(uri).map_err(DatabaseError::InvalidUri)?,
        None => PgConnectOptions::new(),
    };
    if let Some(host) = host {
        connect_options = connect_options.host(host);
    }
    if let Some(port) = port {
        connect_options = connect_options.port(*port);
    }
    if let Some(socket) = socket {
        connect_options = connect_options.socket(socket);
    }
    if let Some(username) = username {
        connect_options = connect_options.username(username);
    }
    if let Some(password) = password {
        connect_options = connect_options.password(password);
    }
    if let Some(database) = database {
        connect_options = connect_options.database(database);
    }
    if let Some(ssl_mode) = ssl_mode {
        let mode = PgSslMode::from_str(ssl_mode)
            .map_err(|_| DatabaseError::InvalidSslMode(ssl_mode.clone()))?;
        connect_options = connect_options.ssl_mode(mode);
    }
    if let Some(pem) = ssl_ca_pem {
        connect_options = connect_options.ssl_root_cert_from_pem(pem.clone());
    }
    if let Some(pem) = ssl_certificate_pem {
        connect_options = connect_options.ssl_client_cert_from_pem(pem);
    }
    if let Some(pem) = ssl_key_pem {
        connect_options = connect_options.ssl_client_key_from_pem(pem);
    }
    Ok(connect_options)
}

/// `user@host:port/database` (or the socket directory), never the password.
fn describe_postgres_target(options: &PgConnectOptions) -> String {
    let place = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let database = options.get_database().unwrap_or(options.get_username());
    format!("{}@{place}/{database}", options.get_username())
}

#[cfg(test)]
mod tests {
    use super::reader_slots;

    #[test]
    fn readers_get_three_slots_per_core_at_least_four_and_at_most_the_pool() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(reader_slots(1000), (3 * cores).max(4));
        assert_eq!(reader_slots(3), 3);
        assert_eq!(reader_slots(0), 1, "a pool always has room for one");
    }
}
