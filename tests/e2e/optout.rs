//! Opt-out, inbound routing and replies end to end, with inbound messages
//! from the simulator: a STOP puts the sender on the account's suppression
//! list (and is an event), sends to it are refused per recipient without
//! charge, START lifts it; keywords route a shared number; replies thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::receiver::{Answer, Receiver};
use crate::support::{LOCAL_RECEIVERS, Server, text_to};

const MOBILE: &str = "+31612345678";

async fn mo(server: &Server, from: &str, to: &str, text: &str) -> Value {
    let (status, body) = server
        .admin(
            Method::POST,
            "/admin/v1/simulator/inbound",
            Some(json!({"from": from, "to": to, "text": text})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn suppressed_numbers(server: &Server, key: &str) -> Vec<Value> {
    let (status, body) = server.get(key, "/v1/suppressions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_suppresses_the_sender_until_start_and_is_an_event() {
    let receiver = Receiver::start(Arc::new(|_| Answer::Status(200))).await;
    let server = Server::start_with(LOCAL_RECEIVERS);
    let (acme, key) = server.account("acme", 100).await;
    server.assign_number("4400", json!(acme)).await;
    let (status, hook) = server
        .post(
            &key,
            "/v1/webhooks",
            json!({"url": receiver.url, "events": ["optout.changed"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_string();

    let (status, _) = server.post(&key, "/v1/messages", text_to(MOBILE)).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // The recipient answers " Stop " (any case, any whitespace).
    let stop = mo(&server, "31612345678", "4400", " Stop \n").await;
    assert_eq!(stop["optout"], "opt_out", "{stop}");
    let list = suppressed_numbers(&server, &key).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["number"], MOBILE);
    assert_eq!(list[0]["source"], "keyword");
    assert_eq!(list[0]["keyword"], "STOP");

    // A send to it and another number: only the other is sent and charged.
    let before = server.balance(&key).await;
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": [MOBILE, "+447911123456"], "from": "Acme", "text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(body["messages"][0]["to"], "+447911123456");
    assert_eq!(body["rejected"][0]["to"], MOBILE);
    assert!(
        body["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("opted out"),
        "{body}"
    );
    assert_eq!(server.balance(&key).await, before - 1);
    // Only to it: refused as a whole, nothing charged; the preview says so too.
    let (status, body) = server
        .post(&key, "/v1/messages", text_to("0031612345678"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("opted out"), "{body}");
    assert_eq!(server.balance(&key).await, before - 1);
    let (_, preview) = server
        .post(
            &key,
            "/v1/messages/preview",
            json!({"to": [MOBILE, "+447911123456"], "from": "Acme", "text": "hi"}),
        )
        .await;
    assert_eq!(preview["total_cost"], "1.0000", "{preview}");
    assert_eq!(preview["rejected"][0]["to"], MOBILE);

    // The events: inbound.received, then optout.changed with what changed.
    let (_, events) = server.get(&key, "/v1/events?limit=500").await;
    let events = events["data"].as_array().unwrap().clone();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let received = kinds.iter().position(|k| *k == "inbound.received").unwrap();
    let changed = kinds.iter().position(|k| *k == "optout.changed").unwrap();
    assert!(received < changed, "{kinds:?}");
    let optout = &events[changed]["data"];
    assert_eq!(optout["optout"]["number"], MOBILE);
    assert_eq!(optout["optout"]["opted_out"], true);
    assert_eq!(optout["optout"]["source"], "keyword");
    assert_eq!(optout["optout"]["keyword"], "STOP");
    assert_eq!(optout["inbound"]["text"], " Stop \n");

    // START lifts it; the send goes through.
    assert_eq!(
        mo(&server, "31612345678", "4400", "start").await["optout"],
        "opt_in"
    );
    assert!(suppressed_numbers(&server, &key).await.is_empty());
    let (status, body) = server.post(&key, "/v1/messages", text_to(MOBILE)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // A text that merely contains the word is a message, not an opt-out.
    assert!(mo(&server, "31612345678", "4400", "please stop").await["optout"].is_null());
    assert!(suppressed_numbers(&server, &key).await.is_empty());

    // The webhook got both changes, signed, and nothing else.
    let deadline = Instant::now() + Duration::from_secs(15);
    while receiver.delivered().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            receiver.delivered().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = receiver.delivered();
    let got: Vec<(String, bool)> = delivered
        .iter()
        .map(|r| {
            assert!(crate::webhooks::verify(
                &secret,
                r.header("smsgate-signature").unwrap(),
                &r.body
            ));
            let e = r.json();
            assert_eq!(e["type"], "optout.changed");
            (
                e["data"]["optout"]["number"].as_str().unwrap().to_string(),
                e["data"]["optout"]["opted_out"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(MOBILE.to_string(), true), (MOBILE.to_string(), false)]
    );
}

#[tokio::test]
async fn keyword_lists_are_the_account_s_own() {
    let server = Server::start();
    let (acme, key) = server.account("acme", 10).await;
    server.assign_number("4400", json!(acme)).await;
    let (status, lists) = server.get(&key, "/v1/optout/keywords").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        lists["stop"],
        json!(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"])
    );
    assert_eq!(lists["start"], json!(["START", "UNSTOP"]));

    let put = |body: Value| {
        let server = &server;
        let key = key.clone();
        async move {
            let r = server
                .http
                .put(server.url("/v1/optout/keywords"))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap();
            crate::support::read(r).await
        }
    };
    // Bad lists are refused with the reason and change nothing.
    for (bad, reason) in [
        (json!({"stop": ["two words"], "start": []}), "whitespace"),
        (json!({"stop": [], "start": ["GO"]}), "at least one"),
        (json!({"stop": ["halt"], "start": ["HALT"]}), "both"),
        (json!({"stop": ["halt"]}), "start"),
    ] {
        let (status, body) = put(bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains(reason), "{body}");
    }
    assert_eq!(server.get(&key, "/v1/optout/keywords").await.1, lists);

    let (status, body) = put(json!({"stop": ["halt", "Basta"], "start": ["go"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stop"], json!(["HALT", "BASTA"]));
    assert!(mo(&server, "31612345678", "4400", "STOP").await["optout"].is_null());
    assert_eq!(
        mo(&server, "31612345678", "4400", "basta").await["optout"],
        "opt_out"
    );
    assert_eq!(suppressed_numbers(&server, &key).await.len(), 1);
    assert_eq!(
        mo(&server, "31612345678", "4400", "GO").await["optout"],
        "opt_in"
    );
    let (status, body) = server.delete(&key, "/v1/optout/keywords").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, lists);
}

#[tokio::test]
async fn the_suppression_list_is_managed_through_the_api() {
    let server = Server::start();
    let (_, key) = server.account("acme", 10).await;
    let (_, other) = server.account("other", 10).await;

    let (status, body) = server
        .post(&key, "/v1/suppressions", json!({"number": "0031612345678"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!({"number": MOBILE, "changed": true}));
    let (status, body) = server
        .post(&key, "/v1/suppressions", json!({"number": MOBILE}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["changed"], false);
    let (status, body) = server
        .post(&key, "/v1/suppressions", json!({"number": "12"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("number"), "{body}");
    // Another account's list is its own.
    assert!(suppressed_numbers(&server, &other).await.is_empty());
    let (status, _) = server.post(&other, "/v1/messages", text_to(MOBILE)).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Import: a CSV export with a header, a bad line, duplicates.
    let csv = "phone,name\n+447911123456,Ann\nnot a number,Bob\n0031612345678,Cy\n+447911123457\n\n# done\n";
    let r = server
        .http
        .post(server.url("/v1/suppressions/import"))
        .bearer_auth(&key)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let (status, body) = crate::support::read(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["added"], 2);
    assert_eq!(body["already"], 1);
    assert_eq!(body["invalid"][0]["line"], 3, "{body}");
    let (status, body) = server
        .post(
            &key,
            "/v1/suppressions/import",
            json!({"numbers": ["+33612345678"]}),
        )
        .await;
    assert_eq!(
        (status, body["added"].clone()),
        (StatusCode::OK, json!(1)),
        "{body}"
    );

    // Listed in number order, in pages.
    let (_, page) = server.get(&key, "/v1/suppressions?limit=2").await;
    let numbers: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["+31612345678", "+33612345678"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, page) = server
        .get(
            &key,
            &format!(
                "/v1/suppressions?limit=2&cursor={}",
                cursor.replace('+', "%2B")
            ),
        )
        .await;
    let numbers: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["+447911123456", "+447911123457"]);
    assert!(page["next_cursor"].is_null());

    let (status, _) = server
        .delete(&key, "/v1/suppressions/%2B447911123456")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server
        .delete(&key, "/v1/suppressions/%2B447911123456")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(suppressed_numbers(&server, &key).await.len(), 3);
    // Each change through the API is an event too.
    let (_, events) = server.get(&key, "/v1/events?limit=500").await;
    let changes = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "optout.changed")
        .count();
    assert_eq!(changes, 5, "added 1 + 2 + 1, removed 1");
}

#[tokio::test]
async fn keywords_route_a_shared_number_and_replies_thread_to_the_inbound_message() {
    let server = Server::start();
    let (owner, owner_key) = server.account("owner", 10).await;
    let (acme, acme_key) = server.account("acme", 10).await;
    server.assign_number("4400", json!(owner)).await;
    let (status, body) = server
        .admin(
            Method::POST,
            "/admin/v1/keywords",
            Some(json!({"number": "4400", "keyword": "acme", "account_id": acme})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["keyword"], "ACME");
    for (bad, status) in [
        (
            json!({"number": "4400", "keyword": "two words", "account_id": acme}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"number": "44x", "keyword": "x", "account_id": acme}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"number": "4400", "keyword": "x", "account_id": 999}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, body) = server
            .admin(Method::POST, "/admin/v1/keywords", Some(bad))
            .await;
        assert_eq!(got, status, "{body}");
    }
    let (_, list) = server.admin(Method::GET, "/admin/v1/keywords", None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let to_acme = mo(&server, "31612345678", "4400", "Acme I want the offer").await;
    mo(&server, "31612345678", "4400", "hello owner").await;
    let (_, inbox) = server.get(&acme_key, "/v1/inbound").await;
    let texts: Vec<&str> = inbox["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Acme I want the offer"]);
    let (_, inbox) = server.get(&owner_key, "/v1/inbound").await;
    assert_eq!(inbox["data"][0]["text"], "hello owner");

    // A reply: recipient and sender come from the inbound message.
    let inbound_id = to_acme["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &acme_key,
            "/v1/messages",
            json!({"in_reply_to": inbound_id, "text": "Here it is"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let reply_id = body["messages"][0]["id"].as_str().unwrap().to_string();
    let reply = server.wait_for(&acme_key, &reply_id, "delivered").await;
    assert_eq!(reply["to"], MOBILE);
    assert_eq!(reply["from"], "4400");
    assert_eq!(reply["in_reply_to"], inbound_id);
    let (status, thread) = server
        .get(&acme_key, &format!("/v1/inbound/{inbound_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{thread}");
    assert_eq!(thread["replies"], json!([reply_id]));
    // Not someone else's, not a made-up id.
    let (status, body) = server
        .post(
            &owner_key,
            "/v1/messages",
            json!({"in_reply_to": inbound_id, "text": "mine?"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("in_reply_to"), "{body}");
    let (status, _) = server
        .get(&owner_key, &format!("/v1/inbound/{inbound_id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server
        .post(
            &acme_key,
            "/v1/messages",
            json!({"in_reply_to": "nope", "text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(server.balance(&owner_key).await, 10);

    let (status, _) = server
        .admin(Method::DELETE, "/admin/v1/keywords/4400/acme", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = mo(&server, "31612345678", "4400", "acme again").await;
    assert!(after["id"].is_string());
    let (_, inbox) = server.get(&owner_key, "/v1/inbound").await;
    assert_eq!(inbox["data"][0]["text"], "acme again");
}

#[tokio::test]
async fn a_recipient_answering_stop_through_the_simulator_is_suppressed() {
    let server = Server::start_configured(
        "[engine.simulator]\ndelivery_delay_ms = 50\nreply_ratio = 1.0\nreply_texts = [\" Stop \"]\n",
        &[],
    );
    let (acme, key) = server.account("acme", 10).await;
    server.assign_number("+3197010000001", json!(acme)).await;
    // From an alphanumeric sender nobody can answer.
    let (_, body) = server
        .post(&key, "/v1/messages", text_to("+447911123456"))
        .await;
    let alpha = body["messages"][0]["id"].as_str().unwrap().to_string();
    server.wait_for(&key, &alpha, "delivered").await;
    // From the account's number: the recipient answers STOP.
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": MOBILE, "from": "3197010000001", "text": "Offer!"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["messages"][0]["id"].as_str().unwrap().to_string();
    server.wait_for(&key, &id, "delivered").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while suppressed_numbers(&server, &key).await.is_empty() {
        assert!(Instant::now() < deadline, "the STOP never came");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (_, inbox) = server.get(&key, "/v1/inbound").await;
    let inbox = inbox["data"].as_array().unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["from"], "31612345678");
    assert_eq!(inbox[0]["to"], "3197010000001");
    assert_eq!(inbox[0]["connector"], "simulator");
    assert_eq!(inbox[0]["optout"], "opt_out");
    let list = suppressed_numbers(&server, &key).await;
    assert_eq!(list[0]["number"], MOBILE);

    let balance = server.balance(&key).await;
    let (status, body) = server
        .post(
            &key,
            "/v1/messages",
            json!({"to": MOBILE, "from": "3197010000001", "text": "Offer 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(server.balance(&key).await, balance);
}
