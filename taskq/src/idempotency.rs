//! Idempotency keys: the same task with the same arguments gets the same key,
//! whatever the order of the JSON object's fields.

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

/// JSON with object keys sorted at every level and no spaces, so that equal
/// values always give equal text.
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
        scalar => out.push_str(&scalar.to_string()),
    }
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
