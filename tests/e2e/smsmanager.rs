//! The `smsmanager` dialect (seed 004) as its samples call it: one
//! request, a batch of requests (message ids `<id>-<i>`), the simple GET
//! with the sample's `apikey=string,KEY` and the simple form POST; a
//! callback_url receives that dialect's notifications with the payload
//! echoed; every error as `{"status", "error"}`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::receiver::{Answer, Receiver};
use crate::support::{LOCAL_RECEIVERS, Server, read};

async fn post(server: &Server, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = server
        .http
        .post(server.url(path))
        .header("Content-Type", "application/json")
        .header("x-api-key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    read(r).await
}

#[tokio::test]
async fn the_samples_send_one_many_and_simple() {
    let server = Server::start();
    let (_, key) = server.account("acme", 100).await;

    // POST /v2/message, as the curl sample.
    let (status, body) = post(
        &server,
        &key,
        "/v2/message",
        json!({"body": "Test message", "to": [{"phone_number": "420777123456"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["request_id"].is_string());
    assert_eq!(body["rejected"], json!([]));
    let accepted = body["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["phone_number"], "420777123456");
    let id = accepted[0]["message_id"].as_str().unwrap();
    assert!(id.ends_with("-0"), "{id}");

    // POST /v2/messages: two requests of two; one accepted entry per
    // request with its message_id; its recipient i is <message_id>-<i>.
    let (status, body) = post(
        &server,
        &key,
        "/v2/messages",
        json!([
            {"body": "Hello John", "to": [{"phone_number": "420777123456"}, {"phone_number": "420777654321"}]},
            {"body": "Hello Jane", "to": [{"phone_number": "420777115577"}, {"phone_number": "420777223344"}]}
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let accepted = body["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 2, "{body}");
    let first = accepted[0]["message_id"].as_str().unwrap();
    let second = accepted[1]["message_id"].as_str().unwrap();
    assert_ne!(first, second);
    assert_eq!(
        accepted[0]["to"],
        json!([{"phone_number": "420777123456"}, {"phone_number": "420777654321"}])
    );
    let (_, john) = server
        .get(&key, &format!("/v1/messages?batch_id={first}"))
        .await;
    assert_eq!(john["data"].as_array().unwrap().len(), 2, "{john}");
    // The batch is the request: the native API shows its messages.
    let (_, batch) = server.get(&key, &format!("/v1/batches/{second}")).await;
    assert_eq!(batch["accepted"], 2, "{batch}");

    // GET /v2/simple/message, with the sample's `apikey=string,KEY`.
    let r = server
        .http
        .get(server.url(&format!(
            "/v2/simple/message?apikey=string%2C{key}&phone_number=420777123456&message=Simple&sender=Acme"
        )))
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], true);
    assert!(body["message_id"].as_str().unwrap().ends_with("-0"));
    // POST /v2/simple/message, a form with the x-api-key header.
    let r = server
        .http
        .post(server.url("/v2/simple/message"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("x-api-key", &key)
        .body("phone_number=420777123456&message=Form&sender=Acme")
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], true);
    assert_eq!(server.balance(&key).await, 100 - 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_gets_the_dialect_s_notifications_with_the_payload() {
    let receiver = Receiver::start(Arc::new(|_| Answer::Status(200))).await;
    let server = Server::start_with(LOCAL_RECEIVERS);
    let (_, key) = server.account("acme", 100).await;
    let (status, body) = post(
        &server,
        &key,
        "/v2/message",
        json!({"body": "Your order shipped", "to": [{"phone_number": "420777123456"}, {"phone_number": "12"}],
               "sender": "Shop", "callback": receiver.url, "tag": "priority",
               "payload": {"order": 7, "note": "gift"}, "flow": ["viber", "sms"], "params": {"x": 1}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["accepted"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let request_id = body["request_id"].clone();
    assert_eq!(body["rejected"][0]["phone_number"], "12");
    assert!(body["rejected"][0]["reason"].is_string());

    let deadline = Instant::now() + Duration::from_secs(15);
    let notes = loop {
        let mut seen = HashSet::new();
        // Each notification is an array of one object per message.
        let notes: Vec<Value> = receiver
            .delivered()
            .iter()
            .map(|r| r.json())
            .inspect(|n| assert!(n.is_array(), "{n}"))
            .map(|n| n[0].clone())
            .filter(|n| seen.insert(n["result"].as_str().unwrap_or("").to_string()))
            .collect();
        if notes.iter().any(|n| n["result"] == "delivered") {
            break notes;
        }
        assert!(Instant::now() < deadline, "{notes:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let results: Vec<&str> = notes
        .iter()
        .map(|n| n["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["sending", "sent", "delivered"]);
    for n in &notes {
        assert_eq!(n["request_id"], request_id);
        assert_eq!(n["message_id"], id.as_str());
        assert_eq!(n["to"], json!({"phone_number": "420777123456"}));
        assert_eq!(n["payload"], json!({"order": 7, "note": "gift"}));
        assert_eq!(n["gateway"], "sms");
        assert_eq!(n["type"], "outgoing");
        assert!(n["timestamp"].is_u64(), "Unix seconds: {n}");
        assert!(n["result_info"].is_string());
    }
    // Tag `priority` is dispatched ahead as transactional; untagged is
    // promotional.
    let (_, list) = server.get(&key, "/v1/messages?limit=1").await;
    assert_eq!(list["data"][0]["category"], "transactional");
    let (_, body) = post(
        &server,
        &key,
        "/v2/message",
        json!({"body": "x", "to": [{"phone_number": "420777123456"}]}),
    )
    .await;
    let plain = body["accepted"][0]["message_id"]
        .as_str()
        .unwrap()
        .trim_end_matches("-0")
        .to_string();
    let (_, messages) = server
        .get(&key, &format!("/v1/messages?batch_id={plain}"))
        .await;
    assert_eq!(messages["data"][0]["category"], "promotional", "{messages}");
}

#[tokio::test]
async fn every_error_has_the_dialect_s_shape() {
    let server = Server::start();
    let (_, key) = server.account("acme", 1).await;
    let ten: Vec<Value> = (0..11)
        .map(|i| json!({"phone_number": format!("42077712345{}", i % 10)}))
        .collect();
    let cases: Vec<(&str, &str, Value, StatusCode, &str)> = vec![
        (
            "",
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}]}),
            StatusCode::UNAUTHORIZED,
            "API key",
        ),
        (
            "nope",
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}]}),
            StatusCode::UNAUTHORIZED,
            "invalid API key",
        ),
        (
            &key,
            "/v2/message",
            json!({"to": [{"phone_number": "420777123456"}]}),
            StatusCode::BAD_REQUEST,
            "body",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": []}),
            StatusCode::BAD_REQUEST,
            "to",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"number": "1"}]}),
            StatusCode::BAD_REQUEST,
            "phone_number",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "flow": ["viber"]}),
            StatusCode::BAD_REQUEST,
            "flow",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "flow": []}),
            StatusCode::BAD_REQUEST,
            "flow",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "payload": "text"}),
            StatusCode::BAD_REQUEST,
            "payload",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "scheduled": "tomorrow"}),
            StatusCode::BAD_REQUEST,
            "datetime",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "callback_url": "nope"}),
            StatusCode::BAD_REQUEST,
            "callback",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "callback": "nope"}),
            StatusCode::BAD_REQUEST,
            "callback",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "datetime": "tomorrow"}),
            StatusCode::BAD_REQUEST,
            "datetime",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x", "to": [{"phone_number": "420777123456"}], "params": "x"}),
            StatusCode::BAD_REQUEST,
            "params",
        ),
        (
            &key,
            "/v2/message",
            json!({"body": "x".repeat(200), "to": [{"phone_number": "420777123456"}]}),
            StatusCode::PAYMENT_REQUIRED,
            "credit",
        ),
        (
            &key,
            "/v2/messages",
            json!({"body": "x"}),
            StatusCode::BAD_REQUEST,
            "array",
        ),
        (
            &key,
            "/v2/messages",
            json!([{"body": "x", "to": ten}]),
            StatusCode::BAD_REQUEST,
            "[0] to: 11 recipients",
        ),
        (
            &key,
            "/v2/messages",
            Value::Array(vec![
                json!({"body": "x", "to": [{"phone_number": "420777123456"}]});
                11
            ]),
            StatusCode::BAD_REQUEST,
            "1 to 10",
        ),
    ];
    for (k, path, body, status, text) in cases {
        let (got, answer) = post(&server, k, path, body.clone()).await;
        assert_eq!(got, status, "{path} {body} -> {answer}");
        assert_eq!(answer["status"], status.as_u16(), "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(text),
            "{text:?} not in {answer}"
        );
    }
    // A number that cannot be valid is refused alone, not the request.
    let (status, body) = post(
        &server,
        &key,
        "/v2/message",
        json!({"body": "x", "to": [{"phone_number": "12"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], json!([]));
    assert_eq!(body["rejected"][0]["phone_number"], "12");
    let r = server
        .http
        .get(server.url(&format!(
            "/v2/simple/message?apikey={key}&phone_number=12&message=x"
        )))
        .send()
        .await
        .unwrap();
    let (status, body) = read(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(server.balance(&key).await, 1, "nothing charged");
    let (status, _) = server
        .admin(Method::GET, "/openapi/smsmanager.json", None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(the_samples_send_one_many_and_simple,);
