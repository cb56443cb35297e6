//! The typed output of every parser.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// One typed field value.
///
/// Strings borrow from the input line where they can (`Cow::Borrowed`), so a
/// parser allocates only when it has to rewrite the text (percent-decoding,
/// JSON unescaping). Call [`Record::into_owned`] to keep a record past the line.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp(i64),
    Ip(IpAddr),
    Str(Cow<'a, str>),
}

impl<'a> FieldValue<'a> {
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::Null => FieldValue::Null,
            FieldValue::Bool(b) => FieldValue::Bool(b),
            FieldValue::Int(i) => FieldValue::Int(i),
            FieldValue::Float(f) => FieldValue::Float(f),
            FieldValue::Timestamp(t) => FieldValue::Timestamp(t),
            FieldValue::Ip(ip) => FieldValue::Ip(ip),
            FieldValue::Str(s) => FieldValue::Str(Cow::Owned(s.into_owned())),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            FieldValue::Int(i) => Some(*i),
            FieldValue::Timestamp(t) => Some(*t),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, FieldValue::Null)
    }

    pub fn str(s: &'a str) -> Self {
        FieldValue::Str(Cow::Borrowed(s))
    }
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Null => f.write_str("null"),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Float(x) => write!(f, "{x}"),
            FieldValue::Timestamp(t) => write!(f, "{t}"),
            FieldValue::Ip(ip) => write!(f, "{ip}"),
            FieldValue::Str(s) => f.write_str(s),
        }
    }
}

/// One parsed log event: its fields in input order and the event time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record<'a> {
    pub fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
    /// The event time this record should be stored under, when the format has one.
    pub timestamp_ms: Option<i64>,
}

impl<'a> Record<'a> {
    pub fn with_capacity(n: usize) -> Self {
        Record {
            fields: Vec::with_capacity(n),
            timestamp_ms: None,
        }
    }

    /// First value stored under `name`.
    pub fn get(&self, name: &str) -> Option<&FieldValue<'a>> {
        self.fields
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v)
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(FieldValue::as_str)
    }

    pub fn push(&mut self, name: &'static str, value: FieldValue<'a>) {
        self.fields.push((Cow::Borrowed(name), value));
    }

    pub fn push_owned_name(&mut self, name: String, value: FieldValue<'a>) {
        self.fields.push((Cow::Owned(name), value));
    }

    pub fn into_owned(self) -> Record<'static> {
        Record {
            fields: self
                .fields
                .into_iter()
                .map(|(n, v)| (Cow::Owned(n.into_owned()), v.into_owned()))
                .collect(),
            timestamp_ms: self.timestamp_ms,
        }
    }
}

/// What one input line turned into.
#[derive(Debug, Clone, PartialEq)]
pub enum LineOutcome<'a> {
    /// A header or comment line the parser consumed (CloudFront `#Fields`,
    /// the VPC flow log header row, blank lines).
    Header,
    Record(Record<'a>),
    /// The line does not fit the format. Never fatal: the importer keeps the
    /// raw line and counts `reason`.
    Malformed {
        reason: &'static str,
    },
}

impl<'a> LineOutcome<'a> {
    pub fn record(self) -> Option<Record<'a>> {
        match self {
            LineOutcome::Record(r) => Some(r),
            _ => None,
        }
    }
}
