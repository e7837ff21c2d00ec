//! Reading a request: path and query parameters, headers, and JSON bodies
//! checked field by field.
//!
//! Bodies are checked by hand rather than by serde alone so that one answer
//! lists every problem, each naming its field, the way FastAPI does; and
//! so that unknown fields are refused instead of silently ignored (a typo in
//! `high` must not send a job to the wrong queue).

use lambda_http::http::HeaderMap;
use lambda_http::{Body, Request};
use serde_json::{Map, Value};
use taskq::Queue;

use crate::error::{ApiError, FieldError};
use crate::routes::Params;
use crate::state::State;

/// A request as a handler sees it.
pub struct Call {
    /// The execution environment's state.
    pub state: State,
    /// The request from API Gateway (or the local router).
    pub request: Request,
    /// Path parameters by name.
    pub params: Params,
}

impl Call {
    /// Path parameter `name` (always present: the route table put it there).
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.request.uri().query()?;
        let map: lambda_http::aws_lambda_events::query_map::QueryMap = query.parse().ok()?;
        map.first(name).map(str::to_owned)
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        self.request.headers()
    }

    /// The body as a JSON object. A body whose `Content-Type` is not JSON
    /// is refused (415) before it is read: a web page can send `text/plain`
    /// or a form to any origin without asking, but not JSON.
    pub fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        let body = self.request.body();
        let empty = body.as_ref().iter().all(u8::is_ascii_whitespace);
        if !empty && !is_json_content_type(self.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        body_object(body)
    }

    /// Runs `f` against Redis within REDIS_TIMEOUT (see [`State::run`]).
    pub async fn redis<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(Queue) -> Fut,
        Fut: std::future::Future<Output = Result<T, taskq::Error>>,
    {
        self.state.run(f).await
    }
}

/// Whether `Content-Type` says JSON: `application/json` or
/// `application/<anything>+json`, any case, with or without parameters
/// (`; charset=utf-8`).
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(lambda_http::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || (sub.len() > 5 && sub.ends_with("+json")),
        _ => false,
    }
}

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

    /// Adds a problem found outside the readers.
    pub fn reject(&mut self, name: &'a str, kind: &str, msg: &str) {
        self.error(name, kind, msg);
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

/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let bad = || {
        ApiError::invalid(
            &["header", "idempotency-key"],
            "value_error",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
        )
    };
    let key = value.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
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

    #[test]
    fn only_json_content_types_are_json() {
        let mut h = HeaderMap::new();
        assert!(!is_json_content_type(&h));
        for ok in ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"] {
            h.insert("content-type", ok.parse().unwrap());
            assert!(is_json_content_type(&h), "{ok}");
        }
        for bad in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "text/json", "+json"] {
            h.insert("content-type", bad.parse().unwrap());
            assert!(!is_json_content_type(&h), "{bad}");
        }
    }

    #[test]
    fn idempotency_keys_are_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(idempotency_key(&h), Ok(None));
        h.insert("idempotency-key", "order-7".parse().unwrap());
        assert_eq!(idempotency_key(&h), Ok(Some("order-7".into())));
        h.insert("idempotency-key", "x".repeat(300).parse().unwrap());
        assert!(idempotency_key(&h).is_err());
        h.insert("idempotency-key", "".parse().unwrap());
        assert!(idempotency_key(&h).is_err());
    }
}
