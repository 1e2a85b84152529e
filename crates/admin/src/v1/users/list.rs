//! `GET /users`: the users, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_storage::{UserFilter, UserState};
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, list},
    schema::UlidSchema,
    v1::known,
};

/// The state of an account.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Neither locked nor deactivated.
    Active,
    Locked,
    Deactivated,
}

/// Which users to list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UserFilterParams {
    /// Only users who may (or may not) ask for the admin scope.
    #[serde(rename = "filter[admin]")]
    admin: Option<bool>,
    /// Only legacy guests (or only others).
    #[serde(rename = "filter[legacy-guest]")]
    legacy_guest: Option<bool>,
    /// Only users whose username contains this.
    #[serde(rename = "filter[search]")]
    search: Option<String>,
    #[serde(rename = "filter[status]")]
    status: Option<UserStatus>,
    /// Only users with an active session of one of these clients (repeatable).
    #[serde(rename = "filter[active-oauth2-client]", default)]
    #[schemars(with = "Vec<UlidSchema>")]
    active_oauth2_client: Vec<Ulid>,
    #[serde(rename = "filter[has-active-oauth2-session]")]
    has_active_oauth2_session: Option<bool>,
    #[serde(rename = "filter[has-active-compat-session]")]
    has_active_compat_session: Option<bool>,
}

impl From<&UserFilterParams> for UserFilter {
    fn from(params: &UserFilterParams) -> Self {
        Self {
            can_request_admin: params.admin,
            legacy_guest: params.legacy_guest,
            search: params.search.clone().filter(|search| !search.is_empty()),
            state: params.status.map(|status| match status {
                UserStatus::Active => UserState::Active,
                UserStatus::Locked => UserState::Locked,
                UserStatus::Deactivated => UserState::Deactivated,
            }),
            active_oauth2_clients: params.active_oauth2_client.clone(),
            has_active_oauth2_session: params.has_active_oauth2_session,
            has_active_compat_session: params.has_active_compat_session,
        }
    }
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listUsers")
        .tag("user")
        .summary("List users")
        .response::<200, Json<PaginatedResponse<User>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| {
            r.description("A client of `filter[active-oauth2-client]` does not exist")
        })
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<UserFilterParams>,
) -> Result<Json<PaginatedResponse<User>>, ApiError> {
    let pagination = query.page.pagination()?;
    let filter = UserFilter::from(&query.filter);
    let mut repo = state.database().read_transaction().await?;
    known::clients(&mut *repo, filter.active_oauth2_clients.iter().copied()).await?;
    let answer = list(&mut *repo, &filter, pagination, &query, User::from).await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
