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

    /// An optional boolean.
    pub fn boolean_or(&mut self, name: &'a str, default: bool) -> bool {
        match self.get(name, false) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.error(name, "bool_type", "Input should be a valid boolean");
                default
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

    /// An optional number (integer or not).
    pub fn number_opt(&mut self, name: &'a str) -> Option<f64> {
        let v = self.get(name, false)?;
        match v.as_f64() {
            Some(n) if n.is_finite() => Some(n),
            _ => {
                self.error(name, "float_type", "Input should be a valid number");
                None
            }
        }
    }

    /// An optional string.
    pub fn string_opt(&mut self, name: &'a str) -> Option<String> {
        match self.get(name, false)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.error(name, "string_type", "Input should be a valid string");
                None
            }
        }
    }

    /// An optional whole number that fits in 64 bits.
    pub fn integer_opt(&mut self, name: &'a str) -> Option<i64> {
        self.obj.get(name).filter(|v| !v.is_null())?;
        self.integer(name)
    }

    /// An optional object, `None` when absent.
    pub fn object_opt(&mut self, name: &'a str) -> Option<&'a Map<String, Value>> {
        match self.get(name, false)? {
            Value::Object(m) => Some(m),
            _ => {
                self.error(name, "dict_type", "Input should be a valid dictionary");
                None
            }
        }
    }

    /// Whether field `name` is present and not null (without reading it).
    pub fn has(&self, name: &str) -> bool {
        self.obj.get(name).is_some_and(|v| !v.is_null())
    }

    /// Takes the problems of a nested object's reader (its unknown fields included).
    pub fn absorb(&mut self, nested: Fields<'_>) {
        if let Err(ApiError::Validation(errors)) = nested.finish() {
            self.errors.extend(errors);
        }
    }

    /// Adds a problem found outside the readers.
    pub fn reject(&mut self, name: &'a str, kind: &str, msg: &str) {
        self.error(name, kind, msg);
    }

    /// Counts `name` as read without reading it: a field refused for another
    /// reason (two that exclude each other) is not also reported as unknown.
    pub fn skip(&mut self, name: &'a str) {
        self.known.push(name);
    }

    /// Every problem found, unknown fields included; `Ok` if there is none.
    pub fn finish(mut self) -> Result<(), ApiError> {
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
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

/// Most seconds a `delay` may say: [`taskq::queue::MAX_DELAY`], 366 days.
pub const MAX_DELAY_SECS: f64 = 31_622_400.0;

/// How far in the past a `run_at` may be and still be read as "now": clocks differ.
pub const PAST_TOLERANCE_SECS: i64 = 60;

/// Reads `delay` (seconds from now) or `run_at` (RFC 3339 with an offset):
/// when a job may run, `None` for at once (no field, `delay` 0, or a
/// `run_at` at most [`PAST_TOLERANCE_SECS`] in the past). Each bad value is
/// a problem naming its field; both fields together are one on `run_at`.
pub fn when(f: &mut Fields<'_>) -> Option<DateTime<Utc>> {
    let both = f.has("delay") && f.has("run_at");
    let delay = f.number_opt("delay");
    let run_at = f.string_opt("run_at");
    if both {
        f.reject("run_at", "value_error", "Give delay or run_at, not both");
        return None;
    }
    let now = Utc::now();
    if let Some(d) = delay {
        if !(0.0..=MAX_DELAY_SECS).contains(&d) {
            f.reject(
                "delay",
                "value_error",
                &format!("Input should be a number of seconds from 0 to {MAX_DELAY_SECS}"),
            );
            return None;
        }
        let micros = (d * 1e6).round() as i64;
        return Some(now + chrono::Duration::microseconds(micros)).filter(|_| micros > 0);
    }
    let s = run_at?;
    let Some(t) = parse_rfc3339(&s) else {
        f.reject("run_at", "datetime_parsing", "Input should be an RFC 3339 date and time with an offset");
        return None;
    };
    let max = chrono::Duration::seconds(MAX_DELAY_SECS as i64);
    if t < now - chrono::Duration::seconds(PAST_TOLERANCE_SECS) {
        f.reject(
            "run_at",
            "value_error",
            &format!("Input should not be more than {PAST_TOLERANCE_SECS} s in the past"),
        );
        None
    } else if t > now + max {
        f.reject("run_at", "value_error", "Input should be at most 366 days ahead");
        None
    } else {
        Some(t).filter(|t| *t > now)
    }
}

/// An RFC 3339 date and time with an offset (`Z` or `±HH:MM`), as UTC:
/// `2026-12-24T09:00:00+01:00`, with optional fractional seconds. Read
/// here rather than by chrono's general parser, which costs the enqueue
/// functions several KB.
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 2)?, num(8, 2)?)?;
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut at = 19;
    let mut nanos = 0u32;
    if sep(at, b".") {
        let digits = b[at + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for i in 0..9 {
            nanos = nanos * 10 + if i < digits { u32::from(b[at + 1 + i] - b'0') } else { 0 };
        }
        at += 1 + digits;
    }
    let offset_secs = match b.get(at)? {
        b'Z' | b'z' if b.len() == at + 1 => 0,
        sign @ (b'+' | b'-') if b.len() == at + 6 && sep(at + 3, b":") => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i64;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let local = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    Some(local.and_utc() - chrono::Duration::seconds(offset_secs))
}

/// A `retry` object as given: each field optional, the others from the
/// task's policy or the configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RetryOverride {
    /// Retries after the first attempt.
    pub max: Option<u32>,
    /// Base wait, seconds.
    pub backoff: Option<f64>,
    /// Longest wait, seconds.
    pub backoff_max: Option<f64>,
}

impl RetryOverride {
    /// The fields given, the others from `defaults`.
    pub fn over(self, defaults: RetryPolicy) -> RetryPolicy {
        RetryPolicy {
            max: self.max.unwrap_or(defaults.max),
            backoff: self.backoff.unwrap_or(defaults.backoff),
            backoff_max: self.backoff_max.unwrap_or(defaults.backoff_max),
        }
    }
}

/// Reads the optional `retry` object: its fields' types here, its bounds
/// once merged with the defaults ([`taskq::queue::check_retry`]).
pub fn retry(f: &mut Fields<'_>) -> Option<RetryOverride> {
    let obj = f.object_opt("retry")?;
    let mut at = f.at.clone();
    at.push("retry");
    let mut r = Fields::new(obj, &at);
    let max = r.integer_opt("max");
    let max = match max {
        Some(n) if !(0..=i64::from(taskq::queue::MAX_RETRIES)).contains(&n) => {
            let msg = format!("Input should be a whole number of retries from 0 to {}", taskq::queue::MAX_RETRIES);
            r.reject("max", "value_error", &msg);
            None
        }
        m => m.map(|n| n as u32),
    };
    let backoff = r.number_opt("backoff");
    let backoff_max = r.number_opt("backoff_max");
    f.absorb(r);
    Some(RetryOverride { max, backoff, backoff_max })
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
    fn delay_and_run_at_read_as_a_time_or_now() {
        let read = |v: Value| {
            let o = obj(v);
            let mut f = Fields::new(&o, &["body"]);
            let t = when(&mut f);
            (t, f.finish().err())
        };
        assert_eq!(read(json!({})), (None, None));
        assert_eq!(read(json!({"delay": 0})), (None, None));
        let (t, err) = read(json!({"delay": 90}));
        let ahead = t.expect("a time") - Utc::now();
        assert!(err.is_none() && (89..=90).contains(&ahead.num_seconds()), "{ahead}");
        let recent = (Utc::now() - chrono::Duration::seconds(59)).to_rfc3339();
        assert_eq!(read(json!({"run_at": recent})), (None, None), "within the tolerance: now");
        let (t, err) = read(json!({"run_at": "2100-01-01T00:00:00+01:00"}));
        assert!(t.is_none() && err.is_some(), "beyond a year");
        let future = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        assert!(read(json!({"run_at": future})).0.is_some());
    }

    #[test]
    fn rfc3339_times_are_read_as_chrono_reads_them() {
        for s in [
            "2026-12-24T09:00:00+01:00",
            "2026-12-24t09:00:00z",
            "2026-03-29T02:30:00.5-05:30",
            "2024-02-29T23:59:59.123456789Z",
            "2026-12-24T09:00:00.1234567891Z",
            "2026-01-01T00:00:00-00:00",
        ] {
            let want = DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).ok();
            assert_eq!(parse_rfc3339(s), want, "{s}");
            assert!(want.is_some(), "{s}");
        }
        for s in [
            "2026-12-24T09:00:00",
            "2026-12-24 09:00",
            "2026-02-30T09:00:00Z",
            "2026-12-24T24:00:00Z",
            "2026-12-24T09:00:00.Z",
            "2026-12-24T09:00:00+1:00",
            "2026-12-24T09:00:00+01:60",
            "2026-12-24T09:00:00Zjunk",
            "2026-12-24T09:00:00+01:00x",
            "2026-12-24T09:0a:00Z",
            "",
            "é026-12-24T09:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
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
