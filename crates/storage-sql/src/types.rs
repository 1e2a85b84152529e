//! How domain values are stored on each backend.
//!
//! Each wrapper encodes to the native type of PostgreSQL and to a form of SQLite's few storage
//! classes that sorts like the value itself, so that one query text (`expires_at > $2`,
//! `ORDER BY run_at`) means the same thing on both.

use chrono::{DateTime, SecondsFormat, Utc};
use portcullis_storage::StorageError;
use sqlx::{
    Decode, Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
    sqlite::{SqliteTypeInfo, SqliteValueRef},
};
use ulid::Ulid;
use uuid::Uuid;

type SqliteBuffer<'q> = <Sqlite as sqlx::Database>::ArgumentBuffer<'q>;

/// A ULID: `UUID` on PostgreSQL (same 128 bits, same byte order, so the same sort order), its
/// canonical 26-character text on SQLite (readable in the `sqlite3` shell, sorts by time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbId(pub Ulid);

impl Type<Sqlite> for DbId {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbId {
    fn encode_by_ref(&self, buf: &mut SqliteBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbId {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self(Ulid::from_string(text)?))
    }
}

impl Type<Postgres> for DbId {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Uuid as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbId {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<'_, Postgres>>::encode_by_ref(&Uuid::from(self.0), buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbId {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(Ulid::from(<Uuid as Decode<'r, Postgres>>::decode(
            value,
        )?)))
    }
}

/// An instant: `TIMESTAMPTZ` on PostgreSQL, fixed-width RFC 3339 text on SQLite
/// (`2024-03-01T12:00:00.000000Z`, always six fractional digits and `Z`).
///
/// The fixed width is the point: text comparison then orders instants correctly, which
/// sqlx's own encoding (a variable number of fractional digits) does not guarantee. Both
/// backends keep microseconds, so a value read back equals the stored one on either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbTime(pub DateTime<Utc>);

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbTime {
    fn encode_by_ref(&self, buf: &mut SqliteBuffer<'q>) -> Result<IsNull, BoxDynError> {
        let text = self.0.to_rfc3339_opts(SecondsFormat::Micros, true);
        <String as Encode<'q, Sqlite>>::encode(text, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self(
            DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc),
        ))
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<DateTime<Utc> as Decode<'r, Postgres>>::decode(
            value,
        )?))
    }
}

/// An ordered list of strings: `TEXT[]` on PostgreSQL, a JSON array on SQLite (which has no
/// arrays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbStringList(pub Vec<String>);

impl DbStringList {
    /// The values, as their names.
    pub(crate) fn of<T: std::fmt::Display>(values: &[T]) -> Self {
        Self(values.iter().map(ToString::to_string).collect())
    }

    /// The values read back from their names in `column`.
    pub(crate) fn parsed<T>(self, column: &'static str) -> Result<Vec<T>, StorageError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.0.iter().map(|value| parsed(column, value)).collect()
    }
}

impl Type<Sqlite> for DbStringList {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbStringList {
    fn encode_by_ref(&self, buf: &mut SqliteBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbStringList {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self(serde_json::from_str(text)?))
    }
}

impl Type<Postgres> for DbStringList {
    fn type_info() -> PgTypeInfo {
        <Vec<String> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<String> as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbStringList {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Vec<String> as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbStringList {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<Vec<String> as Decode<'r, Postgres>>::decode(value)?))
    }
}

/// Turns a stored counter back into a `u32`, refusing what no write of ours can produce.
pub(crate) fn counter(
    column: &'static str,
    value: i64,
) -> Result<u32, portcullis_storage::StorageError> {
    u32::try_from(value).map_err(|_| {
        portcullis_storage::StorageError::InvalidData(format!(
            "{column} is {value}, outside 0..={}",
            u32::MAX
        ))
    })
}

/// Turns a stored address back into an [`IpAddr`](std::net::IpAddr). Addresses are stored as
/// text on both backends.
pub(crate) fn ip_address(
    column: &'static str,
    value: Option<String>,
) -> Result<Option<std::net::IpAddr>, portcullis_storage::StorageError> {
    value
        .map(|text| {
            text.parse().map_err(|_| {
                portcullis_storage::StorageError::InvalidData(format!(
                    "{column} is {text:?}, not an IP address"
                ))
            })
        })
        .transpose()
}

/// Turns a stored name back into one of the model's named enums.
pub(crate) fn name<T>(
    column: &'static str,
    value: &str,
) -> Result<T, portcullis_storage::StorageError>
where
    T: std::str::FromStr<Err = portcullis_model::UnknownName>,
{
    value.parse().map_err(|error| {
        portcullis_storage::StorageError::InvalidData(format!("{column}: {error}"))
    })
}

/// Turns a stored value back into the protocol's type (a scope, a grant type...).
pub(crate) fn parsed<T>(column: &'static str, value: &str) -> Result<T, StorageError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|error| StorageError::InvalidData(format!("{column} is {value:?}: {error}")))
}

/// Turns a stored instant back into a domain one.
pub(crate) fn instant(value: Option<DbTime>) -> Option<DateTime<Utc>> {
    value.map(|time| time.0)
}
