//! The accepted client assertions, in table `oauth2_client_assertion_jtis`: one row per
//! (client, `jti`), until the assertion expires.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::OAuthClient;
use portcullis_storage::{ClientAssertionRepository, StorageError};

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

#[async_trait]
impl ClientAssertionRepository for SqlRepository {
    async fn record_jti(
        &mut self,
        client: &OAuthClient,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        const PURGE_SQL: &str = concat!(
            "DELETE FROM oauth2_client_assertion_jtis ",
            "WHERE oauth2_client_id = $1 AND expires_at <= $2"
        );
        // The primary key decides: a second insert of the same pair, even from a transaction
        // running at the same time, inserts nothing.
        const INSERT_SQL: &str = concat!(
            "INSERT INTO oauth2_client_assertion_jtis ",
            "(oauth2_client_id, jti, expires_at, created_at) VALUES ($1, $2, $3, $4) ",
            "ON CONFLICT (oauth2_client_id, jti) DO NOTHING"
        );
        on_backend!(self, |conn| sqlx::query(PURGE_SQL)
            .bind(DbId(client.id))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))?;
        let inserted = on_backend!(self, |conn| sqlx::query(INSERT_SQL)
            .bind(DbId(client.id))
            .bind(jti)
            .bind(DbTime(expires_at))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(inserted == 1)
    }
}
