//! Operators, roles and the audit log over the whole router: every role
//! against every admin endpoint the OpenAPI document lists, logins and
//! tokens, support's credit limit, and what the audit log shows.

mod common;

use axum::http::{Method, StatusCode};
use common::App;
use serde_json::json;

/// A new operator of `role` (made with the admin token) and a token of
/// its own.
async fn operator(app: &App, name: &str, role: &str, password: Option<&str>) -> (i64, String) {
    let (status, op) = app
        .admin(
            Method::POST,
            "/admin/v1/operators",
            Some(json!({"name": name, "role": role, "password": password})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op}");
    let id = op["id"].as_i64().unwrap();
    let (status, token) = app
        .admin(
            Method::POST,
            &format!("/admin/v1/operators/{id}/tokens"),
            Some(json!({"label": "tests"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    (id, token["token"].as_str().unwrap().to_string())
}

/// What the issue says each role may do, written apart from the code
/// that enforces it.
fn may(role: &str, method: &Method, path: &str) -> bool {
    let at_least = |roles: &[&str]| roles.contains(&role);
    if path.starts_with("/admin/v1/me") {
        true
    } else if path.starts_with("/admin/v1/operators") {
        at_least(&["owner"])
    } else if method == Method::GET {
        true
    } else if path.ends_with("/approve") || path.ends_with("/credits") {
        at_least(&["owner", "admin", "support"])
    } else {
        at_least(&["owner", "admin"])
    }
}

async fn audit_rows(app: &App) -> usize {
    let (status, page) = app
        .admin(Method::GET, "/admin/v1/audit?limit=500", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn every_role_is_refused_what_it_may_not_do_on_every_admin_endpoint() {
    let app = App::new().await;
    let mut roles = Vec::new();
    for role in ["readonly", "support", "admin", "owner"] {
        let (_, token) = operator(&app, &format!("{role}-op"), role, None).await;
        roles.push((role, token));
    }
    let (status, doc) = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/admin/v1/") || path == "/admin/v1/login" {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            // Ids no object has, so that allowed calls change nothing
            // the next calls need (the callers' own tokens).
            let concrete = path
                .replace("{month}", "2026-12")
                .replace("{number}", "31699999999")
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        "999999"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            operations.push((method, path.clone(), concrete));
        }
    }
    assert!(
        operations.len() > 50,
        "the document lists {} admin operations",
        operations.len()
    );
    let mut refused = 0;
    for (method, path, concrete) in &operations {
        for (role, token) in &roles {
            let body = (*method != Method::GET && *method != Method::DELETE).then(|| json!({}));
            let before = audit_rows(&app).await;
            let (status, answer) = app.call(method.clone(), concrete, Some(token), body).await;
            if may(role, method, path) {
                assert_ne!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} refused {method} {path}: {answer}"
                );
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{role} {method} {path}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} was let {method} {path}: {answer}"
                );
                assert_eq!(
                    answer["type"].as_str().map(|t| t.ends_with("forbidden")),
                    Some(true)
                );
                assert_eq!(audit_rows(&app).await, before, "{role} {method} {path}");
                refused += 1;
            }
        }
    }
    assert!(refused > 60, "only {refused} refusals");
    // Without a token, or with a customer's key: nothing.
    let (_, key) = app.account("acme", "10").await;
    for token in [None, Some(key.as_str()), Some("sgo_not-a-token")] {
        let (status, _) = app
            .call(Method::GET, "/admin/v1/accounts", token, None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn support_changes_credits_up_to_its_limit_and_approves() {
    let app = App::new().await;
    let (account, key) = app.account("acme", "10").await;
    let (_, support) = operator(&app, "sue", "support", None).await;
    let credits = format!("/admin/v1/accounts/{}/credits", account.0);
    let (status, body) = app
        .call(
            Method::POST,
            &credits,
            Some(&support),
            Some(json!({"amount": "100"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for amount in ["100.0001", "-150"] {
        let (status, body) = app
            .call(
                Method::POST,
                &credits,
                Some(&support),
                Some(json!({"amount": amount})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{amount}: {body}");
    }
    // Past every balance: invalid for any role.
    let (status, _) = app
        .call(
            Method::POST,
            &credits,
            Some(&support),
            Some(json!({"amount": "-922337203685477.5808"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, acct) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/accounts/{}", account.0),
            None,
        )
        .await;
    assert_eq!(acct["balance"], "110.0000");
    // A sender the customer registered, approved by support.
    let (status, sender) = app
        .call(
            Method::POST,
            "/v1/senders",
            Some(&key),
            Some(json!({"sender_id": "ACME", "category": "transactional"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sender}");
    let id = sender["id"].as_str().unwrap();
    let (status, approved) = app
        .call(
            Method::POST,
            &format!("/admin/v1/senders/{id}/approve"),
            Some(&support),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
}

#[tokio::test]
async fn operators_log_in_and_their_tokens_end_when_revoked_or_disabled() {
    let app = App::new().await;
    let (id, _) = operator(&app, "olga", "owner", Some("correct horse battery")).await;
    let login = |password: &str| json!({"name": "olga", "password": password, "label": "laptop", "expires_in_secs": 3600});
    let (status, _) = app
        .call(
            Method::POST,
            "/admin/v1/login",
            None,
            Some(login("wrong password!")),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for bad in [
        json!({"name": "olga", "password": "correct horse battery", "label": ""}),
        json!({"name": "olga", "password": "correct horse battery", "expires_in_secs": 0}),
        json!({"name": "olga", "password": "correct horse battery", "expires_in_secs": 40_000_000}),
        json!({"name": "olga"}),
    ] {
        let (status, body) = app
            .call(Method::POST, "/admin/v1/login", None, Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (status, token) = app
        .call(
            Method::POST,
            "/admin/v1/login",
            None,
            Some(login("correct horse battery")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let secret = token["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("sgo_"));
    assert!(token["expires_at"].is_string());
    let (status, me) = app
        .call(Method::GET, "/admin/v1/me", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["actor"].as_str(), me["role"].as_str()),
        (Some("operator"), Some("owner"))
    );
    assert_eq!(me["operator"]["id"], id);

    // The last owner stays one.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/admin/v1/operators/{id}"),
            Some(&secret),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Bad input is named, and changes nothing.
    for bad in [
        json!({"name": "x", "role": "root"}),
        json!({"name": "x", "role": "admin", "password": "short"}),
        json!({"name": "", "role": "admin"}),
        json!({"name": "olga", "role": "admin"}),
    ] {
        let (status, body) = app
            .admin(Method::POST, "/admin/v1/operators", Some(bad.clone()))
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT,
            "{bad}: {status} {body}"
        );
    }
    let (_, list) = app.admin(Method::GET, "/admin/v1/operators", None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // Tokens expire on the engine's clock.
    app.clock.advance_secs(3601);
    let (status, _) = app
        .call(Method::GET, "/admin/v1/me", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An own token revoked is refused from then on.
    let (_, ci) = operator(&app, "ci", "admin", None).await;
    let (_, tokens) = app
        .call(Method::GET, "/admin/v1/me/tokens", Some(&ci), None)
        .await;
    let token_id = tokens["data"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/admin/v1/me/tokens/{token_id}"),
            Some(&ci),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.call(Method::GET, "/admin/v1/me", Some(&ci), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A disabled operator's tokens are refused.
    let (ro, readonly) = operator(&app, "rita", "readonly", None).await;
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/operators/{ro}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(Method::GET, "/admin/v1/me", Some(&readonly), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The admin token has no tokens of its own.
    let (status, _) = app.admin(Method::GET, "/admin/v1/me/tokens", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_audit_log_names_who_changed_what_from_where() {
    let app = App::new().await;
    let (account, key) = app.account("acme", "10").await;
    let (op, token) = operator(&app, "adam", "admin", None).await;
    let (status, _) = app
        .call(
            Method::PUT,
            "/admin/v1/prices",
            Some(&token),
            Some(json!({"route_class": "standard", "prefix": "31", "price": "0.0350"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/admin/v1/accounts/{}", account.0),
            Some(&token),
            Some(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A disabled account's key changes nothing; enabled again, the
    // customer's own change is logged with its key and address, and the
    // new key's secret is not.
    let (status, refused) = app
        .call(
            Method::POST,
            "/v1/keys",
            Some(&key),
            Some(json!({"label": "ci"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a disabled account changes nothing: {refused}"
    );
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{}", account.0),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, made) = app
        .call(
            Method::POST,
            "/v1/keys",
            Some(&key),
            Some(json!({"label": "ci"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");

    let (status, page) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?account={}", account.0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let rows = page["data"].as_array().unwrap();
    let actions: Vec<_> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "key.create",
            "account.update",
            "account.update",
            "key.create",
            "account.create"
        ],
        "{page}"
    );
    let key_made = &rows[0];
    assert_eq!(key_made["actor"], "account");
    assert_eq!(key_made["actor_id"], account.0);
    assert!(key_made["key_id"].is_i64());
    assert_eq!(key_made["address"], "127.0.0.1");
    assert!(!page.to_string().contains(made["api_key"].as_str().unwrap()));
    let by_admin_token = &rows[1];
    assert_eq!(
        (
            by_admin_token["actor"].as_str(),
            by_admin_token["actor_id"].as_i64()
        ),
        (Some("admin-token"), None)
    );
    let disabled = &rows[2];
    assert_eq!(disabled["actor"], "operator");
    assert_eq!(disabled["actor_id"], op);
    assert_eq!(disabled["before"]["status"], "active");
    assert_eq!(disabled["after"]["status"], "disabled");
    assert_eq!(rows[4]["actor"], "cli");

    let (_, prices) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?action=price.set&actor=operator:{op}"),
            None,
        )
        .await;
    let set = &prices["data"][0];
    assert_eq!(set["after"]["per_segment"], "0.0350");
    assert_eq!(set["subject"], "plan 1");
    assert_eq!(prices["data"].as_array().unwrap().len(), 1);

    // Pages, and bad filters named.
    let (_, first) = app
        .admin(Method::GET, "/admin/v1/audit?limit=2", None)
        .await;
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (_, rest) = app
        .admin(
            Method::GET,
            &format!("/admin/v1/audit?cursor={cursor}&limit=500"),
            None,
        )
        .await;
    let all = audit_rows(&app).await;
    assert_eq!(2 + rest["data"].as_array().unwrap().len(), all);
    for bad in [
        "action=price.sett",
        "actor=root",
        "actor=cli:3",
        "since=yesterday",
        "limit=0",
    ] {
        let (status, body) = app
            .admin(Method::GET, &format!("/admin/v1/audit?{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}

#[tokio::test]
async fn a_number_s_data_is_erased_by_its_account_or_an_operator() {
    let app = App::new().await;
    let (account, key) = app.account("acme", "10").await;
    let to = "+31612345678";
    let (status, sent) = app
        .call(
            Method::POST,
            "/v1/messages",
            Some(&key),
            Some(json!({"to": to, "from": "Acme", "text": "your code is 1234"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let id = sent["messages"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/messages/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .call(
            Method::POST,
            "/v1/suppressions",
            Some(&key),
            Some(json!({"number": to})),
        )
        .await;
    assert!(status.is_success(), "{body}");

    let (status, body) = app
        .call(
            Method::DELETE,
            "/v1/numbers/not-a-number/data",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, erased) = app
        .call(
            Method::DELETE,
            &format!("/v1/numbers/{to}/data"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(
        (erased["messages"].as_u64(), erased["pending"].as_u64()),
        (Some(1), Some(0))
    );
    let (_, message) = app
        .call(Method::GET, &format!("/v1/messages/{id}"), Some(&key), None)
        .await;
    assert_eq!(message["text"], "", "{message}");
    assert_eq!(message["status"], "canceled");
    let (_, list) = app
        .call(Method::GET, "/v1/suppressions", Some(&key), None)
        .await;
    assert_eq!(
        list["data"][0]["number"], to,
        "the suppression stays: {list}"
    );

    // Operators: support may not, admins may, for any account.
    let (_, support) = operator(&app, "sue", "support", None).await;
    let (_, admin) = operator(&app, "adam", "admin", None).await;
    let path = format!("/admin/v1/accounts/{}/numbers/{to}/data", account.0);
    let (status, _) = app.call(Method::DELETE, &path, Some(&support), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, again) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["messages"], 0);
    let (_, log) = app
        .admin(Method::GET, "/admin/v1/audit?action=number.erase", None)
        .await;
    let rows = log["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{log}");
    assert_eq!(
        (rows[1]["actor"].as_str(), rows[0]["actor"].as_str()),
        (Some("account"), Some("operator"))
    );
    assert!(!log.to_string().contains("612345678"), "{log}");
}
