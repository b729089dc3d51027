//! SQL for inbound messages: storing them (parts of long ones kept until
//! the message is whole), the numbers that route them to accounts, and
//! listing them.

use async_trait::async_trait;
use smsgate_core::optout::{InboundOwner, OptOutAction, leading_words, route_inbound};
use smsgate_core::{AccountId, Country, InboundId, MessageId, Msisdn, Timestamp};

use super::accounts::uuid_col;
use super::audit::{self, Change};
use super::messages::corrupt;
use super::{Arg, Backend, Db, Rec, SqlStore, args, refs};
use crate::*;
use crate::{
    Account, InboundOutcome, InboundPart, InboundRecord, KeywordAssignment, NumberAssignment,
    OptOutChange, Result, SuppressionSource,
};

fn owner(conn: &impl Db, number: &str) -> Result<Option<AccountId>> {
    Ok(conn
        .one(
            "SELECT account_id FROM numbers WHERE number = ?1",
            args![number],
            |r| r.get(0),
        )?
        .map(AccountId))
}

pub(crate) fn receive(conn: &impl Db, p: InboundPart) -> Result<InboundOutcome> {
    let (text, parts) = match p.part {
        None => (p.text.clone(), 1),
        Some(part) => {
            let key = args![p.connector, p.from, p.to, part.reference, part.total];
            conn.exec(
                "INSERT INTO inbound_parts
                 (connector, sender, recipient, reference, total, seq, body, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                args![
                    p.connector,
                    p.from,
                    p.to,
                    part.reference,
                    part.total,
                    part.seq,
                    p.text,
                    p.received_at.0
                ],
            )?;
            let bodies: Vec<String> = conn.all(
                "SELECT body FROM inbound_parts
                      WHERE connector = ?1 AND sender = ?2 AND recipient = ?3
                        AND reference = ?4 AND total = ?5 ORDER BY seq",
                key,
                |r| r.get(0),
            )?;
            let have = bodies.len() as u32;
            if have < u32::from(part.total) {
                return Ok(InboundOutcome::PartKept {
                    have,
                    total: u32::from(part.total),
                });
            }
            conn.exec(
                "DELETE FROM inbound_parts
                  WHERE connector = ?1 AND sender = ?2 AND recipient = ?3
                    AND reference = ?4 AND total = ?5",
                key,
            )?;
            (bodies.concat(), have)
        }
    };
    let (account, optout) = route(conn, &p.to, &text)?;
    let record = InboundRecord {
        id: InboundId::generate(),
        account_id: account.as_ref().map(|a| a.id),
        connector: p.connector,
        from: p.from,
        to: p.to,
        text,
        parts,
        received_at: p.received_at,
        optout: optout.as_ref().map(|(action, _)| *action),
    };
    conn.exec(
        "INSERT INTO inbound_messages
         (id, account_id, connector, sender, recipient, body, parts, received_at, optout)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            &record.id.as_bytes()[..],
            record.account_id.map(|a| a.0),
            record.connector,
            record.from,
            record.to,
            record.text,
            record.parts,
            record.received_at.0,
            record.optout.map(action_str),
        ],
    )?;
    super::events::inbound_event(conn, &record)?;
    if let (Some(account), Some((action, keyword))) = (&account, optout) {
        // A sender whose number cannot be read has nothing to suppress; the
        // message is still stored and shows the keyword.
        let country = account
            .default_country
            .as_deref()
            .and_then(|c| Country::parse(c).ok());
        if let Ok(number) = Msisdn::parse(&record.from, country) {
            let change = OptOutChange {
                number: number.to_string(),
                action,
                source: SuppressionSource::Keyword,
                keyword: Some(keyword),
            };
            super::suppressions::change(
                conn,
                account.id,
                &change,
                Some(record.id),
                record.received_at,
            )?;
        }
    }
    Ok(InboundOutcome::Stored(record))
}

fn action_str(a: OptOutAction) -> &'static str {
    match a {
        OptOutAction::OptOut => "opt_out",
        OptOutAction::OptIn => "opt_in",
    }
}

/// The account an inbound message belongs to, and the opt-out keyword it
/// is (with the word as sent), if it is one.
type Routed = (Option<Account>, Option<(OptOutAction, String)>);

fn keyword_owner(conn: &impl Db, number: &str, keyword: &str) -> Result<Option<AccountId>> {
    Ok(conn
        .one(
            "SELECT account_id FROM keywords WHERE number = ?1 AND keyword = ?2",
            args![number, keyword],
            |r| r.get(0),
        )?
        .map(AccountId))
}

/// The account an inbound text to `to` belongs to, and the opt-out
/// keyword it is (with the word), if it is one: the accounts the text's
/// first two words and the number name are looked up here, whose it is
/// is core's rule (`route_inbound`).
fn route(conn: &impl Db, to: &str, text: &str) -> Result<Routed> {
    let (words, _) = leading_words(text, 2);
    let by_keyword = |word: Option<&String>| -> Result<Option<Account>> {
        match word {
            Some(w) => match keyword_owner(conn, to, w)? {
                Some(id) => super::accounts::account(conn, id),
                None => Ok(None),
            },
            None => Ok(None),
        }
    };
    let first = by_keyword(words.first())?;
    let second = by_keyword(words.get(1))?;
    let number = match owner(conn, to)? {
        Some(id) => super::accounts::account(conn, id)?,
        None => None,
    };
    fn keywords(a: &Option<Account>) -> Option<&smsgate_core::optout::OptOutKeywords> {
        a.as_ref().map(|a| &a.optout_keywords)
    }
    let routed = route_inbound(text, keywords(&first), keywords(&second), keywords(&number));
    let account = match routed.owner {
        InboundOwner::FirstWord => first,
        InboundOwner::SecondWord => second,
        InboundOwner::Number => number,
        InboundOwner::Nobody => None,
    };
    Ok((account, routed.optout))
}

fn record_row(r: &Rec<'_>) -> Result<InboundRecord> {
    let id: Vec<u8> = r.get(0)?;
    let Some(id) = uuid_col(Some(id)) else {
        return Err(corrupt("inbound id", ""));
    };
    Ok(InboundRecord {
        id: InboundId::from_bytes(id),
        account_id: r.get::<Option<i64>>(1)?.map(AccountId),
        connector: r.get(2)?,
        from: r.get(3)?,
        to: r.get(4)?,
        text: r.get(5)?,
        parts: r.get(6)?,
        received_at: Timestamp(r.get(7)?),
        optout: match r.get::<Option<String>>(8)?.as_deref() {
            None => None,
            Some("opt_out") => Some(OptOutAction::OptOut),
            Some("opt_in") => Some(OptOutAction::OptIn),
            Some(other) => return Err(corrupt("inbound optout", other)),
        },
    })
}

pub(crate) fn by_id(conn: &impl Db, id: InboundId) -> Result<Option<InboundRecord>> {
    conn.one(
        "SELECT id, account_id, connector, sender, recipient, body, parts, received_at, optout
           FROM inbound_messages WHERE id = ?1",
        args![&id.as_bytes()[..]],
        record_row,
    )
}

/// An account's inbound messages, newest first, older than `before`.
pub(crate) fn list(
    conn: &impl Db,
    account: AccountId,
    before: Option<InboundId>,
    limit: usize,
) -> Result<Vec<InboundRecord>> {
    let before = before.map_or([0xFFu8; 16], |b| *b.as_bytes());
    conn.all(
        "SELECT id, account_id, connector, sender, recipient, body, parts, received_at, optout
           FROM inbound_messages WHERE account_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
        args![account.0, &before[..], limit as i64],
        record_row,
    )
}

/// An account's inbound messages received in `[from, to)` (to `numbers`
/// unless empty), newest first.
pub(crate) fn history(
    conn: &impl Db,
    account: AccountId,
    numbers: &[String],
    from: Timestamp,
    to: Timestamp,
    offset: usize,
    limit: usize,
) -> Result<(u64, Vec<InboundRecord>)> {
    let mut filter =
        String::from("WHERE account_id = ?1 AND received_at >= ?2 AND received_at < ?3");
    let mut args: Vec<Box<dyn Arg>> = vec![Box::new(account.0), Box::new(from.0), Box::new(to.0)];
    if !numbers.is_empty() {
        let marks: Vec<String> = (0..numbers.len()).map(|i| format!("?{}", i + 4)).collect();
        filter.push_str(&format!(" AND recipient IN ({})", marks.join(", ")));
        args.extend(numbers.iter().map(|n| Box::new(n.clone()) as Box<dyn Arg>));
    }
    let total: i64 = conn.single(
        &format!("SELECT COUNT(*) FROM inbound_messages {filter}"),
        &refs(&args),
        |r| r.get(0),
    )?;
    let n = args.len();
    args.push(Box::new(limit as i64));
    args.push(Box::new(offset as i64));
    let page = conn.all(
        &format!(
            "SELECT id, account_id, connector, sender, recipient, body, parts, received_at, optout
               FROM inbound_messages {filter}
              ORDER BY received_at DESC, id DESC LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ),
        &refs(&args),
        record_row,
    )?;
    Ok((total as u64, page))
}

pub(crate) fn assign(
    conn: &impl Db,
    number: &str,
    account: AccountId,
    by: &Audit,
) -> Result<NumberAssignment> {
    let now = by.at;
    super::accounts::require_account(conn, account)?;
    let before = number_owner(conn, number)?;
    conn.exec("INSERT INTO numbers (number, account_id, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (number) DO UPDATE SET account_id = excluded.account_id, created_at = excluded.created_at", args![number, account.0, now.0])?;
    let made = NumberAssignment {
        number: number.to_string(),
        account_id: account,
        created_at: now,
    };
    let mut change = Change::new(AuditAction::NumberAssign)
        .account(account)
        .subject(format!("number {number}"))
        .after(&made);
    if let Some(b) = before {
        change = change.before(&b);
    }
    audit::record(conn, by, change)?;
    Ok(made)
}

fn number_row(r: &Rec<'_>) -> Result<NumberAssignment> {
    Ok(NumberAssignment {
        number: r.get(0)?,
        account_id: AccountId(r.get(1)?),
        created_at: Timestamp(r.get(2)?),
    })
}

fn keyword_row(r: &Rec<'_>) -> Result<KeywordAssignment> {
    Ok(KeywordAssignment {
        number: r.get(0)?,
        keyword: r.get(1)?,
        account_id: AccountId(r.get(2)?),
        created_at: Timestamp(r.get(3)?),
    })
}

fn number_owner(conn: &impl Db, number: &str) -> Result<Option<NumberAssignment>> {
    conn.one(
        "SELECT number, account_id, created_at FROM numbers WHERE number = ?1",
        args![number],
        number_row,
    )
}

pub(crate) fn unassign(conn: &impl Db, number: &str, by: &Audit) -> Result<bool> {
    let Some(before) = number_owner(conn, number)? else {
        return Ok(false);
    };
    conn.exec("DELETE FROM numbers WHERE number = ?1", args![number])?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::NumberUnassign)
            .account(before.account_id)
            .subject(format!("number {number}"))
            .before(&before),
    )?;
    Ok(true)
}

pub(crate) fn numbers(conn: &impl Db) -> Result<Vec<NumberAssignment>> {
    conn.all(
        "SELECT number, account_id, created_at FROM numbers ORDER BY number",
        args![],
        number_row,
    )
}

/// Drops parts whose siblings never came, received before `before`.
pub(crate) fn purge_parts(conn: &impl Db, before: Timestamp) -> Result<usize> {
    conn.exec(
        "DELETE FROM inbound_parts WHERE received_at < ?1",
        args![before.0],
    )
}

/// Routes inbound messages to `number` whose first word is `keyword` to
/// `account` (replacing any earlier owner of that keyword).
pub(crate) fn assign_keyword(
    conn: &impl Db,
    number: &str,
    keyword: &str,
    account: AccountId,
    by: &Audit,
) -> Result<KeywordAssignment> {
    let now = by.at;
    super::accounts::require_account(conn, account)?;
    let before = keyword_assignment(conn, number, keyword)?;
    conn.exec("INSERT INTO keywords (number, keyword, account_id, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (number, keyword) DO UPDATE SET account_id = excluded.account_id, created_at = excluded.created_at", args![number, keyword, account.0, now.0])?;
    let made = KeywordAssignment {
        number: number.to_string(),
        keyword: keyword.to_string(),
        account_id: account,
        created_at: now,
    };
    let mut change = Change::new(AuditAction::KeywordAssign)
        .account(account)
        .subject(format!("keyword {keyword} on {number}"))
        .after(&made);
    if let Some(b) = before {
        change = change.before(&b);
    }
    audit::record(conn, by, change)?;
    Ok(made)
}

fn keyword_assignment(
    conn: &impl Db,
    number: &str,
    keyword: &str,
) -> Result<Option<KeywordAssignment>> {
    conn.one(
        "SELECT number, keyword, account_id, created_at FROM keywords WHERE number = ?1 AND keyword = ?2",
        args![number, keyword],
        keyword_row,
    )
}

pub(crate) fn unassign_keyword(
    conn: &impl Db,
    number: &str,
    keyword: &str,
    by: &Audit,
) -> Result<bool> {
    let Some(before) = keyword_assignment(conn, number, keyword)? else {
        return Ok(false);
    };
    conn.exec(
        "DELETE FROM keywords WHERE number = ?1 AND keyword = ?2",
        args![number, keyword],
    )?;
    audit::record(
        conn,
        by,
        Change::new(AuditAction::KeywordUnassign)
            .account(before.account_id)
            .subject(format!("keyword {keyword} on {number}"))
            .before(&before),
    )?;
    Ok(true)
}

pub(crate) fn keywords(conn: &impl Db) -> Result<Vec<KeywordAssignment>> {
    conn.all(
        "SELECT number, keyword, account_id, created_at FROM keywords ORDER BY number, keyword",
        args![],
        keyword_row,
    )
}

/// The messages sent in reply to an inbound message, oldest first.
pub(crate) fn replies(conn: &impl Db, id: InboundId) -> Result<Vec<MessageId>> {
    conn.all(
        "SELECT id FROM messages WHERE in_reply_to = ?1 ORDER BY id",
        args![&id.as_bytes()[..]],
        |r| super::messages::message_id(r, 0),
    )
}

// --- this file's part of the store port ------------------------------------------

#[async_trait]
impl<B: Backend> InboundStore for SqlStore<B> {
    async fn receive_inbound(&self, parts: Vec<InboundPart>) -> Result<Vec<InboundOutcome>> {
        self.write(move |c| {
            parts
                .into_iter()
                .map(|p| super::inbound::receive(c, p))
                .collect()
        })
        .await
    }
    async fn inbound_message(
        &self,
        account: AccountId,
        id: InboundId,
    ) -> Result<Option<(InboundRecord, Vec<MessageId>)>> {
        self.read(move |c| {
            let Some(m) = super::inbound::by_id(c, id)?.filter(|m| m.account_id == Some(account))
            else {
                return Ok(None);
            };
            Ok(Some((m, super::inbound::replies(c, id)?)))
        })
        .await
    }
    async fn assign_keyword(
        &self,
        number: &str,
        keyword: &str,
        account: AccountId,
        by: &Audit,
    ) -> Result<KeywordAssignment> {
        let (number, keyword, by) = (number.to_string(), keyword.to_string(), *by);
        self.write(move |c| super::inbound::assign_keyword(c, &number, &keyword, account, &by))
            .await
    }
    async fn unassign_keyword(&self, number: &str, keyword: &str, by: &Audit) -> Result<bool> {
        let (number, keyword, by) = (number.to_string(), keyword.to_string(), *by);
        self.write(move |c| super::inbound::unassign_keyword(c, &number, &keyword, &by))
            .await
    }
    async fn keywords(&self) -> Result<Vec<KeywordAssignment>> {
        self.read(super::inbound::keywords).await
    }
    async fn inbound(
        &self,
        account: AccountId,
        before: Option<InboundId>,
        limit: usize,
    ) -> Result<Vec<InboundRecord>> {
        self.read(move |c| super::inbound::list(c, account, before, limit))
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
        self.read(move |c| super::inbound::history(c, account, &numbers, from, to, offset, limit))
            .await
    }
    async fn assign_number(
        &self,
        number: &str,
        account: AccountId,
        by: &Audit,
    ) -> Result<NumberAssignment> {
        let (number, by) = (number.to_string(), *by);
        self.write(move |c| super::inbound::assign(c, &number, account, &by))
            .await
    }
    async fn unassign_number(&self, number: &str, by: &Audit) -> Result<bool> {
        let (number, by) = (number.to_string(), *by);
        self.write(move |c| super::inbound::unassign(c, &number, &by))
            .await
    }
    async fn numbers(&self) -> Result<Vec<NumberAssignment>> {
        self.read(super::inbound::numbers).await
    }
    async fn purge_inbound_parts(&self, before: Timestamp) -> Result<usize> {
        self.write(move |c| super::inbound::purge_parts(c, before))
            .await
    }
}
