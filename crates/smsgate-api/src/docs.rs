//! `/docs`: a readable reference of every face, rendered on the server
//! from the same OpenAPI documents `/openapi*.json` serve, so the page and
//! the contract cannot disagree. One page per face, no script, the style
//! sheet embedded: it works offline and behind any firewall.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::AppState;
use crate::openapi::Face;
use crate::problem::Problem;

const STYLE: &str = include_str!("docs.css");

/// The faces this server answers (dialects can be switched off).
fn served(state: &AppState) -> impl Iterator<Item = Face> + '_ {
    let d = &state.dialects;
    Face::ALL.into_iter().filter(move |face| match face {
        Face::Native => true,
        Face::Ultimate => d.ultimate,
        Face::Thesmspoint => d.thesmspoint,
        Face::Action => d.action,
        Face::Smsmanager => d.smsmanager,
        Face::Session => d.session,
    })
}

pub(crate) async fn index(State(state): State<AppState>) -> Response {
    let mut body = String::from("<h1>smsgate API reference</h1>\n<ul class=\"faces\">\n");
    for face in served(&state) {
        let doc = serde_json::to_value(face.document_for(&state.dialects)).unwrap_or_default();
        let _ = writeln!(
            body,
            "<li><a href=\"/docs/{slug}\">{title}</a> <span class=\"muted\">· <a href=\"{json}\">OpenAPI</a></span><br>{description}</li>",
            slug = face.slug(),
            title = escape(text(&doc["info"]["title"])),
            json = face.openapi_path(),
            description = prose(text(&doc["info"]["description"])),
        );
    }
    body.push_str("</ul>\n");
    page("smsgate API reference", &body)
}

pub(crate) async fn face(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    match served(&state).find(|face| face.slug() == slug) {
        Some(face) => {
            let doc = serde_json::to_value(face.document_for(&state.dialects)).unwrap_or_default();
            let title = text(&doc["info"]["title"]).to_string();
            page(&title, &render(&doc, face))
        }
        None => Problem::not_found("no such face; see /docs").into_response(),
    }
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\n<body><nav><a href=\"/docs\">All faces</a></nav>\n<main>\n{body}</main></body></html>\n",
        escape(title)
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        html,
    )
        .into_response()
}

/// The whole page of one face.
fn render(doc: &Value, face: Face) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p>{}</p>\n<p class=\"muted\">Machine-readable: <a href=\"{json}\"><code>{json}</code></a></p>",
        escape(text(&doc["info"]["title"])),
        prose(text(&doc["info"]["description"])),
        json = face.openapi_path(),
    );
    render_schemes(&mut out, &doc["components"]["securitySchemes"]);
    let _ = writeln!(out, "<h2>Endpoints</h2>");
    let mut toc = String::from("<ul class=\"toc\">");
    let mut sections = String::new();
    for (path, item) in entries(&doc["paths"]) {
        for (method, op) in entries(item) {
            let anchor = anchor(method, path);
            let _ = write!(
                toc,
                "<li><a href=\"#{anchor}\"><span class=\"method {method}\">{}</span> <code>{}</code></a> {}</li>",
                method.to_uppercase(),
                escape(path),
                prose(text(&op["summary"])),
            );
            render_operation(&mut sections, &anchor, method, path, op);
        }
    }
    toc.push_str("</ul>\n");
    out.push_str(&toc);
    out.push_str(&sections);
    let schemas = &doc["components"]["schemas"];
    if schemas.as_object().is_some_and(|s| !s.is_empty()) {
        let _ = writeln!(out, "<h2>Schemas</h2>");
        for (name, schema) in entries(schemas) {
            let _ = writeln!(out, "<section id=\"schema-{0}\"><h3>{0}</h3>", escape(name));
            render_schema(&mut out, schema);
            out.push_str("</section>\n");
        }
    }
    out
}

fn render_schemes(out: &mut String, schemes: &Value) {
    let Some(schemes) = schemes.as_object().filter(|s| !s.is_empty()) else {
        return;
    };
    let _ = writeln!(
        out,
        "<h2>Credentials</h2>\n<table><tr><th>Name</th><th>How</th><th></th></tr>"
    );
    for (name, s) in schemes {
        let how = match text(&s["type"]) {
            "http" => format!(
                "<code>Authorization: {}</code>",
                capitalise(text(&s["scheme"]))
            ),
            "apiKey" => format!(
                "{} <code>{}</code>",
                escape(text(&s["in"])),
                escape(text(&s["name"]))
            ),
            other => escape(other),
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{how}</td><td>{}</td></tr>",
            escape(name),
            escape(text(&s["description"]))
        );
    }
    out.push_str("</table>\n");
}

fn render_operation(out: &mut String, anchor: &str, method: &str, path: &str, op: &Value) {
    let _ = writeln!(
        out,
        "<section class=\"operation\" id=\"{anchor}\"><h3><span class=\"method {method}\">{}</span> <code>{}</code></h3>",
        method.to_uppercase(),
        escape(path)
    );
    for field in ["summary", "description"] {
        if let Some(t) = op[field].as_str() {
            let _ = writeln!(out, "<p>{}</p>", prose(t));
        }
    }
    if let Some(security) = op["security"].as_array() {
        let ways: Vec<String> = security
            .iter()
            .map(|req| {
                let names: Vec<String> = entries(req)
                    .map(|(n, _)| format!("<code>{}</code>", escape(n)))
                    .collect();
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(" + ")
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"muted\">Credentials: {}</p>",
            ways.join(" or ")
        );
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str(
            "<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>\n",
        );
        for p in params {
            let required = if p["required"].as_bool() == Some(true) {
                " <span class=\"req\">required</span>"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(text(&p["name"])),
                escape(text(&p["in"])),
                type_of(&p["schema"]),
                prose(text(&p["description"])),
            );
        }
        out.push_str("</table>\n");
    }
    if let Some(body) = op["requestBody"].as_object() {
        out.push_str("<p><strong>Body</strong>");
        for (content_type, c) in entries(&body["content"]) {
            let _ = write!(
                out,
                " <code>{}</code> {}",
                escape(content_type),
                type_of(&c["schema"])
            );
        }
        if let Some(d) = body.get("description").and_then(Value::as_str) {
            let _ = write!(out, ": {}", prose(d));
        }
        out.push_str("</p>\n");
    }
    out.push_str(
        "<table class=\"responses\"><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>\n",
    );
    for (status, r) in entries(&op["responses"]) {
        let bodies: Vec<String> = entries(&r["content"])
            .map(|(ct, c)| format!("<code>{}</code> {}", escape(ct), type_of(&c["schema"])))
            .collect();
        let headers: Vec<String> = entries(&r["headers"])
            .map(|(h, _)| format!("<code>{}</code>", escape(h)))
            .collect();
        let mut meaning = prose(text(&r["description"]));
        if !headers.is_empty() {
            let _ = write!(
                meaning,
                "<br><span class=\"muted\">Headers: {}</span>",
                headers.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "<tr><td class=\"status s{}\">{}</td><td>{meaning}</td><td>{}</td></tr>",
            &status[..1],
            escape(status),
            bodies.join("<br>")
        );
    }
    out.push_str("</table></section>\n");
}

fn render_schema(out: &mut String, schema: &Value) {
    if let Some(d) = schema["description"].as_str() {
        let _ = writeln!(out, "<p>{}</p>", prose(d));
    }
    let Some(properties) = schema["properties"].as_object() else {
        let _ = writeln!(out, "<p>{}</p>", type_of(schema));
        return;
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    out.push_str("<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>\n");
    for (name, p) in properties {
        let req = if required.contains(&name.as_str()) {
            " <span class=\"req\">required</span>"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code>{req}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            type_of(p),
            escape(text(&p["description"]))
        );
    }
    out.push_str("</table>\n");
}

/// A schema's type in a few words, with links to named schemas.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[combinator].as_array() {
            let parts: Vec<String> = options.iter().map(type_of).collect();
            return parts.join(if combinator == "allOf" { " & " } else { " | " });
        }
    }
    let base = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    };
    let mut t = escape(&base);
    if base.contains("array") {
        let _ = write!(t, " of {}", type_of(&schema["items"]));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", escape(&v.to_string())))
            .collect();
        let _ = write!(t, ": {}", values.join(", "));
    }
    if let Some(format) = schema["format"].as_str() {
        let _ = write!(t, " ({})", escape(format));
    }
    t
}

fn entries(v: &Value) -> impl Iterator<Item = (&str, &Value)> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn anchor(method: &str, path: &str) -> String {
    let slug: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{method}{slug}")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Text of the documents, escaped, with their `code` spans set as code.
fn prose(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_and_schema_of_a_face_is_on_its_page() {
        for face in Face::ALL {
            let doc = serde_json::to_value(face.document()).unwrap();
            let html = render(&doc, face);
            for (path, item) in entries(&doc["paths"]) {
                for (method, _) in entries(item) {
                    assert!(
                        html.contains(&format!("id=\"{}\"", anchor(method, path))),
                        "{face:?} {method} {path}"
                    );
                }
            }
            for (name, _) in entries(&doc["components"]["schemas"]) {
                assert!(
                    html.contains(&format!("id=\"schema-{name}\"")),
                    "{face:?} schema {name}"
                );
            }
            for (name, _) in entries(&doc["components"]["securitySchemes"]) {
                assert!(
                    html.contains(&format!("<code>{name}</code>")),
                    "{face:?} scheme {name}"
                );
            }
        }
    }

    #[test]
    fn text_from_the_document_is_escaped() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
        let doc = serde_json::json!({
            "info": {"title": "t", "description": "<script>alert(1)</script>"},
            "paths": {}
        });
        assert!(!render(&doc, Face::Native).contains("<script>"));
        assert_eq!(prose("a `<b>` c"), "a <code>&lt;b&gt;</code> c");
    }
}
