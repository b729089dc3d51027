//! Click tracking: finding the URLs in a text and putting short links in
//! their place.

use crate::send::ShortLink;

/// Characters that end a sentence rather than a URL.
const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"'];

/// The URLs in `text` (`http://`, `https://` or `www.` up to whitespace,
/// without trailing punctuation), as byte ranges. Only URLs of visible
/// ASCII are taken (a redirect's `Location` can carry nothing else): one
/// with a control character or one not encoded is left as it is.
pub fn find_urls(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end_matches(char::is_whitespace);
        let lower = trimmed.to_ascii_lowercase();
        // A URL may follow an opening bracket or quote.
        let lead = lower.len() - lower.trim_start_matches(['(', '[', '"', '\'', '<']).len();
        let body = &lower[lead..];
        if body.starts_with("http://") || body.starts_with("https://") || body.starts_with("www.") {
            let url = trimmed[lead..].trim_end_matches(TRAILING);
            let is_bare_scheme = url.ends_with("://") || url == "www";
            let encodable = url.bytes().all(|b| b.is_ascii_graphic());
            if !is_bare_scheme && encodable && url.len() > 4 {
                out.push(start + lead..start + lead + url.len());
            }
        }
        start += word.len();
    }
    out
}

/// `text` with each URL replaced by `base/l/<code>`, codes from `code`;
/// the links made, in order.
pub fn shorten(
    text: &str,
    base: &str,
    mut code: impl FnMut() -> String,
) -> (String, Vec<ShortLink>) {
    let mut out = String::with_capacity(text.len());
    let mut links = Vec::new();
    let mut last = 0;
    for range in find_urls(text) {
        let url = &text[range.clone()];
        let target = if url.to_ascii_lowercase().starts_with("www.") {
            format!("http://{url}")
        } else {
            url.to_string()
        };
        let c = code();
        out.push_str(&text[last..range.start]);
        out.push_str(&format!("{}/l/{c}", base.trim_end_matches('/')));
        links.push(ShortLink {
            code: c,
            url: target,
        });
        last = range.end;
    }
    out.push_str(&text[last..]);
    (out, links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_found_without_the_punctuation_around_them() {
        let text = "Visit https://www.fakeurl.com/ for more info. Or (www.example.org/a?b=1), http://x.io.";
        let urls: Vec<&str> = find_urls(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            urls,
            [
                "https://www.fakeurl.com/",
                "www.example.org/a?b=1",
                "http://x.io"
            ]
        );
        assert!(find_urls("no links, just https:// and www").is_empty());
        // Nothing that cannot be a Location header: control characters,
        // text not percent-encoded.
        for odd in [
            "https://x.io/\u{7f}a",
            "https://x.io/a\u{0}b",
            "https://x.io/\u{1b}[31m",
            "https://bücher.example/",
            "https://x.io/caf\u{e9}",
        ] {
            assert!(find_urls(odd).is_empty(), "{odd:?}");
        }
    }

    #[test]
    fn each_url_becomes_a_short_link() {
        let mut n = 0;
        let (text, links) = shorten(
            "Visit https://www.fakeurl.com/ or www.b.org.",
            "http://sms.example/",
            || {
                n += 1;
                format!("c{n}")
            },
        );
        assert_eq!(
            text,
            "Visit http://sms.example/l/c1 or http://sms.example/l/c2."
        );
        assert_eq!(links[0].url, "https://www.fakeurl.com/");
        assert_eq!(links[1].url, "http://www.b.org");
        let (same, none) = shorten("nothing here", "http://x", || unreachable!());
        assert_eq!(same, "nothing here");
        assert!(none.is_empty());
    }
}
