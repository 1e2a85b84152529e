//! Second factors, in tables `user_totp` (one authenticator per user), `user_recovery_codes`
//! (only the SHA-256 of each code is stored) and `user_passkeys`; and the passkey ceremonies
//! under way, in `user_passkey_challenges`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{Ulid, User, UserPasskey, UserTotp, token::hash_token};
use portcullis_storage::{
    NewPasskey, PasskeyChallengeRepository, StorageError, UserPasskeyRepository,
    UserRecoveryCodeRepository, UserTotpRepository,
};

use crate::{
    repository::{SqlRepository, on_backend, on_backend_keeping_existing},
    types::{DbId, DbTime},
};

/// The columns every query of `user_totp` returns, in [`TotpRow`]'s order.
macro_rules! totp_columns {
    () => {
        "user_id, encrypted_secret, created_at, confirmed_at, last_used_step"
    };
}

#[derive(sqlx::FromRow)]
struct TotpRow {
    user_id: DbId,
    encrypted_secret: String,
    created_at: DbTime,
    confirmed_at: Option<DbTime>,
    last_used_step: Option<i64>,
}

impl TryFrom<TotpRow> for UserTotp {
    type Error = StorageError;

    fn try_from(row: TotpRow) -> Result<Self, StorageError> {
        let last_used_step = row
            .last_used_step
            .map(|step| {
                u64::try_from(step).map_err(|_| {
                    StorageError::InvalidData(format!("last_used_step is {step}, below 0"))
                })
            })
            .transpose()?;
        Ok(Self {
            user_id: row.user_id.0,
            encrypted_secret: row.encrypted_secret,
            created_at: row.created_at.0,
            confirmed_at: row.confirmed_at.map(|time| time.0),
            last_used_step,
        })
    }
}

/// A time step as stored (steps of 30 s since 1970 fit an `i64` for ages).
fn stored_step(step: u64) -> Result<i64, StorageError> {
    i64::try_from(step).map_err(|_| StorageError::InvalidData(format!("time step {step}")))
}

#[async_trait]
impl UserTotpRepository for SqlRepository {
    async fn start(
        &mut self,
        user: &User,
        encrypted_secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserTotp>, StorageError> {
        // An unconfirmed enrolment is replaced; a confirmed authenticator is kept.
        const SQL: &str = concat!(
            "INSERT INTO user_totp (user_id, encrypted_secret, created_at) VALUES ($1, $2, $3) ",
            "ON CONFLICT (user_id) DO UPDATE SET encrypted_secret = excluded.encrypted_secret, ",
            "created_at = excluded.created_at WHERE user_totp.confirmed_at IS NULL RETURNING ",
            totp_columns!()
        );
        let row: Option<TotpRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .bind(encrypted_secret)
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(UserTotp::try_from).transpose()
    }

    async fn find(&mut self, user: &User) -> Result<Option<UserTotp>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            totp_columns!(),
            " FROM user_totp WHERE user_id = $1"
        );
        let row: Option<TotpRow> = on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_optional(conn)
            .await)?;
        row.map(UserTotp::try_from).transpose()
    }

    async fn confirm(
        &mut self,
        user: &User,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE user_totp SET confirmed_at = $2, last_used_step = $3 \
                           WHERE user_id = $1 AND confirmed_at IS NULL";
        let step = stored_step(step)?;
        let updated = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .bind(DbTime(now))
            .bind(step)
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(updated == 1)
    }

    async fn use_step(&mut self, user: &User, step: u64) -> Result<bool, StorageError> {
        // Check and record in one statement: of two requests with the same code, one wins.
        const SQL: &str = "UPDATE user_totp SET last_used_step = $2 \
                           WHERE user_id = $1 AND confirmed_at IS NOT NULL \
                           AND (last_used_step IS NULL OR last_used_step < $2)";
        let step = stored_step(step)?;
        let updated = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .bind(step)
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(updated == 1)
    }

    async fn remove(&mut self, user: &User) -> Result<bool, StorageError> {
        const SQL: &str = "DELETE FROM user_totp WHERE user_id = $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted == 1)
    }
}

#[async_trait]
impl UserRecoveryCodeRepository for SqlRepository {
    async fn replace(
        &mut self,
        user: &User,
        codes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        UserRecoveryCodeRepository::remove_all(self, user).await?;
        const SQL: &str = "INSERT INTO user_recovery_codes \
                           (user_recovery_code_id, user_id, code_hash, created_at) \
                           VALUES ($1, $2, $3, $4)";
        for code in codes {
            let id = self.new_id(now);
            on_backend!(self, |conn| sqlx::query(SQL)
                .bind(DbId(id))
                .bind(DbId(user.id))
                .bind(hash_token(code))
                .bind(DbTime(now))
                .execute(conn)
                .await
                .map(drop))?;
        }
        Ok(())
    }

    async fn consume(
        &mut self,
        user: &User,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        // Check and use in one statement: a code is used once, however many submit it.
        const SQL: &str = "UPDATE user_recovery_codes SET used_at = $3 \
                           WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL";
        let updated = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .bind(hash_token(code))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(updated == 1)
    }

    async fn count_unused(&mut self, user: &User) -> Result<u64, StorageError> {
        const SQL: &str =
            "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL";
        let count: i64 = on_backend_keeping_existing!(self, |conn| sqlx::query_scalar(SQL)
            .bind(DbId(user.id))
            .fetch_one(conn)
            .await)?;
        u64::try_from(count).map_err(|_| StorageError::InvalidData(format!("count {count}")))
    }

    async fn remove_all(&mut self, user: &User) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM user_recovery_codes WHERE user_id = $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted)
    }
}

/// The columns every query of `user_passkeys` returns, in [`PasskeyRow`]'s order.
macro_rules! passkey_columns {
    () => {
        "user_passkey_id, user_id, credential_id, name, user_handle, static_state, \
         dynamic_state, created_at, last_used_at"
    };
}

#[derive(sqlx::FromRow)]
struct PasskeyRow {
    user_passkey_id: DbId,
    user_id: DbId,
    credential_id: String,
    name: String,
    user_handle: String,
    static_state: String,
    dynamic_state: String,
    created_at: DbTime,
    last_used_at: Option<DbTime>,
}

impl From<PasskeyRow> for UserPasskey {
    fn from(row: PasskeyRow) -> Self {
        Self {
            id: row.user_passkey_id.0,
            user_id: row.user_id.0,
            credential_id: row.credential_id,
            name: row.name,
            user_handle: row.user_handle,
            static_state: row.static_state,
            dynamic_state: row.dynamic_state,
            created_at: row.created_at.0,
            last_used_at: row.last_used_at.map(|time| time.0),
        }
    }
}

#[async_trait]
impl UserPasskeyRepository for SqlRepository {
    async fn add(
        &mut self,
        user: &User,
        passkey: NewPasskey,
        now: DateTime<Utc>,
    ) -> Result<Option<UserPasskey>, StorageError> {
        // A credential registered already is left as it is (and whose it is, unsaid).
        const SQL: &str = concat!(
            "INSERT INTO user_passkeys (user_passkey_id, user_id, credential_id, name, ",
            "user_handle, static_state, dynamic_state, created_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ",
            "ON CONFLICT (credential_id) DO NOTHING RETURNING ",
            passkey_columns!()
        );
        let id = self.new_id(now);
        let row: Option<PasskeyRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .bind(&passkey.credential_id)
            .bind(&passkey.name)
            .bind(&passkey.user_handle)
            .bind(&passkey.static_state)
            .bind(&passkey.dynamic_state)
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UserPasskey::from))
    }

    async fn list(&mut self, user: &User) -> Result<Vec<UserPasskey>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            passkey_columns!(),
            " FROM user_passkeys WHERE user_id = $1 ORDER BY created_at, user_passkey_id"
        );
        let rows: Vec<PasskeyRow> = on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .fetch_all(conn)
            .await)?;
        Ok(rows.into_iter().map(UserPasskey::from).collect())
    }

    async fn find_by_credential_id(
        &mut self,
        credential_id: &str,
    ) -> Result<Option<UserPasskey>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            passkey_columns!(),
            " FROM user_passkeys WHERE credential_id = $1"
        );
        let row: Option<PasskeyRow> =
            on_backend_keeping_existing!(self, |conn| sqlx::query_as(SQL)
                .bind(credential_id)
                .fetch_optional(conn)
                .await)?;
        Ok(row.map(UserPasskey::from))
    }

    async fn record_use(
        &mut self,
        passkey: &UserPasskey,
        dynamic_state: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        // Compare and set: of two sign-ins from the same state, one wins.
        const SQL: &str = "UPDATE user_passkeys SET dynamic_state = $2, last_used_at = $3 \
                           WHERE user_passkey_id = $1 AND dynamic_state = $4";
        let updated = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(passkey.id))
            .bind(dynamic_state)
            .bind(DbTime(now))
            .bind(&passkey.dynamic_state)
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(updated == 1)
    }

    async fn remove(&mut self, user: &User, id: Ulid) -> Result<bool, StorageError> {
        const SQL: &str = "DELETE FROM user_passkeys WHERE user_passkey_id = $1 AND user_id = $2";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(id))
            .bind(DbId(user.id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted == 1)
    }

    async fn remove_all(&mut self, user: &User) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM user_passkeys WHERE user_id = $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted)
    }
}

#[async_trait]
impl PasskeyChallengeRepository for SqlRepository {
    async fn add(
        &mut self,
        challenge: &str,
        user_id: Option<Ulid>,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO user_passkey_challenges \
                           (challenge, user_id, state, created_at) VALUES ($1, $2, $3, $4)";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(challenge)
            .bind(user_id.map(DbId))
            .bind(state)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))?;
        Ok(())
    }

    async fn take(
        &mut self,
        challenge: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<(Option<Ulid>, String)>, StorageError> {
        // Deleted as it is read: one answer per challenge, however many arrive.
        const SQL: &str = "DELETE FROM user_passkey_challenges \
                           WHERE challenge = $1 AND created_at >= $2 RETURNING user_id, state";
        let row: Option<(Option<DbId>, String)> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(challenge)
            .bind(DbTime(not_before))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(|(user_id, state)| (user_id.map(|id| id.0), state)))
    }

    async fn remove_expired(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM user_passkey_challenges WHERE created_at < $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted)
    }
}
