//! Admin commands that work on the database directly (so they need no
//! running server and no admin token), and client commands that talk to a
//! running server over HTTP. Each prints JSON.

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use smsgate_core::{AccountId, KeyId};
use smsgate_engine::{AccountRequest, Engine};
use smsgate_store::sqlite::SqliteStore;
use smsgate_store::{Account, AccountPatch, AccountStatus, Store};

use crate::config::Config;

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Create an account and its first API key.
    Create {
        name: String,
        #[arg(long, default_value_t = 0)]
        credits: i64,
        /// Password for login-based dialects.
        #[arg(long)]
        password: Option<String>,
        /// ISO country for national numbers, e.g. NL.
        #[arg(long)]
        default_country: Option<String>,
    },
    List,
    Disable {
        id: i64,
    },
    Enable {
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create an API key for an account (shown once).
    Create {
        account: i64,
        #[arg(long)]
        label: Option<String>,
    },
    List {
        account: i64,
    },
    Revoke {
        key: i64,
    },
}

#[derive(Subcommand)]
pub enum CreditsCommand {
    /// Add credits (negative to remove) with a note in the ledger.
    Add {
        /// The account's id.
        account: i64,
        /// Credits to add; negative (`-50`) removes them.
        #[arg(allow_negative_numbers = true)]
        amount: i64,
        /// Kept in the ledger entry.
        #[arg(long)]
        note: Option<String>,
    },
}

/// Admin commands work on an existing database unless told to create it:
/// a mistyped `--db` would otherwise make a new, empty one.
fn require_db(config: &Config, may_create: bool) -> anyhow::Result<()> {
    if !may_create && !config.db.exists() {
        anyhow::bail!(
            "the database {} does not exist; check --db, or pass --create to make a new one",
            config.db.display()
        );
    }
    Ok(())
}

async fn offline(config: &Config) -> anyhow::Result<Engine> {
    require_db(config, config.create_db)?;
    let store = SqliteStore::open(&config.db)
        .with_context(|| format!("cannot open the database {}", config.db.display()))?;
    let store: Arc<dyn Store> = Arc::new(store);
    Ok(Engine::offline(store).await?)
}

fn account_json(a: &Account) -> Value {
    json!({
        "id": a.id.0, "name": a.name, "status": a.status.as_str(), "balance": a.balance.units(),
        "default_country": a.default_country, "max_parts": a.max_parts, "created_at": a.created_at.to_rfc3339(),
    })
}

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

pub async fn accounts(config: &Config, command: AccountsCommand) -> anyhow::Result<()> {
    let engine = offline(config).await?;
    match command {
        AccountsCommand::Create {
            name,
            credits,
            password,
            default_country,
        } => {
            let (account, key) = engine
                .create_account(AccountRequest {
                    name,
                    credits: Some(credits),
                    password,
                    default_country,
                    max_parts: None,
                })
                .await?;
            let mut v = account_json(&account);
            v["api_key"] = json!(key.secret);
            print(&v);
        }
        AccountsCommand::List => {
            let accounts = engine.store().accounts().await?;
            print(&Value::Array(accounts.iter().map(account_json).collect()));
        }
        AccountsCommand::Disable { id } | AccountsCommand::Enable { id } if id <= 0 => {
            bail!("no account {id}")
        }
        AccountsCommand::Disable { id } => {
            let patch = AccountPatch {
                status: Some(AccountStatus::Disabled),
                ..AccountPatch::default()
            };
            print(&account_json(
                &engine.update_account(AccountId(id), patch).await?,
            ));
        }
        AccountsCommand::Enable { id } => {
            let patch = AccountPatch {
                status: Some(AccountStatus::Active),
                ..AccountPatch::default()
            };
            print(&account_json(
                &engine.update_account(AccountId(id), patch).await?,
            ));
        }
    }
    Ok(())
}

pub async fn keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let engine = offline(config).await?;
    match command {
        KeysCommand::Create { account, label } => {
            let key = engine.create_key(AccountId(account), label).await?;
            print(&json!({"id": key.id.0, "account_id": account, "api_key": key.secret}));
        }
        KeysCommand::List { account } => {
            let keys = engine.store().keys(AccountId(account)).await?;
            print(&serde_json::to_value(keys)?);
        }
        KeysCommand::Revoke { key } => {
            let info = engine.revoke_key(KeyId(key)).await?;
            print(&serde_json::to_value(info)?);
        }
    }
    Ok(())
}

pub async fn credits(config: &Config, command: CreditsCommand) -> anyhow::Result<()> {
    let engine = offline(config).await?;
    let CreditsCommand::Add {
        account,
        amount,
        note,
    } = command;
    let balance = engine
        .adjust_credits(AccountId(account), amount, None, note)
        .await?;
    print(&json!({"account_id": account, "balance": balance.units()}));
    Ok(())
}

#[derive(Args)]
pub struct ClientArgs {
    /// Base URL of the server.
    #[arg(long, env = "SMSGATE_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
}

#[derive(Args)]
pub struct AdminClientArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The server's admin token.
    #[arg(long, env = "SMSGATE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
}

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// API key of the sending account.
    #[arg(long, env = "SMSGATE_API_KEY", hide_env_values = true)]
    key: String,
    /// Recipient; repeat for several.
    #[arg(long, required = true)]
    to: Vec<String>,
    #[arg(long)]
    from: String,
    #[arg(long)]
    text: String,
    /// RFC 3339 time to send at.
    #[arg(long)]
    schedule_at: Option<String>,
}

async fn answer(response: reqwest::Response) -> anyhow::Result<()> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    print(&body);
    if !status.is_success() {
        bail!("the server answered {status}");
    }
    Ok(())
}

pub async fn send(args: SendArgs) -> anyhow::Result<()> {
    let mut body = json!({"to": args.to, "from": args.from, "text": args.text});
    if let Some(at) = args.schedule_at {
        body["schedule_at"] = json!(at);
    }
    let response = reqwest::Client::new()
        .post(format!(
            "{}/v1/messages",
            args.client.url.trim_end_matches('/')
        ))
        .bearer_auth(&args.key)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {}", args.client.url))?;
    answer(response).await
}

pub async fn status(args: ClientArgs) -> anyhow::Result<()> {
    let response = reqwest::get(format!("{}/readyz", args.url.trim_end_matches('/')))
        .await
        .with_context(|| format!("cannot reach {}", args.url))?;
    answer(response).await
}

/// Every connector of a running server: binds, window use, rate, errors.
pub async fn connectors(args: AdminClientArgs) -> anyhow::Result<()> {
    let url = args.client.url.trim_end_matches('/');
    let response = reqwest::Client::new()
        .get(format!("{url}/admin/v1/connectors"))
        .bearer_auth(&args.admin_token)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    answer(response).await
}

/// `smsgate backup FILE`: a consistent copy of the database.
pub async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    require_db(config, false)?;
    let store = smsgate_store::sqlite::SqliteStore::open(&config.db)
        .with_context(|| format!("cannot open the database {}", config.db.display()))?;
    store.backup(file).await?;
    println!(
        "{}",
        serde_json::json!({"backup": file.display().to_string(), "of": config.db.display().to_string()})
    );
    Ok(())
}
