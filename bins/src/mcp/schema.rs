//! Tool input and output schemas from the same Rust types as the REST API's
//! OpenAPI document (utoipa, OpenAPI 3.1, whose schemas are JSON Schema 2020-12):
//! the type's schema with every schema it references under `$defs`.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The JSON Schema of `T` for a tool's `inputSchema` or `outputSchema`.
pub fn of<T: ToSchema>() -> Arc<JsonObject> {
    let mut referenced = Vec::new();
    T::schemas(&mut referenced);
    let mut root = match serde_json::to_value(T::schema()).expect("a schema serializes") {
        Value::Object(o) => o,
        other => panic!("the schema of {} is not an object: {other}", T::name()),
    };
    let mut defs = Map::new();
    for (name, schema) in referenced {
        defs.entry(name).or_insert_with(|| serde_json::to_value(schema).expect("a schema serializes"));
    }
    if !defs.is_empty() {
        root.insert("$defs".into(), Value::Object(defs));
    }
    let mut root = Value::Object(root);
    rewrite_refs(&mut root);
    let Value::Object(root) = root else { unreachable!("still an object") };
    Arc::new(root)
}

/// `#/components/schemas/X` (OpenAPI) becomes `#/$defs/X` (this document).
fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                *r = format!("#/$defs/{name}");
            }
            o.values_mut().for_each(rewrite_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use todo_core::domain::{Task, TaskPage};
    use todo_core::service::assistant::{AddTaskArgs, UpdateTaskArgs};

    use super::*;

    /// Every `$ref` resolves inside the document.
    fn refs_resolve(root: &JsonObject) {
        fn walk(v: &Value, defs: &Map<String, Value>) {
            match v {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        let name = r.strip_prefix("#/$defs/").unwrap_or_else(|| panic!("foreign $ref {r}"));
                        assert!(defs.contains_key(name), "dangling $ref {r}");
                    }
                    o.values().for_each(|v| walk(v, defs));
                }
                Value::Array(a) => a.iter().for_each(|v| walk(v, defs)),
                _ => {}
            }
        }
        let empty = Map::new();
        let defs = root.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
        walk(&Value::Object(root.clone()), defs);
    }

    #[test]
    fn schemas_are_self_contained_objects() {
        for s in [of::<AddTaskArgs>(), of::<UpdateTaskArgs>(), of::<Task>(), of::<TaskPage>()] {
            assert_eq!(s.get("type"), Some(&Value::String("object".into())), "{s:?}");
            refs_resolve(&s);
        }
        let add = of::<AddTaskArgs>();
        let props = add["properties"].as_object().unwrap();
        for field in ["text", "title", "due_at", "recurrence", "tags", "priority"] {
            assert!(props.contains_key(field), "{field} in {add:?}");
        }
    }
}
