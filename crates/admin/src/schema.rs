//! Schemas of values whose Rust types carry none: ULIDs.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

/// A ULID as the API writes it: 26 characters of Crockford's base 32.
pub struct UlidSchema;

impl JsonSchema for UlidSchema {
    fn schema_name() -> Cow<'static, str> {
        "ULID".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[0123456789ABCDEFGHJKMNPQRSTVWXYZ]{26}$",
        })
    }
}
