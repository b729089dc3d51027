//! The OpenAPI documents smsgate serves, one per face, each completed
//! with the answers every operation shares: the ones the guard in front
//! of every route gives (rate limits, overload, slow bodies) and the
//! credentials each face reads.

use std::collections::BTreeMap;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Type};

use crate::dialects::DialectsConfig;

/// Where the action dialect's document puts its endpoint (the default of
/// `[dialects] action_path`).
const ACTION_PATH: &str = "/api/v1/action";

/// A face of smsgate: the native API or one provider's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Native,
    Ultimate,
    Thesmspoint,
    Action,
    Smsmanager,
    Session,
}

impl Face {
    pub const ALL: [Face; 6] = [
        Face::Native,
        Face::Ultimate,
        Face::Thesmspoint,
        Face::Action,
        Face::Smsmanager,
        Face::Session,
    ];

    /// The name in `/docs/{slug}` and `docs/dialects/{slug}.md`.
    pub fn slug(self) -> &'static str {
        match self {
            Face::Native => "native",
            Face::Ultimate => "ultimate",
            Face::Thesmspoint => "thesmspoint",
            Face::Action => "action",
            Face::Smsmanager => "smsmanager",
            Face::Session => "session",
        }
    }

    /// Where the face's OpenAPI document is served.
    pub fn openapi_path(self) -> &'static str {
        match self {
            Face::Native => "/openapi.json",
            Face::Ultimate => "/openapi/ultimate.json",
            Face::Thesmspoint => "/openapi/thesmspoint.json",
            Face::Action => "/openapi/action.json",
            Face::Smsmanager => "/openapi/smsmanager.json",
            Face::Session => "/openapi/session.json",
        }
    }

    /// The face's complete document.
    pub fn document(self) -> utoipa::openapi::OpenApi {
        use crate::dialects;
        let (doc, schemes): (_, &[(&str, Scheme)]) = match self {
            Face::Native => (
                crate::ApiDoc::openapi(),
                &[
                    ("api_key", Scheme::Bearer("An API key of the account")),
                    (
                        "admin_token",
                        Scheme::Bearer("The operator's admin token (printed at first start)"),
                    ),
                ],
            ),
            Face::Ultimate => (
                dialects::ultimate::UltimateApi::openapi(),
                &[
                    ("api_token", Scheme::Query("api_token")),
                    ("bearer", Scheme::Bearer("The api_token as a bearer token")),
                ],
            ),
            Face::Thesmspoint => (
                dialects::thesmspoint::SmsPointApi::openapi(),
                &[("key", Scheme::Header("key"))],
            ),
            Face::Action => (
                dialects::action::ActionApi::openapi(),
                &[("x_api_key", Scheme::Header("x-api-key"))],
            ),
            Face::Smsmanager => (
                dialects::smsmanager::SmsmanagerApi::openapi(),
                &[
                    ("x_api_key", Scheme::Header("x-api-key")),
                    ("apikey", Scheme::Query("apikey")),
                ],
            ),
            Face::Session => (
                dialects::session::SessionApi::openapi(),
                &[
                    ("basic", Scheme::Basic),
                    ("user_key", Scheme::Header("user_key")),
                    ("session_key", Scheme::Header("Session_key")),
                    ("access_token", Scheme::Header("Access_token")),
                ],
            ),
        };
        complete(doc, self.errors(), schemes)
    }

    fn errors(self) -> Errors {
        match self {
            Face::Native => Errors::Problem,
            _ => Errors::Dialect,
        }
    }

    /// The face's document as this server answers it: the action
    /// dialect's endpoint where the configuration puts it.
    pub fn document_for(self, dialects: &DialectsConfig) -> utoipa::openapi::OpenApi {
        let mut doc = self.document();
        if self == Face::Action
            && let Some(item) = doc.paths.paths.remove(ACTION_PATH)
        {
            doc.paths.paths.insert(dialects.action_path.clone(), item);
        }
        doc
    }

    /// The face's document as an answer.
    pub fn answer(self, dialects: &DialectsConfig) -> Response {
        (
            [(header::CONTENT_TYPE, "application/json")],
            self.document_for(dialects)
                .to_pretty_json()
                .unwrap_or_default(),
        )
            .into_response()
    }
}

/// How a face's errors are shaped.
#[derive(Clone, Copy)]
enum Errors {
    /// RFC 9457 `application/problem+json`, schema `Problem`.
    Problem,
    /// The dialect's own JSON body, schema `ErrorBody`.
    Dialect,
}

impl Errors {
    fn content_type(self) -> &'static str {
        match self {
            Errors::Problem => "application/problem+json",
            Errors::Dialect => "application/json",
        }
    }

    fn schema(self) -> &'static str {
        match self {
            Errors::Problem => "Problem",
            Errors::Dialect => "ErrorBody",
        }
    }
}

/// Where a face reads a credential.
enum Scheme {
    Bearer(&'static str),
    Basic,
    Header(&'static str),
    Query(&'static str),
}

impl Scheme {
    fn build(&self) -> SecurityScheme {
        match *self {
            Scheme::Bearer(what) => SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(what))
                    .build(),
            ),
            Scheme::Basic => SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("The account's name and password"))
                    .build(),
            ),
            Scheme::Header(name) => SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(name))),
            Scheme::Query(name) => SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new(name))),
        }
    }
}

/// Adds the security schemes, the shared answers and default descriptions
/// to every operation, and types the errors by the face's content type.
fn complete(
    mut doc: utoipa::openapi::OpenApi,
    errors: Errors,
    schemes: &[(&str, Scheme)],
) -> utoipa::openapi::OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, scheme) in schemes {
        components.add_security_scheme(*name, scheme.build());
    }
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation, errors);
        }
    }
    doc
}

fn complete_operation(op: &mut Operation, errors: Errors) {
    let responses = &mut op.responses.responses;
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            response.description = default_description(status).into();
        }
        // Every refusal of a face has the face's one error shape.
        if !status.starts_with('2') && response.content.is_empty() {
            *response = error_response(&response.description, errors);
            continue;
        }
        // The native API's errors are problem documents.
        if let Errors::Problem = errors
            && !status.starts_with('2')
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response
                .content
                .insert(errors.content_type().into(), content);
        }
    }
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut shared = vec![
        (
            "429",
            "Too many requests (per key, account or client address)",
        ),
        ("503", "Busy or briefly unavailable; try again"),
    ];
    if secured {
        shared.push(("401", "Missing, unknown or revoked credentials"));
    }
    if op.request_body.is_some() {
        shared.push(("408", "The request body did not arrive in time"));
        shared.push(("413", "The request body is too large"));
    }
    for (status, description) in shared {
        responses
            .entry(status.into())
            .or_insert_with(|| error_response(description, errors).into());
    }
    if let Some(RefOr::T(limited)) = responses.get_mut("429") {
        limited.headers.extend(rate_limit_headers());
    }
}

fn error_response(description: &str, errors: Errors) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            errors.content_type(),
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(errors.schema())))
                .build(),
        )
        .build()
}

/// The headers of every 429, whichever face gives it.
fn rate_limit_headers() -> BTreeMap<String, RefOr<utoipa::openapi::header::Header>> {
    let integer = |description: &str| {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer),
                ))
                .description(Some(description))
                .build(),
        )
    };
    BTreeMap::from([
        ("Retry-After".into(), integer("Seconds to wait")),
        ("RateLimit-Limit".into(), integer("The bucket's size")),
        ("RateLimit-Remaining".into(), integer("Always 0 here")),
        (
            "RateLimit-Reset".into(),
            integer("Seconds until a request is allowed"),
        ),
    ])
}

/// What smsgate means by a status, for responses declared without words.
fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "Done; the body is the result",
        "201" => "Created",
        "202" => "Accepted and stored on disk",
        "204" => "Done; no body",
        "400" => "Malformed request: the body or a parameter cannot be read",
        "401" => "Missing, unknown or revoked credentials",
        "402" => "Not enough credits",
        "403" => "Not allowed for this key or account",
        "404" => "No such resource for this account",
        "409" => "Conflicts with the resource's state",
        "413" => "The request body is too large",
        "422" => "Invalid request: the answer names the fields",
        "429" => "Too many requests",
        "503" => "Busy or briefly unavailable; try again",
        _ => "See the description of the operation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every served document passes `openapi-spec-validator` (CI installs
    /// it; without it this test fails rather than passing unchecked).
    #[test]
    fn every_served_document_is_valid_openapi() {
        let dir = std::env::temp_dir().join(format!("smsgate-openapi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files: Vec<_> = Face::ALL
            .iter()
            .map(|face| {
                let path = dir.join(format!("{}.json", face.slug()));
                std::fs::write(&path, face.document().to_pretty_json().unwrap()).unwrap();
                path
            })
            .collect();
        let out = std::process::Command::new("python3")
            .args(["-m", "openapi_spec_validator", "--errors", "all"])
            .args(&files)
            .output()
            .expect("python3 runs (CI installs openapi-spec-validator)");
        let _ = std::fs::remove_dir_all(&dir);
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "openapi-spec-validator refused:\n{text}"
        );
        assert_eq!(text.matches(": OK").count(), files.len(), "{text}");
    }

    #[test]
    fn the_action_document_names_the_configured_endpoint() {
        let dialects = DialectsConfig {
            action_path: "/skycore/send".into(),
            ..DialectsConfig::default()
        };
        let doc = Face::Action.document_for(&dialects);
        assert!(doc.paths.paths.contains_key("/skycore/send"));
        assert!(!doc.paths.paths.contains_key(ACTION_PATH));
        let default = Face::Action.document_for(&DialectsConfig::default());
        assert!(default.paths.paths.contains_key(ACTION_PATH));
    }

    #[test]
    fn errors_are_declared_in_each_face_shape() {
        for face in Face::ALL {
            let doc = serde_json::to_value(face.document()).unwrap();
            let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
            for (path, item) in doc["paths"].as_object().unwrap() {
                for (method, op) in item.as_object().unwrap() {
                    let at = format!("{face:?} {method} {path}");
                    let responses = op["responses"].as_object().unwrap();
                    for status in ["429", "503"] {
                        assert!(responses.contains_key(status), "{at}: no {status}");
                    }
                    for (status, r) in responses {
                        assert!(
                            !r["description"].as_str().unwrap().is_empty(),
                            "{at} {status}"
                        );
                        if face == Face::Native && !status.starts_with('2') {
                            let content = r["content"].as_object().unwrap();
                            assert!(
                                content.keys().all(|k| k == "application/problem+json"),
                                "{at} {status}: {content:?}"
                            );
                        }
                    }
                    // Every credential an operation names is a declared scheme.
                    for requirement in op["security"].as_array().into_iter().flatten() {
                        for name in requirement.as_object().unwrap().keys() {
                            assert!(schemes.contains_key(name), "{at}: scheme {name}");
                        }
                    }
                    // Credentials are schemes, not parameters.
                    for p in op["parameters"].as_array().into_iter().flatten() {
                        let name = p["name"].as_str().unwrap().to_ascii_lowercase();
                        assert!(
                            ![
                                "x-api-key",
                                "api_token",
                                "apikey",
                                "key",
                                "user_key",
                                "session_key"
                            ]
                            .contains(&name.as_str()),
                            "{at}: credential {name} as a parameter"
                        );
                    }
                }
            }
        }
    }
}
