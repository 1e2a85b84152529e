//! The SQL implementation of the Portcullis repositories, for SQLite and PostgreSQL.
//!
//! # One query text, two backends
//!
//! A [`Database`] holds either a SQLite or a PostgreSQL pool, and each unit of work one
//! transaction on it. Every query is written once, with PostgreSQL-style numbered parameters
//! (`$1`, `$2`, which SQLite accepts too, repeated or out of order), and run through a small
//! macro (`on_backend!`) that expands to one `match` arm per backend: the same text and the
//! same binds, type-checked against both drivers. Backend-specific SQL is the exception and is
//! marked where it happens: the job claim uses `FOR UPDATE SKIP LOCKED` on PostgreSQL.
//!
//! Queries use the runtime `sqlx::query*` functions, so building needs no database.
//!
//! # Storage types
//!
//! Values keep the native types of each engine while comparing the same way on both:
//!
//! | domain | PostgreSQL | SQLite (`STRICT` tables) |
//! | --- | --- | --- |
//! | ULID ids | `UUID` | `TEXT`, the 26-character ULID |
//! | instants | `TIMESTAMPTZ` | `TEXT`, fixed-width RFC 3339 in UTC with microseconds, so text order is time order |
//! | flags | `BOOLEAN` | `INTEGER` 0/1 |
//! | counters | `BIGINT` | `INTEGER` |
//! | JSON | `JSONB` | `TEXT` |
//! | string lists | `TEXT[]` | `TEXT`, a JSON array |
//! | IP addresses | `TEXT` | `TEXT` |
//!
//! Secrets that only need comparing (tokens, codes) are stored as their SHA-256 in a unique
//! `*_hash` column. Things with a life (grants, single sign-on logins, refresh tokens) keep one
//! nullable instant per transition (`fulfilled_at`, `exchanged_at`...), which `CHECK`
//! constraints keep describing exactly one state, and which the implementation turns into the
//! model's state enums.
//!
//! Deleting a user or a client deletes everything that only exists for it (browser sessions,
//! OAuth and compatibility sessions and their tokens, grants, consents); deleting a browser
//! session keeps the OAuth and compatibility sessions started from it.
//!
//! # Concurrency
//!
//! SQLite runs in WAL mode with a busy timeout, and every unit of work starts with
//! `BEGIN IMMEDIATE`: writers queue for the lock instead of failing half-way. On PostgreSQL,
//! transactions are `READ COMMITTED` and single-use things are consumed with one conditional
//! `UPDATE ... RETURNING`, whose re-check of the condition after a row lock makes exactly one of
//! several racing transactions win.
//!
//! # Migrations
//!
//! Two embedded sets, `migrations/sqlite` and `migrations/postgres`, with the same versions and
//! descriptions, applied by [`Database::migrate`].

mod activity;
mod cleanup;
mod compat;
mod database;
mod error;
mod listing;
mod oauth;
mod personal;
mod policy;
mod queue;
mod rate_limit;
mod reachability;
mod repository;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timing;
mod types;
mod upstream;
mod user;

pub use self::{
    database::{
        Backend, ConnectOptions, Connections, Database, MigrationStatus, PoolOptions,
        PostgresOptions,
    },
    error::DatabaseError,
};
