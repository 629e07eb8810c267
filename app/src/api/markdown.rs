//! Markdown to sanitised HTML: bounded in size and nesting, rendered off the
//! async threads within a time budget, and cached by text so a busy
//! postmortem costs one render per change, not one per view.

use crate::domain::users::FieldError;
use pulldown_cmark::{html, Event, Options, Parser};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// Block and inline elements may nest this deep; deeper text is refused when
/// written and shown as plain text if it was stored before the limit.
pub const MAX_DEPTH: usize = 16;
/// Longest text rendered at all (the longest section, with room for markup).
pub const MAX_CHARS: usize = 20_000;
/// A render that takes longer than this shows the text unformatted instead.
const BUDGET: Duration = Duration::from_secs(2);
/// Rendered texts kept; the cache starts over when full.
const CACHE_ENTRIES: usize = 512;

static CACHE: LazyLock<Mutex<HashMap<u64, Arc<str>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Why a text is not rendered as Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrenderable {
    TooLong,
    TooDeep,
}

impl Unrenderable {
    pub fn at(self, field: &'static str) -> FieldError {
        match self {
            Unrenderable::TooLong => {
                FieldError::new(field, format!("Keep it under {MAX_CHARS} characters."))
            }
            Unrenderable::TooDeep => FieldError::new(
                field,
                format!("Lists and quotes nest at most {MAX_DEPTH} levels deep."),
            ),
        }
    }
}

/// Longest whole document rendered (the export of every section together).
const MAX_DOCUMENT_CHARS: usize = 250_000;

/// Renders `text`, or says why it will not: too long, or nested too deep.
pub fn render_checked(text: &str) -> Result<String, Unrenderable> {
    render_within(text, MAX_CHARS)
}

fn render_within(text: &str, max_chars: usize) -> Result<String, Unrenderable> {
    if text.chars().count() > max_chars {
        return Err(Unrenderable::TooLong);
    }
    let mut depth = 0usize;
    let mut events = Vec::new();
    for event in Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match &event {
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Unrenderable::TooDeep);
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        events.push(event);
    }
    let mut raw = String::new();
    html::push_html(&mut raw, events.into_iter());
    // No images: a postmortem never makes its readers' browsers fetch from elsewhere.
    Ok(ammonia::Builder::default()
        .rm_tags(["img"])
        .clean(&raw)
        .to_string())
}

/// Whether `text` may be saved in `field`.
pub fn check(field: &'static str, text: &str) -> Result<(), FieldError> {
    render_checked(text).map(|_| ()).map_err(|e| e.at(field))
}

/// The text as an escaped, unformatted block.
fn plain(text: &str) -> String {
    let shown: String = text.chars().take(MAX_DOCUMENT_CHARS).collect();
    format!(
        "<pre class=\"md-plain\">{}</pre>",
        ammonia::clean_text(&shown)
    )
}

/// Renders synchronously (for exports already off the async threads): Markdown
/// when it can be rendered, else the escaped text.
pub fn render_markdown(text: &str) -> String {
    render_checked(text).unwrap_or_else(|_| plain(text))
}

/// Renders a whole document (the printable postmortem) on a blocking thread
/// within the time budget; unrenderable text comes back escaped.
pub async fn render_document(text: String) -> String {
    let job = tokio::task::spawn_blocking(move || {
        render_within(&text, MAX_DOCUMENT_CHARS).unwrap_or_else(|_| plain(&text))
    });
    match tokio::time::timeout(BUDGET * 2, job).await {
        Ok(Ok(html)) => html,
        _ => plain("This document is too large to format. Export it as Markdown instead."),
    }
}

fn key(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Renders on a blocking thread within [`BUDGET`], through the cache.
pub async fn render(text: &str) -> Arc<str> {
    let key = key(text);
    if let Some(hit) = CACHE.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let owned = text.to_owned();
    let job = tokio::task::spawn_blocking(move || render_markdown(&owned));
    let html: Arc<str> = match tokio::time::timeout(BUDGET, job).await {
        Ok(Ok(html)) => html.into(),
        _ => {
            tracing::warn!(
                chars = text.len(),
                "Markdown render over budget; shown as plain text"
            );
            plain(text).into()
        }
    };
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, html.clone());
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markdown_renders_sanitised() {
        let html = render_markdown("**Bold** <script>alert(1)</script>");
        assert!(html.contains("<strong>Bold</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn remote_images_are_not_rendered() {
        let html = render_markdown("![x](http://tracker.example/pixel.png)");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("tracker.example"), "{html}");
    }

    #[test]
    fn quotes_nested_past_the_limit_are_refused_at_the_field() {
        let deep = format!("{} deep", ">".repeat(MAX_DEPTH + 4));
        let err = check("root_causes", &deep).expect_err("too deep");
        assert_eq!(err.field, "root_causes");
        assert!(check("root_causes", "> one\n>> two").is_ok());
    }

    #[test]
    fn stored_text_nested_too_deep_is_shown_plain_and_escaped() {
        let deep = format!("{}<b>x</b>", "- ".repeat(200));
        let html = render_markdown(&deep);
        assert!(html.starts_with("<pre"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
    }

    #[test]
    fn text_longer_than_the_limit_is_refused() {
        let long = "a".repeat(MAX_CHARS + 1);
        assert_eq!(render_checked(&long), Err(Unrenderable::TooLong));
    }
}
