//! One result row while a query runs: its fields plus what the engine needs
//! to order and identify it after projections have dropped fields.

use std::sync::Arc;

use crate::value::Value;

static NULL: Value = Value::Null;

#[derive(Debug, Clone)]
pub struct Row {
    pub fields: Vec<(String, Value)>,
    /// The event's timestamp, for the default `@timestamp desc` order and
    /// for `earliest`/`latest`, even when `@timestamp` is not displayed.
    pub timestamp_ms: i64,
    pub ptr: Option<Arc<str>>,
    /// Arrival order, the final tie-break so results are deterministic.
    pub seq: u64,
    /// Which windows of a `diff` query the event falls in; every other
    /// query sees only current-window events.
    pub window: Window,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub current: bool,
    pub baseline: bool,
}

impl Window {
    pub const CURRENT: Window = Window {
        current: true,
        baseline: false,
    };
}

impl Row {
    pub fn get(&self, name: &str) -> &Value {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&NULL, |(_, v)| v)
    }

    pub fn set(&mut self, name: &str, value: Value) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_string(), value)),
        }
    }
}
