//! The `smsgate` command: parses the command line, loads the
//! configuration and hands over to `serve` or one of the admin and client
//! commands.

mod commands;
mod config;
mod database;
mod metrics_catalog;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "smsgate", version, about = "A self-hostable SMS gateway")]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "SMSGATE_CONFIG")]
    config: Option<PathBuf>,
    /// SQLite database file (default ./smsgate.db), or a PostgreSQL URL
    /// (postgres://user@host/db).
    #[arg(long, global = true)]
    db: Option<String>,
    /// Let an admin command create the database when it does not exist
    /// (`serve` always does).
    #[arg(long, global = true)]
    create: bool,
    /// Print JSON (the default when the output is not a terminal).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: HTTP API, dispatcher and the carrier simulator.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Log lines as text or as JSON objects with flat fields (JSON
        /// also carries the start banner).
        #[arg(long, value_enum)]
        log_format: Option<config::LogFormat>,
    },
    /// Manage accounts (works on the database directly).
    #[command(subcommand)]
    Accounts(commands::AccountsCommand),
    /// Manage API keys (works on the database directly).
    #[command(subcommand)]
    Keys(commands::KeysCommand),
    /// Add or remove credits (works on the database directly).
    #[command(subcommand)]
    Credits(commands::CreditsCommand),
    /// Manage operators and their tokens (works on the database
    /// directly).
    #[command(subcommand)]
    Operators(commands::OperatorsCommand),
    /// Send a message through a running server.
    Send(commands::SendArgs),
    /// Show whether a running server is ready, and its queue.
    Status(commands::ClientArgs),
    /// Show a running server's connectors: each bind's state, window use,
    /// throughput, last error and reconnects.
    Connectors(commands::AdminClientArgs),
    /// Show the nodes serving a running server's database: their
    /// heartbeats, and which node holds which connector.
    Cluster(commands::AdminClientArgs),
    /// Write a consistent copy of the database to FILE, also while the
    /// server runs.
    Backup {
        /// Where the copy goes; must not exist.
        file: PathBuf,
    },
    /// Copy an SQLite installation into an empty PostgreSQL database
    /// (accounts, keys, balances and ledger, messages and their history,
    /// events, webhooks, every registry), with the rows of every table
    /// counted on both sides. Stop smsgate first: what is written after the
    /// copy begins is not copied.
    Migrate {
        /// The SQLite database file.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database, e.g. postgres://smsgate@db.example/smsgate.
        #[arg(long)]
        to: String,
    },
    /// Print a completion script for a shell, e.g.
    /// `smsgate completions bash > /etc/bash_completion.d/smsgate`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn main() -> anyhow::Result<()> {
    // ring is the one TLS crypto provider (HTTP clients, SMSCs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "smsgate", &mut std::io::stdout());
        return Ok(());
    }
    let out = commands::Output::choose(cli.json);
    let mut config = config::Config::load(cli.config.as_deref(), std::env::vars())?;
    if let Some(db) = cli.db {
        config.db = database::Database::parse(&db);
    }
    config.create_db = cli.create;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve { listen, log_format } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(f) = log_format {
                config.log_format = f;
            }
            runtime.block_on(serve::run(config))
        }
        Command::Accounts(c) => runtime.block_on(commands::accounts(&config, c, out)),
        Command::Keys(c) => runtime.block_on(commands::keys(&config, c, out)),
        Command::Credits(c) => runtime.block_on(commands::credits(&config, c, out)),
        Command::Operators(c) => runtime.block_on(commands::operators(&config, c, out)),
        Command::Send(args) => runtime.block_on(commands::send(args, out)),
        Command::Status(args) => runtime.block_on(commands::status(args, out)),
        Command::Connectors(args) => runtime.block_on(commands::connectors(args, out)),
        Command::Cluster(args) => runtime.block_on(commands::cluster(args, out)),
        Command::Backup { file } => runtime.block_on(commands::backup(&config, &file, out)),
        Command::Migrate { from, to } => commands::migrate(&from, &to, out),
        Command::Completions { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// `--help` explains every argument of every command.
    #[test]
    fn every_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" && sub.get_about().is_none() {
                    missing.push(format!("{path} {} (the command)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "smsgate", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:?}");
    }

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
