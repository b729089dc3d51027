//! What a message costs: its price, charged at intake from the account's
//! plan, and its carrier cost, recorded when its connector's carrier takes
//! it.

mod common;

use smsgate_core::{Amount, Price, Status};
use smsgate_engine::EngineConfig;
use smsgate_engine::records::{ConnectorCost, PriceList};
use smsgate_store::AccountPatch;

/// A message sent through a connector records its cost there for its
/// destination's longest prefix; one to a destination the connector has
/// no cost for costs nothing there.
#[tokio::test]
async fn every_sent_message_records_its_price_and_its_carrier_cost() {
    let mut config = EngineConfig::default();
    config.simulator.drop_ratio = 1.0;
    let f = common::delivering(config).await;
    for (prefix, cost) in [("31", "0.01"), ("316", "0.0125")] {
        f.engine
            .set_connector_cost(
                &smsgate_engine::By::cli(),
                ConnectorCost {
                    connector: smsgate_engine::SIMULATOR.into(),
                    prefix: prefix.into(),
                    per_segment: Amount::parse(cost).unwrap(),
                },
            )
            .await
            .unwrap();
    }
    let plan = f
        .engine
        .create_plan(&smsgate_engine::By::cli(), "gold", None)
        .await
        .unwrap();
    f.engine
        .set_list_price(
            &smsgate_engine::By::cli(),
            PriceList::Plan(plan.id),
            Price {
                route_class: "standard".into(),
                prefix: "".into(),
                per_segment: Amount::parse("0.03").unwrap(),
            },
        )
        .await
        .unwrap();
    f.patch(AccountPatch {
        plan: Some(Some(plan.id)),
        ..AccountPatch::default()
    })
    .await;

    let caller = f.caller().await;
    let mut request = common::request(&["+31612345678", "+447911123456"]);
    request.text = Some("x".repeat(200));
    let sent = f.engine.send(&caller, request, None, None).await.unwrap();
    for m in &sent.messages {
        common::wait_for(&f, m.id, Status::Sent).await;
    }
    let read = |i: usize| {
        let id = sent.messages[i].id;
        let store = f.engine.store();
        async move { store.message(None, id).await.unwrap().unwrap().message }
    };
    let (nl, uk) = (read(0).await, read(1).await);
    assert_eq!(nl.segments, 2);
    assert_eq!(nl.cost, Amount::parse("0.06").unwrap(), "the plan's price");
    assert_eq!(nl.carrier_cost, Some(Amount::parse("0.025").unwrap()));
    assert_eq!(uk.carrier_cost, Some(Amount::ZERO), "no cost to +44 there");
}
