//! What a call carries: its query (filters and the page), its JSON body and the id in its
//! path, each refused in the API's own error shape when malformed.

use std::num::NonZeroUsize;

use aide::{OperationInput, generate::GenContext, openapi::Operation};
use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use portcullis_storage::Pagination;
use schemars::JsonSchema;
use serde::{Deserialize, de::DeserializeOwned};
use ulid::Ulid;

use crate::{error::ApiError, schema::UlidSchema};

/// How many rows a page holds when the call does not say.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// The most rows a page may hold.
pub const MAX_PAGE_SIZE: usize = 1000;

/// The query string, as `T` (unknown parameters are ignored; repeated ones make lists).
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum_extra::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|query| Self(query.0))
            .map_err(|rejection| {
                ApiError::bad_request(format!(
                    "Invalid query parameters: {}",
                    rejection.body_text()
                ))
            })
    }
}

impl<T: JsonSchema> OperationInput for Query<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum_extra::extract::Query::<T>::operation_input(ctx, operation);
    }
}

/// The JSON body, as `T`.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|body| Self(body.0))
            .map_err(|rejection| {
                ApiError::bad_request(format!("Invalid request body: {}", rejection.body_text()))
            })
    }
}

impl<T: JsonSchema> OperationInput for Json<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::Json::<T>::operation_input(ctx, operation);
    }
}

/// The JSON body as `T`, or `T::default()` when the body is empty (for bodies whose every
/// field is optional).
pub struct JsonOrEmpty<T>(pub T);

impl<T, S> FromRequest<S> for JsonOrEmpty<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError::bad_request(format!("Invalid request body: {}", rejection.body_text()))
            })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        serde_json::from_slice(&body)
            .map(Self)
            .map_err(|error| ApiError::bad_request(format!("Invalid request body: {error}")))
    }
}

impl<T: JsonSchema> OperationInput for JsonOrEmpty<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::Json::<T>::operation_input(ctx, operation);
        if let Some(aide::openapi::ReferenceOr::Item(body)) = operation.request_body.as_mut() {
            body.required = false;
        }
    }
}

/// The `{id}` of the path.
#[derive(Deserialize, JsonSchema)]
pub struct UlidInPath {
    #[schemars(with = "UlidSchema")]
    pub id: Ulid,
}

/// The `{id}` of the path, as a ULID.
pub struct IdInPath(pub Ulid);

impl<S: Send + Sync> FromRequestParts<S> for IdInPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<UlidInPath>::from_request_parts(parts, state)
            .await
            .map(|path| Self(path.0.id))
            .map_err(|_| ApiError::bad_request("Invalid ID: expected a ULID"))
    }
}

impl OperationInput for IdInPath {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        axum::extract::Path::<UlidInPath>::operation_input(ctx, operation);
    }
}

/// Whether a list answers with its rows, their total count, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IncludeCount {
    /// Rows and count.
    #[default]
    True,
    /// Rows only.
    False,
    /// Count only.
    Only,
}

/// Which page of a list to answer with.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct PaginationParams {
    /// Only rows before this cursor.
    #[serde(rename = "page[before]")]
    #[schemars(with = "Option<UlidSchema>")]
    pub before: Option<Ulid>,
    /// Only rows after this cursor.
    #[serde(rename = "page[after]")]
    #[schemars(with = "Option<UlidSchema>")]
    pub after: Option<Ulid>,
    /// The first rows, at most this many.
    #[serde(rename = "page[first]")]
    pub first: Option<NonZeroUsize>,
    /// The last rows, at most this many.
    #[serde(rename = "page[last]")]
    pub last: Option<NonZeroUsize>,
    /// Whether to count the rows.
    pub count: Option<IncludeCount>,
}

impl PaginationParams {
    /// The page asked for.
    ///
    /// # Errors
    /// Both `page[first]` and `page[last]`, or a size above [`MAX_PAGE_SIZE`].
    pub fn pagination(&self) -> Result<Pagination, ApiError> {
        let pagination = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "Invalid pagination: page[first] and page[last] cannot both be set",
                ));
            }
            (Some(first), None) => Pagination::first(first.get()),
            (None, Some(last)) => Pagination::last(last.get()),
            (None, None) => Pagination::first(DEFAULT_PAGE_SIZE),
        };
        if pagination.count > MAX_PAGE_SIZE {
            return Err(ApiError::bad_request(format!(
                "Invalid pagination: a page holds at most {MAX_PAGE_SIZE} rows"
            )));
        }
        let pagination = match self.after {
            Some(after) => pagination.after(after),
            None => pagination,
        };
        Ok(match self.before {
            Some(before) => pagination.before(before),
            None => pagination,
        })
    }

    #[must_use]
    pub fn include_count(&self) -> IncludeCount {
        self.count.unwrap_or_default()
    }
}

/// The query of a list: its filter `F`, the page, and the filter's own parameters as given
/// (for the links to other pages).
pub struct ListQuery<F> {
    pub filter: F,
    pub page: PaginationParams,
    /// The parameters that are not about the page, in their order.
    pub filter_pairs: Vec<(String, String)>,
}

impl<F, S> FromRequestParts<S> for ListQuery<F>
where
    F: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(filter) = Query::<F>::from_request_parts(parts, state).await?;
        let Query(page) = Query::<PaginationParams>::from_request_parts(parts, state).await?;
        let filter_pairs = url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .filter(|(key, _)| !key.starts_with("page[") && key != "count")
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        Ok(Self {
            filter,
            page,
            filter_pairs,
        })
    }
}

impl<F: JsonSchema> OperationInput for ListQuery<F> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        Query::<PaginationParams>::operation_input(ctx, operation);
        Query::<F>::operation_input(ctx, operation);
    }
}
