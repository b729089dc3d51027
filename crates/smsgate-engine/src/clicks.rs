//! Click tracking: URLs in a text become short links served by smsgate
//! (`/l/<code>`), one per recipient so clicks count per message; the
//! redirect counts each click and records `message.clicked`.

use smsgate_core::links::shorten;
use smsgate_core::send::ShortLink;
use smsgate_core::{SendRequest, Timestamp};

use crate::{Engine, EngineError};

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

    /// Counts a click; the link's target, or `None` for an unknown code.
    pub async fn click(&self, code: &str) -> Result<Option<String>, EngineError> {
        if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        Ok(self.inner.store.click(code, Timestamp::now()).await?)
    }
}
