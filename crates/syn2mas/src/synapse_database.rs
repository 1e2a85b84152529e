//! Synapse's own tables, read straight from its database (SQLite or PostgreSQL), read-only.

use std::str::FromStr;

use sqlx::{
    FromRow, PgPool, SqlitePool, postgres::PgRow, sqlite::SqliteConnectOptions, sqlite::SqliteRow,
};

/// A connection to Synapse's database.
pub struct SynapseDatabase {
    pool: Pool,
    /// The SQLite file, to find who else has it open.
    sqlite_file: Option<std::path::PathBuf>,
}

enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A Synapse account (`users`).
#[derive(Debug, Clone, FromRow)]
pub struct SynapseUser {
    /// The full Matrix ID, `@alice:example.com`.
    pub name: String,
    pub password_hash: Option<String>,
    /// Seconds since the epoch.
    pub creation_ts: i64,
    pub admin: bool,
    pub is_guest: bool,
    pub deactivated: bool,
    pub locked: bool,
    pub appservice_id: Option<String>,
}

/// A third-party id (`user_threepids`): an email address, or a phone number (`msisdn`).
#[derive(Debug, Clone, FromRow)]
pub struct SynapseThreepid {
    pub user_id: String,
    pub medium: String,
    pub address: String,
    /// Milliseconds since the epoch.
    pub added_at: i64,
}

/// An account at a single sign-on provider (`user_external_ids`).
#[derive(Debug, Clone, FromRow)]
pub struct SynapseExternalId {
    pub user_id: String,
    pub auth_provider: String,
    pub external_id: String,
}

/// A device (`devices`), hidden ones (cross-signing keys) left out.
#[derive(Debug, Clone, FromRow)]
pub struct SynapseDevice {
    pub user_id: String,
    pub device_id: String,
    pub display_name: Option<String>,
    /// Milliseconds since the epoch.
    pub last_seen: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An access token (`access_tokens`).
#[derive(Debug, Clone, FromRow)]
pub struct SynapseAccessToken {
    pub id: i64,
    pub user_id: String,
    pub device_id: Option<String>,
    pub token: String,
    /// Milliseconds since the epoch.
    pub valid_until_ms: Option<i64>,
    /// Set for an appservice's token acting as another user.
    pub puppets_user_id: Option<String>,
    pub refresh_token_id: Option<i64>,
}

/// A refresh token (`refresh_tokens`).
#[derive(Debug, Clone, FromRow)]
pub struct SynapseRefreshToken {
    pub id: i64,
    pub user_id: String,
    pub device_id: String,
    pub token: String,
    /// The token that replaced it, once used.
    pub next_token_id: Option<i64>,
}

/// Everything a migration reads, at once.
#[derive(Debug, Default)]
pub struct SynapseData {
    pub users: Vec<SynapseUser>,
    pub threepids: Vec<SynapseThreepid>,
    pub external_ids: Vec<SynapseExternalId>,
    pub devices: Vec<SynapseDevice>,
    pub access_tokens: Vec<SynapseAccessToken>,
    pub refresh_tokens: Vec<SynapseRefreshToken>,
    /// Other clients of the database while it was read (see
    /// [`SynapseDatabase::other_clients`]): Synapse still running, most likely.
    pub other_clients: usize,
}

impl SynapseDatabase {
    /// Connects to `uri` (`sqlite://PATH` or `postgres[ql]://...`). A SQLite file is opened
    /// read-only, and must exist.
    ///
    /// # Errors
    /// When the URI is neither, or the database cannot be reached.
    pub async fn connect(uri: &str) -> Result<Self, sqlx::Error> {
        let mut sqlite_file = None;
        let pool = if uri.starts_with("postgres://") || uri.starts_with("postgresql://") {
            Pool::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    // One connection: every other one on the database is someone else's.
                    .max_connections(1)
                    .connect(uri)
                    .await?,
            )
        } else {
            let options = SqliteConnectOptions::from_str(uri)?
                .read_only(true)
                .create_if_missing(false);
            sqlite_file = std::fs::canonicalize(options.get_filename()).ok();
            Pool::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await?,
            )
        };
        Ok(Self { pool, sqlite_file })
    }

    /// How many other clients use the database right now: Synapse, when it still runs (on
    /// PostgreSQL, the other connections to the database; on SQLite, the other processes that
    /// have the file open, as far as this user may see them in `/proc`).
    ///
    /// # Errors
    /// When PostgreSQL cannot be asked.
    pub async fn other_clients(&self) -> Result<usize, sqlx::Error> {
        match &self.pool {
            Pool::Postgres(pool) => {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .fetch_one(pool)
                .await?;
                Ok(usize::try_from(count).unwrap_or_default())
            }
            Pool::Sqlite(_) => Ok(self.sqlite_file.as_deref().map_or(0, processes_with_open)),
        }
    }

    /// `SQLite` or `PostgreSQL`, for messages.
    #[must_use]
    pub const fn backend_name(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "SQLite",
            Pool::Postgres(_) => "PostgreSQL",
        }
    }

    async fn fetch_all<T>(&self, postgres: &str, sqlite: &str) -> Result<Vec<T>, sqlx::Error>
    where
        T: Send + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow>,
    {
        match &self.pool {
            Pool::Postgres(pool) => sqlx::query_as(postgres).fetch_all(pool).await,
            Pool::Sqlite(pool) => sqlx::query_as(sqlite).fetch_all(pool).await,
        }
    }

    /// Whether this is a Synapse database at all (it has a `users` table with Synapse's
    /// columns).
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn looks_like_synapse(&self) -> Result<bool, sqlx::Error> {
        let found: Vec<(i64,)> = self
            .fetch_all(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_name IN ('users', 'access_tokens', 'devices', 'user_threepids')",
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name IN ('users', 'access_tokens', 'devices', 'user_threepids')",
            )
            .await?;
        Ok(found.first().is_some_and(|(count,)| *count == 4))
    }

    /// Reads every row a migration needs.
    ///
    /// # Errors
    /// When a table cannot be read (an older Synapse without the column, say).
    pub async fn read(&self) -> Result<SynapseData, sqlx::Error> {
        const USERS: &str = "SELECT name, password_hash, COALESCE(creation_ts, 0) AS creation_ts, \
             admin <> 0 AS admin, is_guest <> 0 AS is_guest, deactivated <> 0 AS deactivated, \
             {locked} AS locked, appservice_id FROM users ORDER BY name";
        let users = self
            .fetch_all(
                &USERS.replace("{locked}", "COALESCE(locked, FALSE)"),
                &USERS.replace("{locked}", "COALESCE(locked, 0) <> 0"),
            )
            .await?;
        const THREEPIDS: &str = "SELECT user_id, medium, address, \
             COALESCE(validated_at, added_at, 0) AS added_at FROM user_threepids \
             ORDER BY user_id, medium, address";
        let threepids = self.fetch_all(THREEPIDS, THREEPIDS).await?;
        const EXTERNAL_IDS: &str = "SELECT user_id, auth_provider, external_id \
             FROM user_external_ids ORDER BY user_id, auth_provider";
        let external_ids = self.fetch_all(EXTERNAL_IDS, EXTERNAL_IDS).await?;
        const DEVICES: &str = "SELECT user_id, device_id, display_name, last_seen, ip, user_agent \
             FROM devices WHERE {visible} ORDER BY user_id, device_id";
        let devices = self
            .fetch_all(
                &DEVICES.replace("{visible}", "NOT COALESCE(hidden, FALSE)"),
                &DEVICES.replace("{visible}", "COALESCE(hidden, 0) = 0"),
            )
            .await?;
        const ACCESS_TOKENS: &str = "SELECT id, user_id, device_id, token, valid_until_ms, \
             puppets_user_id, refresh_token_id FROM access_tokens ORDER BY id";
        let access_tokens = self.fetch_all(ACCESS_TOKENS, ACCESS_TOKENS).await?;
        const REFRESH_TOKENS: &str = "SELECT id, user_id, device_id, token, next_token_id \
             FROM refresh_tokens ORDER BY id";
        let refresh_tokens = self.fetch_all(REFRESH_TOKENS, REFRESH_TOKENS).await?;
        let other_clients = self.other_clients().await?;
        Ok(SynapseData {
            users,
            threepids,
            external_ids,
            devices,
            access_tokens,
            refresh_tokens,
            other_clients,
        })
    }

    /// Closes the connections.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// The processes other than this one with `file` open, from `/proc/<pid>/fd`.
fn processes_with_open(file: &std::path::Path) -> usize {
    let own = std::process::id().to_string();
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return 0;
    };
    processes
        .flatten()
        .filter(|process| {
            let name = process.file_name();
            let name = name.to_string_lossy();
            name.chars().all(|c| c.is_ascii_digit()) && name != own
        })
        .filter(|process| {
            std::fs::read_dir(process.path().join("fd")).is_ok_and(|fds| {
                fds.flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == file))
            })
        })
        .count()
}
