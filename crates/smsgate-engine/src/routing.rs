//! The connectors and routes in force, and changing them without a
//! restart: connectors whose settings did not change keep their binds,
//! new ones start, removed ones unbind after the new routes are in force;
//! and of the configured connectors, only those this node holds (its
//! leases, [`crate::cluster`]) run here.

use crate::config::ConfigError;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use smsgate_store::{ConnectorLease, Outbound};

use crate::SIMULATOR;
use crate::connectors::simulator::{Simulator, SimulatorConfig};
use crate::connectors::smpp::{SmppConfig, SmppConnector};
use crate::connectors::{Connector, EventSink, SubmitAck, SubmitError};
use crate::router::{Route, Router};

/// Connectors and routes, as in the TOML config (`[[connectors]]`,
/// `[[routes]]`) and `PUT /admin/v1/routing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    #[serde(default)]
    pub connectors: Vec<ConnectorConfig>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConnectorConfig {
    Smpp(Box<SmppConfig>),
    /// Another simulator, with the `[engine.simulator]` behaviour.
    Simulator(NamedSimulator),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedSimulator {
    pub name: String,
    /// As for SMPP connectors: default the server's; 0: never.
    #[serde(default)]
    pub receipt_timeout_secs: Option<u64>,
}

impl ConnectorConfig {
    pub fn name(&self) -> &str {
        match self {
            ConnectorConfig::Smpp(c) => &c.name,
            ConnectorConfig::Simulator(s) => &s.name,
        }
    }

    /// How long its acknowledged messages wait for a receipt: its own
    /// setting, else `default` (seconds; 0: for ever). An SMPP connector
    /// that asks for no receipts waits for none.
    pub fn receipt_timeout_secs(&self, default: u64) -> u64 {
        match self {
            ConnectorConfig::Smpp(c) if !c.registered_delivery => 0,
            ConnectorConfig::Smpp(c) => c.receipt_timeout_secs.unwrap_or(default),
            ConnectorConfig::Simulator(s) => s.receipt_timeout_secs.unwrap_or(default),
        }
    }
}

impl RoutingConfig {
    /// The routes in force: as configured, or, when nothing is configured,
    /// everything to the built-in simulator.
    fn effective_routes(&self) -> Vec<Route> {
        if self.connectors.is_empty() && self.routes.is_empty() {
            vec![Route::to("", SIMULATOR)]
        } else {
            self.routes.clone()
        }
    }

    /// The configured connectors' names: those a node asks leases for.
    pub(crate) fn connector_names(&self) -> Vec<String> {
        self.connectors
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for c in &self.connectors {
            if c.name() == SIMULATOR {
                return Err(ConfigError::SimulatorName(SIMULATOR.into()));
            }
            if !names.insert(c.name()) {
                return Err(ConfigError::DuplicateConnector(c.name().into()));
            }
            if let ConnectorConfig::Smpp(s) = c {
                s.validate()?;
            }
        }
        if !self.connectors.is_empty() && self.routes.is_empty() {
            return Err(ConfigError::NoRoutes);
        }
        Ok(())
    }
}

/// Which configured connectors this node holds (binds and uses), and, of
/// the others, which node holds each and whether it can take messages
/// there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Holding {
    held: BTreeSet<String>,
    elsewhere: BTreeMap<String, (String, bool)>,
}

impl Holding {
    pub(crate) fn new(held: Vec<String>, leases: &[ConnectorLease]) -> Holding {
        let held: BTreeSet<String> = held.into_iter().collect();
        let elsewhere = leases
            .iter()
            .filter(|l| !held.contains(&l.connector))
            .map(|l| (l.connector.clone(), (l.node_name.clone(), l.available)))
            .collect();
        Holding { held, elsewhere }
    }
}

/// The routing in force.
pub struct Routing {
    router: RwLock<Arc<Router>>,
    state: tokio::sync::Mutex<Live>,
    simulator: Arc<dyn Connector>,
    simulator_config: SimulatorConfig,
    events: EventSink,
}

struct Live {
    config: RoutingConfig,
    holding: Holding,
    connectors: HashMap<String, (ConnectorConfig, Arc<dyn Connector>)>,
}

impl Routing {
    /// Starts the configured connectors this node holds, next to the
    /// built-in simulator.
    pub(crate) fn start(
        config: RoutingConfig,
        holding: Holding,
        simulator: Arc<dyn Connector>,
        simulator_config: SimulatorConfig,
        events: EventSink,
    ) -> Result<Routing, ConfigError> {
        let mut routing = Routing {
            router: RwLock::new(Arc::new(Router::default())),
            state: tokio::sync::Mutex::new(Live {
                config: RoutingConfig::default(),
                holding: Holding::default(),
                connectors: HashMap::new(),
            }),
            simulator,
            simulator_config,
            events,
        };
        let (router, live) = routing.build(config, holding, &HashMap::new())?;
        *routing.router.get_mut().unwrap_or_else(|p| p.into_inner()) = Arc::new(router);
        *routing.state.get_mut() = live;
        Ok(routing)
    }

    pub fn router(&self) -> Arc<Router> {
        self.router
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub async fn config(&self) -> RoutingConfig {
        self.state.lock().await.config.clone()
    }

    /// The connectors this node would hold: every configured one.
    pub(crate) async fn wanted(&self) -> Vec<String> {
        self.state.lock().await.config.connector_names()
    }

    /// The connectors this node holds that can take messages now.
    pub(crate) fn available(&self) -> Vec<String> {
        self.router()
            .connectors()
            .filter(|c| !c.is_elsewhere() && c.is_available())
            .map(|c| c.name().to_string())
            .collect()
    }

    /// Builds a router for `config`, reusing connectors from `old` whose
    /// settings are unchanged; returns the router and what is now live.
    /// Connectors held elsewhere are stand-ins that carry nothing.
    fn build(
        &self,
        config: RoutingConfig,
        holding: Holding,
        old: &HashMap<String, (ConnectorConfig, Arc<dyn Connector>)>,
    ) -> Result<(Router, Live), ConfigError> {
        config.validate()?;
        let mut live = HashMap::new();
        for c in &config.connectors {
            let connector = if !holding.held.contains(c.name()) {
                let (node, available) = holding.elsewhere.get(c.name()).cloned().unzip();
                Arc::new(Elsewhere {
                    name: c.name().to_string(),
                    node,
                    available: available.unwrap_or(false),
                }) as Arc<dyn Connector>
            } else {
                match old.get(c.name()) {
                    Some((was, connector)) if was == c && !connector.is_elsewhere() => {
                        connector.clone()
                    }
                    _ => self.start_connector(c),
                }
            };
            live.insert(c.name().to_string(), (c.clone(), connector));
        }
        let connectors = live
            .values()
            .map(|(_, c)| c.clone())
            .chain([self.simulator.clone()]);
        let router = Router::new(connectors, config.effective_routes())?;
        Ok((
            router,
            Live {
                config,
                holding,
                connectors: live,
            },
        ))
    }

    fn start_connector(&self, c: &ConnectorConfig) -> Arc<dyn Connector> {
        match c {
            ConnectorConfig::Smpp(s) => {
                Arc::new(SmppConnector::start((**s).clone(), self.events.clone()))
            }
            ConnectorConfig::Simulator(s) => Arc::new(Simulator::new(
                s.name.clone(),
                self.simulator_config.clone(),
                self.events.clone(),
            )),
        }
    }

    /// Puts `config` in force. On an invalid config nothing changes.
    pub async fn apply(&self, config: RoutingConfig) -> Result<(), ConfigError> {
        let mut state = self.state.lock().await;
        let holding = state.holding.clone();
        self.replace(&mut state, config, holding)
    }

    /// Puts in force which connectors this node holds (after a
    /// heartbeat): those it took start, those it gave up stop.
    pub(crate) async fn hold(&self, holding: Holding) {
        let mut state = self.state.lock().await;
        if state.holding == holding {
            return;
        }
        let config = state.config.clone();
        if let Err(e) = self.replace(&mut state, config, holding) {
            // The config in force was valid when it was put in force.
            tracing::error!(error = %e, "the connectors in force could not be rebuilt");
        }
    }

    fn replace(
        &self,
        state: &mut Live,
        config: RoutingConfig,
        holding: Holding,
    ) -> Result<(), ConfigError> {
        // New connectors started for a config that then fails stop when
        // dropped here.
        let (router, live) = self.build(config, holding, &state.connectors)?;
        *self.router.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(router);
        let old = std::mem::replace(state, live);
        // Stop what is no longer used (or was replaced by new settings).
        for (name, (_, connector)) in old.connectors {
            let reused = state
                .connectors
                .get(&name)
                .is_some_and(|(_, c)| Arc::ptr_eq(c, &connector));
            if !reused {
                tokio::spawn(async move { connector.shutdown().await });
            }
        }
        Ok(())
    }

    /// Every connector's status, the simulator's included.
    pub fn statuses(&self) -> Vec<serde_json::Value> {
        let router = self.router();
        let mut all: Vec<_> = router.connectors().map(|c| c.status()).collect();
        all.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        all
    }

    /// Unbinds every connector.
    pub async fn shutdown(&self) {
        let state = self.state.lock().await;
        for (_, connector) in state.connectors.values() {
            connector.shutdown().await;
        }
    }
}

/// A connector another node holds (or nobody, for a moment): it carries
/// nothing here; messages routed to it are handed to its holder.
struct Elsewhere {
    name: String,
    /// Its holder, if any.
    node: Option<String>,
    /// Whether it can take messages at its holder.
    available: bool,
}

#[async_trait]
impl Connector for Elsewhere {
    fn name(&self) -> &str {
        &self.name
    }

    async fn submit(&self, _: &Outbound) -> Result<SubmitAck, SubmitError> {
        Err(SubmitError::transient(format!(
            "connector {} is held by another node",
            self.name
        )))
    }

    fn is_available(&self) -> bool {
        self.available
    }

    fn is_elsewhere(&self) -> bool {
        true
    }

    fn status(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "kind": "elsewhere",
            "node": self.node,
            "available": self.available,
        })
    }
}
