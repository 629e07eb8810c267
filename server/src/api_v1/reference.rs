//! `/api/v1`: the OpenAPI document as a page people read, made from the
//! same document (so the two never disagree), with no script.

use crate::public::page::esc;
use serde_json::Value;
use std::fmt::Write;

const STYLE: &str = "\
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2933;background:#f6f7f9}\
main{max-width:52rem;margin:0 auto;padding:1.25rem 1rem 3rem}h1{font-size:1.5rem;margin:.5rem 0}\
section{background:#fff;border:1px solid #e1e5ea;border-radius:8px;padding:1rem 1.1rem;margin:1rem 0}\
h2{font-size:1.05rem;margin:0 0 .4rem;overflow-wrap:anywhere}h3{font-size:.95rem;margin:.9rem 0 .3rem}\
.m{display:inline-block;min-width:3.6rem;font-weight:700}.get{color:#2f7d4f}.post{color:#1d4ed8}\
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-top:1px solid #eef0f3}\
th{font-weight:600;color:#5b6673}td:first-child code{white-space:nowrap}code{font-size:.9em;overflow-wrap:anywhere}p{margin:.3rem 0}.hint{color:#5b6673}a{color:#1d4ed8}\
@media (max-width:40rem){td,th{display:block;border:0;padding:.1rem 0}tr{display:block;border-top:1px solid #eef0f3;padding:.4rem 0}thead{display:none}}\
@media (prefers-color-scheme:dark){body{background:#111418;color:#e5e8eb}section{background:#1a1e23;border-color:#2c323a}\
th,td,tr{border-color:#2c323a}th,.hint{color:#9aa4ae}a{color:#8ab4f8}.get{color:#6cc08b}.post{color:#8ab4f8}}";

/// The reference page of `document` (an OpenAPI 3.1 document as JSON).
pub fn page(document: &Value) -> String {
    let schemas = &document["components"]["schemas"];
    let title = document["info"]["title"].as_str().unwrap_or("API");
    let mut out = String::with_capacity(32 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main><h1>{title}</h1>\
         <p>{description}</p><p class=\"hint\">Send <code>Authorization: Bearer calmroom_…</code> \
         with a token from your account page. The same description for tools: \
         <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>",
        title = esc(title),
        description = prose(document["info"]["description"].as_str().unwrap_or("")),
    );
    if let Some(paths) = document["paths"].as_object() {
        for (path, operations) in paths {
            let Some(operations) = operations.as_object() else {
                continue;
            };
            for (method, operation) in operations {
                operation_section(&mut out, path, method, operation, schemas);
            }
        }
    }
    out.push_str("</main></body></html>");
    out
}

fn operation_section(
    out: &mut String,
    path: &str,
    method: &str,
    operation: &Value,
    schemas: &Value,
) {
    let _ = write!(
        out,
        "<section><h2><span class=\"m {method}\">{upper}</span> <code>{path}</code></h2>",
        method = esc(method),
        upper = esc(&method.to_ascii_uppercase()),
        path = esc(path),
    );
    for key in ["summary", "description"] {
        if let Some(text) = operation[key].as_str() {
            let _ = write!(out, "<p>{}</p>", prose(text));
        }
    }
    if let Some(parameters) = operation["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<h3>Parameters</h3><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>About</th></tr></thead><tbody>");
        for parameter in parameters {
            let _ = write!(
                out,
                "<tr><td><code>{name}</code>{required}</td><td>{place}</td><td>{kind}</td><td>{about}</td></tr>",
                name = esc(parameter["name"].as_str().unwrap_or("")),
                required = if parameter["required"] == true { " (required)" } else { "" },
                place = esc(parameter["in"].as_str().unwrap_or("")),
                kind = esc(&type_of(&parameter["schema"], schemas)),
                about = prose(parameter["description"].as_str().unwrap_or("")),
            );
        }
        out.push_str("</tbody></table>");
    }
    let body = &operation["requestBody"]["content"]["application/json"]["schema"];
    if !body.is_null() {
        let _ = write!(out, "<h3>JSON body: {}</h3>", esc(&type_of(body, schemas)));
        fields(out, resolve(body, schemas), schemas);
    }
    out.push_str("<h3>Answers</h3><table><tbody>");
    if let Some(responses) = operation["responses"].as_object() {
        for (status, response) in responses {
            let body = response["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|c| type_of(&c["schema"], schemas))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td><code>{status}</code></td><td>{about}</td><td>{body}</td></tr>",
                status = esc(status),
                about = prose(response["description"].as_str().unwrap_or("")),
                body = esc(&body),
            );
        }
    }
    out.push_str("</tbody></table>");
    // What a successful answer holds.
    let answer = operation["responses"]
        .as_object()
        .and_then(|r| r.iter().find(|(status, _)| status.starts_with('2')))
        .map(|(_, r)| &r["content"]["application/json"]["schema"]);
    if let Some(answer) = answer.filter(|a| !a.is_null()) {
        let _ = write!(out, "<h3>{} holds</h3>", esc(&type_of(answer, schemas)));
        fields(out, resolve(answer, schemas), schemas);
    }
    out.push_str("</section>");
}

/// The properties of an object schema as a table.
fn fields(out: &mut String, schema: &Value, schemas: &Value) {
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("<table><thead><tr><th>Field</th><th>Type</th><th>About</th></tr></thead><tbody>");
    for (name, property) in properties {
        let about = property["description"]
            .as_str()
            .or_else(|| resolve(property, schemas)["description"].as_str())
            .unwrap_or("");
        let _ = write!(
            out,
            "<tr><td><code>{name}</code>{required}</td><td>{kind}</td><td>{about}</td></tr>",
            name = esc(name),
            required = if required.contains(&name.as_str()) {
                " (required)"
            } else {
                ""
            },
            kind = esc(&type_of(property, schemas)),
            about = prose(about),
        );
    }
    out.push_str("</tbody></table>");
}

/// Escaped text in which `code` (between backticks) is set as code.
fn prose(text: &str) -> String {
    esc(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        Some(name) => &schemas[name],
        None => schema,
    }
}

/// A schema in a few words: "string (date-time)", "Severity", "array of
/// Decision", "one of sev1, sev2", "integer or null".
fn type_of(schema: &Value, schemas: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        // A named list of values reads better as its values.
        return if schemas[name]["enum"].is_array() {
            type_of(&schemas[name], schemas)
        } else {
            name.to_owned()
        };
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        return format!("one of {}", values.join(", "));
    }
    if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return choices
            .iter()
            .map(|c| type_of(c, schemas))
            .collect::<Vec<_>>()
            .join(" or ");
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".to_owned(),
    };
    if kind.starts_with("array") {
        return format!("array of {}", type_of(&schema["items"], schemas));
    }
    match schema["format"].as_str() {
        Some(format) => format!("{kind} ({format})"),
        None => kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_on_the_page_with_its_fields() {
        let document: Value = serde_json::from_str(super::super::document()).expect("json");
        let html = page(&document);
        assert!(html.contains("<code>/api/v1/incidents/{number}/decisions</code>"));
        assert!(
            html.contains("<code>severity</code> (required)"),
            "request fields are listed"
        );
        assert!(html.contains("one of sev1, sev2, sev3, sev4"));
        assert!(!html.contains("<script"));
        assert!(
            html.contains("<code>next_before</code>)"),
            "backticks set code"
        );
    }
}
