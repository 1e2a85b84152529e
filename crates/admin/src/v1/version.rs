//! `GET /version`: the running version.

use aide::transform::TransformOperation;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use crate::call_context::CallContext;

#[derive(Serialize, JsonSchema)]
pub struct Version {
    version: &'static str,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("version")
        .tag("server")
        .summary("Get the version of the running service")
        .response::<200, Json<Version>>()
}

pub async fn handler(_caller: CallContext) -> Json<Version> {
    Json(Version {
        version: env!("CARGO_PKG_VERSION"),
    })
}
