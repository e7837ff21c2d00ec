//! Reading a JSON body, checked field by field.
//!
//! Bodies are checked by hand rather than by serde alone so that one answer
//! lists every problem, each naming its field, the way FastAPI does; and
//! so that unknown fields are refused instead of silently ignored (a typo in
//! `high` must not send a job to the wrong queue).

use chrono::{DateTime, Utc};
use lambda_http::Body;
use serde_json::{Map, Value};
use taskq::RetryPolicy;

use crate::error::{ApiError, FieldError};

/// Longest `delay`, in seconds: [`taskq::queue::MAX_DELAY`] (366 days).
pub const MAX_DELAY_SECS: u64 = taskq::queue::MAX_DELAY.as_secs();

/// How far in the past a `run_at` may be and still be taken as "now" (clock
/// skew between client and server); further back it is refused.
pub const RUN_AT_TOLERANCE_SECS: i64 = 60;

/// Parses `body` as a JSON object.
pub fn body_object(body: &Body) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = body.as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid(
            &["body"],
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        )),
        Err(e) => Err(ApiError::invalid(&["body"], "json_invalid", format!("JSON decode error: {e}"))),
    }
}

/// Reads the fields of a JSON object, collecting every problem.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    /// Where the object sits (`["body"]`, or `["body", "payload"]`).
    at: Vec<&'a str>,
    /// The fields read so far: anything else is unknown.
    known: Vec<&'a str>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// The fields of `obj`, found at `at`.
    pub fn new(obj: &'a Map<String, Value>, at: &[&'a str]) -> Self {
        Self { obj, at: at.to_vec(), known: Vec::new(), errors: Vec::new() }
    }

    fn loc(&self, name: &'a str) -> Vec<&'a str> {
        let mut loc = self.at.clone();
        loc.push(name);
        loc
    }

    fn error(&mut self, name: &'a str, kind: &str, msg: &str) {
        let loc = self.loc(name);
        self.errors.push(FieldError::new(&loc, kind, msg));
    }

    fn get(&mut self, name: &'a str, required: bool) -> Option<&'a Value> {
        self.known.push(name);
        match self.obj.get(name) {
            // JSON null counts as absent, as FastAPI treats it for required fields.
            None | Some(Value::Null) => {
                if required {
                    self.error(name, "missing", "Field required");
                }
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A required string.
    pub fn string(&mut self, name: &'a str) -> Option<String> {
        match self.get(name, true)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.error(name, "string_type", "Input should be a valid string");
                None
            }
        }
    }

    /// A required number (integer or not).
    pub fn number(&mut self, name: &'a str) -> Option<f64> {
        match self.get(name, true)?.as_f64() {
            Some(n) if n.is_finite() => Some(n),
            _ => {
                self.error(name, "float_type", "Input should be a valid number");
                None
            }
        }
    }

    /// A required whole number that fits in 64 bits.
    pub fn integer(&mut self, name: &'a str) -> Option<i64> {
        let v = self.get(name, true)?;
        match v.as_i64() {
            Some(n) => Some(n),
            None => {
                // 3.0 is an integer for JSON clients; 3.5 or 1e30 is not.
                let whole = v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15);
                if whole.is_none() {
                    self.error(name, "int_type", "Input should be a valid integer that fits in 64 bits");
                }
                whole.map(|f| f as i64)
            }
        }
    }

    /// An optional number (integer or not).
    pub fn number_opt(&mut self, name: &'a str) -> Option<f64> {
        match self.get(name, false)?.as_f64() {
            Some(n) if n.is_finite() => Some(n),
            _ => {
                self.error(name, "float_type", "Input should be a valid number");
                None
            }
        }
    }

    /// An optional string.
    pub fn string_opt(&mut self, name: &'a str) -> Option<String> {
        self.get(name, false)?;
        self.string(name)
    }

    /// An optional whole number that fits in 64 bits.
    pub fn integer_opt(&mut self, name: &'a str) -> Option<i64> {
        self.get(name, false)?;
        self.integer(name)
    }

    /// An optional object.
    pub fn object_opt(&mut self, name: &'a str) -> Option<&'a Map<String, Value>> {
        match self.get(name, false)? {
            Value::Object(m) => Some(m),
            _ => {
                self.error(name, "dict_type", "Input should be a valid dictionary");
                None
            }
        }
    }

    /// When the job runs, from `delay` (seconds from now, 0 to
    /// [`MAX_DELAY_SECS`]) or `run_at` (RFC 3339 with an offset, at most
    /// [`MAX_DELAY_SECS`] ahead, at most [`RUN_AT_TOLERANCE_SECS`] behind);
    /// not both. `None`: at once (neither given, a zero delay, or a `run_at`
    /// not after `now`).
    pub fn run_at(&mut self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let delay = self.get("delay", false);
        let run_at = self.get("run_at", false);
        if delay.is_some() && run_at.is_some() {
            self.error("run_at", "value_error", "Give delay or run_at, not both");
            return None;
        }
        let max = chrono::Duration::seconds(MAX_DELAY_SECS as i64);
        if let Some(d) = delay {
            let Some(secs) = d.as_f64().filter(|s| s.is_finite()) else {
                self.error("delay", "float_type", "Input should be a valid number");
                return None;
            };
            if secs < 0.0 {
                self.error("delay", "greater_than_equal", "Input should be greater than or equal to 0");
                return None;
            }
            if secs > MAX_DELAY_SECS as f64 {
                self.error(
                    "delay",
                    "less_than_equal",
                    &format!("Input should be less than or equal to {MAX_DELAY_SECS}"),
                );
                return None;
            }
            let d = std::time::Duration::from_secs_f64(secs);
            return (!d.is_zero()).then(|| now + chrono::Duration::from_std(d).unwrap_or(max));
        }
        let v = run_at?;
        let Value::String(text) = v else {
            self.error("run_at", "string_type", "Input should be a valid string");
            return None;
        };
        let t = match DateTime::parse_from_rfc3339(text) {
            Ok(t) => t.with_timezone(&Utc),
            Err(e) => {
                let msg = format!(
                    "Input should be an RFC 3339 date and time with an offset, such as 2026-12-01T09:30:00Z: {e}"
                );
                self.error("run_at", "datetime_parsing", &msg);
                return None;
            }
        };
        if t < now - chrono::Duration::seconds(RUN_AT_TOLERANCE_SECS) {
            self.error(
                "run_at",
                "value_error",
                &format!("{text} is more than {RUN_AT_TOLERANCE_SECS} seconds in the past"),
            );
            return None;
        }
        if t > now + max {
            let msg = format!("{text} is more than {} days ahead", MAX_DELAY_SECS / 86_400);
            self.error("run_at", "value_error", &msg);
            return None;
        }
        (t > now).then_some(t)
    }

    /// The `retry` object, `{max, backoff, backoff_max}`, each optional: a
    /// field not given is `defaults`' (the task's or the configured policy),
    /// except that a `backoff` above the default `backoff_max` raises it to
    /// `backoff`. Checked with [`taskq::queue::check_retry`]; `None` when
    /// absent or wrong (the problems are recorded, each naming its field).
    pub fn retry(&mut self, defaults: RetryPolicy) -> Option<RetryPolicy> {
        let obj = self.object_opt("retry")?;
        let mut at = self.at.clone();
        at.push("retry");
        let mut sub = Fields::new(obj, &at);
        let max = sub.integer_opt("max");
        let backoff = sub.number_opt("backoff");
        let backoff_max = sub.number_opt("backoff_max");
        if let Some(m) = max
            && m < 0
        {
            sub.reject("max", "greater_than_equal", "Input should be greater than or equal to 0");
        }
        let errors = sub.into_errors();
        if !errors.is_empty() {
            self.errors.extend(errors);
            return None;
        }
        let backoff = backoff.unwrap_or(defaults.backoff);
        let p = RetryPolicy {
            max: max.map_or(defaults.max, |m| u32::try_from(m).unwrap_or(u32::MAX)),
            backoff,
            backoff_max: backoff_max.unwrap_or(defaults.backoff_max.max(backoff)),
        };
        match taskq::queue::check_retry(&p) {
            Ok(()) => Some(p),
            Err(taskq::Error::Invalid { field, message }) => {
                let mut loc: Vec<&str> = self.at.clone();
                loc.extend(field.split('.'));
                self.errors.push(FieldError::new(&loc, "value_error", message));
                None
            }
            Err(other) => {
                self.errors.push(FieldError::new(&at, "value_error", other.to_string()));
                None
            }
        }
    }

    /// An optional boolean.
    pub fn boolean_or(&mut self, name: &'a str, default: bool) -> bool {
        self.boolean_opt(name).unwrap_or(default)
    }

    /// An optional boolean, `None` when absent (or not a boolean).
    pub fn boolean_opt(&mut self, name: &'a str) -> Option<bool> {
        match self.get(name, false)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.error(name, "bool_type", "Input should be a valid boolean");
                None
            }
        }
    }

    /// An optional object (empty when absent).
    pub fn object_or_empty(&mut self, name: &'a str) -> Map<String, Value> {
        match self.get(name, false) {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                self.error(name, "dict_type", "Input should be a valid dictionary");
                Map::new()
            }
        }
    }

    /// Adds a problem found outside the readers.
    pub fn reject(&mut self, name: &'a str, kind: &str, msg: &str) {
        self.error(name, kind, msg);
    }

    /// Every problem found, unknown fields included; `Ok` if there is none.
    pub fn finish(self) -> Result<(), ApiError> {
        let errors = self.into_errors();
        if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
    }

    /// Every problem found, unknown fields included.
    pub fn into_errors(mut self) -> Vec<FieldError> {
        let obj = self.obj;
        for key in obj.keys() {
            if !self.known.contains(&key.as_str()) {
                let mut loc: Vec<String> = self.at.iter().map(|s| s.to_string()).collect();
                loc.push(key.clone());
                self.errors.push(FieldError {
                    loc,
                    msg: "Extra inputs are not permitted".into(),
                    kind: "extra_forbidden".into(),
                });
            }
        }
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let o = obj(json!({"a": "x", "b": 1.5, "c": "no", "extra": 1}));
        let mut f = Fields::new(&o, &["body"]);
        assert_eq!(f.number("a"), None);
        assert_eq!(f.integer("b"), None);
        assert!(!f.boolean_or("c", false));
        assert_eq!(f.string("missing"), None);
        let Err(ApiError::Validation(errors)) = f.finish() else { panic!() };
        let got: Vec<(String, String)> = errors.iter().map(|e| (e.loc.join("."), e.kind.clone())).collect();
        assert_eq!(
            got,
            [
                ("body.a".into(), "float_type".into()),
                ("body.b".into(), "int_type".into()),
                ("body.c".into(), "bool_type".into()),
                ("body.missing".into(), "missing".into()),
                ("body.extra".into(), "extra_forbidden".into()),
            ]
        );
    }

    #[test]
    fn whole_floats_are_integers() {
        let o = obj(json!({"n": 3.0, "m": 1e30}));
        let mut f = Fields::new(&o, &["body"]);
        assert_eq!(f.integer("n"), Some(3));
        assert_eq!(f.integer("m"), None);
    }

    #[test]
    fn bodies_must_be_json_objects() {
        for (body, kind) in
            [("", "missing"), ("  ", "missing"), ("[1]", "model_attributes_type"), ("{", "json_invalid")]
        {
            let Err(ApiError::Validation(e)) = body_object(&Body::from(body)) else { panic!("{body}") };
            assert_eq!(e[0].kind, kind);
        }
        assert!(body_object(&Body::from("{}")).is_ok());
    }
}
