//! Routing: which connector carries a message.
//!
//! Routes match the destination's E.164 digits by prefix; the longest
//! prefix wins, and `""` matches everything.

use std::collections::HashMap;
use std::sync::Arc;

use crate::connectors::Connector;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub prefix: String,
    pub connector: String,
}

#[derive(Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
    connectors: HashMap<String, Arc<dyn Connector>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route for prefix {prefix:?} names connector {connector:?}, which does not exist")]
pub struct UnknownConnector {
    pub prefix: String,
    pub connector: String,
}

impl Router {
    pub fn new(
        connectors: impl IntoIterator<Item = Arc<dyn Connector>>,
        mut routes: Vec<Route>,
    ) -> Result<Router, UnknownConnector> {
        let connectors: HashMap<_, _> = connectors
            .into_iter()
            .map(|c| (c.name().to_string(), c))
            .collect();
        if let Some(r) = routes
            .iter()
            .find(|r| !connectors.contains_key(&r.connector))
        {
            return Err(UnknownConnector {
                prefix: r.prefix.clone(),
                connector: r.connector.clone(),
            });
        }
        // Longest prefix first, so the first match is the best one.
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        Ok(Router { routes, connectors })
    }

    /// The connector for a destination (E.164 digits without `+`).
    pub fn route(&self, digits: &str) -> Option<&Arc<dyn Connector>> {
        self.routes
            .iter()
            .find(|r| digits.starts_with(&r.prefix))
            .and_then(|r| self.connectors.get(&r.connector))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::simulator::{Simulator, SimulatorConfig};

    fn sim(name: &str) -> Arc<dyn Connector> {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        Arc::new(Simulator::new(name, SimulatorConfig::default(), tx))
    }

    fn route(prefix: &str, connector: &str) -> Route {
        Route {
            prefix: prefix.into(),
            connector: connector.into(),
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let r = Router::new(
            [sim("a"), sim("b"), sim("c")],
            vec![route("", "a"), route("316", "c"), route("31", "b")],
        )
        .unwrap();
        assert_eq!(r.route("31612345678").unwrap().name(), "c");
        assert_eq!(r.route("31201234567").unwrap().name(), "b");
        assert_eq!(r.route("447911123456").unwrap().name(), "a");
    }

    #[test]
    fn no_route_and_unknown_connectors() {
        let r = Router::new([sim("a")], vec![route("44", "a")]).unwrap();
        assert!(r.route("31612345678").is_none());
        assert!(Router::new([sim("a")], vec![route("", "zz")]).is_err());
    }
}
