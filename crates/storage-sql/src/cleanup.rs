//! The deletions of the retention rules, one statement each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_storage::{CleanupRepository, StorageError};

use crate::{
    repository::{SqlRepository, on_backend},
    types::DbTime,
};

impl SqlRepository {
    /// Runs `sql` with `before` as `$1`; the rows it touched.
    async fn delete_before(
        &mut self,
        sql: &'static str,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }
}

#[async_trait]
impl CleanupRepository for SqlRepository {
    async fn revoked_access_tokens(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM oauth2_access_tokens WHERE revoked_at < $1",
            before,
        )
        .await
    }

    async fn expired_access_tokens(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM oauth2_access_tokens WHERE expires_at < $1",
            before,
        )
        .await
    }

    async fn revoked_refresh_tokens(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM oauth2_refresh_tokens WHERE revoked_at < $1",
            before,
        )
        .await
    }

    async fn consumed_refresh_tokens(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM oauth2_refresh_tokens WHERE consumed_at < $1",
            before,
        )
        .await
    }

    async fn finished_compat_sessions(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.delete_before("DELETE FROM compat_sessions WHERE finished_at < $1", before)
            .await
    }

    async fn finished_oauth_sessions(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.delete_before("DELETE FROM oauth2_sessions WHERE finished_at < $1", before)
            .await
    }

    async fn finished_browser_sessions(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM user_sessions WHERE finished_at < $1 \
            AND NOT EXISTS (SELECT 1 FROM oauth2_sessions \
                WHERE oauth2_sessions.user_session_id = user_sessions.user_session_id) \
            AND NOT EXISTS (SELECT 1 FROM compat_sessions \
                WHERE compat_sessions.user_session_id = user_sessions.user_session_id)";
        self.delete_before(SQL, before).await
    }

    async fn inactive_session_addresses(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        const TABLES: [&str; 4] = [
            "UPDATE user_sessions SET last_active_ip = NULL WHERE last_active_ip IS NOT NULL \
             AND COALESCE(last_active_at, created_at) < $1",
            "UPDATE oauth2_sessions SET last_active_ip = NULL WHERE last_active_ip IS NOT NULL \
             AND COALESCE(last_active_at, created_at) < $1",
            "UPDATE compat_sessions SET last_active_ip = NULL WHERE last_active_ip IS NOT NULL \
             AND COALESCE(last_active_at, created_at) < $1",
            "UPDATE personal_sessions SET last_active_ip = NULL WHERE last_active_ip IS NOT NULL \
             AND COALESCE(last_active_at, created_at) < $1",
        ];
        let mut cleared = 0;
        for sql in TABLES {
            cleared += self.delete_before(sql, before).await?;
        }
        Ok(cleared)
    }

    async fn authorization_grants(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM oauth2_authorization_grants WHERE created_at < $1",
            before,
        )
        .await
    }

    async fn device_code_grants(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM oauth2_device_code_grants WHERE created_at < $1",
            before,
        )
        .await
    }

    async fn orphaned_upstream_links(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM upstream_oauth_links WHERE user_id IS NULL AND created_at < $1",
            before,
        )
        .await
    }

    async fn user_registrations(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        self.delete_before(
            "DELETE FROM user_registrations WHERE created_at < $1",
            before,
        )
        .await
    }
}
