//! The OAuth 2.0 clients, in table `oauth2_clients`.

use async_trait::async_trait;
use portcullis_model::OAuthClient;
use portcullis_storage::{OAuthClientRepository, StorageError};
use sqlx::types::Json;
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbStringList, DbTime},
};

/// The columns every query returns, in [`OAuthClientRow`]'s order.
macro_rules! columns {
    () => {
        "oauth2_client_id, client_id, is_static, token_endpoint_auth_method, \
         encrypted_client_secret, redirect_uris, client_name, client_uri, jwks, jwks_uri, \
         grant_types, created_at"
    };
}

#[derive(sqlx::FromRow)]
struct OAuthClientRow {
    oauth2_client_id: DbId,
    client_id: String,
    is_static: bool,
    token_endpoint_auth_method: String,
    encrypted_client_secret: Option<String>,
    redirect_uris: DbStringList,
    client_name: Option<String>,
    client_uri: Option<String>,
    jwks: Option<Json<serde_json::Value>>,
    jwks_uri: Option<String>,
    grant_types: DbStringList,
    created_at: DbTime,
}

impl From<OAuthClientRow> for OAuthClient {
    fn from(row: OAuthClientRow) -> Self {
        Self {
            id: row.oauth2_client_id.0,
            client_id: row.client_id,
            is_static: row.is_static,
            client_auth_method: row.token_endpoint_auth_method,
            encrypted_client_secret: row.encrypted_client_secret,
            redirect_uris: row.redirect_uris.0,
            client_name: row.client_name,
            client_uri: row.client_uri,
            jwks: row.jwks.map(|jwks| jwks.0),
            jwks_uri: row.jwks_uri,
            grant_types: row.grant_types.0,
            created_at: row.created_at.0,
        }
    }
}

#[async_trait]
impl OAuthClientRepository for SqlRepository {
    async fn upsert_static(&mut self, client: &OAuthClient) -> Result<OAuthClient, StorageError> {
        // The `WHERE` on the update leaves a dynamically registered client with the same
        // `client_id` untouched: then nothing is returned, and that is a conflict, because the
        // configuration must not silently take over a client someone registered.
        const SQL: &str = concat!(
            "INSERT INTO oauth2_clients (oauth2_client_id, client_id, is_static, ",
            "token_endpoint_auth_method, encrypted_client_secret, redirect_uris, client_name, ",
            "client_uri, jwks, jwks_uri, grant_types, created_at) ",
            "VALUES ($1, $2, TRUE, $3, $4, $5, $6, $7, $8, $9, $10, $11) ",
            "ON CONFLICT (client_id) DO UPDATE SET ",
            "token_endpoint_auth_method = excluded.token_endpoint_auth_method, ",
            "encrypted_client_secret = excluded.encrypted_client_secret, ",
            "redirect_uris = excluded.redirect_uris, ",
            "client_name = excluded.client_name, ",
            "client_uri = excluded.client_uri, ",
            "jwks = excluded.jwks, ",
            "jwks_uri = excluded.jwks_uri, ",
            "grant_types = excluded.grant_types ",
            "WHERE oauth2_clients.is_static ",
            "RETURNING ",
            columns!()
        );
        let row: Option<OAuthClientRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(client.id))
            .bind(&client.client_id)
            .bind(&client.client_auth_method)
            .bind(&client.encrypted_client_secret)
            .bind(DbStringList(client.redirect_uris.clone()))
            .bind(&client.client_name)
            .bind(&client.client_uri)
            .bind(client.jwks.as_ref().map(Json))
            .bind(&client.jwks_uri)
            .bind(DbStringList(client.grant_types.clone()))
            .bind(DbTime(client.created_at))
            .fetch_optional(conn)
            .await)?;
        row.map(OAuthClient::from).ok_or_else(|| {
            StorageError::Conflict(format!(
                "client_id {} belongs to a dynamically registered client",
                client.client_id
            ))
        })
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<OAuthClient>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_clients WHERE oauth2_client_id = $1"
        );
        let row: Option<OAuthClientRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(OAuthClient::from))
    }

    async fn find_by_client_id(
        &mut self,
        client_id: &str,
    ) -> Result<Option<OAuthClient>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_clients WHERE client_id = $1"
        );
        let row: Option<OAuthClientRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(client_id)
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(OAuthClient::from))
    }

    async fn list_static(&mut self) -> Result<Vec<OAuthClient>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_clients WHERE is_static ORDER BY client_id"
        );
        let rows: Vec<OAuthClientRow> =
            on_backend!(self, |conn| sqlx::query_as(SQL).fetch_all(conn).await)?;
        Ok(rows.into_iter().map(OAuthClient::from).collect())
    }

    async fn delete(&mut self, id: Ulid) -> Result<bool, StorageError> {
        const SQL: &str = "DELETE FROM oauth2_clients WHERE oauth2_client_id = $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbId(id))
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted > 0)
    }
}
