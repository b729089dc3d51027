//! The `session` dialect (seed 001) as its samples call it: log in with a
//! GET, then send with `user_key` / `Session_key` headers and each
//! sample's date form (Java Gson 8, 9+ and 20+, PHP and Node compact,
//! Python and C# ISO without offset), follow the order to DELIVERED,
//! cancel a scheduled one, read the credits; every error as
//! `{"result":"KO"}` with its status.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::{Server, credits, read};

const PASSWORD: &str = "correct horse battery";

struct Login {
    user_key: String,
    session_key: String,
}

async fn account_with_password(server: &Server, name: &str, credits: i64) -> (i64, String) {
    let (id, key) = server.account(name, credits).await;
    let (status, body) = server
        .admin(
            Method::PATCH,
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, key)
}

async fn login(server: &Server, prefix: &str, name: &str, password: &str) -> (StatusCode, String) {
    let r = server
        .http
        .get(server.url(&format!(
            "{prefix}/login?username={name}&password={}",
            password.replace(' ', "%20")
        )))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.text().await.unwrap())
}

async fn logged_in(server: &Server, name: &str) -> Login {
    let (status, text) = login(server, "", name, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (user_key, session_key) = text.split_once(';').expect("USER_KEY;SESSION_KEY");
    Login {
        user_key: user_key.into(),
        session_key: session_key.into(),
    }
}

async fn call(
    server: &Server,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = server.http.request(method, server.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req
            .header("Content-type", "application/json")
            .body(b.to_string());
    }
    read(req.send().await.unwrap()).await
}

async fn send(server: &Server, auth: &Login, body: Value) -> (StatusCode, Value) {
    call(
        server,
        Method::POST,
        "/sms",
        &[
            ("user_key", &auth.user_key),
            ("Session_key", &auth.session_key),
            ("Accept", "application/json"),
        ],
        Some(body),
    )
    .await
}

/// In five minutes, UTC (the account's zone), in a formatter's shape.
fn in_five_minutes() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::minutes(5)
}

fn gson(t: OffsetDateTime, comma_after_year: bool, narrow_space: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (h, half) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{} {}, {}{} {}:{:02}:{:02}{}{}",
        MONTHS[u8::from(t.month()) as usize - 1],
        t.day(),
        t.year(),
        if comma_after_year { "," } else { "" },
        h,
        t.minute(),
        t.second(),
        if narrow_space { "\u{202f}" } else { " " },
        half
    )
}

async fn order(server: &Server, auth: &Login, order_id: &str) -> Value {
    let (status, body) = call(
        server,
        Method::GET,
        &format!("/sms/{order_id}"),
        &[
            ("user_key", &auth.user_key),
            ("Session_key", &auth.session_key),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn the_samples_log_in_send_in_every_date_form_and_follow_the_order() {
    let server = Server::start();
    let (_, api_key) = account_with_password(&server, "acme", 100).await;
    let auth = logged_in(&server, "acme").await;

    let t = in_five_minutes();
    let dates = [
        gson(t, false, false), // Java 8 Gson
        gson(t, true, false),  // Java 9+ Gson
        gson(t, true, true),   // Java 20+ Gson
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ), // PHP date('YmdHis')
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.123456",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ), // Python isoformat()
    ];
    for date in &dates {
        let (status, body) = send(
            &server,
            &auth,
            json!({"message": "Hello world!", "message_type": "N", "returnCredits": false,
                   "recipient": ["+31612345678"], "sender": null, "scheduled_delivery_time": date}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{date}: {body}");
        assert_eq!(body["result"], "OK");
        assert_eq!(body["total_sent"], 1);
        let id = body["internal_order_id"].as_str().unwrap();
        let o = order(&server, &auth, id).await;
        assert_eq!(
            o["recipients"][0]["status"], "WAITING",
            "{date}: scheduled, {o}"
        );
        let message = o["recipients"][0]["message_id"].as_str().unwrap();
        let (_, native) = server
            .get(&api_key, &format!("/v1/messages/{message}"))
            .await;
        let want = t.replace_nanosecond(0).unwrap();
        let got = OffsetDateTime::parse(
            native["schedule_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(got, want, "{date}");
        assert_eq!(native["from"], "acme", "sender null: the account's name");
    }

    // Node's sample: a fixed date long past, returnCredits, an order id
    // of the client's; sent at once.
    let (status, body) = send(
        &server,
        &auth,
        json!({"returnCredits": true, "recipient": ["+31612345678", "+31612345679"],
               "scheduled_delivery_time": "20171223101010", "message": "Hello world!",
               "message_type": "N", "order_id": "node-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["order_id"], "node-1");
    assert_eq!(body["total_sent"], 2);
    assert_eq!(body["remaining_credits"], 100 - 5 - 2);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let o = order(&server, &auth, "node-1").await;
        assert_eq!(o["recipient_number"], 2);
        if o["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "DELIVERED")
        {
            assert_eq!(o["recipients"][0]["destination"], "+31612345678");
            let date = o["recipients"][0]["delivery_date"].as_str().unwrap();
            assert_eq!(date.len(), 14, "yyyyMMddHHmmss: {date}");
            break;
        }
        assert!(Instant::now() < deadline, "{o}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // C#'s sample (JSON.NET, no offset, past) with its own sender.
    let (status, body) = send(
        &server,
        &auth,
        json!({"message": "Hello World!", "message_type": "N", "sender": "MyAlias",
               "scheduled_delivery_time": "2017-08-18T13:31:00", "recipient": ["+31612345678"], "returnCredits": false}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("remaining_credits").is_none());

    // Cancel the first scheduled order: refunded, then nothing left.
    let first = {
        let (_, list) = server
            .get(&api_key, "/v1/messages?status=scheduled&limit=1")
            .await;
        list["data"][0]["batch_id"].as_str().unwrap().to_string()
    };
    let before = server.balance(&api_key).await;
    let headers = [
        ("user_key", auth.user_key.as_str()),
        ("Session_key", auth.session_key.as_str()),
    ];
    let (status, body) = call(
        &server,
        Method::DELETE,
        &format!("/sms/{first}"),
        &headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"result": "OK", "canceled": 1}));
    assert_eq!(server.balance(&api_key).await, before + 1);
    let (status, body) = call(
        &server,
        Method::DELETE,
        &format!("/sms/{first}"),
        &headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["result"], "KO");
    let (status, body) = call(&server, Method::DELETE, "/sms/node-1", &headers, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "sent already: {body}");
    assert_eq!(
        order(&server, &auth, &first).await["recipients"][0]["status"],
        "CANCELED"
    );

    // Credits per message type, each at its own price.
    let (status, body) = server
        .admin(
            Method::PUT,
            "/admin/v1/prices",
            Some(json!({"route_class": "LL", "prefix": "", "price": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(&server, Method::GET, "/status", &headers, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let balance = server.balance(&api_key).await;
    assert_eq!(body["money"], balance);
    let sms = body["sms"].as_array().unwrap();
    assert_eq!(sms[0], json!({"type": "N", "quantity": balance}));
    assert_eq!(sms[2], json!({"type": "LL", "quantity": balance / 2}));
    let (status, body) = send(&server, &auth, json!({"message": "low", "message_type": "LL", "recipient": ["+31612345678"], "returnCredits": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["remaining_credits"],
        balance - 2,
        "LL costs its own price"
    );

    // The long-lived Access_token (an API key) in place of Session_key,
    // header names in any case, and the original's path prefix.
    let (status, text) = login(&server, "/API/v1.0/REST", "acme", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (status, body) = call(
        &server,
        Method::POST,
        "/API/v1.0/REST/sms",
        &[("USER_KEY", &auth.user_key), ("access_token", &api_key)],
        Some(json!({"message": "hi", "recipient": ["+31612345678"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Headers, body, the status expected and a text the error must hold.
type ErrorCase<'a> = (Vec<(&'a str, &'a str)>, Value, StatusCode, &'a str);

#[tokio::test]
async fn every_error_answers_ko_with_its_status() {
    let server = Server::start();
    let (_, key) = account_with_password(&server, "acme", 1).await;
    let (_, other_key) = account_with_password(&server, "other", 10).await;
    for (name, password) in [("acme", "wrong password"), ("nobody", PASSWORD)] {
        let (status, _) = login(&server, "", name, password).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
    }
    let auth = logged_in(&server, "acme").await;
    let other = logged_in(&server, "other").await;
    let ok = json!({"message": "hi", "recipient": ["+31612345678"]});
    let cases: Vec<ErrorCase> = vec![
        (vec![], ok.clone(), StatusCode::UNAUTHORIZED, "user_key"),
        (
            vec![("user_key", &auth.user_key)],
            ok.clone(),
            StatusCode::UNAUTHORIZED,
            "Session_key",
        ),
        (
            vec![("user_key", &auth.user_key), ("Session_key", "nope")],
            ok.clone(),
            StatusCode::UNAUTHORIZED,
            "invalid",
        ),
        // Another account's session with this user key.
        (
            vec![
                ("user_key", &auth.user_key),
                ("Session_key", &other.session_key),
            ],
            ok.clone(),
            StatusCode::UNAUTHORIZED,
            "invalid",
        ),
        (
            vec![("user_key", &auth.user_key), ("Access_token", &other_key)],
            ok.clone(),
            StatusCode::UNAUTHORIZED,
            "invalid",
        ),
        (
            vec![
                ("user_key", &auth.user_key),
                ("Session_key", &auth.session_key),
            ],
            json!({"recipient": ["+31612345678"]}),
            StatusCode::BAD_REQUEST,
            "message is required",
        ),
        (
            vec![
                ("user_key", &auth.user_key),
                ("Session_key", &auth.session_key),
            ],
            json!({"message": "hi"}),
            StatusCode::BAD_REQUEST,
            "recipient",
        ),
        (
            vec![
                ("user_key", &auth.user_key),
                ("Session_key", &auth.session_key),
            ],
            json!({"message": "hi", "recipient": ["12"]}),
            StatusCode::BAD_REQUEST,
            "no valid recipient",
        ),
        (
            vec![
                ("user_key", &auth.user_key),
                ("Session_key", &auth.session_key),
            ],
            json!({"message": "hi", "recipient": ["+31612345678"], "message_type": "XL"}),
            StatusCode::BAD_REQUEST,
            "message_type",
        ),
        (
            vec![
                ("user_key", &auth.user_key),
                ("Session_key", &auth.session_key),
            ],
            json!({"message": "hi", "recipient": ["+31612345678"], "scheduled_delivery_time": "soon"}),
            StatusCode::BAD_REQUEST,
            "scheduled_delivery_time",
        ),
        (
            vec![
                ("user_key", &auth.user_key),
                ("Session_key", &auth.session_key),
            ],
            json!({"message": "x".repeat(200), "recipient": ["+31612345678"]}),
            StatusCode::PAYMENT_REQUIRED,
            "credits",
        ),
    ];
    for (headers, body, status, text) in cases {
        let (got, answer) = call(&server, Method::POST, "/sms", &headers, Some(body.clone())).await;
        assert_eq!(got, status, "{headers:?} {body} -> {answer}");
        assert_eq!(answer["result"], "KO", "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(text),
            "{text:?} not in {answer}"
        );
    }
    assert_eq!(server.balance(&key).await, 1, "nothing charged");

    // Orders of another account, or none: not found.
    let (_, sent) = call(
        &server,
        Method::POST,
        "/sms",
        &[
            ("user_key", &other.user_key),
            ("Session_key", &other.session_key),
        ],
        Some(json!({"message": "hi", "recipient": ["+31612345678"], "order_id": "mine"})),
    )
    .await;
    let internal = sent["internal_order_id"].as_str().unwrap();
    for path in [
        "/sms/mine".to_string(),
        format!("/sms/{internal}"),
        "/sms/none".into(),
    ] {
        let (status, body) = call(
            &server,
            Method::GET,
            &path,
            &[
                ("user_key", &auth.user_key),
                ("Session_key", &auth.session_key),
            ],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["result"], "KO");
    }
    // When an idle session ends is tested on a manual clock at the engine
    // (crates/smsgate-engine/tests/clock.rs), its wording in dialects/session.rs.
}

#[tokio::test]
async fn basic_credentials_user_tokens_and_the_family_s_message_types() {
    let server = Server::start();
    let (id, _) = account_with_password(&server, "acme", 100).await;
    // GET /login with HTTP Basic instead of parameters.
    let r = server
        .http
        .get(server.url("/API/v1.0/REST/login"))
        .basic_auth("acme", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let (user_key, _) = text.split_once(';').unwrap();
    assert_eq!(user_key, id.to_string());
    // Wrong credentials are 404, as on the platform.
    let r = server
        .http
        .get(server.url("/API/v1.0/REST/login"))
        .basic_auth("acme", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // GET /token: USER_KEY;ACCESS_TOKEN for Access_token authentication.
    let r = server
        .http
        .get(server.url("/API/v1.0/REST/token"))
        .basic_auth("acme", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let (user_key, access_token) = text.split_once(';').unwrap();
    let token_headers = [("user_key", user_key), ("Access_token", access_token)];
    let (status, body) = call(
        &server,
        Method::GET,
        "/API/v1.0/REST/status",
        &token_headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = login(&server, "/API/v1.0/REST", "acme", "nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = server
        .http
        .get(server.url(&format!(
            "/token?username=acme&password={}",
            PASSWORD.replace(' ', "%20")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the query works too");

    // GP, TI and SI are sent on N, L and LL: priced as those.
    for (class, price) in [("L", 2), ("LL", 3)] {
        let (status, body) = server
            .admin(
                Method::PUT,
                "/admin/v1/prices",
                Some(json!({"route_class": class, "prefix": "", "price": price})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for (kind, cost) in [("GP", 1), ("TI", 2), ("SI", 3)] {
        let (status, body) = call(
            &server,
            Method::POST,
            "/API/v1.0/REST/sms",
            &token_headers,
            Some(json!({"message": "hi", "recipient": ["+31612345678"], "message_type": kind, "sender": "Acme"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{kind}: {body}");
        let batch = body["internal_order_id"].as_str().unwrap();
        let (_, messages) = call(
            &server,
            Method::GET,
            &format!("/v1/messages?batch_id={batch}"),
            &[("Authorization", &format!("Bearer {access_token}"))],
            None,
        )
        .await;
        assert_eq!(
            credits(&messages["data"][0]["cost"]),
            Some(cost),
            "{kind}: {messages}"
        );
    }
    let (status, body) = call(
        &server,
        Method::POST,
        "/API/v1.0/REST/sms",
        &token_headers,
        Some(json!({"message": "hi", "recipient": ["+31612345678"], "message_type": "XX", "sender": "Acme"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("GP"), "{body}");
}

#[tokio::test]
async fn the_sent_history_pages_the_orders_newest_first() {
    let server = Server::start();
    account_with_password(&server, "acme", 100).await;
    let auth = logged_in(&server, "acme").await;
    for (order, to) in [("first", "+31612345678"), ("second", "+31612345679")] {
        let (status, body) = send(
            &server,
            &auth,
            json!({"message": "hi", "recipient": [to], "sender": "Acme", "order_id": order, "message_type": "L"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let headers = [
        ("user_key", auth.user_key.as_str()),
        ("Session_key", auth.session_key.as_str()),
    ];
    let (status, body) = call(
        &server,
        Method::GET,
        "/API/v1.0/REST/smshistory?from=20200101000000",
        &headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 2);
    assert_eq!(body["pageNumber"], 1);
    assert_eq!(body["pageSize"], 10);
    let orders = body["smshistory"].as_array().unwrap();
    assert_eq!(orders[0]["order_id"], "second", "newest first");
    assert_eq!(orders[1]["order_id"], "first");
    assert_eq!(orders[0]["message_type"], "L");
    assert_eq!(orders[0]["sender"], "Acme");
    assert_eq!(orders[0]["num_recipients"], 1);
    assert_eq!(orders[0]["create_time"].as_str().unwrap().len(), 14);
    let (_, page) = call(
        &server,
        Method::GET,
        "/smshistory?from=20200101000000&pageNumber=2&pageSize=1",
        &headers,
        None,
    )
    .await;
    assert_eq!(page["smshistory"][0]["order_id"], "first", "{page}");
    // Nothing before `from`, nothing after `to`.
    let (_, none) = call(
        &server,
        Method::GET,
        "/smshistory?from=20200101000000&to=20200102000000",
        &headers,
        None,
    )
    .await;
    assert_eq!(none["total"], 0, "{none}");
    for bad in [
        "/smshistory",
        "/smshistory?from=yesterday",
        "/smshistory?from=20200101000000&pageSize=1000",
        "/smshistory?from=20200101000000&timezone=Mars/Olympus",
    ] {
        let (status, body) = call(&server, Method::GET, bad, &headers, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["result"], "KO");
    }
}

#[tokio::test]
async fn received_messages_are_listed_by_number_and_time() {
    let server = Server::start();
    let (id, _) = account_with_password(&server, "acme", 100).await;
    server.assign_number("393471234567", json!(id)).await;
    server.assign_number("393470000000", json!(id)).await;
    for (to, text) in [
        ("393471234567", "first"),
        ("393470000000", "other sim"),
        ("393471234567", "second"),
    ] {
        let (status, body) = server
            .admin(
                Method::POST,
                "/admin/v1/simulator/inbound",
                Some(json!({"from": "+393331112222", "to": to, "text": text})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let auth = logged_in(&server, "acme").await;
    let headers = [
        ("user_key", auth.user_key.as_str()),
        ("Session_key", auth.session_key.as_str()),
    ];
    let (status, all) = call(
        &server,
        Method::GET,
        "/API/v1.0/REST/srsmshistory?from=20200101000000",
        &headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 3, "{all}");
    assert_eq!(all["srsmshistory"][0]["message"], "second", "newest first");
    assert_eq!(all["srsmshistory"][0]["sender"], "+393331112222");
    assert_eq!(all["srsmshistory"][0]["id_sim"], "+393471234567");
    // One SIM, in the platform's 00 form.
    let (_, one) = call(
        &server,
        Method::GET,
        "/API/v1.0/REST/srsmshistory/00393471234567?from=20200101000000&pageSize=1&pageNumber=2",
        &headers,
        None,
    )
    .await;
    assert_eq!(one["total"], 2, "{one}");
    assert_eq!(one["srsmshistory"][0]["message"], "first", "{one}");
    let (status, _) = call(&server, Method::GET, "/srsmshistory", &headers, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "from is required");
}

#[tokio::test]
async fn aliases_are_the_account_s_sender_ids() {
    let server = Server::start();
    account_with_password(&server, "acme", 100).await;
    let auth = logged_in(&server, "acme").await;
    let headers = [
        ("user_key", auth.user_key.as_str()),
        ("Session_key", auth.session_key.as_str()),
    ];
    let (status, body) = call(
        &server,
        Method::POST,
        "/API/v1.0/REST/alias",
        &headers,
        Some(json!({"alias": {"alias": "AcmeShop", "company-name": "Acme SpA",
                              "contact-name": "Mario", "contact-type": "EMAIL", "contact-info": "a@b.it"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    // The same alias again: refused; a bad one: 400.
    let (status, _) = call(
        &server,
        Method::POST,
        "/API/v1.0/REST/alias",
        &headers,
        Some(json!({"alias": {"alias": "AcmeShop"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = call(
        &server,
        Method::POST,
        "/alias",
        &headers,
        Some(json!({"alias": {"alias": "Far Too Long Alias"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (_, list) = call(&server, Method::GET, "/alias", &headers, None).await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["alias"][0]["alias"], "AcmeShop");
    assert_eq!(list["alias"][0]["alias-state"], 0, "not confirmed yet");
    assert_eq!(list["alias"][0]["company-name"], "Acme SpA");
    let (_, hidden) = call(
        &server,
        Method::GET,
        "/alias?hide-not-approved=true",
        &headers,
        None,
    )
    .await;
    assert_eq!(hidden["total"], 0);
    // The operator approves it as a sender ID: confirmed.
    let (status, body) = server
        .admin(
            Method::POST,
            &format!("/admin/v1/senders/{id}/approve"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, one) = call(
        &server,
        Method::GET,
        &format!("/alias/{id}"),
        &headers,
        None,
    )
    .await;
    assert_eq!(one["alias"]["alias-state"], 1, "{one}");
    let (status, _) = call(
        &server,
        Method::DELETE,
        &format!("/alias/{id}"),
        &headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &server,
        Method::GET,
        &format!("/alias/{id}"),
        &headers,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// The same tests with the server on PostgreSQL.
crate::support::on_postgres!(the_samples_log_in_send_in_every_date_form_and_follow_the_order,);
