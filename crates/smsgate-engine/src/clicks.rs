//! Click tracking: URLs in a text become short links served by smsgate
//! (`/l/<code>`), one per recipient so clicks count per message; the
//! redirect counts each click and records `message.clicked`. Anyone may
//! click, so clicks are counted at most once per link, client address and
//! minute, and at most 60 a minute per link: a script cannot make
//! unbounded events.

use smsgate_core::SendRequest;
use smsgate_core::limits::{Limiter, Rate};
use smsgate_core::links::shorten;
use smsgate_core::send::ShortLink;

use crate::{Engine, EngineError};

pub(crate) type ClickLimits = (Limiter<(String, Option<std::net::IpAddr>)>, Limiter<String>);

pub(crate) fn click_limits() -> ClickLimits {
    (
        Limiter::new(Rate::new(1, 1), 100_000),
        Limiter::new(Rate::new(60, 60), 100_000),
    )
}

const CODE_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CODE_LEN: usize = 8;

fn code() -> Result<String, EngineError> {
    let mut raw = [0u8; CODE_LEN];
    getrandom::fill(&mut raw).map_err(|_| EngineError::Randomness)?;
    Ok(raw
        .iter()
        .map(|b| CODE_CHARS[*b as usize % CODE_CHARS.len()] as char)
        .collect())
}

impl Engine {
    /// Gives every recipient its own text with short links in place of
    /// the URLs (so the segments count the short links); the links per
    /// recipient, by place.
    pub(crate) fn shorten_links(
        &self,
        req: &mut SendRequest,
    ) -> Result<Vec<Vec<ShortLink>>, EngineError> {
        let base = self.inner.public_url.clone();
        let mut all = Vec::with_capacity(req.recipients.len());
        for r in &mut req.recipients {
            let Some(text) = r.text.as_deref().or(req.text.as_deref()) else {
                all.push(Vec::new());
                continue;
            };
            let mut failed = false;
            let (shortened, links) = shorten(text, &base, || {
                code().unwrap_or_else(|_| {
                    failed = true;
                    String::new()
                })
            });
            if failed {
                return Err(EngineError::Randomness);
            }
            if !links.is_empty() {
                r.text = Some(shortened);
            }
            all.push(links);
        }
        Ok(all)
    }

    /// Counts a click from `client` (once a minute per address, 60 a
    /// minute per link); the link's target, or `None` for an unknown code.
    pub async fn click(
        &self,
        code: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<Option<String>, EngineError> {
        if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let now = self.now();
        let counted = {
            let mut clicks = self.inner.clicks.lock().unwrap_or_else(|p| p.into_inner());
            let per_client = clicks.0.take(&(code.to_string(), client), now).is_ok();
            per_client && clicks.1.take(&code.to_string(), now).is_ok()
        };
        if !counted {
            metrics::counter!("smsgate_clicks_ignored_total").increment(1);
            return Ok(self.inner.store.link_target(code).await?);
        }
        Ok(self.inner.store.click(code, now).await?)
    }
}
