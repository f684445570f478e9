//! Lists of plain objects built in one pass, for answers of thousands of items (a lineage
//! graph). async-graphql resolves each field of each list item as its own future; for an
//! object whose fields are values already in memory that machinery was most of the answer's
//! time. [`PlainList`] reads the selection once and builds every item's value directly. The
//! item type keeps its derived definition, so the schema does not change.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value};

/// An object type whose every field is a value at hand.
pub trait PlainObject: OutputType {
    /// The value of field `name`, one of the type's fields (validation has checked it).
    fn field(&self, name: &str) -> Value;
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

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, _field: &Positioned<Field>) -> ServerResult<Value> {
        let type_name = T::type_name();
        let mut selected = Vec::new();
        collect(ctx, &ctx.item.node, &type_name, &mut selected)?;
        let items = self.0.iter().map(|item| {
            let fields = selected.iter().map(|(key, name)| {
                let value = match *name {
                    "__typename" => Value::String(type_name.to_string()),
                    name => item.field(name),
                };
                (key.clone(), value)
            });
            Value::Object(fields.collect())
        });
        Ok(Value::List(items.collect()))
    }
}

/// The (response key, field name) pairs a selection asks of a `type_name` object, fragments
/// included, in answer order. A key asked twice is answered once, where it first appears, as
/// collecting the pairs into the answer's map does. `@skip` and `@include` were applied
/// before execution, and the schema has no other directives on fields.
fn collect<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    type_name: &str,
    out: &mut Vec<(Name, &'a str)>,
) -> ServerResult<()> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => out.push((field.node.response_key().node.clone(), field.node.name.node.as_str())),
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
