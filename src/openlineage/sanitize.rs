//! Python's `json.dumps` writes non-finite floats as bare `NaN`, `Infinity` and `-Infinity`
//! (not JSON), and `openlineage-python` sends whatever a metric computed, so a NaN mean must not
//! turn a whole event into a 400. We rewrite those tokens to `null` before parsing: a metric that
//! is not a number is "no value", which is what `null` means to the facet readers.

use std::borrow::Cow;

/// Replaces bare `NaN`, `Infinity` and `-Infinity` tokens outside strings with `null`.
///
/// A byte scanner rather than a regex, because the same words inside strings (a SQL query or a
/// description saying "NaN") must stay untouched; it tracks string state and backslash escapes.
/// Works on bytes: UTF-8 continuation bytes never equal an ASCII byte, so no char is split.
/// Borrows when there is nothing to replace, which is the normal case.
pub(crate) fn replace_non_finite(body: &[u8]) -> Cow<'_, [u8]> {
    const TOKENS: [&[u8]; 3] = [b"NaN", b"Infinity", b"-Infinity"];
    let mut out: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if let Some(token) = TOKENS.iter().find(|t| body[i..].starts_with(t)) {
            // Lazily copy what was scanned so far; only events that need it pay for the copy.
            let buf = out.get_or_insert_with(|| body[..i].to_vec());
            buf.extend_from_slice(b"null");
            i += token.len();
            continue;
        }
        if let Some(buf) = out.as_mut() {
            buf.push(byte);
        }
        i += 1;
    }
    match out {
        Some(buf) => Cow::Owned(buf),
        None => Cow::Borrowed(body),
    }
}

/// The path (`outputs[0].facets.x`) of the first string or member name holding a NUL
/// character (`\u0000`): valid JSON, but PostgreSQL can store it neither in `text` nor in
/// `jsonb`, so an event holding one is refused whole, on every backend alike.
pub(crate) fn nul_path(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    // The path's segments, innermost first: `.name` for a member, `[i]` for an element.
    fn find(value: &Value, segments: &mut Vec<String>) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| find(item, segments) && {
                segments.push(format!("[{i}]"));
                true
            }),
            Value::Object(members) => members.iter().any(|(key, member)| {
                let found = key.contains('\0') || find(member, segments);
                if found {
                    segments.push(format!(".{}", key.replace('\0', "\\u0000")));
                }
                found
            }),
            _ => false,
        }
    }
    let mut segments = Vec::new();
    if !find(value, &mut segments) {
        return None;
    }
    let path: String = segments.into_iter().rev().collect();
    Some(path.strip_prefix('.').map(str::to_string).unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::{nul_path, replace_non_finite};

    #[test]
    fn finds_the_path_of_a_nul() {
        let event = serde_json::json!({"outputs": [{"name": "ok"}, {"facets": {"doc": {"description": "a\u{0}b"}}}]});
        assert_eq!(nul_path(&event).as_deref(), Some("outputs[1].facets.doc.description"));
        let key = serde_json::json!({"run": {"facets": {"x\u{0}": {}}}});
        assert_eq!(nul_path(&key).as_deref(), Some("run.facets.x\\u0000"));
        assert_eq!(nul_path(&serde_json::json!({"a": ["b", {"c": 1}]})), None);
        // Member names that look like indices or are empty keep their own segment.
        assert_eq!(nul_path(&serde_json::json!({"f": {"[0]": {"": "\u{0}"}}})).as_deref(), Some("f.[0]."));
    }
    use std::borrow::Cow;

    fn run(s: &str) -> String {
        String::from_utf8(replace_non_finite(s.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn replaces_bare_tokens() {
        assert_eq!(
            run(r#"{"a":NaN,"b":[Infinity, -Infinity],"c":-1}"#),
            r#"{"a":null,"b":[null, null],"c":-1}"#
        );
    }

    #[test]
    fn leaves_strings_and_escapes_alone() {
        let s = r#"{"q":"x = NaN or Infinity","e":"a \"NaN\" \\","k":NaN,"NaN":"-Infinity"}"#;
        assert_eq!(
            run(s),
            r#"{"q":"x = NaN or Infinity","e":"a \"NaN\" \\","k":null,"NaN":"-Infinity"}"#
        );
        assert_eq!(
            run(r#"{"é":"ü NaN",  "x":Infinity}"#),
            r#"{"é":"ü NaN",  "x":null}"#
        );
    }

    #[test]
    fn borrows_when_nothing_to_replace() {
        assert!(matches!(
            replace_non_finite(br#"{"a":"NaN"}"#),
            Cow::Borrowed(_)
        ));
    }
}
