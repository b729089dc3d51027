//! What a caller may read of its own account, and what the operator may
//! read of all of them. Every read of a face goes through here: a
//! caller's reads take the `Caller`, so the account is part of the query,
//! never a step a handler must remember.

use smsgate_core::timestamp::Month;
use smsgate_core::{Amount, BatchId, Category, InboundId, MessageId};
use smsgate_store::{
    Account, ApiKeyInfo, BatchSummary, Campaign, EventRecord, InboundRecord, LedgerEntry,
    LedgerFilter, MessageDetail, MessageFilter, MessageRecord, NumberAssignment, QueueDepth,
    SenderRecord, Statement, TemplateRecord, UsageQuery, UsageRow, WebhookEndpoint,
};

use crate::{AccountId, Caller, Engine, EngineError};

impl Engine {
    /// The caller's account as it is now.
    pub async fn own_account(&self, caller: &Caller) -> Result<Account, EngineError> {
        self.inner
            .store
            .account(caller.account)
            .await?
            .ok_or(EngineError::NotFound("account"))
    }

    /// The caller's ledger entries that pass `filter`, newest first.
    pub async fn own_ledger(
        &self,
        caller: &Caller,
        filter: LedgerFilter,
    ) -> Result<Vec<LedgerEntry>, EngineError> {
        Ok(self.inner.store.ledger_page(caller.account, filter).await?)
    }

    /// The caller's statement for a month.
    pub async fn own_statement(
        &self,
        caller: &Caller,
        month: Month,
    ) -> Result<Statement, EngineError> {
        Ok(self
            .inner
            .store
            .statement(caller.account, month.start(), month.end())
            .await?)
    }

    /// The usage of the caller's own account, of one of its sub-accounts,
    /// or of both. A customer sees what it was charged, never what the
    /// carriers charged nor the connectors its messages took, and groups
    /// by account only when it reads more than one.
    pub async fn own_usage(
        &self,
        caller: &Caller,
        scope: UsageScope,
        mut query: UsageQuery,
    ) -> Result<Vec<UsageRow>, EngineError> {
        let refused = |given: &str, allowed| {
            EngineError::field(
                smsgate_core::send::Field::GroupBy,
                smsgate_core::send::FieldErrorKind::NotOneOf {
                    given: given.into(),
                    allowed,
                },
            )
        };
        if query.groups.connector {
            return Err(refused(
                "connector",
                "a customer's: category, country, status (account with subaccounts)",
            ));
        }
        if query.groups.account && scope != UsageScope::WithSubaccounts {
            return Err(refused(
                "account",
                "a grouping of one account's usage: it needs subaccounts=true",
            ));
        }
        query.accounts = Some(match scope {
            UsageScope::Own => vec![caller.account],
            UsageScope::Subaccount(child) => {
                self.subaccount(caller, child).await?;
                vec![child]
            }
            UsageScope::WithSubaccounts => {
                let children = self.inner.store.children(caller.account).await?;
                std::iter::once(caller.account)
                    .chain(children.iter().map(|a| a.id))
                    .collect()
            }
        });
        let mut rows = self.inner.store.usage(query).await?;
        for r in &mut rows {
            r.counts.carrier_cost = Amount::ZERO;
        }
        Ok(rows)
    }

    /// A sub-account's statement for a month, for its parent.
    pub async fn subaccount_statement(
        &self,
        caller: &Caller,
        child: AccountId,
        month: Month,
    ) -> Result<Statement, EngineError> {
        self.subaccount(caller, child).await?;
        Ok(self
            .inner
            .store
            .statement(child, month.start(), month.end())
            .await?)
    }

    /// A sub-account's ledger entries, for its parent.
    pub async fn subaccount_ledger(
        &self,
        caller: &Caller,
        child: AccountId,
        filter: LedgerFilter,
    ) -> Result<Vec<LedgerEntry>, EngineError> {
        self.subaccount(caller, child).await?;
        Ok(self.inner.store.ledger_page(child, filter).await?)
    }

    /// The caller's balance per category, for accounts that keep them
    /// apart.
    pub async fn category_balances(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(Category, Amount)>, EngineError> {
        Ok(self.inner.store.category_balances(caller.account).await?)
    }

    /// One of the caller's messages with its history.
    pub async fn message(
        &self,
        caller: &Caller,
        id: MessageId,
    ) -> Result<Option<MessageDetail>, EngineError> {
        Ok(self.inner.store.message(Some(caller.account), id).await?)
    }

    /// The caller's messages that pass `filter`, newest first.
    pub async fn messages(
        &self,
        caller: &Caller,
        filter: MessageFilter,
    ) -> Result<Vec<MessageRecord>, EngineError> {
        Ok(self.inner.store.messages(caller.account, filter).await?)
    }

    /// The caller's batch an order names: by the client's reference, else
    /// by its batch id (as the session dialect's `order_id`).
    pub async fn find_batch(
        &self,
        caller: &Caller,
        order: &str,
    ) -> Result<Option<BatchSummary>, EngineError> {
        let store = &self.inner.store;
        if let Some(b) = store.batch_by_reference(caller.account, order).await? {
            return Ok(Some(b));
        }
        match order.parse::<BatchId>() {
            Ok(id) => Ok(store.batch(caller.account, id).await?),
            Err(_) => Ok(None),
        }
    }

    /// The sender of a dialect request that names none: the account's
    /// default sender, else its name when that is a valid alphanumeric
    /// sender ID (the providers send from the account's name).
    pub async fn dialect_sender(&self, caller: &Caller) -> Result<Option<String>, EngineError> {
        let Some(account) = self.inner.store.account(caller.account).await? else {
            return Ok(None);
        };
        Ok(account.default_sender.or_else(|| {
            smsgate_core::SenderId::parse(&account.name)
                .ok()
                .map(|s| s.as_str().to_string())
        }))
    }

    /// How many messages the caller has.
    pub async fn count_messages(&self, caller: &Caller) -> Result<u64, EngineError> {
        Ok(self.inner.store.count_messages(caller.account).await?)
    }

    /// One of the caller's batches with its counts per status.
    pub async fn batch(
        &self,
        caller: &Caller,
        id: BatchId,
    ) -> Result<Option<BatchSummary>, EngineError> {
        Ok(self.inner.store.batch(caller.account, id).await?)
    }

    /// The caller's inbound messages, newest first, older than `before`.
    pub async fn inbound(
        &self,
        caller: &Caller,
        before: Option<InboundId>,
        limit: usize,
    ) -> Result<Vec<InboundRecord>, EngineError> {
        Ok(self
            .inner
            .store
            .inbound(caller.account, before, limit)
            .await?)
    }

    /// The caller's events after the event `after` (0: from the start).
    pub async fn events(
        &self,
        caller: &Caller,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EventRecord>, EngineError> {
        Ok(self
            .inner
            .store
            .events(caller.account, after, limit)
            .await?)
    }

    /// The caller's webhook endpoints.
    pub async fn webhooks(&self, caller: &Caller) -> Result<Vec<WebhookEndpoint>, EngineError> {
        Ok(self.inner.store.webhooks(caller.account).await?)
    }

    /// The caller's campaigns.
    pub async fn campaigns(&self, caller: &Caller) -> Result<Vec<Campaign>, EngineError> {
        Ok(self.inner.store.campaigns(caller.account).await?)
    }

    /// A campaign's subscribers in number order after `after`; `None`: the
    /// caller has no such campaign.
    pub async fn subscribers(
        &self,
        caller: &Caller,
        reference: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<Option<Vec<String>>, EngineError> {
        Ok(self
            .inner
            .store
            .subscribers(caller.account, reference, after, limit)
            .await?)
    }

    /// The caller's sender IDs, oldest first.
    pub async fn own_senders(&self, caller: &Caller) -> Result<Vec<SenderRecord>, EngineError> {
        self.senders(caller.account).await
    }

    /// The caller's templates, oldest first.
    pub async fn own_templates(&self, caller: &Caller) -> Result<Vec<TemplateRecord>, EngineError> {
        Ok(self.inner.store.templates(caller.account).await?)
    }

    /// What the operator reads (the admin API and its token).
    pub fn admin(&self) -> Admin<'_> {
        Admin(self)
    }
}

/// Whose usage a customer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageScope {
    Own,
    Subaccount(AccountId),
    /// Its own and every sub-account's.
    WithSubaccounts,
}

/// The operator's reads of every account.
pub struct Admin<'e>(&'e Engine);

impl Admin<'_> {
    pub async fn accounts(&self) -> Result<Vec<Account>, EngineError> {
        Ok(self.0.inner.store.accounts().await?)
    }

    pub async fn account(&self, id: AccountId) -> Result<Account, EngineError> {
        self.0
            .inner
            .store
            .account(id)
            .await?
            .ok_or(EngineError::NotFound("account"))
    }

    /// An account named by its id (digits) or its name; a name made of
    /// digits is found when no account has that id.
    pub async fn find_account(&self, reference: &str) -> Result<Option<Account>, EngineError> {
        let store = &self.0.inner.store;
        let reference = reference.trim();
        if let Ok(id) = reference.parse::<i64>()
            && let Some(account) = store.account(AccountId(id)).await?
        {
            return Ok(Some(account));
        }
        Ok(store.account_by_name(reference).await?)
    }

    pub async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>, EngineError> {
        Ok(self.0.inner.store.keys(account).await?)
    }

    /// Usage of every account, or of those the query names (each must
    /// exist).
    pub async fn usage(&self, query: UsageQuery) -> Result<Vec<UsageRow>, EngineError> {
        for id in query.accounts.iter().flatten() {
            self.account(*id).await?;
        }
        Ok(self.0.inner.store.usage(query).await?)
    }

    /// Any account's statement for a month.
    pub async fn statement(
        &self,
        account: AccountId,
        month: Month,
    ) -> Result<Statement, EngineError> {
        self.0
            .inner
            .store
            .statement(account, month.start(), month.end())
            .await
            .map_err(|e| match e {
                smsgate_store::StoreError::NoSuchAccount(_) => EngineError::NotFound("account"),
                e => e.into(),
            })
    }

    /// The account's ledger entries that pass `filter`, newest first.
    pub async fn ledger(
        &self,
        account: AccountId,
        filter: LedgerFilter,
    ) -> Result<Vec<LedgerEntry>, EngineError> {
        Ok(self.0.inner.store.ledger_page(account, filter).await?)
    }

    pub async fn numbers(&self) -> Result<Vec<NumberAssignment>, EngineError> {
        Ok(self.0.inner.store.numbers().await?)
    }

    pub async fn templates(&self, account: AccountId) -> Result<Vec<TemplateRecord>, EngineError> {
        Ok(self.0.inner.store.templates(account).await?)
    }

    /// The nodes serving the database (those alive, and those that ended
    /// in the last hour), who holds which connector, and which node this
    /// is (`None` offline).
    pub async fn cluster(&self) -> Result<crate::cluster::ClusterView, EngineError> {
        let store = &self.0.inner.store;
        let hour_ago = self.0.now().plus_millis(-3_600_000);
        Ok(crate::cluster::ClusterView {
            this_node: self.0.inner.membership.as_ref().map(|m| m.id()),
            nodes: store.nodes(hour_ago).await?,
            leases: store.connector_leases().await?,
        })
    }

    /// Messages waiting, for readiness.
    pub async fn queue_depth(&self) -> Result<QueueDepth, EngineError> {
        Ok(self.0.inner.store.queue_depth().await?)
    }
}
