//! The engine's own door: an operator's change refused to whoever's role
//! may not make it, whichever face asks, with nothing changed.

mod common;

use smsgate_core::operators::{Actor, Permission, Role};
use smsgate_core::{Amount, OperatorId, Price};
use smsgate_engine::{By, EngineConfig, EngineError};

fn operator(role: Role) -> By {
    By {
        actor: Actor::Operator(OperatorId(1)),
        address: None,
        role: Some(role),
    }
}

#[tokio::test]
async fn operators_changes_are_refused_to_customers_and_to_roles_below_them() {
    let f = common::fixture(EngineConfig::default()).await;
    let customer = By::customer(&f.caller().await);
    let price = Price {
        route_class: "standard".into(),
        prefix: "31".into(),
        per_segment: Amount::parse("0.05").unwrap(),
    };
    for by in [customer, operator(Role::Readonly), operator(Role::Support)] {
        let refused = f.engine.set_price(&by, price.clone()).await;
        assert!(
            matches!(
                refused,
                Err(EngineError::Forbidden {
                    what: Permission::Change,
                    ..
                })
            ),
            "{by:?}: {refused:?}"
        );
        let refused = f
            .engine
            .adjust_credits(&by, f.account, Amount::credits(101), None, None)
            .await;
        assert!(
            matches!(refused, Err(EngineError::Forbidden { .. })),
            "{by:?}: {refused:?}"
        );
    }
    assert_eq!(f.engine.default_prices().await.unwrap(), []);
    let start = f.balance().await;
    // Support, within its limit (100 credits by default).
    f.engine
        .adjust_credits(
            &operator(Role::Support),
            f.account,
            Amount::credits(-100),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(f.balance().await, start - 100);
    // Only owners manage operators.
    let made = f
        .engine
        .create_operator(
            &operator(Role::Admin),
            smsgate_engine::operators::OperatorRequest {
                name: "eve".into(),
                password: None,
                role: Role::Owner,
            },
        )
        .await;
    assert!(matches!(
        made,
        Err(EngineError::Forbidden {
            what: Permission::Operators,
            ..
        })
    ));
    assert_eq!(f.engine.operators(&By::cli()).await.unwrap(), []);
}
