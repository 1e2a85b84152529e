//! `GET /user-emails/{id}`: one address.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::UserEmail;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getUserEmail")
        .tag("user-email")
        .summary("Get an email address")
        .response::<200, Json<SingleResponse<UserEmail>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such address"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<UserEmail>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let email = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    Ok(Json(SingleResponse::new(UserEmail::from(email))))
}
