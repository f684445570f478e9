//! A GraphQL answer as it goes on the wire over HTTP: the same text serde_json writes for the
//! response (async-graphql-axum's way), except that the lists [`PlainList`] wrote for this
//! request are copied as they are instead of being parsed again to check that they are JSON.
//! Lists and objects are walked here to find them; leaves, and raw values from anywhere else,
//! are written by serde_json.
//!
//! [`PlainList`]: super::types::plain_list::PlainList

use async_graphql::{Response, Value};

use super::types::plain_list::{WrittenLists, raw_text};
use crate::api::json_text::write_str;

/// The response's JSON: `data`, then `extensions` and `errors` when there are any.
pub fn write(response: &Response, written: &WrittenLists) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"data\":");
    write_value(&mut out, &response.data, written)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut out, &response.errors)?;
    }
    out.push(b'}');
    Ok(out)
}

/// Lists and objects are walked to find the written lists (they sit a few levels down); a
/// leaf, or a raw value not written for this request, goes to serde_json.
fn write_value(out: &mut Vec<u8>, value: &Value, written: &WrittenLists) -> Result<(), serde_json::Error> {
    match value {
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, written)?;
            }
            out.push(b']');
        }
        Value::Object(fields) => match raw_text(value) {
            Some(text) if written.wrote(text) => out.extend_from_slice(text.as_bytes()),
            Some(_) => serde_json::to_writer(&mut *out, value)?,
            None => {
                out.push(b'{');
                for (i, (key, field)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, key);
                    out.push(b':');
                    write_value(out, field, written)?;
                }
                out.push(b'}');
            }
        },
        leaf => serde_json::to_writer(&mut *out, leaf)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, ServerError, value};
    use async_graphql_value::RAW_VALUE_TOKEN;

    use super::*;
    use crate::api::graphql::types::plain_list::raw_json;

    fn raw(text: &str) -> Value {
        raw_json(text.to_string())
    }

    /// The text of the raw value at `data.lists[i]`.
    fn text_at(response: &Response, i: usize) -> Option<&str> {
        let Value::Object(data) = &response.data else { return None };
        let Some(Value::List(lists)) = data.get("lists") else { return None };
        raw_text(lists.get(i)?)
    }

    /// Whatever the response holds, the answer is what serde_json writes for it.
    #[test]
    fn answers_are_what_serde_json_writes() {
        let mut response = Response::new(value!({
            "plain": "text \" with \\ escapes \n é",
            "numbers": [1, -2, 3.5, null, true],
            "nested": { "kind": "DATASET", "empty": {}, "list": [] },
        }));
        if let Value::Object(data) = &mut response.data {
            let lists = vec![raw(r#"[{"id":"a"},{"id":"b"}]"#), raw("[]"), raw("not json ["), raw(r#"{"x":1}"#)];
            data.insert(Name::new("lists"), Value::List(lists));
            data.insert(Name::new(RAW_VALUE_TOKEN), Value::Null);
        }
        response.errors.push(ServerError::new("something \"failed\"", None));
        response.extensions.insert("cost".into(), value!({"total": 3}));
        let expected = serde_json::to_string(&response).unwrap_or_default();
        // Registered or not, valid raw texts come out the same; the invalid one is a string.
        let written = WrittenLists::default();
        for i in [0, 1] {
            if let Some(text) = text_at(&response, i) {
                written.add(text);
            }
        }
        let answer = write(&response, &written).map(String::from_utf8);
        assert_eq!(answer.ok().and_then(Result::ok).as_deref(), Some(expected.as_str()));
        assert!(expected.contains(r#""lists":[[{"id":"a"},{"id":"b"}],[],{"$serde_json::private::RawValue":"not json ["},{"x":1}]"#), "{expected}");
    }

    /// A raw value whose text is not one written for this request is still checked: one that
    /// is not JSON stays an object. (A written text is copied unchecked, which is why only
    /// `PlainList`, whose texts are JSON, writes them: here one is not, to show it.)
    #[test]
    fn only_written_texts_skip_the_check() {
        let mut response = Response::new(Value::Null);
        response.data = value!({ "lists": [] });
        if let Value::Object(data) = &mut response.data {
            data.insert(Name::new("lists"), Value::List(vec![raw("[1"), raw("[2")]));
        }
        let written = WrittenLists::default();
        written.add("[1");
        let answer = write(&response, &written).map(String::from_utf8).ok().and_then(Result::ok);
        assert_eq!(answer.as_deref(), Some(r#"{"data":{"lists":[[1,{"$serde_json::private::RawValue":"[2"}]}}"#));
        assert!(written.wrote(&String::from("[1")) && !written.wrote("[1 ") && !written.wrote("[2"));
    }
}
