//! The `thesmspoint` dialect (seed 002) as its samples call it: the
//! balance per category, sender IDs and templates, single and bulk sends
//! (multipart from PHP, the recipient list as a JSON string inside a form
//! field and inside JSON), a GET with the query string, the delivery
//! status by job and by message, and every documented error text.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, read};

const INDIA: &str = "919954654365";
const INDIA_2: &str = "919954654366";

/// An account with split balances, an approved sender and template.
async fn setup(server: &Server) -> (i64, String) {
    let (id, key) = server.account("acme", 0).await;
    let admin = |method: Method, path: String, body: Value| async move {
        let (status, answer) = server.admin(method, &path, Some(body)).await;
        assert!(status.is_success(), "{path}: {answer}");
        answer
    };
    admin(
        Method::PATCH,
        format!("/admin/v1/accounts/{id}"),
        json!({"split_balances": true}),
    )
    .await;
    for (category, amount) in [("transactional", 20), ("otp", 3)] {
        admin(
            Method::POST,
            format!("/admin/v1/accounts/{id}/credits"),
            json!({"amount": amount, "category": category}),
        )
        .await;
    }
    let sender = admin(
        Method::POST,
        format!("/admin/v1/accounts/{id}/senders"),
        json!({"sender_id": "SENDER", "category": "transactional", "purpose": "Alerts"}),
    )
    .await;
    admin(
        Method::POST,
        format!(
            "/admin/v1/senders/{}/approve",
            sender["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    let template = admin(
        Method::POST,
        format!("/admin/v1/accounts/{id}/templates"),
        json!({"name": "greeting", "template_id": "TEMPLATE", "category": "transactional",
               "sender_id": "SENDER", "text": "This is {#var#}"}),
    )
    .await;
    admin(
        Method::POST,
        format!(
            "/admin/v1/templates/{}/approve",
            template["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    (id, key)
}

async fn command(
    server: &Server,
    key: Option<&str>,
    command: &str,
    body: Option<(&str, String)>,
) -> (StatusCode, Value) {
    let mut req = server
        .http
        .post(server.url(&format!("/api/v1/{command}")))
        .header("Accept", "application/json");
    if let Some(k) = key {
        req = req.header("key", k);
    }
    if let Some((content_type, b)) = body {
        req = req.header("Content-Type", content_type).body(b);
    }
    read(req.send().await.unwrap()).await
}

fn multipart(fields: &[(&str, &str)]) -> (String, String) {
    let boundary = "------------------------4a1f0c6d3e2b1a09";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_samples_query_send_and_follow_delivery() {
    let server = Server::start();
    let (_, key) = setup(&server).await;

    // get-sms-balance: a POST with only the headers.
    let (status, body) = command(&server, Some(&key), "get-sms-balance", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(
        body["data"]["balance"],
        json!({"OTP": 3, "Promotional": 0, "Transactional": 20})
    );

    let (_, body) = command(&server, Some(&key), "get-sender-id", None).await;
    let s = &body["data"][0];
    assert_eq!(
        (s["sender_id"].as_str(), s["approve_status"].as_str()),
        (Some("SENDER"), Some("Approved"))
    );
    assert_eq!(s["type_value"], "Transactional");
    for field in ["id", "entity_id", "purpose_value"] {
        assert!(s[field].is_string(), "{field}: {s}");
    }
    let (_, body) = command(&server, Some(&key), "get-templates", None).await;
    let t = &body["data"][0];
    assert_eq!(t["template_id"], "TEMPLATE");
    assert_eq!(t["message"], "This is {#var#}");
    assert_eq!(t["template_status"], "Approved");
    assert_eq!(t["sender_id"], "SENDER");

    // send-single-sms, as PHP's curl sends an array: multipart.
    let (ct, body) = multipart(&[
        ("recipient", INDIA),
        ("message", "This is Message"),
        ("sender_id", "SENDER"),
        ("template_id", "TEMPLATE"),
        ("channel", "1"),
        ("is_unicode", "0"),
    ]);
    let (status, single) = command(&server, Some(&key), "send-single-sms", Some((&ct, body))).await;
    assert_eq!(status, StatusCode::OK, "{single}");
    assert_eq!(single["message"], "SMS Sent Successfully");
    assert_eq!(single["code"], 200);
    assert_eq!(single["data"]["ErrorCode"], "000");
    assert_eq!(single["data"]["ErrorMessage"], "Success");
    let entry = &single["data"]["MessageData"][0];
    assert_eq!(entry["Number"], INDIA);
    assert_eq!(entry["message"], "This is Message");
    let message_id = entry["message_id"].as_str().unwrap().to_string();

    // send-bulk-sms: PHP puts json_encode($recipient) in a form field...
    let list = json!([{"number": 919954654365u64, "text": "This is Message"}, {"number": INDIA_2, "text": "This is Another"}]);
    let form = format!(
        "recipient={}&sender_id=SENDER&template_id=TEMPLATE&channel=1&is_unicode=0",
        urlencode(&list.to_string())
    );
    let (status, bulk) = command(
        &server,
        Some(&key),
        "send-bulk-sms",
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    assert_eq!(bulk["data"]["MessageData"].as_array().unwrap().len(), 2);
    // ... and C# serialises the list to a string inside its JSON.
    let csharp = json!({"recipient": list.to_string(), "sender_id": "SENDER", "template_id": "TEMPLATE", "channel": "1", "is_unicode": "0"});
    let (status, body) = command(
        &server,
        Some(&key),
        "send-bulk-sms",
        Some(("application/json", csharp.to_string())),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = bulk["data"]["JobId"].as_str().unwrap().to_string();

    // A GET with everything in the URL.
    let r = server
        .http
        .get(server.url(&format!(
            "/api/v1/send-single-sms?recipient={INDIA}&message=This%20is%20GET&sender_id=SENDER&template_id=TEMPLATE&channel=1&is_unicode=0"
        )))
        .header("key", &key)
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // sms-delivery-status by job (C#'s form body) until delivered.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = command(
            &server,
            Some(&key),
            "sms-delivery-status",
            Some(("application/x-www-form-urlencoded", format!("job_id={job}"))),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["job_id"], job.as_str());
        assert_eq!(body["code"], "200");
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        if data.iter().all(|d| d["status_name"] == "Delivered") {
            assert_eq!(data[0]["mobile_number"], INDIA);
            assert_eq!(data[1]["content"], "This is Another");
            break;
        }
        assert!(Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (_, body) = command(
        &server,
        Some(&key),
        "sms-delivery-status",
        Some((
            "application/json",
            json!({"message_id": message_id}).to_string(),
        )),
    )
    .await;
    let d = &body["data"];
    assert_eq!(d["recipient"], INDIA, "{body}");
    assert_eq!(d["sender_id"], "SENDER");
    assert!(
        d["status"] == "Delivered" || d["status"] == "Sent" || d["status"] == "Pending",
        "{body}"
    );
    assert!(d["delivery_status_id"].is_number());

    // Six transactional credits went (1 + 2 + 2 + 1); OTP untouched.
    let (_, body) = command(&server, Some(&key), "get-sms-balance", None).await;
    assert_eq!(
        body["data"]["balance"],
        json!({"OTP": 3, "Promotional": 0, "Transactional": 14})
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn every_documented_error_text() {
    let server = Server::start();
    let (id, key) = setup(&server).await;
    let single = |fields: &[(&str, &str)]| {
        let base = [
            ("recipient", INDIA),
            ("message", "This is Message"),
            ("sender_id", "SENDER"),
            ("template_id", "TEMPLATE"),
            ("channel", "1"),
            ("is_unicode", "0"),
        ];
        let mut merged: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in fields {
            merged.retain(|(name, _)| name != k);
            merged.push((k.to_string(), v.to_string()));
        }
        merged
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let form = "application/x-www-form-urlencoded";
    let (status, body) = command(&server, None, "get-sms-balance", None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("API Key Does Not Exists"))
    );
    let (status, body) = command(&server, Some("nope"), "get-sms-balance", None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("API Key Does Not Exists"))
    );
    let r = server
        .http
        .put(server.url("/api/v1/get-sms-balance"))
        .header("key", &key)
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            Some("Request Type Not Allowed")
        )
    );

    // A one-part OTP text takes one of the three OTP credits.
    let long = format!("This is {}", "x".repeat(20));
    let (status, body) = command(
        &server,
        Some(&key),
        "send-single-sms",
        Some((
            form,
            single(&[("channel", "3"), ("message", &long), ("recipient", INDIA)]),
        )),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a 28-character text is 1 part: {body}"
    );
    // Two OTP credits are left; three recipients need three.
    let many: Vec<Value> = ["919954654361", "919954654362", "919954654363"]
        .iter()
        .map(|n| json!({"number": n, "text": "This is OTP"}))
        .collect();
    let (status, body) = command(
        &server,
        Some(&key),
        "send-bulk-sms",
        Some(("application/json", json!({"recipient": many, "sender_id": "SENDER", "template_id": "TEMPLATE", "channel": "3", "is_unicode": "0"}).to_string())),
    )
    .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(
        body,
        json!({"status": "error", "message": "SMS Credits Not Available", "data": null})
    );

    let (status, body) = command(
        &server,
        Some(&key),
        "sms-delivery-status",
        Some((form, "message_id=12345".into())),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"status": "error", "message": "Invalid Message ID", "data": null})
    );

    for (fields, text) in [
        (vec![("sender_id", "OTHER")], "Invalid Sender ID"),
        (vec![("template_id", "NOPE")], "Invalid Template ID"),
        (
            vec![("message", "Something else")],
            "does not match the template",
        ),
        (vec![("channel", "7")], "channel"),
        (vec![("is_unicode", "maybe")], "is_unicode"),
        (vec![("recipient", "12")], "Invalid Recipient"),
    ] {
        let (status, body) = command(
            &server,
            Some(&key),
            "send-single-sms",
            Some((form, single(&fields))),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{fields:?}: {body}");
        assert_eq!(body["status"], "error");
        assert!(
            body["message"].as_str().unwrap().contains(text),
            "{text:?} not in {body}"
        );
    }
    // A pending sender ID is refused.
    let (_, pending) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{id}/senders"),
            Some(json!({"sender_id": "LATER"})),
        )
        .await;
    assert_eq!(pending["status"], "pending");
    let (_, body) = command(
        &server,
        Some(&key),
        "send-single-sms",
        Some((form, single(&[("sender_id", "LATER")]))),
    )
    .await;
    assert_eq!(body["message"], "Sender ID Not Approved");

    // A key limited to other networks: "Request Type Not Allowed".
    let (_, keys) = server
        .admin(Method::GET, &format!("/admin/v1/accounts/{id}/keys"), None)
        .await;
    server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/keys/{}", keys["data"][0]["id"]),
            Some(json!({"allowed_ips": ["10.0.0.0/8"]})),
        )
        .await;
    let (status, body) = command(&server, Some(&key), "get-sms-balance", None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::FORBIDDEN, Some("Request Type Not Allowed"))
    );
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(the_samples_query_send_and_follow_delivery,);
