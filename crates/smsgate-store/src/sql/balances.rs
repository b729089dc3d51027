//! SQL for where credits are kept: the account's main balance, or, for
//! accounts with split balances, one balance per category.

use async_trait::async_trait;
use smsgate_core::{AccountId, Amount, Category};

use super::{Backend, Db, SqlStore, args};
use crate::Result;
use crate::*;

/// Takes `amount` from the pool if it holds that much; whether it did.
/// (The conditional update is what makes overspending impossible.)
pub(crate) fn debit(
    conn: &impl Db,
    account: AccountId,
    pool: Option<Category>,
    amount: Amount,
) -> Result<bool> {
    let changed = match pool {
        None => conn.exec(
            "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2 AND balance >= ?1",
            args![amount.minor(), account.0],
        )?,
        Some(c) => conn.exec(
            "UPDATE category_balances SET balance = balance - ?1
                  WHERE account_id = ?2 AND category = ?3 AND balance >= ?1",
            args![amount.minor(), account.0, c.as_str()],
        )?,
    };
    Ok(changed > 0)
}

/// Adds `amount` (not negative) to the pool.
pub(crate) fn credit(
    conn: &impl Db,
    account: AccountId,
    pool: Option<Category>,
    amount: Amount,
) -> Result<()> {
    match pool {
        None => conn.exec("UPDATE accounts SET balance = balance + ?1 WHERE id = ?2", args![amount.minor(), account.0])?,
        Some(c) => conn.exec("INSERT INTO category_balances (account_id, category, balance) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id, category) DO UPDATE SET balance = category_balances.balance + excluded.balance", args![account.0, c.as_str(), amount.minor()])?,
    };
    Ok(())
}

pub(crate) fn balance(
    conn: &impl Db,
    account: AccountId,
    pool: Option<Category>,
) -> Result<Amount> {
    let units: Option<i64> = match pool {
        None => conn.one(
            "SELECT balance FROM accounts WHERE id = ?1",
            args![account.0],
            |r| r.get(0),
        )?,
        Some(c) => conn.one(
            "SELECT balance FROM category_balances WHERE account_id = ?1 AND category = ?2",
            args![account.0, c.as_str()],
            |r| r.get(0),
        )?,
    };
    Ok(Amount::from_minor(units.unwrap_or(0)))
}

/// Every category's balance (zero where none was ever added).
pub(crate) fn by_category(conn: &impl Db, account: AccountId) -> Result<Vec<(Category, Amount)>> {
    [
        Category::Transactional,
        Category::Promotional,
        Category::Otp,
    ]
    .into_iter()
    .map(|c| Ok((c, balance(conn, account, Some(c))?)))
    .collect()
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> CreditStore for SqlStore<B> {
    async fn adjust_credits(
        &self,
        account: AccountId,
        amount: Amount,
        note: Option<String>,
        by: &Audit,
    ) -> Result<Amount> {
        let by = *by;
        self.write(move |c| super::accounts::adjust_credits(c, account, amount, note, &by))
            .await
    }
    async fn adjust_category_credits(
        &self,
        account: AccountId,
        category: Category,
        amount: Amount,
        note: Option<String>,
        by: &Audit,
    ) -> Result<Amount> {
        let by = *by;
        self.write(move |c| {
            super::accounts::adjust_category_credits(c, account, category, amount, note, &by)
        })
        .await
    }
    async fn category_balances(&self, account: AccountId) -> Result<Vec<(Category, Amount)>> {
        self.read(move |c| super::balances::by_category(c, account))
            .await
    }
    async fn transfer(
        &self,
        from: AccountId,
        to: AccountId,
        amount: Amount,
        note: Option<String>,
        by: &Audit,
    ) -> Result<(Amount, Amount)> {
        let by = *by;
        self.write(move |c| super::accounts::transfer(c, from, to, amount, note, &by))
            .await
    }
    async fn statement(
        &self,
        account: AccountId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Statement> {
        self.read(move |c| super::accounts::statement(c, account, from, to))
            .await
    }
    async fn ledger_page(
        &self,
        account: AccountId,
        filter: LedgerFilter,
    ) -> Result<Vec<LedgerEntry>> {
        self.read(move |c| super::accounts::ledger(c, account, &filter))
            .await
    }
}
