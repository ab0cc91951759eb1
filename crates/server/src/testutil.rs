//! The seeds' sample responses, for the adapters' unit tests.

pub use crate::fixtures::*;

/// The JSON objects of a seed document, in order (sample responses are printed inline).
pub fn seed_samples(file: &str) -> Vec<serde_json::Value> {
    let path = faceproof_testkit::shared_dir().join("seeds").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        // The documents were copied from web pages: indentation is made of no-break spaces.
        .replace('\u{a0}', " ");
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            let mut depth = 0;
            let mut j = i;
            while j < bytes.len() {
                match bytes[j] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if let Ok(v) =
                serde_json::from_str::<serde_json::Value>(&text[i..=j.min(bytes.len() - 1)])
            {
                out.push(v);
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Same keys at every level (order ignored).
pub fn same_keys(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_keys(v, w)))
        }
        (serde_json::Value::Object(_), _) | (_, serde_json::Value::Object(_)) => false,
        _ => true,
    }
}
