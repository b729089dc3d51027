//! Admin commands that work on the database directly (so they need no
//! running server and no admin token), and client commands that talk to a
//! running server over HTTP. Each prints a table on a terminal and JSON
//! otherwise (or with `--json`). Accounts and keys are named by id or by
//! name (an account's name; a key's prefix or label).

use crate::database::Opened;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use smsgate_core::{Amount, KeyId};
use smsgate_engine::By;
use smsgate_engine::{AccountRequest, Engine};
use smsgate_store::{Account, AccountPatch, AccountStatus, ApiKeyInfo};

use crate::config::Config;

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Create an account and its first API key.
    Create {
        /// The account's name (unique).
        name: String,
        /// Credits to start with, e.g. 1000 or 12.5.
        #[arg(long, default_value = "0")]
        credits: Amount,
        /// Password for login-based dialects.
        #[arg(long)]
        password: Option<String>,
        /// ISO country for national numbers, e.g. NL.
        #[arg(long)]
        default_country: Option<String>,
    },
    /// Every account with its status and balance.
    List,
    /// Refuse the account's requests (its messages in flight go on).
    Disable {
        /// The account's id or name.
        account: String,
    },
    /// Take a disabled account's requests again.
    Enable {
        /// The account's id or name.
        account: String,
    },
}

#[derive(Subcommand)]
pub enum OperatorsCommand {
    /// Create an operator. Its password is read from the environment
    /// variable SMSGATE_OPERATOR_PASSWORD, if set (never from the command
    /// line, where other users could read it).
    Create {
        /// The operator's name (unique).
        name: String,
        /// owner, admin, support or readonly.
        #[arg(long)]
        role: String,
    },
    /// Every operator with its role.
    List,
    /// A new API token for an operator, shown once.
    Token {
        /// The operator's name.
        name: String,
        /// A label for the token.
        #[arg(long)]
        label: Option<String>,
        /// The token ends after this many seconds.
        #[arg(long)]
        expires_in_secs: Option<u64>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create an API key for an account (shown once).
    Create {
        /// The account's id or name.
        account: String,
        /// A name for the key, to find it again.
        #[arg(long)]
        label: Option<String>,
    },
    /// An account's keys (never their secrets).
    List {
        /// The account's id or name.
        account: String,
    },
    /// Revoke a key: it stops working at once.
    Revoke {
        /// The key's id, prefix (as `keys list` shows it) or label.
        key: String,
    },
}

#[derive(Subcommand)]
pub enum CreditsCommand {
    /// Add credits (negative to remove) with a note in the ledger.
    Add {
        /// The account's id or name.
        account: String,
        /// Credits to add, up to four decimal places; negative (`-50`)
        /// removes them.
        #[arg(allow_negative_numbers = true)]
        amount: Amount,
        /// Kept in the ledger entry.
        #[arg(long)]
        note: Option<String>,
    },
}

/// How a command shows its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Table,
}

impl Output {
    /// A table for a person at a terminal, JSON for scripts and pipes.
    pub fn choose(json: bool) -> Output {
        if json || !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            Output::Json
        } else {
            Output::Table
        }
    }

    /// Prints `v`: as JSON, or as a table of `columns` (a list) or of
    /// fields (one object).
    fn show(self, v: &Value, columns: &[&str]) {
        match self {
            Output::Json => println!("{}", serde_json::to_string_pretty(v).unwrap_or_default()),
            Output::Table => print!("{}", table(v, columns)),
        }
    }
}

/// A list of objects as aligned columns; one object as `field  value`
/// lines.
fn table(v: &Value, columns: &[&str]) -> String {
    let cell = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    let rows: Vec<Vec<String>> = match v {
        Value::Array(items) => {
            let mut rows = vec![columns.iter().map(|c| c.to_uppercase()).collect()];
            rows.extend(
                items
                    .iter()
                    .map(|item| columns.iter().map(|c| cell(&item[*c])).collect()),
            );
            rows
        }
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| vec![k.clone(), cell(v)])
            .collect(),
        other => vec![vec![cell(other)]],
    };
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// An account by id or by name.
async fn find_account(engine: &Engine, reference: &str) -> anyhow::Result<Account> {
    engine
        .admin()
        .find_account(reference)
        .await?
        .with_context(|| format!("no account with the id or name {reference:?}"))
}

/// A key by id, prefix or label (a label must name one key).
async fn find_key(engine: &Engine, reference: &str) -> anyhow::Result<ApiKeyInfo> {
    let admin = engine.admin();
    let mut keys = Vec::new();
    for account in admin.accounts().await? {
        keys.extend(admin.keys(account.id).await?);
    }
    let by_id = reference.parse::<i64>().ok();
    if let Some(key) = keys
        .iter()
        .find(|k| Some(k.id.0) == by_id || k.prefix == reference)
    {
        return Ok(key.clone());
    }
    let labelled: Vec<&ApiKeyInfo> = keys
        .iter()
        .filter(|k| k.label.as_deref() == Some(reference))
        .collect();
    match labelled.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("no key with the id, prefix or label {reference:?}"),
        many => bail!(
            "{} keys are labelled {reference:?} (ids {}); name one by id or prefix",
            many.len(),
            many.iter()
                .map(|k| k.id.0.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

async fn offline(config: &Config) -> anyhow::Result<Engine> {
    let store = Opened::open(&config.db, config.create_db)?.store();
    Ok(Engine::offline(store).await?)
}

fn account_json(a: &Account) -> Value {
    json!({
        "id": a.id.0, "name": a.name, "status": a.status.as_str(), "balance": a.balance,
        "default_country": a.default_country, "max_parts": a.max_parts, "created_at": a.created_at.to_rfc3339(),
    })
}

const ACCOUNT_COLUMNS: &[&str] = &[
    "id",
    "name",
    "status",
    "balance",
    "default_country",
    "created_at",
];
const KEY_COLUMNS: &[&str] = &[
    "id",
    "account_id",
    "prefix",
    "label",
    "created_at",
    "revoked_at",
];

pub async fn accounts(
    config: &Config,
    command: AccountsCommand,
    out: Output,
) -> anyhow::Result<()> {
    let engine = offline(config).await?;
    match command {
        AccountsCommand::Create {
            name,
            credits,
            password,
            default_country,
        } => {
            let (account, key) = engine
                .create_account(
                    &By::cli(),
                    AccountRequest {
                        name,
                        credits: Some(credits),
                        password,
                        default_country,
                        max_parts: None,
                        parent: None,
                    },
                )
                .await?;
            let mut v = account_json(&account);
            v["api_key"] = json!(key.secret);
            out.show(&v, ACCOUNT_COLUMNS);
        }
        AccountsCommand::List => {
            let accounts = engine.admin().accounts().await?;
            let list = Value::Array(accounts.iter().map(account_json).collect());
            out.show(&list, ACCOUNT_COLUMNS);
        }
        AccountsCommand::Disable { account } => {
            set_status(&engine, &account, AccountStatus::Disabled, out).await?
        }
        AccountsCommand::Enable { account } => {
            set_status(&engine, &account, AccountStatus::Active, out).await?
        }
    }
    Ok(())
}

async fn set_status(
    engine: &Engine,
    reference: &str,
    status: AccountStatus,
    out: Output,
) -> anyhow::Result<()> {
    let account = find_account(engine, reference).await?;
    let patch = AccountPatch {
        status: Some(status),
        ..AccountPatch::default()
    };
    out.show(
        &account_json(&engine.update_account(&By::cli(), account.id, patch).await?),
        ACCOUNT_COLUMNS,
    );
    Ok(())
}

pub async fn operators(
    config: &Config,
    command: OperatorsCommand,
    out: Output,
) -> anyhow::Result<()> {
    let engine = offline(config).await?;
    let by = By::cli();
    let shown = |o: &smsgate_engine::records::Operator| json!({"id": o.id.0, "name": o.name, "role": o.role.as_str(), "disabled": o.disabled});
    match command {
        OperatorsCommand::Create { name, role } => {
            let role = smsgate_core::operators::Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("the role must be owner, admin, support or readonly")
            })?;
            let password = std::env::var("SMSGATE_OPERATOR_PASSWORD").ok();
            let op = engine
                .create_operator(
                    &by,
                    smsgate_engine::operators::OperatorRequest {
                        name,
                        password,
                        role,
                    },
                )
                .await?;
            out.show(&shown(&op), &[]);
        }
        OperatorsCommand::List => {
            let list = engine.operators(&by).await?;
            out.show(
                &Value::Array(list.iter().map(shown).collect()),
                &["id", "name", "role", "disabled"],
            );
        }
        OperatorsCommand::Token {
            name,
            label,
            expires_in_secs,
        } => {
            let op = engine
                .operators(&by)
                .await?
                .into_iter()
                .find(|o| o.name == name)
                .ok_or_else(|| anyhow::anyhow!("no operator named {name:?}"))?;
            let issued = engine
                .create_operator_token(&by, op.id, label, expires_in_secs)
                .await?;
            out.show(
                &json!({"id": issued.token.id.0, "operator": op.id.0, "token": issued.secret}),
                &[],
            );
        }
    }
    Ok(())
}

pub async fn keys(config: &Config, command: KeysCommand, out: Output) -> anyhow::Result<()> {
    let engine = offline(config).await?;
    match command {
        KeysCommand::Create { account, label } => {
            let account = find_account(&engine, &account).await?;
            let key = engine.create_key(&By::cli(), account.id, label).await?;
            let v = json!({"id": key.id.0, "account_id": account.id.0, "api_key": key.secret});
            out.show(&v, &[]);
        }
        KeysCommand::List { account } => {
            let account = find_account(&engine, &account).await?;
            let keys = engine.admin().keys(account.id).await?;
            out.show(&serde_json::to_value(keys)?, KEY_COLUMNS);
        }
        KeysCommand::Revoke { key } => {
            let key = find_key(&engine, &key).await?;
            let info = engine.revoke_key(&By::cli(), KeyId(key.id.0)).await?;
            out.show(&serde_json::to_value(info)?, &[]);
        }
    }
    Ok(())
}

pub async fn credits(config: &Config, command: CreditsCommand, out: Output) -> anyhow::Result<()> {
    let engine = offline(config).await?;
    let CreditsCommand::Add {
        account,
        amount,
        note,
    } = command;
    let account = find_account(&engine, &account).await?;
    let balance = engine
        .adjust_credits(&By::cli(), account.id, amount, None, note)
        .await?;
    out.show(
        &json!({"account_id": account.id.0, "balance": balance}),
        &[],
    );
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
    /// Sender: a number or an alphanumeric sender ID (default: the
    /// account's).
    #[arg(long)]
    from: Option<String>,
    /// The message text.
    #[arg(long)]
    text: String,
    /// RFC 3339 time to send at.
    #[arg(long)]
    schedule_at: Option<String>,
}

async fn answer(response: reqwest::Response, out: Output) -> anyhow::Result<()> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    out.show(&body, &[]);
    if !status.is_success() {
        bail!("the server answered {status}");
    }
    Ok(())
}

pub async fn send(args: SendArgs, out: Output) -> anyhow::Result<()> {
    let mut body = json!({"to": args.to, "text": args.text});
    if let Some(from) = args.from {
        body["from"] = json!(from);
    }
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
    answer(response, out).await
}

pub async fn status(args: ClientArgs, out: Output) -> anyhow::Result<()> {
    let response = reqwest::get(format!("{}/readyz", args.url.trim_end_matches('/')))
        .await
        .with_context(|| format!("cannot reach {}", args.url))?;
    answer(response, out).await
}

/// Every connector of a running server: binds, window use, rate, errors.
pub async fn connectors(args: AdminClientArgs, out: Output) -> anyhow::Result<()> {
    let url = args.client.url.trim_end_matches('/');
    let response = reqwest::Client::new()
        .get(format!("{url}/admin/v1/connectors"))
        .bearer_auth(&args.admin_token)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    answer(response, out).await
}

/// The nodes serving a running server's database, their heartbeats, and
/// who holds which connector.
pub async fn cluster(args: AdminClientArgs, out: Output) -> anyhow::Result<()> {
    let url = args.client.url.trim_end_matches('/');
    let response = reqwest::Client::new()
        .get(format!("{url}/admin/v1/cluster"))
        .bearer_auth(&args.admin_token)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    if matches!(out, Output::Json) || !response.status().is_success() {
        return answer(response, out).await;
    }
    let body: Value = response.json().await?;
    out.show(
        &body["nodes"],
        &["id", "name", "address", "alive", "beat_at", "ended_at"],
    );
    println!();
    out.show(
        &body["leases"],
        &["connector", "node", "node_name", "available", "expires_at"],
    );
    Ok(())
}

/// `smsgate migrate --from FILE --to URL`: an SQLite installation copied
/// into PostgreSQL, table by table, every count checked.
pub fn migrate(from: &std::path::Path, to: &str, out: Output) -> anyhow::Result<()> {
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        anyhow::bail!("--to takes a PostgreSQL URL (postgres://user@host/db), not {to:?}");
    }
    let copied =
        smsgate_store::postgres::copy::sqlite_to_postgres(from, to).with_context(|| {
            format!(
                "cannot migrate {} to {}",
                from.display(),
                smsgate_store::postgres::redacted(to)
            )
        })?;
    let tables: Vec<Value> = copied
        .iter()
        .map(|c| json!({"table": c.table, "rows": c.rows}))
        .collect();
    out.show(&Value::Array(tables), &["table", "rows"]);
    Ok(())
}

/// `smsgate backup FILE`: a consistent copy of the database.
pub async fn backup(config: &Config, file: &std::path::Path, out: Output) -> anyhow::Result<()> {
    let Opened::Sqlite(store) = Opened::open(&config.db, false)? else {
        anyhow::bail!(
            "smsgate backup copies an SQLite database; back up PostgreSQL with its own tools (pg_dump, base backups)"
        );
    };
    store.backup(file).await?;
    out.show(
        &json!({"backup": file.display().to_string(), "of": config.db.to_string()}),
        &[],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_aligned_columns_and_objects_field_lines() {
        let list = json!([
            {"id": 1, "name": "shop", "balance": 7, "default_country": null},
            {"id": 12, "name": "a", "balance": 1000, "default_country": "NL"},
        ]);
        assert_eq!(
            table(&list, &["id", "name", "balance", "default_country"]),
            "ID  NAME  BALANCE  DEFAULT_COUNTRY\n\
             1   shop  7        -\n\
             12  a     1000     NL\n"
        );
        assert_eq!(
            table(
                &json!({"id": 3, "api_key": "sg_x", "networks": ["10.0.0.0/8", "::1/128"]}),
                &[]
            ),
            "api_key   sg_x\nid        3\nnetworks  10.0.0.0/8,::1/128\n"
        );
    }
}
