//! Routing: which connector carries a message.
//!
//! A route matches a destination prefix (E.164 digits; `""` matches every
//! number) and, optionally, one account and one category. The most
//! specific matching route wins: the longest prefix, then one naming the
//! account, then one naming the category. A route names its connector and
//! a fallback order; the first of them that can take messages now carries
//! the message (when none can, the first does, and the message waits for
//! it in the dispatcher's retries).

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smsgate_core::{AccountId, Category};
use smsgate_store::Outbound;

use crate::connectors::Connector;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Destination prefix, E.164 digits without `+`. Default "" (all).
    #[serde(default)]
    pub prefix: String,
    /// Only messages of this account (its id). Default: every account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<i64>,
    /// Only messages of this category. Default: every category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    pub connector: String,
    /// Connectors to use, in order, when `connector` cannot take messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<String>,
}

impl Route {
    /// A route for every message of `prefix` to `connector`.
    pub fn to(prefix: &str, connector: &str) -> Route {
        Route {
            prefix: prefix.into(),
            account: None,
            category: None,
            connector: connector.into(),
            fallback: Vec::new(),
        }
    }

    fn matches(&self, digits: &str, account: AccountId, category: Category) -> bool {
        digits.starts_with(&self.prefix)
            && self.account.is_none_or(|a| a == account.0)
            && self.category.is_none_or(|c| c == category)
    }

    fn specificity(&self) -> (usize, bool, bool) {
        (
            self.prefix.len(),
            self.account.is_some(),
            self.category.is_some(),
        )
    }

    fn connectors(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.connector).chain(&self.fallback)
    }
}

#[derive(Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
    connectors: HashMap<String, Arc<dyn Connector>>,
    /// Whether some connector is held by another node.
    elsewhere: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("route for prefix {prefix:?} names connector {connector:?}, which does not exist")]
    UnknownConnector { prefix: String, connector: String },
    #[error("route prefix {0:?} must be digits only (E.164 without '+')")]
    BadPrefix(String),
}

impl Router {
    pub fn new(
        connectors: impl IntoIterator<Item = Arc<dyn Connector>>,
        mut routes: Vec<Route>,
    ) -> Result<Router, RouteError> {
        let connectors: HashMap<_, _> = connectors
            .into_iter()
            .map(|c| (c.name().to_string(), c))
            .collect();
        for r in &routes {
            if !r.prefix.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RouteError::BadPrefix(r.prefix.clone()));
            }
            if let Some(c) = r.connectors().find(|c| !connectors.contains_key(*c)) {
                return Err(RouteError::UnknownConnector {
                    prefix: r.prefix.clone(),
                    connector: c.clone(),
                });
            }
        }
        // Most specific first, so the first match is the best one.
        routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        let elsewhere = connectors.values().any(|c| c.is_elsewhere());
        Ok(Router {
            routes,
            connectors,
            elsewhere,
        })
    }

    /// The connector for a message, if a route matches it.
    pub fn route(&self, m: &Outbound) -> Option<&Arc<dyn Connector>> {
        let digits = m.to.trim_start_matches('+');
        let route = self
            .routes
            .iter()
            .find(|r| r.matches(digits, m.account_id, m.category))?;
        let mut candidates = route.connectors().filter_map(|c| self.connectors.get(c));
        let first = candidates.next()?;
        if first.is_available() {
            return Some(first);
        }
        candidates.find(|c| c.is_available()).or(Some(first))
    }

    /// Whether every connector runs on this node (no message is handed to
    /// another).
    pub fn holds_all(&self) -> bool {
        !self.elsewhere
    }

    pub fn connectors(&self) -> impl Iterator<Item = &Arc<dyn Connector>> {
        self.connectors.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::simulator::{Simulator, SimulatorConfig};
    use crate::connectors::{SubmitAck, SubmitError};
    use async_trait::async_trait;

    fn sim(name: &str) -> Arc<dyn Connector> {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        Arc::new(Simulator::new(name, SimulatorConfig::default(), tx))
    }

    struct Down(&'static str);

    #[async_trait]
    impl Connector for Down {
        fn name(&self) -> &str {
            self.0
        }
        async fn submit(&self, _: &Outbound) -> Result<SubmitAck, SubmitError> {
            Err(SubmitError::transient("down"))
        }
        fn is_available(&self) -> bool {
            false
        }
    }

    fn to(number: &str) -> Outbound {
        let mut m = crate::testing::outbound(1, None);
        m.to = number.into();
        m
    }

    #[test]
    fn longest_prefix_wins() {
        let r = Router::new(
            [sim("a"), sim("b"), sim("c")],
            vec![
                Route::to("", "a"),
                Route::to("316", "c"),
                Route::to("31", "b"),
            ],
        )
        .unwrap();
        assert_eq!(r.route(&to("+31612345678")).unwrap().name(), "c");
        assert_eq!(r.route(&to("+31201234567")).unwrap().name(), "b");
        assert_eq!(r.route(&to("+447911123456")).unwrap().name(), "a");
    }

    #[test]
    fn account_and_category_routes_are_more_specific() {
        let otp = Route {
            category: Some(Category::Otp),
            ..Route::to("31", "b")
        };
        let account = Route {
            account: Some(7),
            ..Route::to("31", "c")
        };
        let r = Router::new(
            [sim("a"), sim("b"), sim("c")],
            vec![Route::to("31", "a"), otp, account],
        )
        .unwrap();
        let mut m = to("+31612345678");
        assert_eq!(r.route(&m).unwrap().name(), "a");
        m.category = Category::Otp;
        assert_eq!(r.route(&m).unwrap().name(), "b");
        m.account_id = AccountId(7);
        assert_eq!(r.route(&m).unwrap().name(), "c");
    }

    #[test]
    fn fallback_skips_connectors_that_are_down() {
        let route = Route {
            fallback: vec!["down2".into(), "b".into()],
            ..Route::to("", "down1")
        };
        let r = Router::new(
            [
                Arc::new(Down("down1")) as Arc<dyn Connector>,
                Arc::new(Down("down2")),
                sim("b"),
            ],
            vec![route],
        )
        .unwrap();
        assert_eq!(r.route(&to("+31612345678")).unwrap().name(), "b");
        // All down: the first, where the message waits for its retries.
        let r = Router::new(
            [Arc::new(Down("down1")) as Arc<dyn Connector>],
            vec![Route::to("", "down1")],
        )
        .unwrap();
        assert_eq!(r.route(&to("+31612345678")).unwrap().name(), "down1");
    }

    #[test]
    fn no_route_and_bad_routes() {
        let r = Router::new([sim("a")], vec![Route::to("44", "a")]).unwrap();
        assert!(r.route(&to("+31612345678")).is_none());
        assert!(matches!(
            Router::new([sim("a")], vec![Route::to("", "zz")]),
            Err(RouteError::UnknownConnector { .. })
        ));
        let fb = Route {
            fallback: vec!["zz".into()],
            ..Route::to("", "a")
        };
        assert!(Router::new([sim("a")], vec![fb]).is_err());
        assert!(matches!(
            Router::new([sim("a")], vec![Route::to("+31", "a")]),
            Err(RouteError::BadPrefix(_))
        ));
    }
}
