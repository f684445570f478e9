//! Lists of plain objects written in one pass, for answers of thousands of items (a lineage
//! graph). async-graphql resolves each field of each list item as its own future, builds a
//! value (a map per item, a string per field) and then serializes, escapes and frees them; for
//! objects whose fields are values already in memory that machinery was most of the answer's
//! time. [`PlainList`] reads the selection once and writes the whole list as JSON text, which
//! goes into the answer as it is (async-graphql's `raw_value`). The item type keeps its
//! derived definition, so the schema does not change.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value};
use async_graphql_value::RAW_VALUE_TOKEN;

use crate::api::json_text::{write_str, write_str_known};

/// The most a list reserves ahead for its text.
const MAX_RESERVE: usize = 64 << 20;

/// An object type whose every field is a value at hand.
///
/// What `write_field` writes goes into HTTP answers unchecked (see [`WrittenLists`]): it must
/// be one JSON value, with strings written by `api::json_text`. Debug builds check it.
pub trait PlainObject: OutputType {
    /// Writes the JSON value of field `name`, one of the type's fields (validation has checked
    /// it; any other name is written as `null`).
    fn write_field(&self, name: &str, out: &mut Vec<u8>);
}

/// The texts [`PlainList`] wrote while answering one request. serde_json checks a raw value
/// by parsing it (a sixth of a large GraphQL answer's time); the HTTP answer
/// (`graphql::response_json`) copies a raw value as it is when its text equals one of these,
/// since they are JSON by construction (serde_json would find it JSON and copy it too), and
/// leaves any other raw value, one spelled by stored data say, to be checked. Texts are
/// compared by content, never by address: async-graphql may drop a value while answering
/// (when merging), and its memory may then hold another string.
#[derive(Default)]
pub struct WrittenLists(Mutex<Vec<String>>);

impl WrittenLists {
    pub(in crate::api::graphql) fn add(&self, text: &str) {
        if let Ok(mut texts) = self.0.lock() {
            texts.push(text.to_owned());
        }
    }

    /// Whether `text` is one of the texts written for this request, or holds the same.
    pub fn wrote(&self, text: &str) -> bool {
        self.0.lock().is_ok_and(|texts| texts.iter().any(|t| t.len() == text.len() && t == text))
    }
}

/// `[T!]!` in the schema, like `Vec<T>`.
pub struct PlainList<T>(pub Vec<T>);

impl<T: PlainObject> OutputType for PlainList<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let type_name = T::type_name();
        let mut selected = Vec::new();
        collect(ctx, &ctx.item.node, &type_name, &mut selected)?;
        let mut out = Vec::new();
        out.push(b'[');
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Items are alike: the first one's size, times the rest, saves growing the text
            // (and copying it) again and again; capped, should the first be far larger.
            if i == 1 {
                out.reserve(out.len().saturating_mul(self.0.len()).min(MAX_RESERVE));
            }
            out.push(b'{');
            for (j, (key, name)) in selected.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                // Response keys are GraphQL names: nothing in them to escape.
                write_str_known(&mut out, key, true);
                out.push(b':');
                match *name {
                    "__typename" => write_str(&mut out, &type_name),
                    name => item.write_field(name, &mut out),
                }
            }
            out.push(b'}');
        }
        out.push(b']');
        // Everything written came from `str`s and ASCII, so this holds; were it not to, the
        // field fails rather than the whole answer turning into invalid JSON.
        let text = String::from_utf8(out).map_err(|_| ServerError::new("a list was not written as UTF-8", Some(field.pos)))?;
        debug_assert!(serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok(), "a plain list wrote text that is not JSON: {text}");
        // async-graphql answers a key selected more than once (`nodes { id } nodes { kind }`,
        // or the same through fragments or a repeated parent) by merging the values item by
        // item, which it cannot do with texts: then the list is given as values.
        if selections_of(ctx, field.node.response_key().node.as_str()) > 1 {
            // Read straight into a value, which keeps the order of each item's fields.
            let parsed = serde_json::from_str::<Value>(&text);
            return parsed.map_err(|e| ServerError::new(format!("a plain list is not JSON: {e}"), Some(field.pos)));
        }
        if let Some(written) = ctx.data_opt::<Arc<WrittenLists>>() {
            written.add(&text);
        }
        Ok(raw_json(text))
    }
}

/// How many selections in the operation and its fragments answer under `key`, whatever their
/// field, at any depth and on any type: more than one may be merged (counting too many only
/// costs the faster path). A fragment counts once however often it is spread: every spread
/// makes the same selection, and async-graphql's merge of such answers keeps the first one's
/// fields, which is what the first text holds.
fn selections_of(ctx: &ContextSelectionSet<'_>, key: &str) -> usize {
    let env = &ctx.query_env;
    let in_fragments: usize = env.fragments.values().map(|f| selections_in(&f.node.selection_set.node, key)).sum();
    selections_in(&env.operation.node.selection_set.node, key) + in_fragments
}

fn selections_in(set: &SelectionSet, key: &str) -> usize {
    let count = |selection: &Positioned<Selection>| match &selection.node {
        Selection::Field(field) => {
            let field = &field.node;
            usize::from(field.response_key().node == key) + selections_in(&field.selection_set.node, key)
        }
        Selection::InlineFragment(fragment) => selections_in(&fragment.node.selection_set.node, key),
        Selection::FragmentSpread(_) => 0,
    };
    set.items.iter().map(count).sum()
}

/// JSON text that goes into the answer as it is: async-graphql writes an object whose only
/// key is `RAW_VALUE_TOKEN` as that text (feature `raw_value`), after checking that it is JSON.
pub(in crate::api::graphql) fn raw_json(text: String) -> Value {
    Value::Object(IndexMap::from([(Name::new(RAW_VALUE_TOKEN), Value::String(text))]))
}

/// The text of a raw value ([`raw_json`]), from any source.
pub(in crate::api::graphql) fn raw_text(value: &Value) -> Option<&str> {
    match value {
        Value::Object(fields) if fields.len() == 1 => match fields.get(RAW_VALUE_TOKEN) {
            Some(Value::String(text)) => Some(text),
            _ => None,
        },
        _ => None,
    }
}

/// The (response key, field name) pairs a selection asks of a `type_name` object, fragments
/// included, in answer order. A key asked twice is answered once, where it first appears (as
/// async-graphql does). `@skip` and `@include` were applied before execution, and the schema
/// has no other directives on fields.
fn collect<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    type_name: &str,
    out: &mut Vec<(Name, &'a str)>,
) -> ServerResult<()> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = &field.node.response_key().node;
                if !out.iter().any(|(known, _)| known == key) {
                    out.push((key.clone(), field.node.name.node.as_str()));
                }
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = ctx.query_env.fragments.get(name) else {
                    return Err(ServerError::new(format!(r#"Unknown fragment "{name}"."#), Some(spread.pos)));
                };
                if fragment.node.type_condition.node.on.node == type_name {
                    collect(ctx, &fragment.node.selection_set.node, type_name, out)?;
                }
            }
            Selection::InlineFragment(fragment) => {
                if fragment.node.type_condition.as_ref().is_none_or(|c| c.node.on.node == type_name) {
                    collect(ctx, &fragment.node.selection_set.node, type_name, out)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    #[derive(Clone)]
    struct Item {
        id: String,
        size: i64,
    }

    #[Object]
    impl Item {
        async fn id(&self) -> &str {
            &self.id
        }

        async fn size(&self) -> i64 {
            self.size
        }
    }

    impl PlainObject for Item {
        fn write_field(&self, name: &str, out: &mut Vec<u8>) {
            match name {
                "id" => write_str(out, &self.id),
                "size" => out.extend_from_slice(self.size.to_string().as_bytes()),
                _ => out.extend_from_slice(b"null"),
            }
        }
    }

    struct Query(Vec<Item>);

    #[Object]
    impl Query {
        async fn plain(&self) -> PlainList<Item> {
            PlainList(self.0.clone())
        }

        async fn derived(&self) -> Vec<Item> {
            self.0.clone()
        }
    }

    /// The same selection of a plain list and of an ordinary list of the same items answers
    /// the same JSON text, whatever the selection holds.
    #[tokio::test]
    async fn a_plain_list_answers_what_async_graphql_would() {
        let items = vec![
            Item { id: "dataset:wh:a".into(), size: 1 },
            Item { id: "quote \" back\\slash \n 数据".into(), size: -7 },
            Item { id: String::new(), size: 0 },
        ];
        let schema = Schema::new(Query(items), EmptyMutation, EmptySubscription);
        let selections = [
            "{ id }",
            "{ size id __typename }",
            "{ key: id id size key: id }",
            "{ ...F size }",
            "{ ... on Item { id } s: size ... { size } }",
            "{ id @skip(if: true) size @include(if: true) }",
            "{ __typename }",
        ];
        for selection in selections {
            let answer = |field: &str| {
                let fragment = if selection.contains("...F") { "fragment F on Item { id s2: size }" } else { "" };
                let query = format!("{{ list: {field} {selection} }} {fragment}");
                let schema = schema.clone();
                async move {
                    let response = schema.execute(query).await;
                    assert!(response.errors.is_empty(), "{selection}: {:?}", response.errors);
                    serde_json::to_string(&response).unwrap_or_default()
                }
            };
            let plain = answer("plain").await;
            assert!(plain.contains("\"list\":["), "{plain}");
            assert_eq!(plain, answer("derived").await, "{selection}");
        }
        // A key selected more than once is merged item by item, as async-graphql merges lists.
        let merged = [
            "{ list: FIELD { id } list: FIELD { size } }",
            "{ ...A ...B } fragment A on Query { list: FIELD { id } } fragment B on Query { list: FIELD { size __typename } }",
            "{ list: FIELD { id } ... on Query { list: FIELD { size } } }",
        ];
        for query in merged {
            let answer = |field: &str| {
                let schema = schema.clone();
                let query = query.replace("FIELD", field);
                async move { schema.execute(query).await }
            };
            let (plain, derived) = (answer("plain").await, answer("derived").await);
            assert!(plain.errors.is_empty(), "{query}: {:?}", plain.errors);
            assert!(matches!(&plain.data, Value::Object(data) if matches!(data.get("list"), Some(Value::List(_)))), "{query}");
            assert_eq!(serde_json::to_string(&plain).ok(), serde_json::to_string(&derived).ok(), "{query}");
        }
        // One fragment spread twice selects the same twice: the text, once.
        for field in ["plain", "derived"] {
            let query = format!("{{ ...A ...A }} fragment A on Query {{ list: {field} {{ id size }} }}");
            let answer = serde_json::to_string(&schema.execute(query).await).unwrap_or_default();
            assert!(answer.starts_with(r#"{"data":{"list":[{"id":"dataset:wh:a","size":1},"#), "{field}: {answer}");
        }
        // Selected once, the list is the text it wrote.
        let once = schema.execute("{ list: plain { id } other: plain { size } }").await;
        let Value::Object(data) = &once.data else { panic!("no data: {:?}", once.errors) };
        for key in ["list", "other"] {
            assert!(matches!(data.get(key), Some(Value::Object(raw)) if raw.contains_key(RAW_VALUE_TOKEN)), "{key}: {:?}", data.get(key));
        }
        let empty = Schema::new(Query(Vec::new()), EmptyMutation, EmptySubscription);
        let response = empty.execute("{ plain { id } }").await;
        assert_eq!(serde_json::to_string(&response).ok().as_deref(), Some(r#"{"data":{"plain":[]}}"#));
    }
}
