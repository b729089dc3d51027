//! The parameters of a dialect request, wherever the client put them.
//!
//! Clients of the commercial APIs send the same fields as a JSON body, a
//! form body (`application/x-www-form-urlencoded`), a `multipart/form-data`
//! body (PHP's curl given an array), a query string, or a GET with a JSON
//! body, and often with a missing or wrong `Content-Type`. [`Params`]
//! gathers them into one map, body over query string, judging the body by
//! its first character where the header is no help.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, Method, header};
use serde_json::{Map, Value};

/// Bodies larger than this are refused (a bulk request of 2,000 items
/// with long texts fits).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Why the parameters could not be read; each dialect renders it in its
/// own error shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("the request body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("the request body could not be read: {0}")]
    Unreadable(String),
    #[error("the request body is not valid JSON: {0}")]
    BadJson(String),
    #[error("the multipart body could not be read: {0}")]
    BadMultipart(String),
    #[error("the request body did not arrive in time")]
    TimedOut,
}

impl ParamsError {
    /// The HTTP status every dialect answers it with.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            ParamsError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ParamsError::TimedOut => StatusCode::REQUEST_TIMEOUT,
            ParamsError::Unreadable(_) | ParamsError::BadJson(_) | ParamsError::BadMultipart(_) => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

/// A request's parameters and headers.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub method: Method,
    pub headers: HeaderMap,
    fields: Map<String, Value>,
    /// A JSON body that is not an object (e.g. an array of requests).
    pub json_body: Option<Value>,
    /// The client's address (keys may be limited to some).
    pub peer: Option<std::net::IpAddr>,
    /// Who the guard found the headers to name, if anyone.
    pub identified: Option<crate::bodies::Identified>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }

    /// A field as text: strings as they are, numbers and booleans written
    /// out; empty strings count as absent.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A field as a flag: `true`, `1`, `"true"`, `"1"`, `"yes"`, `"on"`.
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => Some(n.as_i64() != Some(0)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" | "" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The fields as one JSON object (what a JSON body held, or the form
    /// and query fields as strings).
    pub fn json_object(&self) -> Option<Value> {
        if self.json_body.is_some() {
            return None;
        }
        Some(Value::Object(self.fields.clone()))
    }

    /// A header, by a name compared without regard to case (also names
    /// with underscores, which some proxies drop but clients send).
    /// `Authorization: Basic` credentials: the name and the password.
    pub fn basic(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (name, password) = text.split_once(':')?;
        Some((name.to_string(), password.to_string()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// The bearer token of an `Authorization` header.
    pub fn bearer(&self) -> Option<&str> {
        crate::extract::bearer(&self.headers)
    }

    pub fn from_parts(
        method: Method,
        headers: HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<Params, ParamsError> {
        let mut params = Params {
            method,
            headers,
            ..Params::default()
        };
        if let Some(q) = query {
            params.add_form(q.as_bytes());
        }
        params.add_body(body)?;
        Ok(params)
    }

    fn add_form(&mut self, bytes: &[u8]) {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
        for (k, v) in pairs {
            self.fields.insert(k, Value::String(v));
        }
    }

    fn add_body(&mut self, body: &[u8]) -> Result<(), ParamsError> {
        let trimmed = body.trim_ascii();
        match trimmed.first() {
            None => Ok(()),
            Some(b'{') | Some(b'[') => {
                let value = parse_lenient_json(trimmed)?;
                match value {
                    Value::Object(map) => self.fields.extend(map),
                    other => self.json_body = Some(other),
                }
                Ok(())
            }
            Some(_) => {
                self.add_form(trimmed);
                Ok(())
            }
        }
    }
}

/// Parses JSON, and failing that, JSON whose object members were written
/// `"name=value"` (as in a sample of seed 000: `"schedule_time=2021-12-20
/// 07:00"`), which is unambiguous enough to read.
fn parse_lenient_json(body: &[u8]) -> Result<Value, ParamsError> {
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(first) => {
            let text =
                std::str::from_utf8(body).map_err(|_| ParamsError::BadJson(first.to_string()))?;
            repair_assignments(text)
                .and_then(|fixed| serde_json::from_str(&fixed).ok())
                .ok_or_else(|| ParamsError::BadJson(first.to_string()))
        }
    }
}

/// Rewrites members `"a=b"` of a JSON object into `"a":"b"`; `None` when
/// there is none.
fn repair_assignments(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut changed = false;
    let mut rest = text;
    // Position in the object: expecting a member name after '{' or ','.
    let mut expect_name = false;
    while let Some(c) = rest.chars().next() {
        match c {
            '"' => {
                let end = string_end(rest)?;
                let literal = &rest[..end];
                let after = rest[end..].trim_start();
                let is_bare_member =
                    expect_name && (after.starts_with(',') || after.starts_with('}'));
                let inner = &literal[1..literal.len() - 1];
                if is_bare_member && let Some((k, v)) = inner.split_once('=') {
                    out.push_str(&format!("\"{k}\":\"{v}\""));
                    changed = true;
                } else {
                    out.push_str(literal);
                }
                expect_name = false;
                rest = &rest[end..];
            }
            '{' | ',' => {
                out.push(c);
                expect_name = true;
                rest = &rest[1..];
            }
            c if c.is_whitespace() => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
            _ => {
                out.push(c);
                expect_name = false;
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    changed.then_some(out)
}

/// The byte length of the JSON string literal at the start of `s`.
fn string_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

impl axum::response::IntoResponse for ParamsError {
    fn into_response(self) -> axum::response::Response {
        (axum::http::StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ParamsError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, ParamsError> {
        let method = req.method().clone();
        let headers = req.headers().clone();
        let peer = crate::extract::peer(req.extensions());
        let identified = req.extensions_mut().remove::<crate::bodies::Identified>();
        let query = req.uri().query().map(str::to_string);
        let is_multipart = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if is_multipart {
            let mut params = Params::from_parts(method, headers, query.as_deref(), &[])?;
            params.peer = peer;
            params.identified = identified;
            let mut multipart = Multipart::from_request(req, state)
                .await
                .map_err(|e| ParamsError::BadMultipart(e.body_text()))?;
            let mut total = 0usize;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| ParamsError::BadMultipart(e.body_text()))?
            {
                let Some(name) = field.name().map(str::to_string) else {
                    continue;
                };
                let value = field
                    .text()
                    .await
                    .map_err(|e| ParamsError::BadMultipart(e.body_text()))?;
                total += value.len();
                if total > MAX_BODY {
                    return Err(ParamsError::TooLarge);
                }
                params.fields.insert(name, Value::String(value));
            }
            return Ok(params);
        }
        let body: Bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|e| {
                let e = e.into_inner();
                if e.is::<http_body_util::LengthLimitError>() {
                    ParamsError::TooLarge
                } else if crate::bodies::timed_out(e.as_ref()) {
                    ParamsError::TimedOut
                } else {
                    ParamsError::Unreadable(e.to_string())
                }
            })?;
        let mut params = Params::from_parts(method, headers, query.as_deref(), &body)?;
        params.peer = peer;
        params.identified = identified;
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: Option<&str>, body: &str) -> Params {
        Params::from_parts(Method::POST, HeaderMap::new(), query, body.as_bytes()).unwrap()
    }

    #[test]
    fn json_form_and_query_give_the_same_fields() {
        let json = params(
            None,
            r#"{"recipient": "31612345678", "n": 3, "flag": true}"#,
        );
        let form = params(None, "recipient=31612345678&n=3&flag=1");
        let query = params(Some("recipient=31612345678&n=3&flag=true"), "");
        for p in [&json, &form, &query] {
            assert_eq!(p.text("recipient").as_deref(), Some("31612345678"));
            assert_eq!(p.text("n").as_deref(), Some("3"));
            assert_eq!(p.flag("flag"), Some(true));
        }
    }

    #[test]
    fn the_body_wins_over_the_query_string() {
        let p = params(Some("a=query&b=query"), r#"{"a": "body"}"#);
        assert_eq!(p.text("a").as_deref(), Some("body"));
        assert_eq!(p.text("b").as_deref(), Some("query"));
    }

    #[test]
    fn a_member_written_name_equals_value_is_read() {
        // As in seed 000's multiple-numbers sample.
        let body = "{\n  \"api_token\": \"t\",\n  \"message\": \"a=b, c\",\n  \"schedule_time=2021-12-20 07:00\"\n}";
        let p = params(None, body);
        assert_eq!(p.text("schedule_time").as_deref(), Some("2021-12-20 07:00"));
        assert_eq!(
            p.text("message").as_deref(),
            Some("a=b, c"),
            "values are left alone"
        );
        assert!(matches!(
            Params::from_parts(Method::POST, HeaderMap::new(), None, b"{\"a\": }"),
            Err(ParamsError::BadJson(_))
        ));
    }

    #[test]
    fn arrays_are_kept_whole_and_empty_values_are_absent() {
        let p = params(None, r#"[{"body": "x"}]"#);
        assert!(p.json_body.as_ref().is_some_and(Value::is_array));
        let p = params(None, "a=&b=%20");
        assert_eq!(p.text("a"), None);
        assert_eq!(p.text("b"), None);
    }
}
