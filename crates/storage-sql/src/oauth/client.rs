//! The OAuth 2.0 clients, in table `oauth2_clients`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use portcullis_model::OAuthClient;
use portcullis_oauth::registration::ApplicationType;
use portcullis_storage::{
    OAuthClientFilter, OAuthClientRepository, Page, Pagination, StorageError,
};
use sqlx::types::Json;
use ulid::Ulid;
use url::Url;

use crate::{
    database::Backend,
    listing::{Arg, Conditions, bind_args},
    repository::{SqlRepository, on_backend},
    types::{DbId, DbStringList, DbTime, parsed},
};

/// The columns every query returns, in [`OAuthClientRow`]'s order.
macro_rules! columns {
    () => {
        "oauth2_client_id, client_id, is_static, token_endpoint_auth_method, \
         encrypted_client_secret, redirect_uris, client_name, client_uri, jwks, jwks_uri, \
         grant_types, created_at, metadata_digest, application_type, response_types, logo_uri, \
         policy_uri, tos_uri, contacts, token_endpoint_auth_signing_alg, \
         id_token_signed_response_alg, userinfo_signed_response_alg, post_logout_redirect_uris, \
         localized"
    };
}

/// The columns an insert writes: those of the parameters `$1` to `$23`, in order, then
/// `is_static`, which is given as a literal.
macro_rules! insert_columns {
    () => {
        "oauth2_client_id, client_id, token_endpoint_auth_method, encrypted_client_secret, \
         redirect_uris, client_name, client_uri, jwks, jwks_uri, grant_types, created_at, \
         metadata_digest, application_type, response_types, logo_uri, policy_uri, tos_uri, \
         contacts, token_endpoint_auth_signing_alg, id_token_signed_response_alg, \
         userinfo_signed_response_alg, post_logout_redirect_uris, localized, is_static"
    };
}

/// The values of an insert, for [`insert_columns`]: the parameters, then `is_static`.
macro_rules! insert_values {
    ($is_static:literal) => {
        concat!(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, ",
            "$17, $18, $19, $20, $21, $22, $23, ",
            $is_static,
            ") "
        )
    };
}

/// Binds a client's fields to an insert's parameters, in [`insert_columns`]' order.
macro_rules! bind_client {
    ($query:expr, $client:expr) => {{
        let client: &OAuthClient = $client;
        $query
            .bind(DbId(client.id))
            .bind(&client.client_id)
            .bind(client.client_auth_method.as_str())
            .bind(&client.encrypted_client_secret)
            .bind(DbStringList::of(&client.redirect_uris))
            .bind(&client.client_name)
            .bind(&client.client_uri)
            .bind(client.jwks.as_ref().map(Json))
            .bind(client.jwks_uri.as_ref().map(Url::as_str))
            .bind(DbStringList::of(&client.grant_types))
            .bind(DbTime(client.created_at))
            .bind(&client.metadata_digest)
            .bind(client.application_type.map(ApplicationType::as_str))
            .bind(DbStringList::of(&client.response_types))
            .bind(&client.logo_uri)
            .bind(&client.policy_uri)
            .bind(&client.tos_uri)
            .bind(DbStringList(client.contacts.clone()))
            .bind(&client.token_endpoint_auth_signing_alg)
            .bind(&client.id_token_signed_response_alg)
            .bind(&client.userinfo_signed_response_alg)
            .bind(DbStringList::of(&client.post_logout_redirect_uris))
            .bind(Json(&client.localized))
    }};
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
    metadata_digest: Option<String>,
    application_type: Option<String>,
    response_types: DbStringList,
    logo_uri: Option<String>,
    policy_uri: Option<String>,
    tos_uri: Option<String>,
    contacts: DbStringList,
    token_endpoint_auth_signing_alg: Option<String>,
    id_token_signed_response_alg: Option<String>,
    userinfo_signed_response_alg: Option<String>,
    post_logout_redirect_uris: DbStringList,
    localized: Json<BTreeMap<String, String>>,
}

impl TryFrom<OAuthClientRow> for OAuthClient {
    type Error = StorageError;

    fn try_from(row: OAuthClientRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.oauth2_client_id.0,
            client_id: row.client_id,
            is_static: row.is_static,
            client_auth_method: parsed(
                "oauth2_clients.token_endpoint_auth_method",
                &row.token_endpoint_auth_method,
            )?,
            encrypted_client_secret: row.encrypted_client_secret,
            redirect_uris: row.redirect_uris.parsed("oauth2_clients.redirect_uris")?,
            client_name: row.client_name,
            client_uri: row.client_uri,
            jwks: row.jwks.map(|jwks| jwks.0),
            jwks_uri: row
                .jwks_uri
                .map(|uri| parsed("oauth2_clients.jwks_uri", &uri))
                .transpose()?,
            grant_types: row.grant_types.parsed("oauth2_clients.grant_types")?,
            created_at: row.created_at.0,
            metadata_digest: row.metadata_digest,
            application_type: row
                .application_type
                .map(|kind| parsed("oauth2_clients.application_type", &kind))
                .transpose()?,
            response_types: row.response_types.parsed("oauth2_clients.response_types")?,
            logo_uri: row.logo_uri,
            policy_uri: row.policy_uri,
            tos_uri: row.tos_uri,
            contacts: row.contacts.0,
            token_endpoint_auth_signing_alg: row.token_endpoint_auth_signing_alg,
            id_token_signed_response_alg: row.id_token_signed_response_alg,
            userinfo_signed_response_alg: row.userinfo_signed_response_alg,
            post_logout_redirect_uris: row
                .post_logout_redirect_uris
                .parsed("oauth2_clients.post_logout_redirect_uris")?,
            localized: row.localized.0,
        })
    }
}

/// The conditions of `filter` on table `oauth2_clients`; the grant types are a list, read
/// the way of each backend.
fn conditions(filter: &OAuthClientFilter, backend: Backend) -> Conditions {
    let mut conditions = Conditions::default();
    if let Some(is_static) = filter.is_static {
        conditions.and("is_static = ?", [Arg::Bool(is_static)]);
    }
    if let Some(name) = &filter.client_name {
        conditions.and("client_name = ?", [Arg::Text(name.clone())]);
    }
    if let Some(uri) = &filter.client_uri {
        conditions.and("client_uri = ?", [Arg::Text(uri.clone())]);
    }
    if let Some(grant_type) = filter.grant_type {
        let clause = match backend {
            Backend::Postgres => "? = ANY(grant_types)",
            Backend::Sqlite => "EXISTS (SELECT 1 FROM json_each(grant_types) WHERE value = ?)",
        };
        conditions.and(clause, [Arg::Text(grant_type.as_str().to_owned())]);
    }
    conditions.and_flag(
        filter.has_active_sessions,
        "EXISTS (SELECT 1 FROM oauth2_sessions AS s \
         WHERE s.oauth2_client_id = oauth2_clients.oauth2_client_id AND s.finished_at IS NULL)",
    );
    conditions
}

#[async_trait]
impl OAuthClientRepository for SqlRepository {
    async fn upsert_static(&mut self, client: &OAuthClient) -> Result<OAuthClient, StorageError> {
        // The `WHERE` on the update leaves a dynamically registered client with the same
        // `client_id` untouched: then nothing is returned, and that is a conflict, because the
        // configuration must not silently take over a client someone registered.
        const SQL: &str = concat!(
            "INSERT INTO oauth2_clients (",
            insert_columns!(),
            ") ",
            insert_values!("TRUE"),
            "ON CONFLICT (client_id) DO UPDATE SET ",
            "token_endpoint_auth_method = excluded.token_endpoint_auth_method, ",
            "encrypted_client_secret = excluded.encrypted_client_secret, ",
            "redirect_uris = excluded.redirect_uris, ",
            "client_name = excluded.client_name, ",
            "client_uri = excluded.client_uri, ",
            "jwks = excluded.jwks, ",
            "jwks_uri = excluded.jwks_uri, ",
            "grant_types = excluded.grant_types, ",
            "metadata_digest = excluded.metadata_digest, ",
            "application_type = excluded.application_type, ",
            "response_types = excluded.response_types, ",
            "logo_uri = excluded.logo_uri, ",
            "policy_uri = excluded.policy_uri, ",
            "tos_uri = excluded.tos_uri, ",
            "contacts = excluded.contacts, ",
            "token_endpoint_auth_signing_alg = excluded.token_endpoint_auth_signing_alg, ",
            "id_token_signed_response_alg = excluded.id_token_signed_response_alg, ",
            "userinfo_signed_response_alg = excluded.userinfo_signed_response_alg, ",
            "post_logout_redirect_uris = excluded.post_logout_redirect_uris, ",
            "localized = excluded.localized ",
            "WHERE oauth2_clients.is_static ",
            "RETURNING ",
            columns!()
        );
        let row: Option<OAuthClientRow> =
            on_backend!(self, |conn| bind_client!(sqlx::query_as(SQL), client)
                .fetch_optional(conn)
                .await)?;
        row.map(OAuthClient::try_from).transpose()?.ok_or_else(|| {
            StorageError::Conflict(format!(
                "client_id {} belongs to a dynamically registered client",
                client.client_id
            ))
        })
    }

    async fn add_dynamic(&mut self, client: &OAuthClient) -> Result<OAuthClient, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO oauth2_clients (",
            insert_columns!(),
            ") ",
            insert_values!("FALSE"),
            "RETURNING ",
            columns!()
        );
        let row: OAuthClientRow =
            on_backend!(self, |conn| bind_client!(sqlx::query_as(SQL), client)
                .fetch_one(conn)
                .await)?;
        row.try_into()
    }

    async fn find_dynamic_by_metadata_digest(
        &mut self,
        digest: &str,
    ) -> Result<Option<OAuthClient>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_clients WHERE metadata_digest = $1 AND NOT is_static"
        );
        let row: Option<OAuthClientRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(digest)
            .fetch_optional(conn)
            .await)?;
        row.map(OAuthClient::try_from).transpose()
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
        row.map(OAuthClient::try_from).transpose()
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
        row.map(OAuthClient::try_from).transpose()
    }

    async fn list_static(&mut self) -> Result<Vec<OAuthClient>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_clients WHERE is_static ORDER BY client_id"
        );
        let rows: Vec<OAuthClientRow> =
            on_backend!(self, |conn| sqlx::query_as(SQL).fetch_all(conn).await)?;
        rows.into_iter().map(OAuthClient::try_from).collect()
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

    async fn list_page(
        &mut self,
        filter: &OAuthClientFilter,
        pagination: Pagination,
    ) -> Result<Page<OAuthClient>, StorageError> {
        let (sql, args) = conditions(filter, self.backend()).page_query(
            columns!(),
            "oauth2_clients",
            "oauth2_client_id",
            &pagination,
        );
        let rows: Vec<OAuthClientRow> =
            on_backend!(self, |conn| bind_args!(sqlx::query_as(&sql), args)
                .fetch_all(conn)
                .await)?;
        let clients = rows
            .into_iter()
            .map(OAuthClient::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pagination.page(clients))
    }

    async fn count(&mut self, filter: &OAuthClientFilter) -> Result<usize, StorageError> {
        let (sql, args) = conditions(filter, self.backend()).count_query("oauth2_clients");
        let count: i64 = on_backend!(self, |conn| bind_args!(sqlx::query_scalar(&sql), args)
            .fetch_one(conn)
            .await)?;
        Ok(crate::listing::count(count))
    }
}
