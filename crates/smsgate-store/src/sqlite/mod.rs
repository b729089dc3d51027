//! The SQLite adapter: WAL, `synchronous=FULL`, embedded migrations, one
//! group-committing writer thread and a small read pool.

mod accounts;
mod balances;
mod campaigns;
mod conn;
mod events;
mod inbound;
mod links;
mod messages;
mod receipts;
mod registry;
mod suppressions;
#[cfg(test)]
mod tests;
mod webhooks;

use std::path::Path;

use async_trait::async_trait;
use smsgate_core::optout::OptOutAction;
use smsgate_core::{
    AccountId, BatchId, Category, Credits, InboundId, KeyId, MessageId, Msisdn, Price, PublicId,
    Timestamp,
};

use crate::*;
use conn::{Readers, Writer};

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_spine.sql"),
    include_str!("migrations/0002_parts_and_receipts.sql"),
    include_str!("migrations/0003_inbound.sql"),
    include_str!("migrations/0004_events.sql"),
    include_str!("migrations/0005_webhooks.sql"),
    include_str!("migrations/0006_routing_optout_replies.sql"),
    include_str!("migrations/0007_senders_templates.sql"),
    include_str!("migrations/0008_sessions.sql"),
    include_str!("migrations/0009_message_item_payload.sql"),
    include_str!("migrations/0010_campaigns_links.sql"),
    include_str!("migrations/0011_category_balances.sql"),
    include_str!("migrations/0012_key_networks.sql"),
    include_str!("migrations/0013_opaque_ids.sql"),
    include_str!("migrations/0014_account_rate_limit.sql"),
    include_str!("migrations/0015_account_reach.sql"),
    include_str!("migrations/0016_message_campaign.sql"),
    include_str!("migrations/0017_account_number_check.sql"),
    include_str!("migrations/0018_batches_by_time.sql"),
    include_str!("migrations/0019_inbound_by_time.sql"),
];

/// Read connections; reads are short, so a few serve many requests.
const READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    path: std::path::PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    /// A file that cannot be written, opened or read as a database is a
    /// clear error naming it, not a failure later on the first write.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut conn = conn::open(path, false).map_err(|e| unusable(path, e))?;
        // A read-only file opens; the first write says so.
        conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")
            .map_err(|e| unusable(path, StoreError::from(e)))?;
        migrate(&mut conn)?;
        let readers = Readers::open(path, READERS)?;
        Ok(SqliteStore {
            writer: Writer::start(conn),
            readers,
            path: path.to_path_buf(),
        })
    }

    /// Moves everything in the write-ahead log into the database file and
    /// empties the log, so a clean shutdown leaves one whole file. Call it
    /// when nothing writes any more (after the engine's shutdown).
    pub async fn checkpoint(&self) -> Result<()> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn::open(&path, false)?;
            let (busy, _, _): (i64, i64, i64) =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if busy != 0 {
                return Err(StoreError::Backup(
                    "the checkpoint was blocked by a reader; the log is kept".into(),
                ));
            }
            Ok(())
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// A consistent copy of the database at `to` while it is in use
    /// (`VACUUM INTO` reads one snapshot); `to` must not exist.
    pub async fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Backup(format!(
                "{} already exists",
                to.display()
            )));
        }
        let target = to.to_string_lossy().into_owned();
        self.read(move |c| {
            c.execute("VACUUM INTO ?1", [&target])
                .map_err(|e| StoreError::Backup(format!("{target}: {e}")))?;
            Ok(())
        })
        .await
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        self.readers.read(f).await
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        self.writer.write(f).await
    }
}

/// SQLite's errors become the store's here, and only here.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        let kind = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => BackendKind::Busy,
                ErrorCode::ReadOnly => BackendKind::ReadOnly,
                ErrorCode::CannotOpen => BackendKind::CannotOpen,
                ErrorCode::NotADatabase => BackendKind::NotADatabase,
                ErrorCode::PermissionDenied => BackendKind::PermissionDenied,
                _ => BackendKind::Other,
            },
            _ => BackendKind::Other,
        };
        StoreError::Backend(BackendError::new(kind, e.to_string()))
    }
}

/// What is wrong with a database file that cannot be used, in words.
fn unusable(path: &Path, e: StoreError) -> StoreError {
    let StoreError::Backend(b) = &e else {
        return e;
    };
    let why = match b.kind() {
        BackendKind::ReadOnly => {
            "is read-only: smsgate writes every message to it (check the permissions of the file, its -wal and -shm files and its directory, and the mount)"
        }
        BackendKind::CannotOpen => {
            "cannot be opened or created (does its directory exist and may smsgate write there?)"
        }
        BackendKind::NotADatabase => "is not an SQLite database",
        BackendKind::PermissionDenied => "may not be opened by this user",
        BackendKind::Busy | BackendKind::Other => return e,
    };
    StoreError::Unusable(format!("the database {} {why}", path.display()))
}

fn migrate(conn: &mut rusqlite::Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {version}, newer than this smsgate ({})",
            MIGRATIONS.len()
        )));
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    // Rebuilding a table (SQLite's way to change a primary key) drops it,
    // which foreign keys would refuse; they are checked before each commit
    // instead, as SQLite's ALTER TABLE documentation prescribes.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let applied = (|| {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let failed =
                |e: rusqlite::Error| StoreError::Migration(format!("migration {}: {e}", i + 1));
            let tx = conn.transaction()?;
            tx.execute_batch(sql).map_err(failed)?;
            let violations: i64 = tx
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })
                .map_err(failed)?;
            if violations > 0 {
                return Err(StoreError::Migration(format!(
                    "migration {}: {violations} rows break foreign keys",
                    i + 1
                )));
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "applied schema migration");
        }
        Ok(())
    })();
    conn.pragma_update(None, "foreign_keys", "ON")?;
    applied
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, new: NewAccount, now: Timestamp) -> Result<Account> {
        self.write(move |c| accounts::create_account(c, new, now))
            .await
    }
    async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.read(move |c| accounts::account(c, id)).await
    }
    async fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        let name = name.to_string();
        self.read(move |c| accounts::account_by_name(c, &name))
            .await
    }
    async fn accounts(&self) -> Result<Vec<Account>> {
        self.read(accounts::accounts).await
    }
    async fn update_account(&self, id: AccountId, patch: AccountPatch) -> Result<Account> {
        self.write(move |c| accounts::update_account(c, id, patch))
            .await
    }
    async fn create_key(
        &self,
        account: AccountId,
        key: NewApiKey,
        now: Timestamp,
    ) -> Result<ApiKeyInfo> {
        self.write(move |c| accounts::create_key(c, account, key, now))
            .await
    }
    async fn set_key_networks(
        &self,
        key: KeyId,
        networks: Option<Vec<smsgate_core::net::IpNetwork>>,
    ) -> Result<ApiKeyInfo> {
        self.write(move |c| accounts::set_key_networks(c, key, networks))
            .await
    }
    async fn revoke_key(&self, key: KeyId, now: Timestamp) -> Result<ApiKeyInfo> {
        self.write(move |c| accounts::revoke_key(c, key, now)).await
    }
    async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>> {
        self.read(move |c| accounts::keys(c, account)).await
    }
    async fn key_by_hash(&self, hash: [u8; 32]) -> Result<Option<(ApiKeyInfo, Account)>> {
        self.read(move |c| accounts::key_by_hash(c, hash)).await
    }
}

#[async_trait]
impl CreditStore for SqliteStore {
    async fn adjust_credits(
        &self,
        account: AccountId,
        amount: Credits,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Credits> {
        self.write(move |c| accounts::adjust_credits(c, account, amount, note, now))
            .await
    }
    async fn adjust_category_credits(
        &self,
        account: AccountId,
        category: Category,
        amount: Credits,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Credits> {
        self.write(move |c| {
            accounts::adjust_category_credits(c, account, category, amount, note, now)
        })
        .await
    }
    async fn category_balances(&self, account: AccountId) -> Result<Vec<(Category, Credits)>> {
        self.read(move |c| balances::by_category(c, account)).await
    }
    async fn ledger(&self, account: AccountId, limit: usize) -> Result<Vec<LedgerEntry>> {
        self.read(move |c| accounts::ledger(c, account, limit))
            .await
    }
    async fn prices(&self) -> Result<Vec<Price>> {
        self.read(accounts::prices).await
    }
    async fn set_price(&self, price: Price) -> Result<()> {
        self.write(move |c| accounts::set_price(c, price)).await
    }
    async fn delete_price(&self, route_class: &str, prefix: &str) -> Result<bool> {
        let (class, prefix) = (route_class.to_string(), prefix.to_string());
        self.write(move |c| accounts::delete_price(c, &class, &prefix))
            .await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        account: AccountId,
        key_hash: [u8; 32],
        now: Timestamp,
    ) -> Result<()> {
        self.write(move |c| accounts::create_session(c, account, key_hash, now))
            .await
    }
    async fn session(&self, key_hash: [u8; 32]) -> Result<Option<SessionRecord>> {
        self.read(move |c| accounts::session(c, key_hash)).await
    }
    async fn touch_session(&self, key_hash: [u8; 32], now: Timestamp) -> Result<()> {
        self.write(move |c| accounts::touch_session(c, key_hash, now))
            .await
    }
    async fn purge_sessions(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| accounts::purge_sessions(c, before))
            .await
    }
}

#[async_trait]
impl SettingStore for SqliteStore {
    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.read(move |c| accounts::setting(c, &key)).await
    }
    async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write(move |c| accounts::set_setting(c, &key, &value))
            .await
    }
}

#[async_trait]
impl IntakeStore for SqliteStore {
    async fn accept(
        &self,
        submissions: Vec<Submission>,
        now: Timestamp,
    ) -> Result<Vec<Result<Acceptance, Refusal>>> {
        self.write(move |c| {
            submissions
                .into_iter()
                .map(|s| messages::accept(c, s, now))
                .collect()
        })
        .await
    }
    async fn accept_together(
        &self,
        submissions: Vec<Submission>,
        now: Timestamp,
    ) -> Result<Result<Vec<Result<Acceptance, Refusal>>, Refusal>> {
        self.write(move |c| messages::accept_together(c, submissions, now))
            .await
    }
    async fn purge_idempotency(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| messages::purge_idempotency(c, before))
            .await
    }
}

#[async_trait]
impl MessageReads for SqliteStore {
    async fn batch_by_reference(
        &self,
        account: AccountId,
        reference: &str,
    ) -> Result<Option<BatchSummary>> {
        let reference = reference.to_string();
        self.read(move |c| messages::batch_by_reference(c, account, &reference))
            .await
    }
    async fn message(
        &self,
        account: Option<AccountId>,
        id: MessageId,
    ) -> Result<Option<MessageDetail>> {
        self.read(move |c| messages::message(c, account, id)).await
    }
    async fn count_messages(&self, account: AccountId) -> Result<u64> {
        self.read(move |c| messages::count_messages(c, account))
            .await
    }
    async fn messages(
        &self,
        account: AccountId,
        filter: MessageFilter,
    ) -> Result<Vec<MessageRecord>> {
        self.read(move |c| messages::messages(c, account, filter))
            .await
    }
    async fn batch(&self, account: AccountId, id: BatchId) -> Result<Option<BatchSummary>> {
        self.read(move |c| messages::batch(c, account, id)).await
    }
    async fn batch_history(
        &self,
        account: AccountId,
        from: Timestamp,
        to: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<BatchHistoryEntry>)> {
        self.read(move |c| messages::batch_history(c, account, from, to, offset, limit))
            .await
    }
    async fn queue_depth(&self) -> Result<QueueDepth> {
        self.read(messages::queue_depth).await
    }
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn match_pending_receipts(&self, received_before: Timestamp) -> Result<usize> {
        self.write(move |c| receipts::match_pending(c, received_before))
            .await
    }
    async fn purge_pending_receipts(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| receipts::purge_pending(c, before))
            .await
    }
    async fn cancel(
        &self,
        account: AccountId,
        id: MessageId,
        now: Timestamp,
    ) -> Result<CancelOutcome> {
        self.write(move |c| messages::cancel(c, account, id, now))
            .await
    }
    async fn promote_scheduled(&self, now: Timestamp, limit: usize) -> Result<Vec<MessageId>> {
        self.write(move |c| messages::promote_scheduled(c, now, limit))
            .await
    }
    async fn expire_overdue(&self, now: Timestamp, limit: usize) -> Result<Vec<MessageId>> {
        self.write(move |c| messages::expire_overdue(c, now, limit))
            .await
    }
    async fn claim(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: usize,
    ) -> Result<Vec<Outbound>> {
        self.write(move |c| messages::claim(c, now, lease_until, limit))
            .await
    }
    async fn awaiting_receipt(&self, connector: &str) -> Result<Vec<String>> {
        let connector = connector.to_string();
        self.read(move |c| receipts::awaiting_receipt(c, &connector))
            .await
    }
    async fn apply(&self, updates: Vec<StatusUpdate>) -> Result<Vec<ApplyOutcome>> {
        self.write(move |c| updates.into_iter().map(|u| messages::apply(c, u)).collect())
            .await
    }
    async fn acknowledged(
        &self,
        after: i64,
        before: Timestamp,
        limit: usize,
    ) -> Result<crate::AcknowledgedPage> {
        self.read(move |c| receipts::acknowledged(c, after, before, limit))
            .await
    }
    async fn release_message_leases(&self) -> Result<usize> {
        self.write(messages::release_leases).await
    }
}

#[async_trait]
impl InboundStore for SqliteStore {
    async fn receive_inbound(&self, parts: Vec<InboundPart>) -> Result<Vec<InboundOutcome>> {
        self.write(move |c| parts.into_iter().map(|p| inbound::receive(c, p)).collect())
            .await
    }
    async fn inbound_message(
        &self,
        account: AccountId,
        id: InboundId,
    ) -> Result<Option<(InboundRecord, Vec<MessageId>)>> {
        self.read(move |c| {
            let Some(m) = inbound::by_id(c, id)?.filter(|m| m.account_id == Some(account)) else {
                return Ok(None);
            };
            Ok(Some((m, inbound::replies(c, id)?)))
        })
        .await
    }
    async fn assign_keyword(
        &self,
        number: &str,
        keyword: &str,
        account: AccountId,
        now: Timestamp,
    ) -> Result<KeywordAssignment> {
        let (number, keyword) = (number.to_string(), keyword.to_string());
        self.write(move |c| inbound::assign_keyword(c, &number, &keyword, account, now))
            .await
    }
    async fn unassign_keyword(&self, number: &str, keyword: &str) -> Result<bool> {
        let (number, keyword) = (number.to_string(), keyword.to_string());
        self.write(move |c| inbound::unassign_keyword(c, &number, &keyword))
            .await
    }
    async fn keywords(&self) -> Result<Vec<KeywordAssignment>> {
        self.read(inbound::keywords).await
    }
    async fn inbound(
        &self,
        account: AccountId,
        before: Option<InboundId>,
        limit: usize,
    ) -> Result<Vec<InboundRecord>> {
        self.read(move |c| inbound::list(c, account, before, limit))
            .await
    }
    async fn inbound_history(
        &self,
        account: AccountId,
        numbers: Vec<String>,
        from: Timestamp,
        to: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<InboundRecord>)> {
        self.read(move |c| inbound::history(c, account, &numbers, from, to, offset, limit))
            .await
    }
    async fn assign_number(
        &self,
        number: &str,
        account: AccountId,
        now: Timestamp,
    ) -> Result<NumberAssignment> {
        let number = number.to_string();
        self.write(move |c| inbound::assign(c, &number, account, now))
            .await
    }
    async fn unassign_number(&self, number: &str) -> Result<bool> {
        let number = number.to_string();
        self.write(move |c| inbound::unassign(c, &number)).await
    }
    async fn numbers(&self) -> Result<Vec<NumberAssignment>> {
        self.read(inbound::numbers).await
    }
    async fn purge_inbound_parts(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| inbound::purge_parts(c, before)).await
    }
}

#[async_trait]
impl RegistryStore for SqliteStore {
    async fn create_sender(
        &self,
        account: AccountId,
        new: NewSender,
        now: Timestamp,
    ) -> Result<SenderRecord> {
        self.write(move |c| registry::create_sender(c, account, new, now))
            .await
    }
    async fn sender(&self, account: AccountId, id: PublicId) -> Result<Option<SenderRecord>> {
        self.read(move |c| registry::sender(c, Some(account), &id))
            .await
    }
    async fn sender_by_name(
        &self,
        account: AccountId,
        sender_id: &str,
    ) -> Result<Option<SenderRecord>> {
        let sender_id = sender_id.to_string();
        self.read(move |c| registry::sender_by_name(c, account, &sender_id))
            .await
    }
    async fn senders(&self, account: AccountId) -> Result<Vec<SenderRecord>> {
        self.read(move |c| registry::senders(c, account)).await
    }
    async fn delete_sender(&self, account: AccountId, id: PublicId) -> Result<bool> {
        self.write(move |c| registry::delete_sender(c, account, &id))
            .await
    }
    async fn approve_sender(&self, id: PublicId, now: Timestamp) -> Result<Option<SenderRecord>> {
        self.write(move |c| registry::approve_sender(c, &id, now))
            .await
    }
    async fn create_template(
        &self,
        account: AccountId,
        new: NewTemplate,
        now: Timestamp,
    ) -> Result<TemplateRecord> {
        self.write(move |c| registry::create_template(c, account, new, now))
            .await
    }
    async fn template(&self, account: AccountId, id: PublicId) -> Result<Option<TemplateRecord>> {
        self.read(move |c| registry::template(c, Some(account), &id))
            .await
    }
    async fn template_by_template_id(
        &self,
        account: AccountId,
        template_id: &str,
    ) -> Result<Option<TemplateRecord>> {
        let template_id = template_id.to_string();
        self.read(move |c| registry::template_by_template_id(c, account, &template_id))
            .await
    }
    async fn templates(&self, account: AccountId) -> Result<Vec<TemplateRecord>> {
        self.read(move |c| registry::templates(c, account)).await
    }
    async fn approve_template(
        &self,
        id: PublicId,
        now: Timestamp,
    ) -> Result<Option<TemplateRecord>> {
        self.write(move |c| registry::approve_template(c, &id, now))
            .await
    }
}

#[async_trait]
impl AudienceStore for SqliteStore {
    async fn click(&self, code: &str, now: Timestamp) -> Result<Option<String>> {
        let code = code.to_string();
        self.write(move |c| links::click(c, &code, now)).await
    }
    async fn link_target(&self, code: &str) -> Result<Option<String>> {
        let code = code.to_string();
        self.read(move |c| links::target(c, &code)).await
    }
    async fn create_campaign(
        &self,
        account: AccountId,
        reference: &str,
        name: Option<String>,
        now: Timestamp,
    ) -> Result<Campaign> {
        let reference = reference.to_string();
        self.write(move |c| campaigns::create(c, account, &reference, name.as_deref(), now))
            .await
    }
    async fn campaigns(&self, account: AccountId) -> Result<Vec<Campaign>> {
        self.read(move |c| campaigns::list(c, account)).await
    }
    async fn change_subscribers(
        &self,
        account: AccountId,
        reference: &str,
        numbers: Vec<Msisdn>,
        subscribe: bool,
        now: Timestamp,
    ) -> Result<Option<ChangeCount>> {
        let reference = reference.to_string();
        self.write(move |c| campaigns::change(c, account, &reference, &numbers, subscribe, now))
            .await
    }
    async fn subscribers(
        &self,
        account: AccountId,
        reference: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Option<Vec<String>>> {
        let reference = reference.to_string();
        self.read(move |c| campaigns::subscribers(c, account, &reference, after.as_deref(), limit))
            .await
    }
    async fn subscribed(
        &self,
        account: AccountId,
        reference: &str,
        numbers: Vec<String>,
    ) -> Result<Option<Vec<String>>> {
        let reference = reference.to_string();
        self.read(move |c| campaigns::subscribed(c, account, &reference, &numbers))
            .await
    }
    async fn change_suppressions(
        &self,
        account: AccountId,
        numbers: Vec<Msisdn>,
        action: OptOutAction,
        source: SuppressionSource,
        now: Timestamp,
    ) -> Result<ChangeCount> {
        self.write(move |c| suppressions::change_many(c, account, &numbers, action, source, now))
            .await
    }
    async fn suppressions(
        &self,
        account: AccountId,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<Suppression>> {
        self.read(move |c| suppressions::list(c, account, after.as_deref(), limit))
            .await
    }
    async fn suppressed(&self, account: AccountId, numbers: Vec<String>) -> Result<Vec<String>> {
        self.read(move |c| suppressions::suppressed(c, account, &numbers))
            .await
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn callbacks_endpoint(&self, account: AccountId) -> Result<Option<WebhookEndpoint>> {
        self.read(move |c| webhooks::callbacks_endpoint(c, account))
            .await
    }
    async fn create_webhook(
        &self,
        account: AccountId,
        new: NewWebhookEndpoint,
        now: Timestamp,
    ) -> Result<WebhookEndpoint> {
        self.write(move |c| webhooks::create(c, account, new, now))
            .await
    }
    async fn webhooks(&self, account: AccountId) -> Result<Vec<WebhookEndpoint>> {
        self.read(move |c| webhooks::list(c, account)).await
    }
    async fn webhook(&self, account: AccountId, id: PublicId) -> Result<Option<WebhookEndpoint>> {
        self.read(move |c| webhooks::get(c, account, &id)).await
    }
    async fn set_webhook_enabled(
        &self,
        account: AccountId,
        id: PublicId,
        enabled: bool,
    ) -> Result<bool> {
        self.write(move |c| webhooks::set_enabled(c, account, &id, enabled))
            .await
    }
    async fn delete_webhook(
        &self,
        account: AccountId,
        id: PublicId,
        now: Timestamp,
    ) -> Result<bool> {
        self.write(move |c| webhooks::delete(c, account, &id, now))
            .await
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn purge_events(&self, before: Timestamp, limit: usize) -> Result<usize> {
        self.write(move |c| events::purge(c, before, limit)).await
    }
    async fn events(
        &self,
        account: AccountId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EventRecord>> {
        self.read(move |c| events::list(c, account, after, limit))
            .await
    }
    async fn relay_events(&self, limit: usize, now: Timestamp) -> Result<usize> {
        self.write(move |c| webhooks::relay(c, limit, now)).await
    }
    async fn delivery_load(&self, now: Timestamp) -> Result<DeliveryLoad> {
        self.read(move |c| webhooks::load(c, now)).await
    }
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        take: Vec<(PublicId, usize)>,
    ) -> Result<Vec<DueDelivery>> {
        self.write(move |c| webhooks::claim(c, now, lease_until, &take))
            .await
    }
    async fn release_delivery_leases(&self) -> Result<usize> {
        self.write(webhooks::release_leases).await
    }
    async fn record_attempts(&self, attempts: Vec<AttemptResult>) -> Result<()> {
        self.write(move |c| {
            attempts
                .into_iter()
                .try_for_each(|a| webhooks::record(c, a))
        })
        .await
    }
    async fn deliveries(
        &self,
        account: AccountId,
        endpoint: PublicId,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>> {
        self.read(move |c| webhooks::deliveries(c, account, &endpoint, limit))
            .await
    }
    async fn replay_deliveries(
        &self,
        endpoint: WebhookEndpoint,
        which: Replay,
        now: Timestamp,
    ) -> Result<usize> {
        self.write(move |c| webhooks::replay(c, &endpoint, which, now))
            .await
    }
    async fn test_webhook(&self, endpoint: WebhookEndpoint, now: Timestamp) -> Result<Option<i64>> {
        self.write(move |c| webhooks::test_event(c, &endpoint, now))
            .await
    }
}
