//! SQL for where credits are kept: the account's main balance, or, for
//! accounts with split balances, one balance per category.

use rusqlite::{Connection, OptionalExtension, params};
use smsgate_core::{AccountId, Category, Credits};

use crate::Result;

/// Takes `amount` from the pool if it holds that much; whether it did.
/// (The conditional update is what makes overspending impossible.)
pub(crate) fn debit(
    conn: &Connection,
    account: AccountId,
    pool: Option<Category>,
    amount: Credits,
) -> Result<bool> {
    let changed = match pool {
        None => conn
            .prepare_cached(
                "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2 AND balance >= ?1",
            )?
            .execute(params![amount.units(), account.0])?,
        Some(c) => conn
            .prepare_cached(
                "UPDATE category_balances SET balance = balance - ?1
                  WHERE account_id = ?2 AND category = ?3 AND balance >= ?1",
            )?
            .execute(params![amount.units(), account.0, c.as_str()])?,
    };
    Ok(changed > 0)
}

/// Adds `amount` (not negative) to the pool.
pub(crate) fn credit(
    conn: &Connection,
    account: AccountId,
    pool: Option<Category>,
    amount: Credits,
) -> Result<()> {
    match pool {
        None => conn
            .prepare_cached("UPDATE accounts SET balance = balance + ?1 WHERE id = ?2")?
            .execute(params![amount.units(), account.0])?,
        Some(c) => conn
            .prepare_cached(
                "INSERT INTO category_balances (account_id, category, balance) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id, category) DO UPDATE SET balance = balance + excluded.balance",
            )?
            .execute(params![account.0, c.as_str(), amount.units()])?,
    };
    Ok(())
}

pub(crate) fn balance(
    conn: &Connection,
    account: AccountId,
    pool: Option<Category>,
) -> Result<Credits> {
    let units: Option<i64> = match pool {
        None => conn
            .prepare_cached("SELECT balance FROM accounts WHERE id = ?1")?
            .query_row([account.0], |r| r.get(0))
            .optional()?,
        Some(c) => conn
            .prepare_cached(
                "SELECT balance FROM category_balances WHERE account_id = ?1 AND category = ?2",
            )?
            .query_row(params![account.0, c.as_str()], |r| r.get(0))
            .optional()?,
    };
    Ok(Credits::new(units.unwrap_or(0)))
}

/// Every category's balance (zero where none was ever added).
pub(crate) fn by_category(
    conn: &Connection,
    account: AccountId,
) -> Result<Vec<(Category, Credits)>> {
    [
        Category::Transactional,
        Category::Promotional,
        Category::Otp,
    ]
    .into_iter()
    .map(|c| Ok((c, balance(conn, account, Some(c))?)))
    .collect()
}
