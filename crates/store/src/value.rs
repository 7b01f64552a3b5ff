//! The values the views' SQL binds and reads, the same for both engines.
//! The views keep to four column types (integer, text, bytes, null) so one
//! set of statements runs on SQLite and on PostgreSQL.

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn into_string(self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A stable rendering for content checksums.
    pub fn render(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"N"),
            Value::Int(n) => out.extend_from_slice(format!("I{n}").as_bytes()),
            Value::Text(s) => {
                out.extend_from_slice(format!("T{}:", s.len()).as_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Value::Bytes(b) => {
                out.extend_from_slice(format!("B{}:", b.len()).as_bytes());
                out.extend_from_slice(b);
            }
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int(n.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Int(b.into())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<Value> for libsql::Value {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => libsql::Value::Null,
            Value::Int(n) => libsql::Value::Integer(n),
            Value::Text(s) => libsql::Value::Text(s),
            Value::Bytes(b) => libsql::Value::Blob(b),
        }
    }
}

impl From<libsql::Value> for Value {
    fn from(v: libsql::Value) -> Self {
        match v {
            libsql::Value::Null => Value::Null,
            libsql::Value::Integer(n) => Value::Int(n),
            // The views store no floating point; a real is read as text
            // so nothing is silently rounded.
            libsql::Value::Real(r) => Value::Text(r.to_string()),
            libsql::Value::Text(s) => Value::Text(s),
            libsql::Value::Blob(b) => Value::Bytes(b),
        }
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) => n.to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Bytes(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT8,
            Type::INT4,
            Type::TEXT,
            Type::VARCHAR,
            Type::BYTEA,
        ]
        .contains(ty)
    }

    to_sql_checked!();
}
