//! The behaviour every store adapter must have: one suite, run against
//! each backend (`sqlite::tests` runs it on SQLite). Each test takes a
//! fresh store.

#![allow(dead_code)]

use smsgate_core::send::Rejection;
use smsgate_core::{
    AccountId, Amount, Category, Encoding, MessageId, Msisdn, NewMessage, SenderId, Status,
    Timestamp, text::Segments,
};

use crate::*;

/// A change made from the command line at `at`: the audit of the
/// behaviour tests.
pub fn by(at: Timestamp) -> Audit {
    Audit::cli(at)
}

/// When the changes whose time does not matter are made.
pub const T0: Timestamp = Timestamp(1);

pub async fn account(store: &dyn Store, name: &str, credits: i64) -> AccountId {
    let new = NewAccount {
        name: name.into(),
        password_hash: None,
        default_country: None,
        max_parts: 10,
        credits: Amount::credits(credits),
        parent: None,
    };
    store
        .create_account(new, &by(Timestamp(1)))
        .await
        .unwrap()
        .id
}

pub fn message(to: &str, cost: i64, schedule_at: Option<Timestamp>) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        to: Msisdn::parse(to, None).unwrap(),
        country: None,
        from: SenderId::parse("Acme").unwrap(),
        text: "hi".into(),
        segments: Segments {
            encoding: Encoding::Gsm7,
            units: 2,
            parts: cost as usize,
        },
        cost: Amount::credits(cost),
        category: Category::Transactional,
        route_class: "standard".into(),
        reference: None,
        schedule_at,
        expires_at: None,
        priority: 0,
        in_reply_to: None,
        callback_url: None,
        callback_format: smsgate_core::CallbackFormat::Native,
        payload: None,
        item: 0,
        links: Vec::new(),
        campaign_ref: None,
    }
}

pub fn submission(account: AccountId, messages: Vec<NewMessage>) -> Submission {
    let total = messages.iter().map(|m| m.cost.minor()).sum();
    Submission {
        account,
        plan: smsgate_core::SendPlan {
            messages,
            rejected: vec![Rejection {
                to: "x".into(),
                reason: smsgate_core::send::RejectReason::Duplicate,
            }],
            total_cost: Amount::from_minor(total),
        },
        batch: None,
        idempotency: None,
    }
}

pub async fn status(store: &dyn Store, id: MessageId) -> Status {
    store
        .message(None, id)
        .await
        .unwrap()
        .unwrap()
        .message
        .status
}

pub async fn balance(store: &dyn Store, id: AccountId) -> i64 {
    store
        .account(id)
        .await
        .unwrap()
        .unwrap()
        .balance
        .whole_credits()
}

pub async fn one_group_commit_refuses_what_the_balance_cannot_cover(store: &dyn Store) {
    let a = account(store, "a", 3).await;
    let subs = vec![
        submission(a, vec![message("+31612345678", 2, None)]),
        submission(a, vec![message("+31612345679", 2, None)]),
        submission(a, vec![message("+31612345670", 1, None)]),
    ];
    let results = store.accept(subs, Timestamp(10)).await.unwrap();
    assert!(results[0].is_ok());
    assert_eq!(
        results[1],
        Err(Refusal::InsufficientCredits {
            balance: Amount::credits(1),
            needed: Amount::credits(2)
        })
    );
    let third = results[2].as_ref().unwrap();
    assert_eq!(third.balance, Amount::ZERO);
    assert_eq!(third.rejected[0].to, "x");
    assert_eq!(balance(store, a).await, 0);
    let kinds: Vec<_> = store
        .ledger(a, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.amount.whole_credits()))
        .collect();
    assert_eq!(
        kinds,
        [
            (LedgerKind::Debit, -1),
            (LedgerKind::Debit, -2),
            (LedgerKind::Topup, 3)
        ]
    );
}

pub async fn a_failing_job_does_not_undo_the_others_in_its_commit(store: &dyn Store) {
    // Two creations of the same name race into one group commit: exactly
    // one wins, and the loser's failure leaves the winner committed.
    let (x, y) = tokio::join!(
        {
            let s = store;
            async move { account(s, "same", 1).await }
        },
        {
            let s = store;
            async move {
                let new = NewAccount {
                    name: "same".into(),
                    password_hash: None,
                    default_country: None,
                    max_parts: 10,
                    credits: Amount::credits(5),
                    parent: None,
                };
                s.create_account(new, &by(Timestamp(1))).await
            }
        }
    );
    assert!(matches!(y, Err(StoreError::NameTaken(_))));
    assert_eq!(store.accounts().await.unwrap().len(), 1);
    assert_eq!(balance(store, x).await, 1);
}

pub async fn idempotent_submissions_replay_and_conflict(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let idem = |fp: u8| {
        Some(Idempotency {
            key: "k".into(),
            fingerprint: [fp; 32],
        })
    };
    let mut first = submission(a, vec![message("+31612345678", 1, None)]);
    first.idempotency = idem(1);
    let mut again = submission(a, vec![message("+31612345678", 1, None)]);
    again.idempotency = idem(1);
    let mut other = submission(a, vec![message("+31612345678", 1, None)]);
    other.idempotency = idem(2);
    let r = store
        .accept(vec![first, again, other], Timestamp(10))
        .await
        .unwrap();
    let (first, again) = (r[0].clone().unwrap(), r[1].clone().unwrap());
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.messages, again.messages);
    assert_eq!(r[2], Err(Refusal::IdempotencyConflict));
    assert_eq!(balance(store, a).await, 9);
    // After 24 h the key may be used afresh.
    let mut later = submission(a, vec![message("+31612345678", 1, None)]);
    later.idempotency = idem(2);
    let day = 24 * 3600 * 1000;
    assert!(
        !store
            .accept(vec![later], Timestamp(10 + day + 1))
            .await
            .unwrap()[0]
            .as_ref()
            .unwrap()
            .replayed
    );
}

/// A key made with its client networks has them from the start (one
/// statement: a refused list makes no key, the engine checks it first).
pub async fn a_key_is_made_with_its_networks(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    let networks: Vec<smsgate_core::net::IpNetwork> = vec![
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ];
    let key = NewApiKey {
        hash: [7; 32],
        prefix: "sg_abcdef".into(),
        label: Some("office".into()),
        allowed_ips: Some(networks.clone()),
    };
    let made = store.create_key(a, key, &by(Timestamp(1))).await.unwrap();
    assert_eq!(made.allowed_ips.as_ref(), Some(&networks));
    let (found, _) = store.key_by_hash([7; 32]).await.unwrap().unwrap();
    assert_eq!(found.allowed_ips.as_ref(), Some(&networks));
    let open = NewApiKey {
        hash: [8; 32],
        prefix: "sg_ghijkl".into(),
        label: None,
        allowed_ips: None,
    };
    assert_eq!(
        store
            .create_key(a, open, &by(Timestamp(1)))
            .await
            .unwrap()
            .allowed_ips,
        None
    );

    // A rotation: a new key with the old one's label and networks, the
    // old one ending later; revoking keeps the earlier end.
    let fresh = NewApiKey {
        hash: [9; 32],
        prefix: "sg_mnopqr".into(),
        label: None,
        allowed_ips: None,
    };
    let rotated = store
        .rotate_key(made.id, fresh, Timestamp(500), &by(Timestamp(2)))
        .await
        .unwrap();
    assert_ne!(rotated.id, made.id);
    assert_eq!(
        (
            rotated.account_id,
            rotated.label.as_deref(),
            rotated.allowed_ips.as_ref()
        ),
        (a, Some("office"), Some(&networks))
    );
    let (old, _) = store.key_by_hash([7; 32]).await.unwrap().unwrap();
    assert_eq!(old.revoked_at, Some(Timestamp(500)));
    assert_eq!(
        store
            .revoke_key(made.id, Timestamp(900), &by(T0))
            .await
            .unwrap()
            .revoked_at,
        Some(Timestamp(500)),
        "a later revocation keeps the earlier end"
    );
    assert_eq!(
        store
            .revoke_key(made.id, Timestamp(3), &by(T0))
            .await
            .unwrap()
            .revoked_at,
        Some(Timestamp(3))
    );
    let spare = NewApiKey {
        hash: [10; 32],
        prefix: "sg_stuvwx".into(),
        label: None,
        allowed_ips: None,
    };
    assert!(matches!(
        store
            .rotate_key(KeyId(999), spare, Timestamp(5), &by(Timestamp(2)))
            .await,
        Err(StoreError::NoSuchKey(_))
    ));
    assert!(
        store.key_by_hash([10; 32]).await.unwrap().is_none(),
        "nothing made"
    );
}

/// The node of tests that claim without a cluster.
const NODE: NodeId = NodeId(0);

pub async fn claims_are_leased_and_retaken_when_the_lease_ends(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let m = message("+31612345678", 1, None);
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    let claimed = store
        .claim(NODE, Timestamp(20), Timestamp(1_000), 10, None)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].id, claimed[0].attempts), (id, 1));
    assert_eq!(status(store, id).await, Status::Submitting);
    // While leased, nobody else gets it.
    assert!(
        store
            .claim(NODE, Timestamp(999), Timestamp(2_000), 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    // The worker died: after the lease it is claimed again (by a node).
    let node = store.join("n1", "", Timestamp(1_000)).await.unwrap();
    let again = store
        .claim(node, Timestamp(1_001), Timestamp(2_000), 10, None)
        .await
        .unwrap();
    assert_eq!((again[0].id, again[0].attempts), (id, 2));
    let history = store.message(None, id).await.unwrap().unwrap().history;
    assert_eq!(
        history.last().unwrap().detail.as_deref(),
        Some("lease expired, claimed again")
    );
    // The node restarts: its claims end at once, so what was being
    // submitted is claimed again now, not when the lease would end.
    let restarted = store.join("n1", "", Timestamp(1_002)).await.unwrap();
    assert_ne!(restarted, node);
    let retaken = store
        .claim(restarted, Timestamp(1_003), Timestamp(3_000), 10, None)
        .await
        .unwrap();
    assert_eq!((retaken[0].id, retaken[0].attempts), (id, 3));
}

pub async fn scheduled_messages_wait_on_disk_until_due(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let m = message("+31612345678", 1, Some(Timestamp(5_000)));
    let id = m.id;
    let r = store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    assert_eq!(r[0].as_ref().unwrap().messages[0].status, Status::Scheduled);
    assert_eq!(
        store
            .promote_scheduled(Timestamp(4_999), 10)
            .await
            .unwrap()
            .len(),
        0
    );
    assert!(
        store
            .claim(NODE, Timestamp(4_999), Timestamp(9_999), 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.promote_scheduled(Timestamp(5_000), 10).await.unwrap(),
        vec![id]
    );
    assert_eq!(status(store, id).await, Status::Queued);
    assert_eq!(
        store.queue_depth().await.unwrap(),
        QueueDepth {
            scheduled: 0,
            queued: 1,
            submitting: 0
        }
    );
}

pub async fn refunds_happen_once_and_final_states_stay_final(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let m = message("+31612345678", 3, None);
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    store
        .claim(NODE, Timestamp(20), Timestamp(1_000), 10, None)
        .await
        .unwrap();
    let rejected = StatusUpdate::new(Target::Message(id), Status::Rejected, Timestamp(30));
    let out = store.apply(vec![rejected.clone(), rejected]).await.unwrap();
    assert_eq!(
        out[0],
        ApplyOutcome::Applied {
            id,
            account: a,
            from: Status::Submitting,
            to: Status::Rejected,
            refunded: Amount::credits(3)
        }
    );
    assert_eq!(
        out[1],
        ApplyOutcome::Ignored {
            id,
            current: Status::Rejected
        }
    );
    assert_eq!(balance(store, a).await, 10);
    let late = StatusUpdate::new(Target::Message(id), Status::Delivered, Timestamp(40));
    store.apply(vec![late]).await.unwrap();
    let detail = store.message(None, id).await.unwrap().unwrap();
    assert_eq!(detail.message.status, Status::Rejected);
    let last = detail.history.last().unwrap();
    assert_eq!((last.status, last.applied), (Status::Delivered, false));
    assert_eq!(
        store
            .ledger(a, 10)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == LedgerKind::Refund)
            .count(),
        1
    );
}

pub async fn receipts_match_by_carrier_id_preferring_the_waiting_message(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let (m1, m2) = (
        message("+31612345678", 1, None),
        message("+31612345679", 1, None),
    );
    let (id1, id2) = (m1.id, m2.id);
    store
        .accept(vec![submission(a, vec![m1, m2])], Timestamp(10))
        .await
        .unwrap();
    store
        .claim(NODE, Timestamp(20), Timestamp(1_000), 10, None)
        .await
        .unwrap();
    let sent = |id, carrier: &str| {
        let mut u = StatusUpdate::new(Target::Message(id), Status::Sent, Timestamp(30));
        u.connector = Some("c".into());
        u.carrier_ids = vec![carrier.into()];
        u
    };
    let receipt = || {
        StatusUpdate::new(
            Target::Carrier {
                connector: "c".into(),
                carrier_id: "42".into(),
            },
            Status::Delivered,
            Timestamp(40),
        )
    };
    // The carrier reused id 42: the first message is already delivered.
    store
        .apply(vec![sent(id1, "42"), receipt(), sent(id2, "42"), receipt()])
        .await
        .unwrap();
    assert_eq!(status(store, id1).await, Status::Delivered);
    assert_eq!(status(store, id2).await, Status::Delivered);
    assert_eq!(
        store.awaiting_receipt("c").await.unwrap(),
        Vec::<String>::new()
    );
    let unknown = StatusUpdate::new(
        Target::Carrier {
            connector: "c".into(),
            carrier_id: "nope".into(),
        },
        Status::Delivered,
        Timestamp(50),
    );
    assert_eq!(
        store.apply(vec![unknown]).await.unwrap(),
        [ApplyOutcome::Deferred]
    );
}

/// Accepts and claims one message, then reports it sent on connector "c"
/// with these carrier ids.
pub async fn sent_with(store: &dyn Store, to: &str, carrier_ids: &[&str]) -> MessageId {
    let a = match store.account_by_name("parts").await.unwrap() {
        Some(a) => a.id,
        None => account(store, "parts", 100).await,
    };
    let m = message(to, 3, None);
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    store
        .claim(NODE, Timestamp(20), Timestamp(1_000), 10, None)
        .await
        .unwrap();
    let mut u = StatusUpdate::new(Target::Message(id), Status::Sent, Timestamp(30));
    u.connector = Some("c".into());
    u.carrier_ids = carrier_ids.iter().map(|c| c.to_string()).collect();
    store.apply(vec![u]).await.unwrap();
    id
}

pub fn receipt(carrier_id: &str, status: Status, at: i64) -> StatusUpdate {
    let mut u = StatusUpdate::new(
        Target::Carrier {
            connector: "c".into(),
            carrier_id: carrier_id.into(),
        },
        status,
        Timestamp(at),
    );
    u.detail = Some(format!("receipt for {carrier_id}"));
    u
}

/// The walk for overdue receipts: in history order, from a cursor, up to
/// the first change after `before`, only messages still `sent`, in pages.
pub async fn acknowledged_messages_are_walked_once_in_history_order(store: &dyn Store) {
    let first = sent_with(store, "+31612345671", &["a1"]).await;
    let delivered = sent_with(store, "+31612345672", &["a2"]).await;
    store
        .apply(vec![receipt("a2", Status::Delivered, 40)])
        .await
        .unwrap();
    let third = sent_with(store, "+31612345673", &["a3"]).await;
    // Nothing was acknowledged before 30.
    let page = store.acknowledged(0, Timestamp(29), 100).await.unwrap();
    assert!(page.messages.is_empty() && !page.more, "{page:?}");
    // Up to the receipt at 40: the first two acknowledgements, the
    // delivered one no longer `sent`; the walk stops before the row at 40.
    let page = store.acknowledged(0, Timestamp(39), 100).await.unwrap();
    assert_eq!(page.messages, vec![(first, Some("c".into()))]);
    assert!(!page.more);
    let rest = store
        .acknowledged(page.cursor, Timestamp(100), 100)
        .await
        .unwrap();
    assert_eq!(rest.messages, vec![(third, Some("c".into()))]);
    // The end: nothing after the last row.
    let end = store
        .acknowledged(rest.cursor, Timestamp(100), 100)
        .await
        .unwrap();
    assert_eq!((end.cursor, end.messages.len()), (rest.cursor, 0));
    // In pages of two rows, every message is found once.
    let (mut cursor, mut found) = (0, Vec::new());
    loop {
        let page = store.acknowledged(cursor, Timestamp(100), 2).await.unwrap();
        found.extend(page.messages.iter().map(|(id, _)| *id));
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(found, vec![first, third]);
    let _ = delivered;
}

pub async fn a_long_message_is_delivered_when_every_part_is(store: &dyn Store) {
    let id = sent_with(store, "+31612345678", &["A1", "A2", "A3"]).await;
    let out = store
        .apply(vec![
            receipt("a1", Status::Delivered, 40),
            receipt("A3", Status::Delivered, 41),
        ])
        .await
        .unwrap();
    assert_eq!(
        out,
        [
            ApplyOutcome::PartRecorded { id },
            ApplyOutcome::PartRecorded { id }
        ]
    );
    assert_eq!(status(store, id).await, Status::Sent);
    store
        .apply(vec![receipt("A2", Status::Delivered, 42)])
        .await
        .unwrap();
    assert_eq!(status(store, id).await, Status::Delivered);
    let detail = store.message(None, id).await.unwrap().unwrap();
    let parts: Vec<_> = detail
        .parts
        .iter()
        .map(|p| (p.part, p.carrier_id.as_str(), p.status))
        .collect();
    assert_eq!(
        parts,
        [
            (1, "A1", Some(Status::Delivered)),
            (2, "A2", Some(Status::Delivered)),
            (3, "A3", Some(Status::Delivered))
        ]
    );
    assert_eq!(
        detail.history.last().unwrap().detail.as_deref(),
        Some("part 2 of 3: receipt for A2")
    );
}

pub async fn one_failed_part_fails_the_message_at_once(store: &dyn Store) {
    let id = sent_with(store, "+31612345678", &["B1", "B2"]).await;
    store
        .apply(vec![receipt("B2", Status::Undelivered, 40)])
        .await
        .unwrap();
    assert_eq!(status(store, id).await, Status::Undelivered);
    // The other part's late receipt is recorded on the part only.
    store
        .apply(vec![receipt("B1", Status::Delivered, 41)])
        .await
        .unwrap();
    assert_eq!(status(store, id).await, Status::Undelivered);
    let detail = store.message(None, id).await.unwrap().unwrap();
    assert_eq!(detail.parts[0].status, Some(Status::Delivered));
}

pub async fn receipts_match_across_case_zeros_and_hex_or_decimal(store: &dyn Store) {
    // Acknowledged in hex with leading zeros, receipted in decimal.
    let hex = sent_with(store, "+31612345678", &["00000000FF"]).await;
    // Acknowledged in decimal, receipted in lower-case hex.
    let dec = sent_with(store, "+31612345679", &["4096"]).await;
    let zeros = sent_with(store, "+31612345670", &["0000ABC"]).await;
    let out = store
        .apply(vec![
            receipt("255", Status::Delivered, 40),
            receipt("1000", Status::Expired, 41),
            receipt("abc", Status::Delivered, 42),
        ])
        .await
        .unwrap();
    // Case and zeros match at once; another base only once no
    // acknowledgement came for the id as written.
    assert_eq!(out[0], ApplyOutcome::Deferred);
    assert_eq!(status(store, zeros).await, Status::Delivered);
    assert_eq!(status(store, hex).await, Status::Sent);
    // Kept as received (at 40 and 41, by the receipts' times, not the
    // wall's), tried in other forms once older than asked.
    assert_eq!(
        store.match_pending_receipts(Timestamp(40)).await.unwrap(),
        0,
        "not old enough"
    );
    assert_eq!(
        store.match_pending_receipts(Timestamp(41)).await.unwrap(),
        1
    );
    assert_eq!(status(store, hex).await, Status::Delivered);
    assert_eq!(status(store, dec).await, Status::Sent);
    assert_eq!(
        store.match_pending_receipts(Timestamp(42)).await.unwrap(),
        1
    );
    assert_eq!(status(store, hex).await, Status::Delivered);
    assert_eq!(status(store, dec).await, Status::Expired);
    assert_eq!(status(store, zeros).await, Status::Delivered);
}

pub async fn cancel_only_what_has_not_been_sent_and_only_ones_own(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let b = account(store, "b", 10).await;
    let m = message("+31612345678", 2, Some(Timestamp(99_999)));
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    assert_eq!(
        store.cancel(b, id, Timestamp(20)).await.unwrap(),
        CancelOutcome::NotFound
    );
    assert_eq!(
        store.cancel(a, id, Timestamp(20)).await.unwrap(),
        CancelOutcome::Canceled {
            refunded: Amount::credits(2),
            balance: Amount::credits(10)
        }
    );
    assert_eq!(
        store.cancel(a, id, Timestamp(30)).await.unwrap(),
        CancelOutcome::NotCancelable(Status::Canceled)
    );
    assert_eq!(
        store
            .cancel(a, MessageId::generate(), Timestamp(30))
            .await
            .unwrap(),
        CancelOutcome::NotFound
    );
}

pub async fn expiry_refunds_messages_that_never_left(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let mut m = message("+31612345678", 1, None);
    m.expires_at = Some(Timestamp(100));
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    assert_eq!(
        store.expire_overdue(Timestamp(100), 10).await.unwrap(),
        vec![]
    );
    assert_eq!(
        store.expire_overdue(Timestamp(101), 10).await.unwrap(),
        vec![id]
    );
    assert_eq!(status(store, id).await, Status::Expired);
    assert_eq!(balance(store, a).await, 10);
}

pub async fn credits_never_go_below_zero(store: &dyn Store) {
    let a = account(store, "a", 5).await;
    assert!(matches!(
        store
            .adjust_credits(a, Amount::credits(-6), None, &by(Timestamp(2)))
            .await,
        Err(StoreError::InsufficientCredits { .. })
    ));
    assert_eq!(
        store
            .adjust_credits(
                a,
                Amount::credits(-5),
                Some("refund to customer".into()),
                &by(Timestamp(2))
            )
            .await
            .unwrap(),
        Amount::ZERO
    );
    assert!(matches!(
        store
            .adjust_credits(AccountId(99), Amount::credits(1), None, &by(Timestamp(2)))
            .await,
        Err(StoreError::NoSuchAccount(_))
    ));
}

pub fn mo(to: &str, text: &str, part: Option<(u16, u8, u8)>) -> InboundPart {
    InboundPart {
        connector: "c".into(),
        from: "31612345678".into(),
        to: to.into(),
        text: text.into(),
        part: part.map(|(reference, total, seq)| InboundPartOf {
            reference,
            total,
            seq,
        }),
        received_at: Timestamp(100),
    }
}

pub async fn inbound_messages_reach_the_account_owning_the_number(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    let b = account(store, "b", 0).await;
    store
        .assign_number("3197010000001", a, &by(Timestamp(1)))
        .await
        .unwrap();
    store
        .assign_number("4400", b, &by(Timestamp(1)))
        .await
        .unwrap();
    assert!(matches!(
        store
            .assign_number("1", AccountId(99), &by(Timestamp(1)))
            .await,
        Err(StoreError::NoSuchAccount(_))
    ));
    let out = store
        .receive_inbound(vec![
            mo("3197010000001", "hello a", None),
            mo("4400", "hello b", None),
            mo("999", "nobody's", None),
        ])
        .await
        .unwrap();
    let InboundOutcome::Stored(first) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(first.account_id, Some(a));
    let InboundOutcome::Stored(third) = &out[2] else {
        panic!()
    };
    assert_eq!(third.account_id, None);
    let listed = store.inbound(a, None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].text, "hello a");
    assert_eq!(store.inbound(b, None, 10).await.unwrap()[0].text, "hello b");
    assert!(store.unassign_number("4400", &by(T0)).await.unwrap());
    assert_eq!(store.numbers().await.unwrap().len(), 1);
}

pub async fn long_inbound_messages_are_reassembled_in_order_once(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    store
        .assign_number("1234", a, &by(Timestamp(1)))
        .await
        .unwrap();
    let out = store
        .receive_inbound(vec![
            mo("1234", "world", Some((9, 3, 2))),
            mo("1234", "world", Some((9, 3, 2))), // sent again by the carrier
            mo("1234", "!", Some((9, 3, 3))),
        ])
        .await
        .unwrap();
    assert_eq!(out[1], InboundOutcome::PartKept { have: 1, total: 3 });
    assert_eq!(out[2], InboundOutcome::PartKept { have: 2, total: 3 });
    // Another message with another reference does not mix in.
    store
        .receive_inbound(vec![mo("1234", "other ", Some((10, 2, 1)))])
        .await
        .unwrap();
    let out = store
        .receive_inbound(vec![mo("1234", "hello ", Some((9, 3, 1)))])
        .await
        .unwrap();
    let InboundOutcome::Stored(m) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!((m.text.as_str(), m.parts), ("hello world!", 3));
    // The orphan part is purged when old.
    assert_eq!(store.purge_inbound_parts(Timestamp(101)).await.unwrap(), 1);
}

pub async fn every_change_a_client_hears_of_is_an_event_in_the_same_transaction(store: &dyn Store) {
    let id = sent_with(store, "+31612345678", &["E1", "E2"]).await;
    let a = store.account_by_name("parts").await.unwrap().unwrap().id;
    store
        .apply(vec![
            receipt("E1", Status::Delivered, 40),
            receipt("E2", Status::Delivered, 41),
        ])
        .await
        .unwrap();
    let events = store.events(a, 0, 100).await.unwrap();
    let seen: Vec<(EventType, u32)> = events.iter().map(|e| (e.event_type, e.seq)).collect();
    assert_eq!(
        seen,
        [
            (EventType::MessageQueued, 1),
            (EventType::MessageSent, 2),
            (EventType::MessageDelivered, 3)
        ]
    );
    assert!(events.iter().all(|e| e.message.as_ref().unwrap().id == id));
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    // The cursor: only what came after.
    let after = store.events(a, events[1].id, 100).await.unwrap();
    assert_eq!(after.len(), 1);
    // Scheduled messages get their `queued` event when their time comes;
    // inbound messages to an owned number are events too.
    let b = account(store, "b", 10).await;
    let m = message("+31612345679", 1, Some(Timestamp(50)));
    store
        .accept(vec![submission(b, vec![m])], Timestamp(10))
        .await
        .unwrap();
    assert!(store.events(b, 0, 10).await.unwrap().is_empty());
    store.promote_scheduled(Timestamp(60), 10).await.unwrap();
    store
        .assign_number("1234", b, &by(Timestamp(1)))
        .await
        .unwrap();
    store
        .receive_inbound(vec![mo("1234", "hi", None)])
        .await
        .unwrap();
    let events = store.events(b, 0, 10).await.unwrap();
    let kinds: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        [EventType::MessageQueued, EventType::InboundReceived]
    );
    assert_eq!(events[1].inbound.as_ref().unwrap().text, "hi");
    // Nobody sees another account's events.
    assert!(
        store
            .events(AccountId(999), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn an_endpoint_that_is_down_holds_a_bounded_number_of_deliveries(store: &dyn Store) {
    let a = account(store, "a", 10_000).await;
    let endpoint = store
        .create_webhook(
            a,
            NewWebhookEndpoint {
                url: "http://127.0.0.1:9/".into(),
                secret: "s".into(),
                events: vec![],
                max_concurrency: 1,
            },
            &by(Timestamp(1)),
        )
        .await
        .unwrap();
    // 1,500 messages: 1,500 `message.queued` events after the endpoint.
    let messages: Vec<_> = (0..1_500)
        .map(|i| message(&format!("+3161{i:07}"), 1, None))
        .collect();
    store
        .accept(vec![submission(a, messages)], Timestamp(10))
        .await
        .unwrap();
    while store.relay_events(400, Timestamp(20)).await.unwrap() > 0 {}
    let log = store
        .deliveries(a, endpoint.id.clone(), 5_000)
        .await
        .unwrap();
    assert_eq!(log.len(), 1_000, "the rest wait in the outbox");
    // Once it answers, the relay carries on from where it stopped.
    let claimed = store.claim_all(Timestamp(30), Timestamp(40)).await;
    assert_eq!(claimed.len(), 1_000);
    let done = claimed
        .iter()
        .map(|d| AttemptResult {
            delivery: d.id,
            at: Timestamp(31),
            status_code: Some(200),
            latency_ms: 1,
            error: None,
            next: DeliveryNext::Delivered,
        })
        .collect();
    store.record_attempts(done).await.unwrap();
    while store.relay_events(400, Timestamp(50)).await.unwrap() > 0 {}
    let log = store
        .deliveries(a, endpoint.id.clone(), 5_000)
        .await
        .unwrap();
    assert_eq!(log.len(), 1_500);
}

pub async fn keywords_route_shared_numbers_and_opt_recipients_out_and_in(store: &dyn Store) {
    use smsgate_core::optout::{OptOutAction, OptOutKeywords};
    let owner = account(store, "owner", 0).await;
    let acme = account(store, "acme", 0).await;
    store
        .assign_number("4400", owner, &by(Timestamp(1)))
        .await
        .unwrap();
    store
        .assign_keyword("4400", "ACME", acme, &by(Timestamp(1)))
        .await
        .unwrap();
    let texts = [
        "acme hello",  // acme's by keyword
        "hello",       // the owner's
        " Stop \n",    // the owner's opt-out
        "STOP acme",   // acme's opt-out
        "please stop", // a message, not a keyword
        "start",       // the owner's opt-in
    ];
    let out = store
        .receive_inbound(texts.iter().map(|t| mo("4400", t, None)).collect())
        .await
        .unwrap();
    let stored: Vec<&InboundRecord> = out
        .iter()
        .map(|o| match o {
            InboundOutcome::Stored(r) => r,
            other => panic!("{other:?}"),
        })
        .collect();
    let owners: Vec<_> = stored.iter().map(|r| r.account_id).collect();
    assert_eq!(
        owners,
        [
            Some(acme),
            Some(owner),
            Some(owner),
            Some(acme),
            Some(owner),
            Some(owner)
        ]
    );
    let actions: Vec<_> = stored.iter().map(|r| r.optout).collect();
    use OptOutAction::*;
    assert_eq!(
        actions,
        [None, None, Some(OptOut), Some(OptOut), None, Some(OptIn)]
    );
    let sender = "+31612345678".to_string();
    // The owner opted out, then in again; acme's opt-out stands.
    assert!(
        store
            .suppressed(owner, vec![sender.clone()])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.suppressed(acme, vec![sender.clone()]).await.unwrap(),
        std::slice::from_ref(&sender)
    );
    let list = store.suppressions(acme, None, 10).await.unwrap();
    assert_eq!(list[0].source, SuppressionSource::Keyword);
    assert_eq!(list[0].keyword.as_deref(), Some("STOP"));

    let changes: Vec<(OptOutAction, String)> = store
        .events(owner, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.optout.map(|c| (c.action, c.number)))
        .collect();
    assert_eq!(changes, [(OptOut, sender.clone()), (OptIn, sender.clone())]);

    // Own keyword lists replace the defaults; a second STOP changes nothing.
    let halt = OptOutKeywords::new(&["HALT"], &["GO"]).unwrap();
    store
        .update_account(
            acme,
            AccountPatch {
                optout_keywords: Some(Some(halt.clone())),
                ..AccountPatch::default()
            },
            &by(T0),
        )
        .await
        .unwrap();
    assert_eq!(
        store.account(acme).await.unwrap().unwrap().optout_keywords,
        halt
    );
    let out = store
        .receive_inbound(vec![
            mo("4400", "go acme", None),
            mo("4400", "stop acme", None),
        ])
        .await
        .unwrap();
    let InboundOutcome::Stored(go) = &out[0] else {
        panic!()
    };
    assert_eq!((go.account_id, go.optout), (Some(acme), Some(OptIn)));
    let InboundOutcome::Stored(stop) = &out[1] else {
        panic!()
    };
    // STOP is no longer acme's word, so the text falls to the number's owner.
    assert_eq!((stop.account_id, stop.optout), (Some(owner), None));
    assert!(
        store
            .suppressed(acme, vec![sender.clone()])
            .await
            .unwrap()
            .is_empty()
    );

    // Through the API: counted, evented once per change.
    let n = Msisdn::parse("+447911123456", None).unwrap();
    let count = store
        .change_suppressions(
            acme,
            vec![n.clone(), n.clone()],
            OptOut,
            SuppressionSource::Api,
            &by(Timestamp(5)),
        )
        .await
        .unwrap();
    assert_eq!((count.changed, count.unchanged), (1, 1));
    assert!(matches!(
        store
            .change_suppressions(
                AccountId(99),
                vec![n],
                OptOut,
                SuppressionSource::Api,
                &by(Timestamp(5))
            )
            .await,
        Err(StoreError::NoSuchAccount(_))
    ));
}

pub async fn old_events_go_only_once_every_enabled_endpoint_has_them(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    store
        .assign_number("4400", a, &by(Timestamp(1)))
        .await
        .unwrap();
    let hi = || mo("4400", "hi", None);
    store.receive_inbound(vec![hi(), hi()]).await.unwrap();
    let endpoint = |url: &str| NewWebhookEndpoint {
        url: url.into(),
        secret: "s".into(),
        events: vec![],
        max_concurrency: 1,
    };
    let e = store
        .create_webhook(a, endpoint("http://127.0.0.1:9/"), &by(Timestamp(1)))
        .await
        .unwrap();
    let off = store
        .create_webhook(a, endpoint("http://127.0.0.1:8/"), &by(Timestamp(1)))
        .await
        .unwrap();
    store
        .set_webhook_enabled(a, off.id.clone(), false, &by(T0))
        .await
        .unwrap();
    // Made after the endpoints, not relayed yet: kept, however old.
    store.receive_inbound(vec![hi()]).await.unwrap();
    assert_eq!(store.events(a, 0, 10).await.unwrap().len(), 3);
    assert_eq!(
        store.purge_events(Timestamp(50), 100).await.unwrap(),
        0,
        "not old enough"
    );
    assert_eq!(store.purge_events(Timestamp(200), 100).await.unwrap(), 2);
    let left = store.events(a, 0, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    // Relayed, delivered and past retention: the event and its delivery go.
    store.relay_events(100, Timestamp(150)).await.unwrap();
    let claimed = store.claim_all(Timestamp(150), Timestamp(999)).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].endpoint.id, e.id);
    store
        .record_attempts(vec![AttemptResult {
            delivery: claimed[0].id,
            at: Timestamp(160),
            status_code: Some(200),
            latency_ms: 1,
            error: None,
            next: DeliveryNext::Delivered,
        }])
        .await
        .unwrap();
    // The delivery goes; the event stays, as the newest always does (the
    // next one must not be given its id).
    assert_eq!(store.purge_events(Timestamp(200), 100).await.unwrap(), 1);
    assert_eq!(store.events(a, 0, 10).await.unwrap().len(), 1);
    assert!(
        store
            .deliveries(a, e.id.clone(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn suppressed_recipients_are_refused_in_the_intake_transaction_without_charge(
    store: &dyn Store,
) {
    use smsgate_core::optout::OptOutAction;
    let a = account(store, "a", 10).await;
    let stopped = Msisdn::parse("+31612345678", None).unwrap();
    store
        .change_suppressions(
            a,
            vec![stopped],
            OptOutAction::OptOut,
            SuppressionSource::Api,
            &by(Timestamp(1)),
        )
        .await
        .unwrap();
    let r = store
        .accept(
            vec![
                submission(
                    a,
                    vec![
                        message("+31612345678", 2, None),
                        message("+31612345679", 1, None),
                    ],
                ),
                submission(a, vec![message("+31612345678", 1, None)]),
            ],
            Timestamp(2),
        )
        .await
        .unwrap();
    let first = r[0].as_ref().unwrap();
    assert_eq!(first.messages.len(), 1);
    assert_eq!(first.messages[0].to, "+31612345679");
    let refused = first
        .rejected
        .iter()
        .find(|x| x.to == "+31612345678")
        .unwrap();
    assert!(refused.reason.contains("opted out"), "{refused:?}");
    assert_eq!(
        first.balance,
        Amount::credits(9),
        "only the other recipient is charged"
    );
    let Err(Refusal::NoValidRecipient(all)) = &r[1] else {
        panic!("{:?}", r[1])
    };
    assert!(
        all.iter()
            .any(|x| x.reason == smsgate_core::send::RejectReason::Suppressed)
    );
    assert_eq!(balance(store, a).await, 9);
}

pub async fn opt_out_changes_of_one_number_are_delivered_in_order(store: &dyn Store) {
    use smsgate_core::optout::OptOutAction;
    let a = account(store, "a", 0).await;
    let e = store
        .create_webhook(
            a,
            NewWebhookEndpoint {
                url: "http://127.0.0.1:9/".into(),
                secret: "s".into(),
                events: vec![],
                max_concurrency: 4,
            },
            &by(Timestamp(1)),
        )
        .await
        .unwrap();
    let n = Msisdn::parse("+31612345678", None).unwrap();
    let other = Msisdn::parse("+31612345679", None).unwrap();
    for action in [OptOutAction::OptOut, OptOutAction::OptIn] {
        store
            .change_suppressions(
                a,
                vec![n.clone()],
                action,
                SuppressionSource::Api,
                &by(Timestamp(2)),
            )
            .await
            .unwrap();
    }
    store
        .change_suppressions(
            a,
            vec![other],
            OptOutAction::OptOut,
            SuppressionSource::Api,
            &by(Timestamp(2)),
        )
        .await
        .unwrap();
    store.relay_events(100, Timestamp(3)).await.unwrap();
    // The opt-in waits for the opt-out of the same number; the other
    // number's change does not wait.
    let claimed = store.claim_all(Timestamp(3), Timestamp(999)).await;
    let changes: Vec<(String, OptOutAction)> = claimed
        .iter()
        .map(|d| {
            let c = d.event.optout.clone().unwrap();
            (c.number, c.action)
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("+31612345678".to_string(), OptOutAction::OptOut),
            ("+31612345679".to_string(), OptOutAction::OptOut)
        ]
    );
    let first = claimed[0].id;
    store
        .record_attempts(vec![AttemptResult {
            delivery: first,
            at: Timestamp(4),
            status_code: Some(200),
            latency_ms: 1,
            error: None,
            next: DeliveryNext::Delivered,
        }])
        .await
        .unwrap();
    let next = store.claim_all(Timestamp(1000), Timestamp(2000)).await;
    assert!(
        next.iter()
            .any(|d| d.event.optout.as_ref().unwrap().action == OptOutAction::OptIn)
    );
    assert_eq!(e.id, next[0].endpoint.id);
}

pub async fn split_balances_charge_and_refund_the_message_s_category(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    store
        .update_account(
            a,
            AccountPatch {
                split_balances: Some(true),
                ..AccountPatch::default()
            },
            &by(T0),
        )
        .await
        .unwrap();
    store
        .adjust_category_credits(
            a,
            Category::Otp,
            Amount::credits(5),
            None,
            &by(Timestamp(1)),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .adjust_category_credits(
                a,
                Category::Promotional,
                Amount::credits(-1),
                None,
                &by(Timestamp(1))
            )
            .await,
        Err(StoreError::InsufficientCredits { .. })
    ));
    let in_category = |to: &str, cost: i64, category: Category| {
        let mut m = message(to, cost, Some(Timestamp(1_000_000)));
        m.category = category;
        m
    };
    let otp = in_category("+31612345678", 3, Category::Otp);
    let otp_id = otp.id;
    let r = store
        .accept(
            vec![
                submission(a, vec![otp]),
                submission(
                    a,
                    vec![in_category("+31612345679", 1, Category::Promotional)],
                ),
            ],
            Timestamp(2),
        )
        .await
        .unwrap();
    assert_eq!(
        r[0].as_ref().unwrap().balance,
        Amount::credits(2),
        "the OTP balance"
    );
    assert_eq!(
        r[1],
        Err(Refusal::InsufficientCredits {
            balance: Amount::ZERO,
            needed: Amount::credits(1)
        }),
        "promotional has nothing, whatever the main balance holds"
    );
    assert_eq!(balance(store, a).await, 10, "the main balance is untouched");
    // The setting changes; the refund still goes where the charge came from.
    store
        .update_account(
            a,
            AccountPatch {
                split_balances: Some(false),
                ..AccountPatch::default()
            },
            &by(T0),
        )
        .await
        .unwrap();
    let answer = store.cancel(a, otp_id, Timestamp(3)).await.unwrap();
    assert_eq!(
        answer,
        CancelOutcome::Canceled {
            refunded: Amount::credits(3),
            balance: Amount::credits(5)
        },
        "the cancel answers the balance the refund went to"
    );
    let balances = store.category_balances(a).await.unwrap();
    assert!(
        balances.contains(&(Category::Otp, Amount::credits(5))),
        "{balances:?}"
    );
    assert_eq!(balance(store, a).await, 10);
    let ledger = store.ledger(a, 10).await.unwrap();
    assert_eq!(ledger[0].category, Some(Category::Otp), "{ledger:?}");
    assert_eq!(ledger[0].kind, LedgerKind::Refund);
}

pub async fn priority_messages_are_claimed_first(store: &dyn Store) {
    let a = account(store, "a", 100).await;
    let normal: Vec<NewMessage> = (0..5)
        .map(|i| message(&format!("+3161234567{i}"), 1, None))
        .collect();
    let mut urgent = message("+31612345679", 1, None);
    urgent.priority = 10;
    let urgent_id = urgent.id;
    store
        .accept(
            vec![submission(a, normal), submission(a, vec![urgent])],
            Timestamp(1),
        )
        .await
        .unwrap();
    let claimed = store
        .claim(NODE, Timestamp(2), Timestamp(60_000), 1, None)
        .await
        .unwrap();
    assert_eq!(claimed[0].id, urgent_id, "accepted last, claimed first");
}

/// Claims every due delivery of every endpoint (no fair share: the
/// deliverer's policy is tested in the engine).
pub trait ClaimAll {
    async fn claim_all(&self, now: Timestamp, lease_until: Timestamp) -> Vec<DueDelivery>;
}

impl ClaimAll for dyn Store {
    async fn claim_all(&self, now: Timestamp, lease_until: Timestamp) -> Vec<DueDelivery> {
        let load = self.delivery_load(now).await.unwrap();
        let take = load
            .endpoints
            .iter()
            .map(|e| (e.endpoint.clone(), e.due as usize))
            .collect();
        self.claim_deliveries(NODE, now, lease_until, take)
            .await
            .unwrap()
    }
}

pub fn hook(url: &str, max_concurrency: u32) -> NewWebhookEndpoint {
    NewWebhookEndpoint {
        url: url.into(),
        secret: "s".into(),
        events: vec![],
        max_concurrency,
    }
}

pub async fn a_deleted_endpoint_s_id_and_deliveries_go_to_no_one_else(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    let b = account(store, "b", 0).await;
    store
        .assign_number("4400", a, &by(Timestamp(1)))
        .await
        .unwrap();
    let old = store
        .create_webhook(a, hook("https://a.example/", 4), &by(Timestamp(1)))
        .await
        .unwrap();
    store
        .receive_inbound(vec![mo("4400", "hi", None)])
        .await
        .unwrap();
    store.relay_events(100, Timestamp(2)).await.unwrap();
    let in_flight = store.claim_all(Timestamp(3), Timestamp(999)).await;
    assert_eq!(in_flight.len(), 1);
    // Deleted while its delivery is in flight; the attempt fails later.
    assert!(
        !store
            .delete_webhook(b, old.id.clone(), &by(Timestamp(4)))
            .await
            .unwrap(),
        "another account cannot delete it"
    );
    assert!(
        store
            .delete_webhook(a, old.id.clone(), &by(Timestamp(4)))
            .await
            .unwrap()
    );
    store
        .record_attempts(vec![AttemptResult {
            delivery: in_flight[0].id,
            at: Timestamp(5),
            status_code: Some(500),
            latency_ms: 1,
            error: Some("answered 500".into()),
            next: DeliveryNext::RetryAt(Timestamp(6)),
        }])
        .await
        .unwrap();
    // The next endpoint made, by anyone, is a new one with nothing waiting.
    let new = store
        .create_webhook(b, hook("https://b.example/", 4), &by(Timestamp(7)))
        .await
        .unwrap();
    assert_ne!(new.id, old.id);
    assert!(new.id.as_str().starts_with("wh_") && new.id.as_str().len() == 35);
    assert!(
        store
            .claim_all(Timestamp(10), Timestamp(999))
            .await
            .is_empty()
    );
    assert!(
        store
            .deliveries(b, new.id.clone(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.webhook(b, old.id.clone()).await.unwrap().is_none());
    assert!(store.webhook(a, new.id.clone()).await.unwrap().is_none());
}

pub async fn the_newest_event_outlives_retention_so_event_ids_never_repeat(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    store
        .assign_number("4400", a, &by(Timestamp(1)))
        .await
        .unwrap();
    let hi = || mo("4400", "hi", None);
    store.receive_inbound(vec![hi(), hi(), hi()]).await.unwrap();
    let last = store.events(a, 0, 10).await.unwrap().last().unwrap().id;
    // A quiet month: everything is old enough to go.
    assert_eq!(
        store.purge_events(Timestamp(i64::MAX), 100).await.unwrap(),
        2
    );
    store.receive_inbound(vec![hi()]).await.unwrap();
    let after = store.events(a, last, 10).await.unwrap();
    assert_eq!(
        after.len(),
        1,
        "a cursor at the last event sees the new one"
    );
    assert!(after[0].id > last);
}

pub async fn leases_count_as_in_flight_until_recorded_or_released(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    store
        .assign_number("4400", a, &by(Timestamp(1)))
        .await
        .unwrap();
    let e = store
        .create_webhook(a, hook("https://a.example/", 2), &by(Timestamp(1)))
        .await
        .unwrap();
    let his: Vec<_> = (0..5).map(|_| mo("4400", "hi", None)).collect();
    store.receive_inbound(his).await.unwrap();
    store.relay_events(100, Timestamp(2)).await.unwrap();
    let load = store.delivery_load(Timestamp(3)).await.unwrap();
    assert_eq!(load.endpoints.len(), 1);
    assert_eq!((load.endpoints[0].due, load.endpoints[0].in_flight), (5, 0));
    let node = store.join("n1", "", Timestamp(3)).await.unwrap();
    let claimed = store
        .claim_deliveries(node, Timestamp(3), Timestamp(999), vec![(e.id.clone(), 2)])
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2, "no more than asked");
    let load = store.delivery_load(Timestamp(4)).await.unwrap();
    assert_eq!((load.endpoints[0].due, load.endpoints[0].in_flight), (3, 2));
    assert_eq!(load.accounts_in_flight, [(a, 2)]);
    // The node restarts: its leases end at once.
    store.join("n1", "", Timestamp(5)).await.unwrap();
    let load = store.delivery_load(Timestamp(5)).await.unwrap();
    assert_eq!((load.endpoints[0].due, load.endpoints[0].in_flight), (5, 0));
    assert!(load.accounts_in_flight.is_empty());
}

pub async fn replays_and_tests_stay_within_the_pending_cap(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    store
        .assign_number("4400", a, &by(Timestamp(1)))
        .await
        .unwrap();
    let his: Vec<_> = (0..1_200).map(|_| mo("4400", "hi", None)).collect();
    store.receive_inbound(his).await.unwrap();
    // Made afterwards: it hears of nothing until it replays.
    let e = store
        .create_webhook(a, hook("https://a.example/", 2), &by(Timestamp(1)))
        .await
        .unwrap();
    let range = Replay::Range {
        since: Timestamp(0),
        until: Timestamp(i64::MAX),
    };
    assert_eq!(
        store
            .replay_deliveries(e.clone(), range, Timestamp(2))
            .await
            .unwrap(),
        1_000
    );
    assert_eq!(
        store
            .replay_deliveries(e.clone(), range, Timestamp(2))
            .await
            .unwrap(),
        0,
        "full"
    );
    assert_eq!(store.test_webhook(e, Timestamp(3)).await.unwrap(), None);
}

pub async fn balances_stop_at_their_maximum_without_a_change(store: &dyn Store) {
    let a = account(store, "a", 0).await;
    let big = Amount::credits(Amount::MAX_BALANCE.whole_credits() - 10);
    store
        .adjust_credits(a, big, None, &by(Timestamp(1)))
        .await
        .unwrap();
    let over = store
        .adjust_credits(a, Amount::credits(11), None, &by(Timestamp(2)))
        .await
        .unwrap_err();
    assert!(matches!(over, StoreError::BalanceTooLarge { .. }), "{over}");
    // i64 overflow is the same refusal, not a database error.
    let overflow = store
        .adjust_credits(a, Amount::from_minor(i64::MAX), None, &by(Timestamp(2)))
        .await
        .unwrap_err();
    assert!(
        matches!(overflow, StoreError::BalanceTooLarge { .. }),
        "{overflow}"
    );
    let acc = store.account(a).await.unwrap().unwrap();
    assert_eq!(acc.balance, big, "nothing changed");
    assert_eq!(store.ledger(a, 10).await.unwrap().len(), 1);
    store
        .adjust_credits(a, Amount::credits(10), None, &by(Timestamp(3)))
        .await
        .unwrap();
}

/// An operator approves any account's sender or template; an account
/// finds only its own, and a duplicate is refused.
pub async fn senders_and_templates_are_the_account_s_own_until_approved(store: &dyn Store) {
    let a = account(store, "sa", 0).await;
    let b = account(store, "sb", 0).await;
    let sender = store
        .create_sender(
            a,
            NewSender {
                sender_id: "ACME".into(),
                category: Category::Transactional,
                purpose: None,
            },
            &by(Timestamp(1)),
        )
        .await
        .unwrap();
    assert_eq!(sender.status, Approval::Pending);
    assert!(matches!(
        store
            .create_sender(
                a,
                NewSender {
                    sender_id: "ACME".into(),
                    category: Category::Otp,
                    purpose: None,
                },
                &by(Timestamp(2))
            )
            .await,
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(store.sender(b, sender.id.clone()).await.unwrap(), None);
    let approved = store
        .approve_sender(sender.id.clone(), &by(Timestamp(3)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (approved.status, approved.approved_at),
        (Approval::Approved, Some(Timestamp(3)))
    );
    assert_eq!(
        store
            .sender_by_name(a, "ACME")
            .await
            .unwrap()
            .unwrap()
            .status,
        Approval::Approved
    );
    let template = store
        .create_template(
            a,
            NewTemplate {
                name: "otp".into(),
                template_id: "T1".into(),
                category: Category::Otp,
                sender_id: Some("ACME".into()),
                text: "Your code is {#var#}".into(),
            },
            &by(Timestamp(4)),
        )
        .await
        .unwrap();
    assert_eq!(store.template(b, template.id.clone()).await.unwrap(), None);
    let approved = store
        .approve_template(template.id.clone(), &by(Timestamp(5)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(approved.status, Approval::Approved);
    assert_eq!(
        store
            .template_by_template_id(a, "T1")
            .await
            .unwrap()
            .unwrap()
            .id,
        template.id
    );
    assert!(
        store
            .delete_sender(a, sender.id.clone(), &by(T0))
            .await
            .unwrap()
    );
    assert!(store.senders(a).await.unwrap().is_empty());
}

/// Polls every future until all are done: many store calls in flight at
/// once, as many requests make them.
pub async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in futures.iter_mut().zip(done.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// 200 sends of one credit each, all in flight at once, on a balance of
/// 50: exactly 50 are charged, none overdraws, and the ledger adds up.
pub async fn concurrent_debits_never_overdraw(store: &dyn Store) {
    let a = account(store, "busy", 50).await;
    let sends = (0..200)
        .map(|i| {
            store.accept(
                vec![submission(
                    a,
                    vec![message(&format!("+3161234{i:04}"), 1, None)],
                )],
                Timestamp(10),
            )
        })
        .collect();
    let answers = join_all(sends).await;
    let accepted = answers
        .iter()
        .filter(|r| r.as_ref().unwrap()[0].is_ok())
        .count();
    let refused = answers
        .iter()
        .filter(|r| {
            matches!(
                r.as_ref().unwrap()[0],
                Err(Refusal::InsufficientCredits { .. })
            )
        })
        .count();
    assert_eq!((accepted, refused), (50, 150));
    assert_eq!(balance(store, a).await, 0);
    let ledger = store.ledger(a, 1000).await.unwrap();
    assert_eq!(
        ledger.iter().map(|e| e.amount.whole_credits()).sum::<i64>(),
        0
    );
    assert_eq!(ledger.len(), 51);
}

/// A message stored alone and the same message stored with others read
/// back alike, every field (PostgreSQL stores a request's messages in one
/// statement).
pub async fn messages_of_one_request_are_stored_as_one_alone_is(store: &dyn Store) {
    let a = account(store, "many", 100).await;
    let full = |schedule: Option<Timestamp>| {
        let mut m = message("+31612345678", 2, schedule);
        m.reference = Some("ref-1".into());
        m.callback_url = Some("https://example.com/cb".into());
        m.payload = Some("{\"k\":1}".into());
        m.priority = 1;
        m.item = 3;
        m.campaign_ref = Some("spring".into());
        m.expires_at = Some(Timestamp(1_000_000));
        m
    };
    let alone = full(None);
    let (with_a, with_b) = (full(None), full(Some(Timestamp(500_000))));
    let ids = [alone.id, with_a.id, with_b.id];
    store
        .accept(vec![submission(a, vec![alone])], Timestamp(10))
        .await
        .unwrap()[0]
        .as_ref()
        .unwrap();
    store
        .accept(vec![submission(a, vec![with_a, with_b])], Timestamp(10))
        .await
        .unwrap()[0]
        .as_ref()
        .unwrap();
    let read = |id| async move { store.message(None, id).await.unwrap().unwrap().message };
    let (one, two, three) = (read(ids[0]).await, read(ids[1]).await, read(ids[2]).await);
    assert_eq!(
        MessageRecord {
            id: one.id,
            ..two.clone()
        },
        one
    );
    assert_eq!(three.status, Status::Scheduled);
    assert_eq!(three.schedule_at, Some(Timestamp(500_000)));
    // One `message.queued` each for the queued ones, in their order.
    let events = store.events(a, 0, 10).await.unwrap();
    let queued: Vec<_> = events
        .iter()
        .filter_map(|e| e.message.as_ref().map(|m| m.id))
        .collect();
    assert_eq!(queued, [ids[0], ids[1]]);
}

/// A heartbeat of `node` at `now` wanting `wanted`, with leases and the
/// deadline of ten seconds.
pub fn beat_of(node: NodeId, now: i64, wanted: &[&str]) -> Beat {
    Beat {
        node,
        now: Timestamp(now),
        dead_before: Timestamp(now - 10_000),
        lease_until: Timestamp(now + 10_000),
        wanted: wanted.iter().map(|w| w.to_string()).collect(),
        available: wanted.iter().map(|w| w.to_string()).collect(),
    }
}

/// The connectors a heartbeat left its node holding.
pub async fn held_after(store: &dyn Store, beat: Beat) -> Vec<String> {
    match store.beat(beat).await.unwrap() {
        BeatOutcome::Alive { held, .. } => held,
        BeatOutcome::Ended => panic!("the node was found dead"),
    }
}

pub async fn each_connector_is_held_by_one_live_node(store: &dyn Store) {
    let n1 = store
        .join("n1", "http://a", Timestamp(1_000))
        .await
        .unwrap();
    let n2 = store
        .join("n2", "http://b", Timestamp(1_000))
        .await
        .unwrap();
    assert_ne!(n1, n2);
    assert_eq!(
        held_after(store, beat_of(n1, 1_000, &["x", "y"])).await,
        ["x", "y"]
    );
    // Held, and renewed by its holder: nobody else takes it.
    assert!(
        held_after(store, beat_of(n2, 1_500, &["x", "y"]))
            .await
            .is_empty()
    );
    assert_eq!(
        held_after(store, beat_of(n1, 2_000, &["x", "y"])).await,
        ["x", "y"]
    );
    let leases = store.connector_leases().await.unwrap();
    assert_eq!(leases.len(), 2);
    assert!(
        leases
            .iter()
            .all(|l| l.node == n1 && l.node_name == "n1" && l.available)
    );
    assert_eq!(leases[0].expires_at, Timestamp(12_000));
    // A connector given up is taken by the next heartbeat that wants it.
    assert_eq!(held_after(store, beat_of(n1, 3_000, &["x"])).await, ["x"]);
    assert_eq!(
        held_after(store, beat_of(n2, 3_500, &["x", "y"])).await,
        ["y"]
    );
    // n1 stops beating: after ten seconds n2 finds it dead and takes x.
    let BeatOutcome::Alive { held, buried, .. } =
        store.beat(beat_of(n2, 13_001, &["x", "y"])).await.unwrap()
    else {
        panic!("n2 is alive");
    };
    assert_eq!(held, ["x", "y"]);
    assert_eq!(buried, [(n1, 0, 0)]);
    // n1 wakes up: it is dead, and must join again.
    assert_eq!(
        store.beat(beat_of(n1, 13_500, &["x"])).await.unwrap(),
        BeatOutcome::Ended
    );
    let nodes = store.nodes(Timestamp(0)).await.unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!((nodes[0].id, nodes[0].ended_at), (n2, None));
    assert_eq!(
        (nodes[1].id, nodes[1].ended_at),
        (n1, Some(Timestamp(13_001)))
    );
    assert_eq!(nodes[1].address, "http://a");
    // A node leaving frees its connectors at once.
    store.leave(n2, Timestamp(14_000)).await.unwrap();
    assert!(store.connector_leases().await.unwrap().is_empty());
    assert!(store.nodes(Timestamp(14_001)).await.unwrap().is_empty());
}

pub async fn a_dead_node_s_claims_are_retaken_at_once(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    store
        .assign_number("4400", a, &by(Timestamp(1)))
        .await
        .unwrap();
    let hook = store
        .create_webhook(a, hook("https://a.example/", 5), &by(Timestamp(1)))
        .await
        .unwrap();
    let m = message("+31612345678", 1, None);
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    store
        .receive_inbound(vec![mo("4400", "hi", None)])
        .await
        .unwrap();
    store.relay_events(100, Timestamp(10)).await.unwrap();
    let n1 = store.join("n1", "", Timestamp(10)).await.unwrap();
    let n2 = store.join("n2", "", Timestamp(10)).await.unwrap();
    // n1 claims the message and the deliveries for a long while.
    let claimed = store
        .claim(n1, Timestamp(20), Timestamp(1_000_000), 10, None)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let due = store
        .claim_deliveries(
            n1,
            Timestamp(20),
            Timestamp(1_000_000),
            vec![(hook.id.clone(), 5)],
        )
        .await
        .unwrap();
    assert!(!due.is_empty());
    let beat = |at| beat_of(n2, at, &[]);
    assert!(held_after(store, beat(5_000)).await.is_empty());
    assert!(
        store
            .claim(n2, Timestamp(5_001), Timestamp(1_000_000), 10, None)
            .await
            .unwrap()
            .is_empty(),
        "n1 is alive: its claim holds"
    );
    // n1 never beat again: ten seconds on, n2 buries it and retakes both.
    let BeatOutcome::Alive { buried, .. } = store.beat(beat(10_011)).await.unwrap() else {
        panic!("n2 is alive");
    };
    assert_eq!(buried, [(n1, 1, due.len())]);
    let retaken = store
        .claim(n2, Timestamp(10_012), Timestamp(1_000_000), 10, None)
        .await
        .unwrap();
    assert_eq!((retaken[0].id, retaken[0].attempts), (id, 2));
    let again = store
        .claim_deliveries(
            n2,
            Timestamp(10_012),
            Timestamp(1_000_000),
            vec![(hook.id.clone(), 5)],
        )
        .await
        .unwrap();
    assert_eq!(again.len(), due.len());
}

pub async fn messages_wait_for_the_node_holding_their_connector(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let m = message("+31612345678", 1, None);
    let id = m.id;
    store
        .accept(vec![submission(a, vec![m])], Timestamp(10))
        .await
        .unwrap();
    let n1 = store.join("n1", "", Timestamp(10)).await.unwrap();
    let n2 = store.join("n2", "", Timestamp(10)).await.unwrap();
    assert_eq!(held_after(store, beat_of(n1, 10, &["x"])).await, ["x"]);
    let elsewhere =
        || -> Option<Placer> { Some(Box::new(|_: &Outbound| Placement::HandTo("x".into()))) };
    // n2 routes it to x, which n1 holds: it waits for n1, queued as it was.
    assert!(
        store
            .claim(n2, Timestamp(20), Timestamp(1_000), 10, elsewhere())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(status(store, id).await, Status::Queued);
    assert!(
        store
            .claim(n2, Timestamp(21), Timestamp(1_000), 10, None)
            .await
            .unwrap()
            .is_empty(),
        "handed to x's holder"
    );
    // n1 takes it, the hand-off not counted as an attempt.
    let claimed = store
        .claim(n1, Timestamp(22), Timestamp(1_000), 10, None)
        .await
        .unwrap();
    assert_eq!((claimed[0].id, claimed[0].attempts), (id, 1));
    // n1 dies while submitting it; n2, retaking it after the lease, hands
    // it on to x's next holder.
    let BeatOutcome::Alive { buried, .. } = store.beat(beat_of(n2, 10_011, &["x"])).await.unwrap()
    else {
        panic!("n2 is alive");
    };
    assert_eq!(buried, [(n1, 1, 0)]);
    let n3 = store.join("n3", "", Timestamp(10_011)).await.unwrap();
    assert!(
        store
            .claim(n3, Timestamp(10_012), Timestamp(20_000), 10, elsewhere())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(status(store, id).await, Status::Submitting);
    let claimed = store
        .claim(n2, Timestamp(10_013), Timestamp(20_000), 10, None)
        .await
        .unwrap();
    assert_eq!((claimed[0].id, claimed[0].attempts), (id, 2));
}

pub async fn changes_are_heard_where_they_are_announced(store: &dyn Store) {
    let mut heard = store.changes();
    for change in Change::ALL {
        store.announce(change).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < Change::ALL.len() {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), heard.recv())
            .await
            .expect("a change heard")
            .unwrap();
        got.push(next);
    }
    assert_eq!(got, Change::ALL);
}

/// What a group commit answers each request, and what it leaves behind,
/// is what the requests committed one after the other give: charged in
/// order against what the earlier ones left, refused alike (a disabled
/// account, a suppressed recipient, too few credits), idempotent ones and
/// batches in their place.
pub async fn a_group_of_requests_is_answered_as_each_alone_in_order(store: &dyn Store) {
    use smsgate_core::optout::OptOutAction;
    let stopped = Msisdn::parse("+31611111111", None).unwrap();
    let mut setups = Vec::new();
    for run in ["group", "alone"] {
        let a = account(store, &format!("a-{run}"), 10).await;
        let b = account(store, &format!("b-{run}"), 10).await;
        let c = account(store, &format!("c-{run}"), 5).await;
        store
            .update_account(
                b,
                AccountPatch {
                    status: Some(AccountStatus::Disabled),
                    ..AccountPatch::default()
                },
                &by(T0),
            )
            .await
            .unwrap();
        store
            .change_suppressions(
                c,
                vec![stopped.clone()],
                OptOutAction::OptOut,
                SuppressionSource::Api,
                &by(Timestamp(1)),
            )
            .await
            .unwrap();
        setups.push((a, b, c));
    }
    let requests = |(a, b, c): (AccountId, AccountId, AccountId)| {
        let idempotent = |mut s: Submission, key: &str| {
            s.idempotency = Some(Idempotency {
                key: key.into(),
                fingerprint: [1; 32],
            });
            s
        };
        vec![
            submission(a, vec![message("+31612345601", 3, None)]),
            submission(b, vec![message("+31612345602", 1, None)]),
            submission(a, vec![message("+31612345603", 5, None)]),
            submission(c, vec![message("+31611111111", 1, None)]),
            submission(a, vec![message("+31612345604", 3, None)]),
            submission(
                c,
                vec![
                    message("+31611111111", 1, None),
                    message("+31612345605", 2, None),
                ],
            ),
            idempotent(submission(a, vec![message("+31612345606", 1, None)]), "k"),
            submission(a, vec![message("+31612345607", 1, None)]),
            submission(a, vec![message("+31612345608", 1, None)]),
            submission(c, vec![message("+31612345609", 1, Some(Timestamp(9_999)))]),
        ]
    };
    let grouped = store
        .accept(requests(setups[0]), Timestamp(10))
        .await
        .unwrap();
    let mut alone = Vec::new();
    for s in requests(setups[1]) {
        alone.extend(store.accept(vec![s], Timestamp(10)).await.unwrap());
    }
    // Ids differ between the two runs; everything else is the same.
    let shown = |r: &Result<Acceptance, Refusal>| match r {
        Ok(a) => format!(
            "ok balance {} messages {:?} rejected {:?}",
            a.balance.whole_credits(),
            a.messages
                .iter()
                .map(|m| (m.to.clone(), m.status, m.cost.whole_credits()))
                .collect::<Vec<_>>(),
            a.rejected
                .iter()
                .map(|r| r.code.clone())
                .collect::<Vec<_>>()
        ),
        Err(refusal) => format!("refused {refusal:?}"),
    };
    let grouped: Vec<String> = grouped.iter().map(shown).collect();
    let alone: Vec<String> = alone.iter().map(shown).collect();
    assert_eq!(grouped, alone);
    assert!(grouped[0].starts_with("ok balance 7"), "{grouped:?}");
    assert!(grouped[1].contains("AccountDisabled"), "{grouped:?}");
    assert!(grouped[4].contains("InsufficientCredits"), "{grouped:?}");
    assert!(grouped[7].starts_with("ok balance 0"), "{grouped:?}");
    assert!(grouped[8].contains("InsufficientCredits"), "{grouped:?}");
    for ((ga, gb, gc), (aa, ab, ac)) in [(setups[0], setups[1])] {
        for (g, a) in [(ga, aa), (gb, ab), (gc, ac)] {
            assert_eq!(balance(store, g).await, balance(store, a).await);
            let ledger = |id| async move {
                let entries = store.ledger(id, 100).await.unwrap();
                let mut amounts: Vec<i64> =
                    entries.iter().map(|e| e.amount.whole_credits()).collect();
                amounts.reverse();
                amounts
            };
            assert_eq!(ledger(g).await, ledger(a).await);
            let messages = |id| async move {
                let mut shown: Vec<(String, Status, i64)> = store
                    .messages(id, MessageFilter::newest(100))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| (m.to, m.status, m.cost.whole_credits()))
                    .collect();
                shown.sort_by(|x, y| x.0.cmp(&y.0));
                shown
            };
            assert_eq!(messages(g).await, messages(a).await);
        }
    }
}

pub async fn every_message_of_a_claim_records_its_step(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let ms: Vec<_> = (0..3)
        .map(|i| message(&format!("+3161234560{i}"), 1, None))
        .collect();
    let ids: Vec<MessageId> = ms.iter().map(|m| m.id).collect();
    store
        .accept(vec![submission(a, ms)], Timestamp(10))
        .await
        .unwrap();
    let last_step = |id| async move {
        let history = store.message(None, id).await.unwrap().unwrap().history;
        let last = history.last().unwrap().clone();
        (last.status, last.at, last.detail)
    };
    let claimed = store
        .claim(NODE, Timestamp(20), Timestamp(1_000), 10, None)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    for &id in &ids {
        assert_eq!(
            last_step(id).await,
            (Status::Submitting, Timestamp(20), None)
        );
    }
    let again = store
        .claim(NODE, Timestamp(1_001), Timestamp(2_000), 10, None)
        .await
        .unwrap();
    assert_eq!(again.len(), 3);
    for &id in &ids {
        assert_eq!(
            last_step(id).await,
            (
                Status::Submitting,
                Timestamp(1_001),
                Some("lease expired, claimed again".to_string())
            )
        );
    }
}

/// A batch of status changes (the dispatcher's outcomes, committed
/// together) leaves what the changes applied one after the other leave:
/// messages, their history and parts, events, refunds, receipts that came
/// before their acknowledgement.
pub async fn a_batch_of_status_changes_leaves_what_each_alone_does(store: &dyn Store) {
    let mut worlds = Vec::new();
    for run in ["batch", "alone"] {
        let a = account(store, &format!("b-{run}"), 100).await;
        let ms: Vec<_> = (0..5)
            .map(|i| message(&format!("+3161234570{i}"), 2, None))
            .collect();
        let ids: Vec<MessageId> = ms.iter().map(|m| m.id).collect();
        store
            .accept(vec![submission(a, ms)], Timestamp(10))
            .await
            .unwrap();
        assert_eq!(
            store
                .claim(NODE, Timestamp(20), Timestamp(1_000), 10, None)
                .await
                .unwrap()
                .len(),
            5
        );
        worlds.push((run, a, ids));
    }
    // Each world its own connector, so that carrier ids match in it only.
    let changes = |ids: &[MessageId], connector: &str| {
        let sent = |id, carrier: &[&str]| {
            let mut u = StatusUpdate::new(Target::Message(id), Status::Sent, Timestamp(30));
            u.connector = Some(connector.into());
            u.carrier_ids = carrier.iter().map(|c| c.to_string()).collect();
            u.carrier_cost = Some(Amount::from_minor(125 * carrier.len() as i64));
            u
        };
        let receipt = |carrier_id: &str, at| {
            let mut u = StatusUpdate::new(
                Target::Carrier {
                    connector: connector.into(),
                    carrier_id: carrier_id.into(),
                },
                Status::Delivered,
                Timestamp(at),
            );
            u.detail = Some("receipt".into());
            u
        };
        let mut retry = StatusUpdate::new(Target::Message(ids[3]), Status::Queued, Timestamp(31));
        retry.retry_at = Some(Timestamp(5_000));
        retry.detail = Some("throttled".into());
        let mut rejected =
            StatusUpdate::new(Target::Message(ids[2]), Status::Rejected, Timestamp(31));
        rejected.detail = Some("refused by the carrier".into());
        rejected.connector = Some(connector.into());
        vec![
            // Its receipt overtakes the acknowledgement.
            receipt("a1", 29),
            sent(ids[0], &["a1"]),
            sent(ids[1], &["b1", "b2"]),
            rejected,
            retry,
            receipt("b1", 32),
            // A second change of one message in the same batch.
            StatusUpdate::new(Target::Message(ids[4]), Status::Failed, Timestamp(33)),
            sent(ids[4], &["e1"]),
            StatusUpdate::new(
                Target::Message(MessageId::generate()),
                Status::Sent,
                Timestamp(34),
            ),
        ]
    };
    let (_, _, batch_ids) = &worlds[0];
    store.apply(changes(batch_ids, "c-batch")).await.unwrap();
    let (_, _, alone_ids) = &worlds[1];
    for u in changes(alone_ids, "c-alone") {
        store.apply(vec![u]).await.unwrap();
    }
    let mut seen = Vec::new();
    for (_, account, ids) in &worlds {
        let mut messages = Vec::new();
        for id in ids {
            let d = store.message(None, *id).await.unwrap().unwrap();
            let history: Vec<_> = d
                .history
                .iter()
                .map(|t| (t.status, t.at, t.applied, t.detail.clone()))
                .collect();
            let parts: Vec<_> = d.parts.iter().map(|p| (p.part, p.status)).collect();
            messages.push((
                d.message.status,
                d.message.refunded,
                d.message.error.clone(),
                history,
                parts,
                d.message.carrier_cost,
            ));
        }
        // Each message's events in order (messages' events interleave as
        // the batch wrote them).
        let mut events: Vec<_> = store
            .events(*account, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                let n = ids
                    .iter()
                    .position(|id| Some(*id) == e.message.as_ref().map(|m| m.id));
                (e.event_type, n, e.seq)
            })
            .collect();
        events.sort_by_key(|(_, n, _)| *n);
        let ledger: Vec<i64> = store
            .ledger(*account, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.amount.whole_credits())
            .collect();
        seen.push((messages, events, ledger, balance(store, *account).await));
    }
    assert_eq!(seen[0], seen[1]);
    let (messages, _, _, balance) = &seen[0];
    assert_eq!(messages[0].0, Status::Delivered);
    assert_eq!(messages[1].0, Status::Sent);
    assert_eq!((messages[2].0, messages[2].1), (Status::Rejected, true));
    assert_eq!(messages[3].0, Status::Queued);
    assert_eq!(messages[4].0, Status::Failed);
    assert_eq!(*balance, 100 - 10 + 2 + 2);
}

/// Rate plans: the default one is there from the start, names are unique
/// per owner, a plan in use or the default one stays, an account's plan
/// and own prices are read back with every price list in force.
pub async fn rate_plans_price_accounts_and_stay_while_used(store: &dyn Store) {
    let price = |class: &str, prefix: &str, minor: i64| Price {
        route_class: class.into(),
        prefix: prefix.into(),
        per_segment: Amount::from_minor(minor),
    };
    let default = store.plans(None).await.unwrap();
    assert_eq!(default.len(), 1, "{default:?}");
    assert!(default[0].is_default);
    let default = default[0].id;

    let gold = store
        .create_plan("gold", None, &by(Timestamp(5)))
        .await
        .unwrap();
    assert_eq!(
        (gold.name.as_str(), gold.is_default, gold.accounts),
        ("gold", false, 0)
    );
    assert!(matches!(
        store.create_plan("gold", None, &by(Timestamp(5))).await,
        Err(StoreError::PlanNameTaken(_))
    ));
    // A reseller's plan of the same name is its own.
    let reseller = account(store, "reseller", 0).await;
    let theirs = store
        .create_plan("gold", Some(reseller), &by(Timestamp(6)))
        .await
        .unwrap();
    assert_eq!(theirs.owner, Some(reseller));
    assert_eq!(store.plans(Some(reseller)).await.unwrap().len(), 1);
    assert_eq!(store.plans(None).await.unwrap().len(), 2);
    assert!(matches!(
        store
            .create_plan("x", Some(AccountId(999)), &by(Timestamp(6)))
            .await,
        Err(StoreError::NoSuchAccount(_))
    ));

    store
        .set_price(
            PriceList::Plan(gold.id),
            price("standard", "31", 350),
            &by(T0),
        )
        .await
        .unwrap();
    store
        .set_price(
            PriceList::Plan(gold.id),
            price("standard", "31", 300),
            &by(T0),
        )
        .await
        .unwrap();
    store
        .set_price(PriceList::Plan(gold.id), price("N", "", 500), &by(T0))
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_price(
                PriceList::Plan(PlanId(999)),
                price("standard", "", 1),
                &by(T0)
            )
            .await,
        Err(StoreError::NoSuchPlan(_))
    ));
    let read = store.plan(gold.id).await.unwrap().unwrap();
    assert_eq!(
        read.prices,
        [price("N", "", 500), price("standard", "31", 300)]
    );

    let a = account(store, "a", 0).await;
    let on_gold = AccountPatch {
        plan: Some(Some(gold.id)),
        ..AccountPatch::default()
    };
    assert_eq!(
        store
            .update_account(a, on_gold, &by(T0))
            .await
            .unwrap()
            .plan,
        Some(gold.id)
    );
    let missing = AccountPatch {
        plan: Some(Some(PlanId(999))),
        ..AccountPatch::default()
    };
    assert!(matches!(
        store.update_account(a, missing, &by(T0)).await,
        Err(StoreError::NoSuchPlan(_))
    ));
    assert_eq!(
        store.account(a).await.unwrap().unwrap().plan,
        Some(gold.id),
        "unchanged"
    );
    assert!(matches!(
        store.delete_plan(gold.id, &by(T0)).await,
        Err(StoreError::PlanInUse {
            why: PlanUse::Accounts(1),
            ..
        })
    ));
    assert!(matches!(
        store.delete_plan(default, &by(T0)).await,
        Err(StoreError::PlanInUse {
            why: PlanUse::Default,
            ..
        })
    ));
    store
        .set_price(PriceList::Account(a), price("standard", "", 100), &by(T0))
        .await
        .unwrap();
    assert!(matches!(
        store
            .set_price(
                PriceList::Account(AccountId(999)),
                price("standard", "", 1),
                &by(T0)
            )
            .await,
        Err(StoreError::NoSuchAccount(_))
    ));

    let snapshot = store.pricing().await.unwrap();
    assert_eq!(snapshot.default, Some(default));
    assert_eq!(snapshot.plans.len(), 3, "every plan, priced or not");
    assert!(snapshot.plans.contains(&(gold.id, read.prices.clone())));
    assert_eq!(snapshot.own, [(a, vec![price("standard", "", 100)])]);

    // A reseller's plan is never the default; the operator's can be.
    assert!(matches!(
        store.set_default_plan(theirs.id, &by(T0)).await,
        Err(StoreError::NoSuchPlan(_))
    ));
    store.set_default_plan(gold.id, &by(T0)).await.unwrap();
    let plans = store.plans(None).await.unwrap();
    let defaults: Vec<_> = plans
        .iter()
        .filter(|p| p.is_default)
        .map(|p| p.id)
        .collect();
    assert_eq!(defaults, [gold.id]);
    store.delete_plan(default, &by(T0)).await.unwrap();
    assert!(store.plan(default).await.unwrap().is_none());

    assert!(
        store
            .delete_price(PriceList::Plan(gold.id), "N", "", &by(T0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_price(PriceList::Plan(gold.id), "N", "", &by(T0))
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_price(PriceList::Account(a), "standard", "", &by(T0))
            .await
            .unwrap()
    );
    store
        .set_connector_cost(
            ConnectorCost {
                connector: "carrier-a".into(),
                prefix: "31".into(),
                per_segment: Amount::from_minor(120),
            },
            &by(T0),
        )
        .await
        .unwrap();
    let snapshot = store.pricing().await.unwrap();
    assert_eq!(snapshot.own, []);
    assert_eq!(snapshot.costs.len(), 1);
    assert!(
        store
            .delete_connector_cost("carrier-a", "31", &by(T0))
            .await
            .unwrap()
    );
}

/// A transfer moves credits whole between two main balances: two
/// `transfer` entries naming each other, or nothing at all when the giver
/// is short or the taker would pass its maximum. Over a random workload
/// of fractional top-ups, adjustments, sends, refunds and transfers, every
/// account's ledger sums to its balance to the minor unit.
pub async fn transfers_are_whole_and_every_ledger_sums_to_its_balance(store: &dyn Store) {
    let parent = account(store, "reseller", 10).await;
    let child = store
        .create_account(
            NewAccount {
                name: "customer".into(),
                password_hash: None,
                default_country: None,
                max_parts: 10,
                credits: Amount::ZERO,
                parent: Some(parent),
            },
            &by(Timestamp(1)),
        )
        .await
        .unwrap();
    assert_eq!(child.parent, Some(parent));
    let child = child.id;
    let listed: Vec<_> = store
        .children(parent)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(listed, [child]);
    assert!(store.children(child).await.unwrap().is_empty());
    let (p, c) = store
        .transfer(
            parent,
            child,
            Amount::from_minor(25_001),
            Some("funding".into()),
            &by(Timestamp(2)),
        )
        .await
        .unwrap();
    assert_eq!(
        (p, c),
        (Amount::from_minor(74_999), Amount::from_minor(25_001))
    );
    let entries = store.ledger(child, 10).await.unwrap();
    assert_eq!(
        (
            entries[0].kind.as_str(),
            entries[0].counterparty,
            entries[0].note.as_deref()
        ),
        ("transfer", Some(parent), Some("funding"))
    );
    assert_eq!(
        store.ledger(parent, 1).await.unwrap()[0].amount,
        Amount::from_minor(-25_001)
    );
    assert!(matches!(
        store
            .transfer(child, parent, Amount::credits(3), None, &by(Timestamp(3)))
            .await,
        Err(StoreError::InsufficientCredits { .. })
    ));
    assert!(matches!(
        store
            .transfer(
                parent,
                AccountId(999),
                Amount::credits(1),
                None,
                &by(Timestamp(3))
            )
            .await,
        Err(StoreError::NoSuchAccount(_))
    ));
    let rich = account(store, "rich", 0).await;
    store
        .adjust_credits(rich, Amount::MAX_BALANCE, None, &by(Timestamp(3)))
        .await
        .unwrap();
    assert!(matches!(
        store
            .transfer(parent, rich, Amount::credits(1), None, &by(Timestamp(3)))
            .await,
        Err(StoreError::BalanceTooLarge { .. })
    ));
    assert_eq!(
        store.ledger(child, 10).await.unwrap().len(),
        1,
        "nothing written"
    );
    assert_eq!(store.account(parent).await.unwrap().unwrap().balance, p);

    // A deterministic random workload (xorshift), amounts with fractions.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let accounts = [parent, child];
    let mut sent = Vec::new();
    // A step every quarter of an hour: statements' usage is counted by
    // the hour.
    const Q: i64 = 900_000;
    const H: i64 = 4 * Q;
    for step in 0..300i64 {
        let at = Timestamp(10 + step * Q);
        let who = accounts[next(2) as usize];
        let amount = Amount::from_minor(1 + next(40_000) as i64);
        match next(5) {
            0 => drop(store.adjust_credits(who, amount, None, &by(at)).await),
            1 => drop(
                store
                    .adjust_credits(who, Amount::from_minor(-amount.minor()), None, &by(at))
                    .await,
            ),
            2 => {
                let (from, to) = if who == parent {
                    (parent, child)
                } else {
                    (child, parent)
                };
                drop(store.transfer(from, to, amount, None, &by(at)).await);
            }
            3 => {
                let (to, country) = if next(2) == 0 {
                    ("+31612345678", "NL")
                } else {
                    ("+447911123456", "GB")
                };
                let mut m = message(to, 1, None);
                m.country = smsgate_core::Country::parse(country).ok();
                m.cost = amount;
                let mut results = store
                    .accept(vec![submission(who, vec![m])], at)
                    .await
                    .unwrap();
                if let Ok(a) = results.remove(0) {
                    sent.push(a.messages[0].id);
                }
            }
            _ => {
                if let Some(id) = sent.pop() {
                    let u = StatusUpdate::new(Target::Message(id), Status::Rejected, at);
                    store.apply(vec![u]).await.unwrap();
                }
            }
        }
    }
    for a in accounts {
        let balance = store.account(a).await.unwrap().unwrap().balance;
        let entries = store.ledger(a, 10_000).await.unwrap();
        let sum = entries.iter().map(|e| e.amount.minor()).sum::<i64>();
        assert_eq!(Amount::from_minor(sum), balance, "account {a}");
        assert!(
            entries.len() > 50,
            "the workload moved credits: {}",
            entries.len()
        );

        // Pages of 7 by cursor are the whole ledger, in order, once.
        let mut paged = Vec::new();
        let mut filter = LedgerFilter::newest(7);
        loop {
            let page = store.ledger_page(a, filter.clone()).await.unwrap();
            let Some(last) = page.last() else { break };
            filter.before = Some(last.id);
            paged.extend(page);
        }
        assert_eq!(paged, entries);
        // By kind, by time.
        let transfers = LedgerFilter {
            kinds: vec![LedgerKind::Transfer, LedgerKind::Refund],
            ..LedgerFilter::newest(10_000)
        };
        let picked = store.ledger_page(a, transfers).await.unwrap();
        let expected: Vec<_> = entries
            .iter()
            .filter(|e| matches!(e.kind, LedgerKind::Transfer | LedgerKind::Refund))
            .cloned()
            .collect();
        assert_eq!(picked, expected);
        let window = LedgerFilter {
            since: Some(Timestamp(100 * Q)),
            until: Some(Timestamp(200 * Q)),
            ..LedgerFilter::newest(10_000)
        };
        let picked = store.ledger_page(a, window).await.unwrap();
        let expected: Vec<_> = entries
            .iter()
            .filter(|e| (100 * Q..200 * Q).contains(&e.created_at.0))
            .cloned()
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(picked, expected);

        // Statements of consecutive periods reconcile with the ledger and
        // with each other, to the minor unit.
        let mut opening = Amount::ZERO;
        let mut sent_in_all = 0;
        for (from, to) in [(0, 37 * H), (37 * H, 38 * H), (38 * H, 100 * H)] {
            let st = store
                .statement(a, Timestamp(from), Timestamp(to))
                .await
                .unwrap();
            assert_eq!(st.opening, opening, "period {from}..{to}");
            let moved = [
                st.topups,
                st.adjustments,
                st.transfers_in,
                st.transfers_out,
                st.debits,
                st.refunds,
            ]
            .iter()
            .map(|x| x.minor())
            .sum::<i64>();
            assert_eq!(st.closing.minor(), st.opening.minor() + moved);
            let window: i64 = entries
                .iter()
                .filter(|e| (from..to).contains(&e.created_at.0))
                .map(|e| e.amount.minor())
                .sum();
            assert_eq!(moved, window);
            let used: i64 = st.usage.iter().map(|u| u.amount.minor()).sum();
            assert_eq!(used, -st.debits.minor(), "usage is what was debited");
            assert!(
                st.usage
                    .iter()
                    .all(|u| matches!(u.country.as_deref(), Some("NL" | "GB")))
            );
            sent_in_all += st.usage.iter().map(|u| u.messages).sum::<u64>();
            opening = st.closing;
        }
        assert_eq!(opening, balance, "the last closing is the balance");
        let debits = entries
            .iter()
            .filter(|e| e.kind == LedgerKind::Debit)
            .count();
        assert_eq!(sent_in_all as usize, debits, "one message a send");
    }
}

/// Every change names who made it and from where, with its object before
/// and after (secrets redacted), in its own transaction: a change refused
/// leaves no entry, the gateway's own changes none, and the log reads
/// back by actor, action, account, time and cursor.
pub async fn every_change_is_audited_in_its_own_transaction(store: &dyn Store) {
    use smsgate_core::operators::{Actor, Role};
    let everything = || AuditFilter {
        limit: 1000,
        ..AuditFilter::default()
    };
    let log = || async { store.audit_log(everything()).await.unwrap() };

    let owner = store
        .create_operator(
            NewOperator {
                name: "olga".into(),
                password_hash: Some("$argon2id$secret".into()),
                role: Role::Owner,
            },
            &by(Timestamp(10)),
        )
        .await
        .unwrap();
    let olga = Audit {
        actor: Actor::Operator(owner.id),
        address: Some("10.0.0.7".parse().unwrap()),
        at: Timestamp(20),
    };
    let new = NewAccount {
        name: "acme".into(),
        password_hash: None,
        default_country: None,
        max_parts: 10,
        credits: Amount::credits(5),
        parent: None,
    };
    let acme = store.create_account(new.clone(), &olga).await.unwrap();
    let entries = log().await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    let made = &entries[0];
    assert_eq!(made.action, AuditAction::AccountCreate);
    assert_eq!(made.actor, Actor::Operator(owner.id));
    assert_eq!(made.address.as_deref(), Some("10.0.0.7"));
    assert_eq!(made.at, Timestamp(20));
    assert_eq!(made.account, Some(acme.id));
    assert_eq!(made.before, None);
    assert_eq!(made.after.as_ref().unwrap()["name"], "acme");
    assert_eq!(entries[1].action, AuditAction::OperatorCreate);
    assert_eq!(entries[1].actor, Actor::Cli);
    assert!(
        !entries[1]
            .after
            .as_ref()
            .unwrap()
            .to_string()
            .contains("argon2"),
        "a password hash reached the log: {:?}",
        entries[1].after
    );

    // Refused changes leave nothing.
    let refusals = [
        store
            .create_account(new.clone(), &olga)
            .await
            .map(|_| ())
            .unwrap_err(),
        store
            .adjust_credits(acme.id, Amount::credits(-6), None, &olga)
            .await
            .map(|_| ())
            .unwrap_err(),
        store
            .update_account(AccountId(999), AccountPatch::default(), &olga)
            .await
            .map(|_| ())
            .unwrap_err(),
        store
            .set_price(
                PriceList::Plan(PlanId(999)),
                Price {
                    route_class: "standard".into(),
                    prefix: "31".into(),
                    per_segment: Amount::credits(1),
                },
                &olga,
            )
            .await
            .unwrap_err(),
        store
            .create_operator(
                NewOperator {
                    name: "olga".into(),
                    password_hash: None,
                    role: Role::Readonly,
                },
                &olga,
            )
            .await
            .map(|_| ())
            .unwrap_err(),
    ];
    assert!(matches!(refusals[0], StoreError::NameTaken(_)));
    assert!(matches!(
        refusals[1],
        StoreError::InsufficientCredits { .. }
    ));
    assert!(matches!(refusals[4], StoreError::OperatorNameTaken(_)));
    assert_eq!(log().await.len(), 2, "refused changes were logged");
    // Nothing changed either way.
    assert_eq!(
        store.account(acme.id).await.unwrap().unwrap().balance,
        Amount::credits(5)
    );
    // What removes nothing records nothing.
    assert!(!store.unassign_number("31600000000", &olga).await.unwrap());
    assert_eq!(log().await.len(), 2);

    // The gateway's own changes are not the log's.
    store
        .update_account(
            acme.id,
            AccountPatch {
                max_parts: Some(3),
                ..AccountPatch::default()
            },
            &Audit::gateway(Timestamp(21)),
        )
        .await
        .unwrap();
    assert_eq!(log().await.len(), 2);

    // A customer's change, with its key; secrets redacted.
    let customer = Audit {
        actor: Actor::Account {
            account: acme.id,
            key: KeyId(4),
        },
        address: Some("2001:db8::1".parse().unwrap()),
        at: Timestamp(30),
    };
    let hook = store
        .create_webhook(
            acme.id,
            NewWebhookEndpoint {
                url: "https://hooks.example/".into(),
                secret: "whsec_topsecret".into(),
                events: Vec::new(),
                max_concurrency: 1,
            },
            &customer,
        )
        .await
        .unwrap();
    let updated = store
        .update_account(
            acme.id,
            AccountPatch {
                password_hash: Some(Some("$argon2id$new".into())),
                status: Some(AccountStatus::Disabled),
                ..AccountPatch::default()
            },
            &olga,
        )
        .await
        .unwrap();
    assert_eq!(updated.status, AccountStatus::Disabled);
    store
        .adjust_credits(
            acme.id,
            Amount::from_minor(350),
            Some("goodwill".into()),
            &olga,
        )
        .await
        .unwrap();
    let entries = log().await;
    let text = format!("{entries:?}");
    assert!(
        !text.contains("topsecret") && !text.contains("argon2id"),
        "{text}"
    );
    let [credits, update, webhook, ..] = &entries[..] else {
        panic!("{entries:?}")
    };
    assert_eq!(webhook.action, AuditAction::WebhookCreate);
    assert_eq!(webhook.actor, customer.actor);
    assert_eq!(webhook.address.as_deref(), Some("2001:db8::1"));
    assert_eq!(webhook.subject, Some(format!("webhook {}", hook.id)));
    assert_eq!(webhook.after.as_ref().unwrap()["secret"], "[redacted]");
    assert_eq!(update.action, AuditAction::AccountUpdate);
    assert_eq!(update.before.as_ref().unwrap()["status"], "active");
    assert_eq!(update.after.as_ref().unwrap()["status"], "disabled");
    assert_eq!(update.after.as_ref().unwrap()["password"], "[redacted]");
    assert_eq!(credits.action, AuditAction::CreditsAdjust);
    assert_eq!(credits.before.as_ref().unwrap()["balance"], "5.0000");
    assert_eq!(credits.after.as_ref().unwrap()["balance"], "5.0350");
    assert_eq!(credits.after.as_ref().unwrap()["note"], "goodwill");

    // Filters and pages.
    let page = |f: AuditFilter| async move { store.audit_log(f).await.unwrap() };
    let actions = |e: Vec<AuditEntry>| e.iter().map(|e| e.action).collect::<Vec<_>>();
    assert_eq!(
        actions(
            page(AuditFilter {
                actor_kind: Some("account"),
                ..everything()
            })
            .await
        ),
        [AuditAction::WebhookCreate]
    );
    assert_eq!(
        page(AuditFilter {
            actor_kind: Some("operator"),
            actor_id: Some(owner.id.0),
            ..everything()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        actions(
            page(AuditFilter {
                actions: vec![AuditAction::AccountUpdate, AuditAction::OperatorCreate],
                ..everything()
            })
            .await
        ),
        [AuditAction::AccountUpdate, AuditAction::OperatorCreate]
    );
    assert_eq!(
        page(AuditFilter {
            account: Some(acme.id),
            ..everything()
        })
        .await
        .len(),
        4
    );
    assert_eq!(
        actions(
            page(AuditFilter {
                since: Some(Timestamp(20)),
                until: Some(Timestamp(30)),
                ..everything()
            })
            .await
        ),
        [
            AuditAction::CreditsAdjust,
            AuditAction::AccountUpdate,
            AuditAction::AccountCreate
        ]
    );
    let first = page(AuditFilter {
        limit: 2,
        ..everything()
    })
    .await;
    let rest = page(AuditFilter {
        before: Some(first[1].id),
        ..everything()
    })
    .await;
    assert_eq!(first.len() + rest.len(), entries.len());
    assert!(rest.iter().all(|e| e.id < first[1].id));
}

/// Operators' tokens are found by their hash until they are revoked or
/// expire; a revoked token stays revoked at its first time.
pub async fn operator_tokens_end_when_revoked_or_expired(store: &dyn Store) {
    use smsgate_core::operators::Role;
    let op = store
        .create_operator(
            NewOperator {
                name: "sam".into(),
                password_hash: None,
                role: Role::Support,
            },
            &by(T0),
        )
        .await
        .unwrap();
    let token = |hash: u8, expires: Option<i64>| NewOperatorToken {
        hash: [hash; 32],
        prefix: "sgo_abc".into(),
        label: Some("ci".into()),
        expires_at: expires.map(Timestamp),
    };
    let lasting = store
        .create_operator_token(op.id, token(1, None), &by(Timestamp(5)))
        .await
        .unwrap();
    let brief = store
        .create_operator_token(op.id, token(2, Some(100)), &by(Timestamp(5)))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_operator_token(OperatorId(999), token(3, None), &by(T0))
            .await,
        Err(StoreError::NoSuchOperator(_))
    ));
    let (found, who) = store
        .operator_token_by_hash([2; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, who.id, who.role),
        (brief.id, op.id, Role::Support)
    );
    assert!(!found.has_ended(Timestamp(99)) && found.has_ended(Timestamp(100)));
    assert_eq!(store.operator_token_by_hash([9; 32]).await.unwrap(), None);

    let revoked = store
        .revoke_operator_token(lasting.id, &by(Timestamp(50)))
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(Timestamp(50)));
    let again = store
        .revoke_operator_token(lasting.id, &by(Timestamp(60)))
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(Timestamp(50)));
    assert!(again.has_ended(Timestamp(50)));
    assert_eq!(store.operator_tokens(op.id).await.unwrap().len(), 2);

    let changed = store
        .update_operator(
            op.id,
            OperatorPatch {
                role: Some(Role::Admin),
                disabled: Some(true),
                ..OperatorPatch::default()
            },
            &by(T0),
        )
        .await
        .unwrap();
    assert_eq!((changed.role, changed.disabled), (Role::Admin, true));
    assert_eq!(store.operators().await.unwrap(), vec![changed.clone()]);
    assert_eq!(store.operator_by_name("sam").await.unwrap(), Some(changed));
    // One entry per change that changed something: made, two tokens,
    // one revocation, the update.
    let actions: Vec<_> = store
        .audit_log(AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            AuditAction::OperatorUpdate,
            AuditAction::OperatorTokenRevoke,
            AuditAction::OperatorTokenCreate,
            AuditAction::OperatorTokenCreate,
            AuditAction::OperatorCreate
        ]
    );
}

/// Erasing a number takes the texts of one account's messages to it (not
/// those still to be sent) and of its inbound messages from it; statuses,
/// prices and the suppression entry stay, another account's data too, and
/// the audit log has the erasure with the number masked.
pub async fn erasing_a_number_leaves_statuses_prices_and_suppression(store: &dyn Store) {
    let a = account(store, "a", 10).await;
    let b = account(store, "b", 10).await;
    let to = "+31612345678";
    let (sent, waiting, other) = (
        message(to, 2, Some(Timestamp(99_999))),
        message(to, 1, Some(Timestamp(99_999))),
        message(to, 1, None),
    );
    let (sent_id, waiting_id, other_id) = (sent.id, waiting.id, other.id);
    store
        .accept(
            vec![
                submission(a, vec![sent, waiting]),
                submission(b, vec![other]),
            ],
            Timestamp(10),
        )
        .await
        .unwrap();
    // Canceled: final, no longer to be sent.
    store.cancel(a, sent_id, Timestamp(20)).await.unwrap();
    store
        .assign_number("3197010000001", a, &by(T0))
        .await
        .unwrap();
    store
        .receive_inbound(vec![mo("3197010000001", "my secret reply", None)])
        .await
        .unwrap();
    store
        .change_suppressions(
            a,
            vec![Msisdn::parse(to, None).unwrap()],
            OptOutAction::OptOut,
            SuppressionSource::Api,
            &by(T0),
        )
        .await
        .unwrap();

    let erased = store
        .erase_number(a, Msisdn::parse(to, None).unwrap(), &by(Timestamp(30)))
        .await
        .unwrap();
    assert_eq!(
        erased,
        Erased {
            messages: 1,
            pending: 1,
            inbound: 1
        }
    );
    let text = |account, id| async move {
        store
            .message(Some(account), id)
            .await
            .unwrap()
            .unwrap()
            .message
    };
    let gone = text(a, sent_id).await;
    assert_eq!((gone.text.as_str(), gone.status), ("", Status::Canceled));
    assert_eq!(gone.cost, Amount::credits(2));
    assert_eq!(text(a, waiting_id).await.text, "hi", "still to be sent");
    assert_eq!(text(b, other_id).await.text, "hi", "another account's");
    assert_eq!(store.inbound(a, None, 10).await.unwrap()[0].text, "");
    assert_eq!(
        store.suppressed(a, vec![to.into()]).await.unwrap(),
        vec![to.to_string()]
    );
    let log = store
        .audit_log(AuditFilter {
            actions: vec![AuditAction::NumberErase],
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].subject.as_deref(), Some("number +316*****678"));
    assert_eq!(log[0].after.as_ref().unwrap()["messages"], 1);
    assert!(!format!("{log:?}").contains("612345678"));
    // Again: nothing more to erase.
    let again = store
        .erase_number(a, Msisdn::parse(to, None).unwrap(), &by(Timestamp(31)))
        .await
        .unwrap();
    assert_eq!((again.messages, again.inbound), (0, 0));
    assert!(matches!(
        store
            .erase_number(AccountId(999), Msisdn::parse(to, None).unwrap(), &by(T0))
            .await,
        Err(StoreError::NoSuchAccount(_))
    ));
}

/// Each change of what the gateway is set up with writes its own entry,
/// naming what it did and the account it concerns.
pub async fn each_audited_change_records_its_action(store: &dyn Store) {
    use AuditAction as A;
    let a = account(store, "a", 10).await;
    let child = store
        .create_account(
            NewAccount {
                name: "child".into(),
                password_hash: None,
                default_country: None,
                max_parts: 10,
                credits: Amount::ZERO,
                parent: Some(a),
            },
            &by(T0),
        )
        .await
        .unwrap()
        .id;
    let newest = || async {
        let e = store
            .audit_log(AuditFilter {
                limit: 1,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        (e[0].action, e[0].account)
    };
    let key = |h: u8| NewApiKey {
        hash: [h; 32],
        prefix: "sg_abc".into(),
        label: None,
        allowed_ips: None,
    };
    let made = store.create_key(a, key(1), &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::KeyCreate, Some(a)));
    store
        .set_key_networks(made.id, None, &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::KeyNetworks, Some(a)));
    store
        .rotate_key(made.id, key(2), Timestamp(50), &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::KeyRotate, Some(a)));
    store.revoke_key(made.id, T0, &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::KeyRevoke, Some(a)));
    store
        .adjust_category_credits(a, Category::Otp, Amount::credits(1), None, &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::CreditsAdjust, Some(a)));
    store
        .transfer(a, child, Amount::credits(1), None, &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::CreditsTransfer, Some(a)));

    let plan = store.create_plan("p", None, &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::PlanCreate, None));
    let price = Price {
        route_class: "standard".into(),
        prefix: "31".into(),
        per_segment: Amount::credits(1),
    };
    store
        .set_price(PriceList::Plan(plan.id), price.clone(), &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::PriceSet, None));
    store
        .set_price(PriceList::Account(a), price, &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::PriceSet, Some(a)));
    assert!(
        store
            .delete_price(PriceList::Account(a), "standard", "31", &by(T0))
            .await
            .unwrap()
    );
    assert_eq!(newest().await, (A::PriceDelete, Some(a)));
    let old_default = store.plans(None).await.unwrap()[0].id;
    store.set_default_plan(plan.id, &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::PlanDefault, None));
    store.delete_plan(old_default, &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::PlanDelete, None));
    let cost = ConnectorCost {
        connector: "c".into(),
        prefix: "31".into(),
        per_segment: Amount::from_minor(100),
    };
    store.set_connector_cost(cost, &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::CostSet, None));
    assert!(
        store
            .delete_connector_cost("c", "31", &by(T0))
            .await
            .unwrap()
    );
    assert_eq!(newest().await, (A::CostDelete, None));
    store
        .set_setting("routing", r#"{"connectors":[]}"#, &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::SettingSet, None));

    store.assign_number("4400", a, &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::NumberAssign, Some(a)));
    assert!(store.unassign_number("4400", &by(T0)).await.unwrap());
    assert_eq!(newest().await, (A::NumberUnassign, Some(a)));
    store
        .assign_keyword("4400", "PIZZA", a, &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::KeywordAssign, Some(a)));
    assert!(
        store
            .unassign_keyword("4400", "PIZZA", &by(T0))
            .await
            .unwrap()
    );
    assert_eq!(newest().await, (A::KeywordUnassign, Some(a)));

    let sender = store
        .create_sender(
            a,
            NewSender {
                sender_id: "ACME".into(),
                category: Category::Transactional,
                purpose: None,
            },
            &by(T0),
        )
        .await
        .unwrap();
    assert_eq!(newest().await, (A::SenderCreate, Some(a)));
    store
        .approve_sender(sender.id.clone(), &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::SenderApprove, Some(a)));
    let template = store
        .create_template(
            a,
            NewTemplate {
                name: "t".into(),
                template_id: "t1".into(),
                category: Category::Transactional,
                sender_id: None,
                text: "hi".into(),
            },
            &by(T0),
        )
        .await
        .unwrap();
    assert_eq!(newest().await, (A::TemplateCreate, Some(a)));
    store.approve_template(template.id, &by(T0)).await.unwrap();
    assert_eq!(newest().await, (A::TemplateApprove, Some(a)));
    assert!(store.delete_sender(a, sender.id, &by(T0)).await.unwrap());
    assert_eq!(newest().await, (A::SenderDelete, Some(a)));

    store
        .change_suppressions(
            a,
            vec![Msisdn::parse("+31612345678", None).unwrap()],
            OptOutAction::OptOut,
            SuppressionSource::Api,
            &by(T0),
        )
        .await
        .unwrap();
    assert_eq!(newest().await, (A::SuppressionsChange, Some(a)));
    let hook = store
        .create_webhook(
            a,
            NewWebhookEndpoint {
                url: "https://h.example/".into(),
                secret: "s".into(),
                events: Vec::new(),
                max_concurrency: 1,
            },
            &by(T0),
        )
        .await
        .unwrap();
    assert_eq!(newest().await, (A::WebhookCreate, Some(a)));
    for (enabled, action) in [(false, A::WebhookDisable), (true, A::WebhookEnable)] {
        store
            .set_webhook_enabled(a, hook.id.clone(), enabled, &by(T0))
            .await
            .unwrap();
        assert_eq!(newest().await, (action, Some(a)));
    }
    assert!(store.delete_webhook(a, hook.id, &by(T0)).await.unwrap());
    assert_eq!(newest().await, (A::WebhookDelete, Some(a)));
    store
        .update_account(child, AccountPatch::default(), &by(T0))
        .await
        .unwrap();
    assert_eq!(newest().await, (A::AccountUpdate, Some(child)));
}

/// The last active owner cannot be demoted or disabled; with another
/// owner it can.
pub async fn the_last_active_owner_stays_one(store: &dyn Store) {
    use smsgate_core::operators::Role;
    let owner = |name: &str| NewOperator {
        name: name.into(),
        password_hash: None,
        role: Role::Owner,
    };
    let first = store
        .create_operator(owner("first"), &by(T0))
        .await
        .unwrap();
    let demote = OperatorPatch {
        role: Some(Role::Admin),
        ..OperatorPatch::default()
    };
    let disable = OperatorPatch {
        disabled: Some(true),
        ..OperatorPatch::default()
    };
    for patch in [demote.clone(), disable.clone()] {
        assert!(matches!(
            store.update_operator(first.id, patch, &by(T0)).await,
            Err(StoreError::LastOwner)
        ));
    }
    assert_eq!(store.operator(first.id).await.unwrap(), Some(first.clone()));
    let second = store
        .create_operator(owner("second"), &by(T0))
        .await
        .unwrap();
    let changed = store
        .update_operator(first.id, demote, &by(T0))
        .await
        .unwrap();
    assert_eq!(changed.role, Role::Admin);
    assert!(matches!(
        store.update_operator(second.id, disable, &by(T0)).await,
        Err(StoreError::LastOwner)
    ));
    // A change that keeps the owner an owner is no demotion.
    store
        .update_operator(second.id, OperatorPatch::default(), &by(T0))
        .await
        .unwrap();
}

/// Runs every test of the suite on a fresh store from `$open` (an
/// expression giving `(guard, store)`), one `#[tokio::test]` each.
/// The usage counters are what a recount of the messages gives, after
/// every path a message can take (alone and in groups, claimed, sent,
/// retried, receipted, refunded, canceled, expired), and they stay when
/// a number's texts are erased; the statement's usage is theirs.
pub async fn usage_counters_are_what_a_recount_of_the_messages_gives(store: &dyn Store) {
    use std::collections::BTreeMap;
    const H: i64 = 3_600_000;
    let a = account(store, "a", 100).await;
    let b = account(store, "b", 100).await;
    let mut countries = std::collections::HashMap::new();
    let mut new = |to: &str, cost: i64, country: Option<&str>, schedule: Option<Timestamp>| {
        let mut m = message(to, cost, schedule);
        m.country = country.map(|c| smsgate_core::Country::parse(c).unwrap());
        countries.insert(m.id, country.map(str::to_string));
        m
    };
    // Hour 1: one request of four, and three of one message each (a
    // group commit's bulk path on PostgreSQL).
    let four: Vec<_> = (0..4)
        .map(|i| new(&format!("+3161234560{i}"), 1 + i, Some("NL"), None))
        .collect();
    let ids: Vec<MessageId> = four.iter().map(|m| m.id).collect();
    let mut singles = vec![submission(a, four)];
    let mut more = Vec::new();
    for (i, account) in [a, a, b].into_iter().enumerate() {
        let mut m = new(
            &format!("+491511234567{i}"),
            2,
            (i != 1).then_some("DE"),
            None,
        );
        m.category = Category::Promotional;
        more.push(m.id);
        singles.push(submission(account, vec![m]));
    }
    store.accept(singles, Timestamp(H + 10)).await.unwrap();
    // Hour 2: a scheduled one canceled, one that expires, one waiting.
    let canceled = new("+31612345690", 1, Some("NL"), Some(Timestamp(99 * H)));
    let mut expiring = new("+31612345691", 1, Some("NL"), Some(Timestamp(3 * H)));
    expiring.expires_at = Some(Timestamp(3 * H + 1));
    let waiting = new("+31612345692", 1, None, Some(Timestamp(99 * H)));
    let later = [canceled.id, expiring.id, waiting.id];
    store
        .accept(
            vec![submission(a, vec![canceled, expiring, waiting])],
            Timestamp(2 * H + 5),
        )
        .await
        .unwrap();
    store
        .cancel(a, later[0], Timestamp(2 * H + 6))
        .await
        .unwrap();
    store
        .claim(NODE, Timestamp(2 * H + 20), Timestamp(9 * H), 100, None)
        .await
        .unwrap();
    let sent = |id, carrier: &str, connector: &str, at| {
        let mut u = StatusUpdate::new(Target::Message(id), Status::Sent, Timestamp(at));
        u.connector = Some(connector.into());
        u.carrier_ids = vec![carrier.into()];
        u.carrier_cost = Some(Amount::from_minor(125));
        u
    };
    let receipt = |carrier: &str, status, at| {
        StatusUpdate::new(
            Target::Carrier {
                connector: "c1".into(),
                carrier_id: carrier.into(),
            },
            status,
            Timestamp(at),
        )
    };
    let mut retry = StatusUpdate::new(Target::Message(ids[3]), Status::Queued, Timestamp(2 * H));
    retry.retry_at = Some(Timestamp(2 * H + 30));
    // A batch of outcomes (PostgreSQL's bulk path), then one at a time.
    store
        .apply(vec![
            sent(ids[0], "k0", "c1", 2 * H + 100),
            sent(ids[1], "k1", "c1", 2 * H + 100),
            StatusUpdate::new(
                Target::Message(ids[2]),
                Status::Rejected,
                Timestamp(2 * H + 100),
            ),
            retry,
            sent(more[0], "k4", "c2", 2 * H + 100),
            StatusUpdate::new(
                Target::Message(more[1]),
                Status::Failed,
                Timestamp(2 * H + 100),
            ),
        ])
        .await
        .unwrap();
    store
        .apply(vec![sent(more[2], "k6", "c1", 2 * H + 200)])
        .await
        .unwrap();
    store
        .apply(vec![receipt("k0", Status::Delivered, 2 * H + 900)])
        .await
        .unwrap();
    store
        .apply(vec![
            receipt("k1", Status::Undelivered, 2 * H + 950),
            receipt("k6", Status::Delivered, 2 * H + 990),
        ])
        .await
        .unwrap();
    // The retried one is claimed again (its connector set while it is
    // submitting, which does not count) and expires elsewhere: none here.
    store
        .claim(NODE, Timestamp(2 * H + 40), Timestamp(9 * H), 100, None)
        .await
        .unwrap();
    store
        .expire_overdue(Timestamp(3 * H + 2), 100)
        .await
        .unwrap();

    type Key = (
        i64,
        AccountId,
        &'static str,
        Option<String>,
        Option<String>,
        UsageStatus,
    );
    let recount = || async {
        let mut want: BTreeMap<Key, (u64, u64, Amount, Amount, Amount, u64)> = BTreeMap::new();
        for id in ids.iter().chain(&more).chain(&later) {
            let m = store.message(None, *id).await.unwrap().unwrap().message;
            let status = UsageStatus::of(m.status);
            let pending = status == UsageStatus::Pending;
            let key = (
                m.created_at.0 - m.created_at.0 % H,
                m.account_id,
                m.category.as_str(),
                countries[id].clone(),
                if pending { None } else { m.connector.clone() },
                status,
            );
            let e = want
                .entry(key)
                .or_insert((0, 0, Amount::ZERO, Amount::ZERO, Amount::ZERO, 0));
            e.0 += 1;
            e.1 += m.segments as u64;
            e.2 = e.2.checked_add(m.cost).unwrap();
            if m.refunded {
                e.3 = e.3.checked_add(m.cost).unwrap();
            }
            if !pending && let Some(c) = m.carrier_cost {
                e.4 = e.4.checked_add(c).unwrap();
            }
            if status == UsageStatus::Delivered {
                e.5 += (m.updated_at.0 - m.created_at.0) as u64;
            }
        }
        want
    };
    let all = UsageGroups {
        account: true,
        category: true,
        country: true,
        connector: true,
        status: true,
    };
    let counted = || async {
        let rows = store
            .usage(UsageQuery {
                from: Timestamp(0),
                to: Timestamp(10 * H),
                accounts: None,
                interval: UsageInterval::Hour,
                groups: all,
            })
            .await
            .unwrap();
        let mut got: BTreeMap<Key, (u64, u64, Amount, Amount, Amount, u64)> = BTreeMap::new();
        for r in rows {
            let c = r.counts;
            let key = (
                r.period.0,
                r.account.unwrap(),
                r.category.unwrap().as_str(),
                r.country.unwrap(),
                r.connector.unwrap(),
                r.status.unwrap(),
            );
            assert_eq!(c.of(key.5), c.messages, "one status per row");
            let old = got.insert(
                key,
                (
                    c.messages,
                    c.segments,
                    c.price,
                    c.refunded,
                    c.carrier_cost,
                    c.latency_ms,
                ),
            );
            assert!(old.is_none(), "one row per key");
        }
        got
    };
    let want = recount().await;
    // The workload reached the states it means to.
    let statuses: std::collections::BTreeSet<_> = want.keys().map(|k| k.5).collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        [
            UsageStatus::Pending,
            UsageStatus::Sent,
            UsageStatus::Delivered,
            UsageStatus::Undelivered,
            UsageStatus::Expired,
            UsageStatus::Rejected,
            UsageStatus::Failed,
            UsageStatus::Canceled,
        ]
    );
    assert_eq!(counted().await, want);

    // Per day, one account, no groups: one row with every status.
    let day = store
        .usage(UsageQuery {
            from: Timestamp(0),
            to: Timestamp(24 * H),
            accounts: Some(vec![a]),
            interval: UsageInterval::Day,
            groups: UsageGroups::default(),
        })
        .await
        .unwrap();
    assert_eq!(day.len(), 1);
    let c = &day[0].counts;
    assert_eq!(
        (day[0].period, day[0].account, day[0].status),
        (Timestamp(0), None, None)
    );
    assert_eq!(c.messages, 9);
    assert_eq!(
        (
            c.of(UsageStatus::Delivered),
            c.of(UsageStatus::Pending),
            c.of(UsageStatus::Canceled)
        ),
        (1, 2, 1)
    );
    // Delivered of the seven that left: ids[0] only (b's is b's).
    assert_eq!(c.delivery_rate(), Some(1.0 / 6.0));
    assert_eq!(c.average_latency_ms(), Some(H as u64 + 890));

    // Erasing texts changes no counter; the statement's usage is theirs.
    store
        .erase_number(
            a,
            Msisdn::parse("+31612345600", None).unwrap(),
            &by(Timestamp(4 * H)),
        )
        .await
        .unwrap();
    assert_eq!(counted().await, want);
    let statement = store
        .statement(a, Timestamp(0), Timestamp(24 * H))
        .await
        .unwrap();
    let usage: Vec<_> = statement
        .usage
        .iter()
        .map(|u| (u.category, u.country.clone(), u.messages, u.amount))
        .collect();
    assert_eq!(
        usage,
        [
            (Category::Promotional, None, 1, Amount::credits(2)),
            (
                Category::Promotional,
                Some("DE".into()),
                1,
                Amount::credits(2)
            ),
            (Category::Transactional, None, 1, Amount::credits(1)),
            (
                Category::Transactional,
                Some("NL".into()),
                6,
                Amount::credits(12)
            ),
        ]
    );
    assert_eq!(
        statement.debits,
        Amount::credits(-17),
        "usage lines sum to the debits"
    );
}

/// Retention removes old texts and click targets and masks old numbers,
/// in steps, for one account; what still waits to be sent keeps both
/// until it no longer waits; statuses, prices, usage and statements stay.
pub async fn retention_removes_old_texts_and_numbers_and_keeps_what_counts(store: &dyn Store) {
    const DAY: i64 = 24 * 3_600_000;
    let a = account(store, "a", 100).await;
    let b = account(store, "b", 100).await;
    let old = Timestamp(DAY + 5);
    let mut linked = message("+31612345601", 1, None);
    linked.links = vec![smsgate_core::send::ShortLink {
        code: "abc123".into(),
        url: "https://example.com/offer".into(),
    }];
    let (sent, waiting) = (
        message("+31612345602", 1, None),
        message("+31612345603", 1, Some(Timestamp(90 * DAY))),
    );
    let theirs = message("+31612345604", 1, None);
    let ids = [linked.id, sent.id, waiting.id];
    let their_id = theirs.id;
    store
        .accept(
            vec![
                submission(a, vec![linked, sent, waiting]),
                submission(b, vec![theirs]),
            ],
            old,
        )
        .await
        .unwrap();
    store
        .claim(NODE, Timestamp(DAY + 10), Timestamp(2 * DAY), 100, None)
        .await
        .unwrap();
    for id in &ids[..2] {
        store
            .apply(vec![StatusUpdate::new(
                Target::Message(*id),
                Status::Failed,
                Timestamp(DAY + 20),
            )])
            .await
            .unwrap();
    }
    store
        .assign_number("3197010000001", a, &by(T0))
        .await
        .unwrap();
    let mut inbound = mo("3197010000001", "my old reply", None);
    inbound.received_at = Timestamp(DAY + 30);
    store.receive_inbound(vec![inbound]).await.unwrap();
    let recent = message("+31612345605", 1, None);
    let recent_id = recent.id;
    store
        .accept(vec![submission(a, vec![recent])], Timestamp(40 * DAY))
        .await
        .unwrap();

    let usage = || async {
        store
            .usage(UsageQuery {
                from: Timestamp(0),
                to: Timestamp(100 * DAY),
                accounts: None,
                interval: UsageInterval::Day,
                groups: UsageGroups {
                    account: true,
                    status: true,
                    ..UsageGroups::default()
                },
            })
            .await
            .unwrap()
    };
    let (usage_before, statement_before) = (
        usage().await,
        store
            .statement(a, Timestamp(0), Timestamp(100 * DAY))
            .await
            .unwrap(),
    );
    let cut = RetentionCut {
        account: a,
        texts_before: Some(Timestamp(30 * DAY)),
        numbers_before: Some(Timestamp(30 * DAY)),
    };
    // One row a step: the steps go on until nothing is left.
    let mut total = Retained::default();
    let mut steps = 0;
    loop {
        total.add(store.retain(cut, 1).await.unwrap());
        steps += 1;
        if !total.more {
            break;
        }
        assert!(steps < 20, "retention ends");
    }
    assert!(steps > 2, "in steps: {steps}");
    assert_eq!(
        (
            total.texts,
            total.numbers,
            total.inbound_texts,
            total.inbound_numbers
        ),
        (2, 2, 1, 1)
    );
    let read = |account, id| async move {
        store
            .message(Some(account), id)
            .await
            .unwrap()
            .unwrap()
            .message
    };
    for id in &ids[..2] {
        let m = read(a, *id).await;
        assert_eq!(m.text, "", "old text gone");
        assert!(
            m.to.starts_with("+316") && m.to.contains("*****"),
            "{}",
            m.to
        );
        assert_eq!(
            (m.status, m.cost, m.refunded),
            (Status::Failed, Amount::credits(1), true)
        );
    }
    assert_eq!(
        store.click("abc123", Timestamp(40 * DAY)).await.unwrap(),
        None,
        "click target gone"
    );
    let w = read(a, ids[2]).await;
    assert_eq!(
        (w.text.as_str(), w.to.as_str()),
        ("hi", "+31612345603"),
        "still to be sent"
    );
    let r = read(a, recent_id).await;
    assert_eq!(
        (r.text.as_str(), r.to.as_str()),
        ("hi", "+31612345605"),
        "recent"
    );
    let t = read(b, their_id).await;
    assert_eq!(
        (t.text.as_str(), t.to.as_str()),
        ("hi", "+31612345604"),
        "another account's"
    );
    let mo = &store.inbound(a, None, 10).await.unwrap()[0];
    assert_eq!(mo.text, "");
    assert!(
        mo.from.contains('*') && !mo.from.contains("12345678"),
        "{}",
        mo.from
    );
    assert_eq!(usage().await, usage_before, "usage stays");
    assert_eq!(
        store
            .statement(a, Timestamp(0), Timestamp(100 * DAY))
            .await
            .unwrap(),
        statement_before,
        "statements stay"
    );

    // Once the straggler is no longer waiting, the next step takes it;
    // then there is nothing left to do.
    store.cancel(a, ids[2], Timestamp(41 * DAY)).await.unwrap();
    let r = store.retain(cut, 100).await.unwrap();
    assert_eq!((r.texts, r.numbers, r.more), (1, 1, false));
    let w = read(a, ids[2]).await;
    assert_eq!(w.text, "");
    assert!(w.to.contains('*'));
    assert_eq!(store.retain(cut, 100).await.unwrap(), Retained::default());
    // Numbers only: texts are another rule.
    store
        .cancel(a, recent_id, Timestamp(42 * DAY))
        .await
        .unwrap();
    let later = RetentionCut {
        account: a,
        texts_before: None,
        numbers_before: Some(Timestamp(50 * DAY)),
    };
    let r = store.retain(later, 100).await.unwrap();
    assert_eq!((r.texts, r.numbers), (0, 1));
    assert_eq!(read(a, recent_id).await.text, "hi");

    // An account's own rule is kept with it; `None` is the server's.
    let patched = store
        .update_account(
            a,
            AccountPatch {
                keep_texts_days: Some(Some(30)),
                ..AccountPatch::default()
            },
            &by(T0),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.retention,
        Retention {
            texts_days: Some(30),
            numbers_days: None
        }
    );
}

/// The writer keeps the usage counters' changes until its group commits:
/// a job undone takes its own back, the others' are written once.
pub(crate) async fn a_job_undone_takes_its_usage_counts_back<B: crate::sql::Backend>(
    store: &crate::sql::SqlStore<B>,
) {
    let a = account(store, "a", 100).await;
    let jobs: Vec<_> = (0..6)
        .map(|i| {
            let m = message(&format!("+3161234567{i}"), 1, None);
            store.backend.write(move |c| {
                crate::sql::messages::accept(c, submission(a, vec![m]), Timestamp(10))?
                    .map_err(|r| StoreError::Corrupt(format!("{r:?}")))?;
                if i % 2 == 1 {
                    return Err(StoreError::Corrupt("undone".into()));
                }
                Ok(())
            })
        })
        .collect();
    let results = join_all(jobs).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    let rows = store
        .usage(UsageQuery {
            from: Timestamp(0),
            to: Timestamp(3_600_000),
            accounts: None,
            interval: UsageInterval::Whole,
            groups: UsageGroups::default(),
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].counts.messages, rows[0].counts.price),
        (3, Amount::credits(3))
    );
    assert_eq!(balance(store, a).await, 97);
}

macro_rules! behaviour_suite {
    ($open:expr) => {
        $crate::testing::behaviour_suite!(@each $open; a_key_is_made_with_its_networks, one_group_commit_refuses_what_the_balance_cannot_cover, a_failing_job_does_not_undo_the_others_in_its_commit, idempotent_submissions_replay_and_conflict, claims_are_leased_and_retaken_when_the_lease_ends, scheduled_messages_wait_on_disk_until_due, refunds_happen_once_and_final_states_stay_final, receipts_match_by_carrier_id_preferring_the_waiting_message, acknowledged_messages_are_walked_once_in_history_order, a_long_message_is_delivered_when_every_part_is, one_failed_part_fails_the_message_at_once, receipts_match_across_case_zeros_and_hex_or_decimal, cancel_only_what_has_not_been_sent_and_only_ones_own, expiry_refunds_messages_that_never_left, credits_never_go_below_zero, inbound_messages_reach_the_account_owning_the_number, long_inbound_messages_are_reassembled_in_order_once, every_change_a_client_hears_of_is_an_event_in_the_same_transaction, an_endpoint_that_is_down_holds_a_bounded_number_of_deliveries, keywords_route_shared_numbers_and_opt_recipients_out_and_in, old_events_go_only_once_every_enabled_endpoint_has_them, suppressed_recipients_are_refused_in_the_intake_transaction_without_charge, opt_out_changes_of_one_number_are_delivered_in_order, split_balances_charge_and_refund_the_message_s_category, priority_messages_are_claimed_first, the_newest_event_outlives_retention_so_event_ids_never_repeat, leases_count_as_in_flight_until_recorded_or_released, replays_and_tests_stay_within_the_pending_cap, balances_stop_at_their_maximum_without_a_change, senders_and_templates_are_the_account_s_own_until_approved, concurrent_debits_never_overdraw, messages_of_one_request_are_stored_as_one_alone_is, each_connector_is_held_by_one_live_node, a_batch_of_status_changes_leaves_what_each_alone_does, every_message_of_a_claim_records_its_step, a_group_of_requests_is_answered_as_each_alone_in_order, a_dead_node_s_claims_are_retaken_at_once, messages_wait_for_the_node_holding_their_connector, changes_are_heard_where_they_are_announced, rate_plans_price_accounts_and_stay_while_used, transfers_are_whole_and_every_ledger_sums_to_its_balance, every_change_is_audited_in_its_own_transaction, operator_tokens_end_when_revoked_or_expired, erasing_a_number_leaves_statuses_prices_and_suppression, each_audited_change_records_its_action, the_last_active_owner_stays_one, usage_counters_are_what_a_recount_of_the_messages_gives, retention_removes_old_texts_and_numbers_and_keeps_what_counts);
    };
    (@each $open:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_guard, store) = $open;
                $crate::testing::$name(&store).await;
            }
        )*
    };
}
pub(crate) use behaviour_suite;
