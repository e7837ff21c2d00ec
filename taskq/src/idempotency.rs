//! Idempotency keys: the same task with the same arguments gets the same key,
//! whatever the order of the JSON object's fields, the spaces between them,
//! or how equal numbers are spelled (`5`, `5.0`, `5e0` and `50e-1` are one
//! value).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bytes of SHA-256 kept in a digest: 192 bits, ample against collisions, and
/// short enough (48 hex characters) that the key name stored in the job hash
/// stays under Redis's `hash-max-listpack-value` (64 bytes): a longer value
/// turns every job hash into a hashtable, slower to write and to read.
pub const DIGEST_BYTES: usize = 24;

/// Digest naming a request: from the task and its arguments, or from a
/// client's `Idempotency-Key` header when one is given.
pub fn digest(task: &str, args: &Value, client_key: Option<&str>) -> String {
    let mut h = Sha256::new();
    match client_key {
        Some(key) => {
            h.update(b"header\0");
            h.update(key.as_bytes());
        }
        None => {
            h.update(b"task\0");
            h.update(task.as_bytes());
            h.update(b"\0");
            h.update(canonical_json(args).as_bytes());
        }
    }
    hex::encode(&h.finalize()[..DIGEST_BYTES])
}

/// JSON with object keys sorted at every level, no spaces, and numbers in
/// one spelling per value (see [`canonical_number`]), so that equal values
/// always give equal text.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a string serializes"));
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Number(n) => out.push_str(&canonical_number(n)),
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// One spelling per numeric value: a number whose value is a whole number
/// within 64 bits is written as an integer (`5.0`, `5e0`, `50e-1` are `5`;
/// `-0.0` is `0`); any other number as the shortest decimal that reads back
/// as the same double (`0.5`, `1e+30`).
pub fn canonical_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // Doubles in this range with no fraction are exactly an i64.
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return (f as i64).to_string();
    }
    // serde_json writes a finite double as its shortest round-tripping form.
    serde_json::Number::from_f64(f).map(|n| n.to_string()).unwrap_or_else(|| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"q":2,"p":1}],"x":null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,{"p":1,"q":2}]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"x":null,"y":[1,{"p":1,"q":2}]},"b":1}"#);
        assert_eq!(digest("t", &a, None), digest("t", &b, None));
    }

    #[test]
    fn equal_numbers_are_spelled_alike() {
        let spellings = ["5", "5.0", "5e0", "50e-1", "0.5e1", "5.000"];
        let digests: Vec<String> = spellings
            .iter()
            .map(|s| digest("task_a", &serde_json::from_str(&format!(r#"{{"duration":{s}}}"#)).unwrap(), None))
            .collect();
        assert!(digests.iter().all(|d| *d == digests[0]), "{digests:?}");
        let one = |s: &str| canonical_json(&serde_json::from_str(s).unwrap());
        assert_eq!(one("[-0.0, 0, 2.50, 25e-1, 1e30, 1E+30, -7.0]"), "[0,0,2.5,2.5,1e+30,1e+30,-7]");
        assert_ne!(one("[5.5]"), one("[5]"));
    }

    #[test]
    fn task_args_and_header_all_count() {
        let args = json!({"user_id": 1});
        assert_ne!(digest("task_a", &args, None), digest("task_b", &args, None));
        assert_ne!(digest("task_a", &args, None), digest("task_a", &json!({"user_id": 2}), None));
        assert_eq!(digest("task_a", &args, Some("k1")), digest("task_b", &json!(2), Some("k1")));
        assert_ne!(digest("task_a", &args, Some("k1")), digest("task_a", &args, Some("k2")));
    }

    #[test]
    fn key_name_fits_a_compact_hash_value() {
        let key = crate::Keys::new("{taskq}").idempotency(&digest("task_a", &json!({"user_id": 1}), None));
        assert!(key.len() <= 64, "{key} is {} bytes", key.len());
    }
}
