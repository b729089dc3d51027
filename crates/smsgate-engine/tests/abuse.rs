//! Abuse controls at the engine, on a real SQLite store: where an account
//! may send (countries, number types) and how fast (velocity limits).

mod common;

use common::{fixture, request};
use smsgate_core::limits::{Velocity, VelocityLimits};
use smsgate_core::send::RejectReason;
use smsgate_core::{Country, NumberType};
use smsgate_engine::velocity::VelocityConfig;
use smsgate_engine::{EngineConfig, EngineError};
use smsgate_store::AccountPatch;

fn refused(e: EngineError) -> Vec<RejectReason> {
    match e {
        EngineError::NoValidRecipient(r) => r.into_iter().map(|r| r.reason).collect(),
        other => panic!("expected refused recipients, got {other:?}"),
    }
}

fn codes(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn premium_satellite_and_unlisted_countries_are_refused_without_charge() {
    let f = fixture(EngineConfig::default()).await;
    let premium = "+449098790000";
    let satellite = "+870773111632";
    let reasons = refused(f.send(&[premium, satellite]).await.unwrap_err());
    assert_eq!(
        reasons,
        [
            RejectReason::NumberTypeNotAllowed(NumberType::PremiumRate),
            RejectReason::NumberTypeNotAllowed(NumberType::Satellite),
        ]
    );
    assert_eq!(f.balance().await, 1_000, "nothing charged");

    // Allowing premium rate lets it through, and only it.
    f.patch(AccountPatch {
        allowed_number_types: Some(vec![NumberType::PremiumRate]),
        ..AccountPatch::default()
    })
    .await;
    assert_eq!(
        f.send(&[premium, satellite]).await.unwrap(),
        (1, codes(&["number-type-not-allowed"]))
    );

    // Geo permissions: NL only.
    f.patch(AccountPatch {
        allowed_countries: Some(Some(vec![Country::parse("NL").unwrap()])),
        ..AccountPatch::default()
    })
    .await;
    assert_eq!(
        f.send(&["+31612345678", "+447400123456"]).await.unwrap(),
        (1, codes(&["country-not-allowed"]))
    );
    let reasons = refused(f.send(&["+447400123456"]).await.unwrap_err());
    assert_eq!(
        reasons[0].to_string(),
        "destination country GB is not allowed for this account"
    );
    // Back to every country.
    f.patch(AccountPatch {
        allowed_countries: Some(None),
        ..AccountPatch::default()
    })
    .await;
    assert_eq!(f.send(&["+447400123456"]).await.unwrap(), (1, codes(&[])));
}

fn numbers(prefix: &str, count: u32) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i:04}")).collect()
}

#[tokio::test]
async fn a_burst_to_one_range_blocks_that_range_for_the_account() {
    let config = EngineConfig {
        velocity: VelocityConfig {
            per_prefix: Velocity {
                per_minute: 3,
                block_secs: 600,
            },
            ..VelocityConfig::default()
        },
        ..EngineConfig::default()
    };
    let f = fixture(config).await;
    // Five numbers of +316100…: three pass, then the range is blocked.
    let burst = numbers("+3161000", 5);
    let burst: Vec<&str> = burst.iter().map(String::as_str).collect();
    assert_eq!(
        f.send(&burst).await.unwrap(),
        (3, codes(&["velocity-limited", "velocity-limited"]))
    );
    assert_eq!(f.balance().await, 997, "refused ones are not charged");
    // The block holds for the next request, with its own reason.
    let reasons = refused(f.send(&["+31610009999"]).await.unwrap_err());
    assert_eq!(reasons[0].code(), "velocity-limited");
    assert!(reasons[0].to_string().contains("+316100"), "{}", reasons[0]);
    // Other ranges are not affected.
    assert_eq!(f.send(&["+31620001234"]).await.unwrap(), (1, codes(&[])));

    // A preview shows the block and counts nothing.
    let caller = f.caller().await;
    for _ in 0..5 {
        let plan = f
            .engine
            .preview(&caller, request(&["+31630001234"]))
            .await
            .unwrap();
        assert!(plan.rejected.is_empty());
    }
    assert!(matches!(
        f.engine.preview(&caller, request(&["+31610001111"])).await,
        Err(EngineError::NoValidRecipient(_))
    ));
    assert_eq!(f.send(&["+31630001234"]).await.unwrap(), (1, codes(&[])));

    // The account's own limits replace the server's.
    f.patch(AccountPatch {
        velocity: Some(Some(VelocityLimits {
            per_prefix: Velocity::OFF,
            per_account: Velocity {
                per_minute: 2,
                block_secs: 60,
            },
        })),
        ..AccountPatch::default()
    })
    .await;
    let many = numbers("+3164000", 4);
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        f.send(&many).await.unwrap(),
        (2, codes(&["velocity-limited", "velocity-limited"]))
    );
    let reasons = refused(f.send(&["+447400123456"]).await.unwrap_err());
    assert!(
        reasons[0].to_string().contains("from this account"),
        "{}",
        reasons[0]
    );
}
