//! The remembered consents, in table `oauth2_consents`: one row per (user, client, scope
//! token).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{OAuthClient, User};
use portcullis_storage::{ConsentRepository, StorageError};

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime},
};

#[async_trait]
impl ConsentRepository for SqlRepository {
    async fn grant(
        &mut self,
        user: &User,
        client: &OAuthClient,
        scope_tokens: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StorageError> {
        // A token granted before keeps the instant it was first granted.
        const SQL: &str = concat!(
            "INSERT INTO oauth2_consents (user_id, oauth2_client_id, scope_token, created_at) ",
            "VALUES ($1, $2, $3, $4) ",
            "ON CONFLICT (user_id, oauth2_client_id, scope_token) DO NOTHING"
        );
        // RFC 6749 §3.3: a scope token has at least one character.
        for scope_token in scope_tokens.iter().filter(|token| !token.is_empty()) {
            on_backend!(self, |conn| sqlx::query(SQL)
                .bind(DbId(user.id))
                .bind(DbId(client.id))
                .bind(scope_token)
                .bind(DbTime(now))
                .execute(conn)
                .await
                .map(drop))?;
        }
        self.granted_scope(user, client).await
    }

    async fn granted_scope(
        &mut self,
        user: &User,
        client: &OAuthClient,
    ) -> Result<Vec<String>, StorageError> {
        const SQL: &str = concat!(
            "SELECT scope_token FROM oauth2_consents ",
            "WHERE user_id = $1 AND oauth2_client_id = $2 ORDER BY scope_token"
        );
        let rows: Vec<(String,)> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(user.id))
            .bind(DbId(client.id))
            .fetch_all(conn)
            .await)?;
        Ok(rows.into_iter().map(|(token,)| token).collect())
    }

    async fn revoke(&mut self, user: &User, client: &OAuthClient) -> Result<bool, StorageError> {
        const SQL: &str =
            "DELETE FROM oauth2_consents WHERE user_id = $1 AND oauth2_client_id = $2";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(user.id))
            .bind(DbId(client.id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted > 0)
    }
}
