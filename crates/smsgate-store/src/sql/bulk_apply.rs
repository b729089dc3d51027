//! PostgreSQL: a batch of status changes of messages (the dispatcher's
//! outcomes, committed together) in a few statements for the whole batch,
//! not several each: their messages read and locked in one query, moved in
//! one update, and their history, events and acknowledged parts inserted
//! with one `UNNEST` each. On PostgreSQL a round trip per statement is what
//! a node holding a connector spends most on.
//!
//! The outcome is what applying them one after the other gives. A change
//! this does not cover takes the general path after the others: one that
//! gives a charge back, one the message's status does not allow (recorded
//! as ignored), a second change of the same message, and every receipt
//! (those name a carrier id, not a message).

use std::collections::{HashMap, HashSet};

use smsgate_core::carrier_id::normalize_id;
use smsgate_core::{Amount, MessageId};

use super::messages::{CURRENT_COLUMNS, Current, current_row};
use super::usage::{COUNTED_COLUMNS, Counted};
use super::{Db, PgOnly, args};
use crate::{ApplyOutcome, EventType, Result, StatusUpdate, Target};

pub(crate) fn apply_all(conn: &impl Db, updates: Vec<StatusUpdate>) -> Result<Vec<ApplyOutcome>> {
    // Each message's first change, by its place in the batch.
    let mut seen = HashSet::new();
    let firsts: Vec<(usize, MessageId)> = updates
        .iter()
        .enumerate()
        .filter_map(|(i, u)| match u.target {
            Target::Message(id) if seen.insert(id) => Some((i, id)),
            _ => None,
        })
        .collect();
    let ids: Vec<Vec<u8>> = firsts
        .iter()
        .map(|(_, id)| id.as_bytes().to_vec())
        .collect();
    let mut current: HashMap<MessageId, (Current, Counted)> = conn
        .all(
            &format!(
                "SELECT id, {CURRENT_COLUMNS}, {COUNTED_COLUMNS} FROM messages
                  WHERE id = ANY(?1::bytea[]) ORDER BY id FOR NO KEY UPDATE"
            ),
            args![PgOnly(ids)],
            |r| {
                let id = super::messages::message_id(r, 0)?;
                let cur = current_row(r, id, 1)?;
                let counted = Counted::from_row(r, &cur, 7)?;
                Ok((cur, counted))
            },
        )?
        .into_iter()
        .map(|c| (c.0.id, c))
        .collect();

    let mut outcomes: Vec<Option<ApplyOutcome>> = (0..updates.len()).map(|_| None).collect();
    let mut together: Vec<(&StatusUpdate, Current)> = Vec::new();
    let mut counts: Vec<(Counted, Counted)> = Vec::new();
    for (i, id) in firsts {
        let u = &updates[i];
        match current.remove(&id) {
            None => outcomes[i] = Some(ApplyOutcome::NotFound),
            Some((cur, counted)) if cur.moves_plainly(u.status) => {
                // No charge given back: those take the general path.
                counts.push((counted.after(u, false), counted));
                outcomes[i] = Some(ApplyOutcome::Applied {
                    id,
                    account: cur.account,
                    from: cur.status,
                    to: u.status,
                    refunded: Amount::ZERO,
                });
                together.push((u, cur));
            }
            // Read again (and locked already) by the general path.
            Some(_) => {}
        }
    }
    write_together(conn, &together)?;
    drop(together);
    for (now, was) in &counts {
        super::usage::moved(conn, was, now)?;
    }
    for (i, u) in updates.into_iter().enumerate() {
        if outcomes[i].is_none() {
            outcomes[i] = Some(super::messages::apply(conn, u)?);
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every change answered"))
        .collect())
}

/// The changes' rows: messages, history, events and parts, a statement
/// each, in the changes' order; then receipts that were waiting for these
/// parts.
fn write_together(conn: &impl Db, together: &[(&StatusUpdate, Current)]) -> Result<()> {
    if together.is_empty() {
        return Ok(());
    }
    let ids: Vec<Vec<u8>> = together
        .iter()
        .map(|(_, c)| c.id.as_bytes().to_vec())
        .collect();
    let statuses: Vec<String> = together
        .iter()
        .map(|(u, _)| u.status.as_str().to_string())
        .collect();
    let ats: Vec<i64> = together.iter().map(|(u, _)| u.at.0).collect();
    let events: Vec<Option<EventType>> = together
        .iter()
        .map(|(u, _)| EventType::of_status(u.status))
        .collect();
    let seqs: Vec<i64> = together
        .iter()
        .zip(&events)
        .map(|((_, c), e)| i64::from(c.event_seq + u32::from(e.is_some())))
        .collect();
    let details: Vec<Option<String>> = together.iter().map(|(u, _)| u.detail.clone()).collect();
    conn.exec(
        "UPDATE messages SET status = u.status, updated_at = u.at, lease_until = NULL,
                connector = COALESCE(u.connector, messages.connector),
                carrier_id = COALESCE(u.carrier_id, messages.carrier_id),
                error = COALESCE(u.error, messages.error), due_at = COALESCE(u.due_at, messages.due_at),
                event_seq = u.seq, carrier_cost = COALESCE(u.carrier_cost, messages.carrier_cost)
           FROM UNNEST(?1::bytea[], ?2::text[], ?3::bigint[], ?4::text[], ?5::text[], ?6::text[],
                       ?7::bigint[], ?8::bigint[], ?9::bigint[])
             AS u(id, status, at, connector, carrier_id, error, due_at, seq, carrier_cost)
          WHERE messages.id = u.id",
        args![
            PgOnly(ids.clone()),
            PgOnly(statuses.clone()),
            PgOnly(ats.clone()),
            PgOnly(
                together
                    .iter()
                    .map(|(u, _)| u.connector.clone())
                    .collect::<Vec<_>>()
            ),
            PgOnly(
                together
                    .iter()
                    .map(|(u, _)| u.carrier_ids.first().cloned())
                    .collect::<Vec<_>>()
            ),
            PgOnly(
                together
                    .iter()
                    .map(|(u, _)| u.detail.clone().filter(|_| u.status.is_error()))
                    .collect::<Vec<_>>()
            ),
            PgOnly(
                together
                    .iter()
                    .map(|(u, _)| u.retry_at.map(|t| t.0))
                    .collect::<Vec<_>>()
            ),
            PgOnly(seqs.clone()),
            PgOnly(
                together
                    .iter()
                    .map(|(u, _)| u.carrier_cost.map(|c| c.minor()))
                    .collect::<Vec<_>>()
            ),
        ],
    )?;
    conn.exec(
        "INSERT INTO transitions (message_id, status, at, detail, applied)
         SELECT id, status, at, detail, TRUE
           FROM UNNEST(?1::bytea[], ?2::text[], ?3::bigint[], ?4::text[]) WITH ORDINALITY
             AS u(id, status, at, detail, n)
          ORDER BY n",
        args![
            PgOnly(ids.clone()),
            PgOnly(statuses.clone()),
            PgOnly(ats.clone()),
            PgOnly(details.clone())
        ],
    )?;
    let with_event: Vec<usize> = (0..together.len())
        .filter(|&i| events[i].is_some())
        .collect();
    if !with_event.is_empty() {
        let pick = |v: &dyn Fn(usize) -> Option<String>| -> Vec<Option<String>> {
            with_event.iter().map(|&i| v(i)).collect()
        };
        conn.exec(
            "INSERT INTO events (account_id, type, message_id, seq, detail, created_at)
             SELECT account_id, type, message_id, seq, detail, at
               FROM UNNEST(?1::bigint[], ?2::text[], ?3::bytea[], ?4::bigint[], ?5::text[], ?6::bigint[])
                    WITH ORDINALITY AS u(account_id, type, message_id, seq, detail, at, n)
              ORDER BY n",
            args![
                PgOnly(
                    with_event
                        .iter()
                        .map(|&i| together[i].1.account.0)
                        .collect::<Vec<_>>()
                ),
                PgOnly(pick(&|i| events[i].map(|e| e.as_str().to_string()))),
                PgOnly(with_event.iter().map(|&i| ids[i].clone()).collect::<Vec<_>>()),
                PgOnly(with_event.iter().map(|&i| seqs[i]).collect::<Vec<_>>()),
                PgOnly(pick(&|i| details[i].clone())),
                PgOnly(with_event.iter().map(|&i| ats[i]).collect::<Vec<_>>()),
            ],
        )?;
    }
    write_parts(conn, together)
}

/// The parts the carrier acknowledged (as `receipts::record_parts` writes
/// them), then any receipt that came before its acknowledgement.
fn write_parts(conn: &impl Db, together: &[(&StatusUpdate, Current)]) -> Result<()> {
    let (mut ids, mut numbers, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    let (mut connectors, mut keys, mut carrier_ids) = (Vec::new(), Vec::new(), Vec::new());
    for (u, c) in together {
        let Some(connector) = &u.connector else {
            continue;
        };
        for (i, carrier_id) in u.carrier_ids.iter().enumerate() {
            ids.push(c.id.as_bytes().to_vec());
            numbers.push(i as i64 + 1);
            counts.push(u.carrier_ids.len() as i64);
            connectors.push(connector.clone());
            keys.push(normalize_id(carrier_id));
            carrier_ids.push(carrier_id.clone());
        }
    }
    if ids.is_empty() {
        return Ok(());
    }
    // A part sent again replaces the earlier one, receipt and all.
    conn.exec(
        "INSERT INTO message_parts (message_id, part, parts, connector, carrier_key, carrier_id)
         SELECT * FROM UNNEST(?1::bytea[], ?2::bigint[], ?3::bigint[], ?4::text[], ?5::text[], ?6::text[])
         ON CONFLICT (message_id, part) DO UPDATE SET parts = excluded.parts,
             connector = excluded.connector, carrier_key = excluded.carrier_key,
             carrier_id = excluded.carrier_id, status = NULL, updated_at = NULL, detail = NULL",
        args![
            PgOnly(ids),
            PgOnly(numbers),
            PgOnly(counts),
            PgOnly(connectors.clone()),
            PgOnly(keys.clone()),
            PgOnly(carrier_ids)
        ],
    )?;
    let waiting: Vec<(String, String)> = conn.all(
        "SELECT DISTINCT p.connector, p.carrier_key FROM pending_receipts p
           JOIN UNNEST(?1::text[], ?2::text[]) AS u(connector, carrier_key)
             ON p.connector = u.connector AND p.carrier_key = u.carrier_key",
        args![PgOnly(connectors), PgOnly(keys)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    for (connector, key) in waiting {
        for update in super::receipts::take_pending(conn, &connector, &key)? {
            super::receipts::apply_receipt(conn, &connector, &key, &update)?;
        }
    }
    Ok(())
}
