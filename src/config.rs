//! Configuration: defaults, then a TOML file, then `SMSGATE_*` environment
//! variables, then command-line flags.
//!
//! Every field can be set from the environment: `SMSGATE_LISTEN`,
//! `SMSGATE_DB`, and nested fields with `__` between the levels, e.g.
//! `SMSGATE_ENGINE__SIMULATOR__DELIVERY_DELAY_MS=50`. Values are read as
//! TOML scalars (numbers, booleans) when they parse as one, else as text.

use std::net::SocketAddr;
use std::path::Path;

use crate::database::Database;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use smsgate_api::dialects::DialectsConfig;
use smsgate_core::Amount;
use smsgate_engine::{ConnectorConfig, EngineConfig, Route};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the HTTP server. Default 127.0.0.1:8080.
    pub listen: SocketAddr,
    /// Where the data lives: an SQLite file (default ./smsgate.db) or
    /// a PostgreSQL URL (`postgres://user@host/db`).
    pub db: Database,
    /// Admin commands may create `db` when it does not exist (`--create`).
    #[serde(skip)]
    pub create_db: bool,
    /// Admin token. When unset, one is generated at first start, printed
    /// once, and only its hash is kept in the database.
    pub admin_token: Option<String>,
    /// Credits of the demo account created on first start (0: no demo
    /// account). Default 1000.
    pub demo_credits: Amount,
    pub log_format: LogFormat,
    pub engine: EngineConfig,
    /// Carrier links (`[[connectors]]`). None: the built-in simulator
    /// carries everything.
    pub connectors: Vec<ConnectorConfig>,
    /// Which connector carries what (`[[routes]]`); needed when
    /// connectors are configured.
    pub routes: Vec<Route>,
    /// Which provider dialects are served (`[dialects] ultimate = false`
    /// switches one off); all are by default.
    pub dialects: DialectsConfig,
    /// Connections and bodies (`[http]`): caps and timeouts.
    pub http: smsgate_api::server::HttpLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: Database::default(),
            create_db: false,
            admin_token: None,
            demo_credits: Amount::credits(1000),
            log_format: LogFormat::Text,
            engine: EngineConfig::default(),
            connectors: Vec::new(),
            routes: Vec::new(),
            dialects: DialectsConfig::default(),
            http: smsgate_api::server::HttpLimits::default(),
        }
    }
}

/// Variables that are not config fields: the client's, the log filter and
/// the config file's own path.
const NOT_CONFIG: &[&str] = &[
    "SMSGATE_URL",
    "SMSGATE_API_KEY",
    "SMSGATE_LOG",
    "SMSGATE_CONFIG",
];

impl Config {
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<toml::Table>(&text)
                    .with_context(|| format!("config file {} is not valid TOML", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(path) = name.strip_prefix("SMSGATE_") else {
                continue;
            };
            if NOT_CONFIG.contains(&name.as_str()) || path.is_empty() {
                continue;
            }
            let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            overlay(&mut table, &keys, scalar(&value))
                .with_context(|| format!("environment variable {name}"))?;
        }
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration (file and SMSGATE_* variables)")?;
        config.engine.routing = smsgate_engine::RoutingConfig {
            connectors: config.connectors.clone(),
            routes: config.routes.clone(),
        };
        config
            .engine
            .routing
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(config)
    }
}

fn scalar(value: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !v.is_table() && !v.is_array())
        .unwrap_or_else(|| toml::Value::String(value.to_string()))
}

fn overlay(table: &mut toml::Table, keys: &[String], value: toml::Value) -> anyhow::Result<()> {
    let (last, parents) = keys.split_last().context("empty name")?;
    let mut t = table;
    for k in parents {
        let entry = t
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(next) = entry.as_table_mut() else {
            bail!("{k} is not a table")
        };
        t = next;
    }
    t.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README points at documents of this repository only, and each
    /// of them exists.
    #[test]
    fn the_readme_links_only_to_documents_here() {
        let readme = include_str!("../README.md");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut links = 0;
        for target in readme
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
        {
            links += 1;
            assert!(
                !target.starts_with("..") && !target.contains("://"),
                "the README points outside the repository: {target}"
            );
            assert!(
                root.join(target).exists(),
                "the README points at a missing {target}"
            );
        }
        assert!(links > 0);
        assert!(
            !readme.contains("../shared"),
            "the README names a file outside the repository"
        );
    }

    /// The README's configuration example works when pasted, and every
    /// TOML block of it and of docs/ parses.
    #[test]
    fn the_readme_s_configuration_example_loads() {
        let readme = include_str!("../README.md");
        let blocks: Vec<&str> = readme
            .split("```toml\n")
            .skip(1)
            .map(|b| b.split("```").next().unwrap_or_default())
            .collect();
        assert!(!blocks.is_empty(), "the README has a TOML example");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smsgate.toml");
        std::fs::write(&path, blocks[0]).unwrap();
        let config = Config::load(Some(&path), Vec::new()).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(config.engine.velocity.prefix_digits, 6);
        assert_eq!(config.engine.retention.texts_days, Some(90));
        for block in &blocks {
            toml::from_str::<toml::Table>(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("smsgate.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\n[engine.simulator]\ndelivery_delay_ms = 5\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&file),
            env(&[
                ("SMSGATE_DB", "/tmp/x.db"),
                ("SMSGATE_ENGINE__SIMULATOR__REJECTED_RATIO", "0.5"),
                ("SMSGATE_API_KEY", "ignored"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.db, Database::Sqlite("/tmp/x.db".into()));
        assert_eq!(c.engine.simulator.delivery_delay_ms, 5);
        assert_eq!(c.engine.simulator.rejected_ratio, 0.5);
    }

    #[test]
    fn connectors_and_routes_as_documented() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("smsgate.toml");
        std::fs::write(
            &file,
            r#"
[[connectors]]
name = "carrier-a"
kind = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "smsgate"
password = "secret"
bind = "transceiver"   # or "transmitter", "receiver", "pair"
binds = 1
window = 50
tps = 0                # segments per second, 0 = unlimited

[[routes]]
prefix = ""            # longest destination prefix wins; "" = all
connector = "carrier-a"
"#,
        )
        .unwrap();
        let c = Config::load(Some(&file), env(&[])).unwrap();
        assert_eq!(c.engine.routing.connectors.len(), 1);
        assert_eq!(c.engine.routing.connectors[0].name(), "carrier-a");
        assert_eq!(c.engine.routing.routes[0].connector, "carrier-a");
        // Connectors without a route are a mistake, said plainly.
        let text = std::fs::read_to_string(&file).unwrap();
        let no_routes = text.split("[[routes]]").next().unwrap();
        std::fs::write(&file, no_routes).unwrap();
        let e = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(format!("{e:#}").contains("no route names one"), "{e:#}");
    }

    #[test]
    fn unknown_and_mistyped_settings_are_errors() {
        let e = Config::load(None, env(&[("SMSGATE_LISTN", "x")])).unwrap_err();
        assert!(format!("{e:#}").contains("listn"), "{e:#}");
        let e = Config::load(None, env(&[("SMSGATE_DEMO_CREDITS", "lots")])).unwrap_err();
        assert!(format!("{e:#}").contains("demo_credits"), "{e:#}");
    }
}
