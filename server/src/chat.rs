//! A published update or a scheduled maintenance window as each chat platform shows it: Slack blocks, a Teams
//! Adaptive Card, Mattermost Markdown, a Discord embed and a Google Chat
//! card. Every platform gets the same facts; none of them can be made to
//! ping a channel or a person by what an update says.

use serde_json::{json, Value};

/// What one chat message says, already chosen for its audience.
pub struct Message<'a> {
    /// Stable per update or window ("update-3"), so a retried delivery names the same card.
    pub card: &'a str,
    pub headline: &'a str,
    pub body: &'a str,
    /// "Customer-facing", "Ongoing internal", …
    pub kind: &'a str,
    /// "Investigating", "Resolved", …
    pub status: &'a str,
    /// RFC 3339, UTC.
    pub published_at: &'a str,
    /// "14:05 UTC, 26 Nov 2026": every time states its zone.
    pub published: &'a str,
    pub next_update: Option<&'a str>,
    pub resolved: bool,
}

impl Message<'_> {
    /// "Customer-facing · Investigating · 14:05 UTC, 26 Nov 2026 · next update by …".
    fn context(&self) -> String {
        let mut line = format!("{} · {} · {}", self.kind, self.status, self.published);
        if let Some(next) = self.next_update {
            line.push_str(&format!(" · next update by {next}"));
        }
        line
    }
}

/// At most `limit` characters, ending in "…" when cut.
pub fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(limit.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's mrkdwn treats `<…>` as links and mentions (`<!channel>`).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Card text in Google Chat is a small HTML subset, newlines as `<br>`.
fn html_escape(text: &str) -> String {
    slack_escape(text).replace('\n', "<br>")
}

/// A zero-width space after every `@` and every `<`: Mattermost's `@channel`
/// and Google Chat's `<users/all>` stay readable but mention nobody.
fn defuse_mentions(text: &str) -> String {
    text.replace('@', "@\u{200b}").replace('<', "<\u{200b}")
}

/// Slack incoming webhook: fallback `text` plus header, section and context
/// blocks (header ≤ 150 characters, a section ≤ 3000).
pub fn slack(m: &Message<'_>) -> Value {
    json!({
        // Escaped like the blocks: `<!channel>` or a disguised link in an
        // update must not ping everyone or point elsewhere in the fallback.
        "text": slack_escape(&clip(&format!("{}\n{}", m.headline, m.body), 3000)),
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": clip(m.headline, 150) } },
            { "type": "section", "text": { "type": "mrkdwn", "text": slack_escape(&clip(m.body, 3000)) } },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": slack_escape(&m.context()) } ] },
        ],
    })
}

/// Microsoft Teams Workflows ("When a Teams webhook request is received"):
/// a message whose one attachment is an Adaptive Card 1.4. Cards mention
/// people only through an `msteams.entities` list, which is never sent.
pub fn teams(m: &Message<'_>) -> Value {
    let mut facts = vec![
        json!({ "title": "Status", "value": m.status }),
        json!({ "title": "Kind", "value": m.kind }),
        json!({ "title": "Published", "value": m.published }),
    ];
    if let Some(next) = m.next_update {
        facts.push(json!({ "title": "Next update", "value": next }));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "text": clip(m.headline, 200),
                        "weight": "Bolder",
                        "size": "Medium",
                        "wrap": true,
                        "style": "heading",
                    },
                    { "type": "TextBlock", "text": clip(m.body, 4000), "wrap": true },
                    { "type": "FactSet", "facts": facts },
                ],
            },
        }],
    })
}

/// Mattermost incoming webhook: Markdown `text` (a post holds at most 16383
/// characters).
pub fn mattermost(m: &Message<'_>) -> Value {
    let text = format!(
        "#### {}\n{}\n\n_{}_",
        clip(m.headline, 200).replace('\n', " "),
        clip(m.body, 12000),
        m.context()
    );
    json!({ "text": defuse_mentions(&text) })
}

/// Discord webhook: one embed (title ≤ 256, description ≤ 4096, footer ≤ 2048
/// characters), `allowed_mentions` empty so nothing in it pings anyone.
pub fn discord(m: &Message<'_>) -> Value {
    let color = if m.resolved { 0x2e7d32 } else { 0xb26a00 };
    json!({
        "content": clip(m.headline, 2000),
        "embeds": [{
            "title": clip(m.headline, 256),
            "description": clip(m.body, 4096),
            "color": color,
            "timestamp": m.published_at,
            "footer": { "text": clip(&m.context(), 2048) },
        }],
        "allowed_mentions": { "parse": [] },
    })
}

/// Google Chat space webhook: fallback `text` plus one `cardsV2` card with
/// the headline, the context and the body.
pub fn google_chat(m: &Message<'_>) -> Value {
    json!({
        "text": defuse_mentions(&clip(m.headline, 4000)),
        "cardsV2": [{
            "cardId": m.card,
            "card": {
                "header": {
                    "title": clip(m.headline, 200),
                    "subtitle": clip(&m.context(), 200),
                },
                "sections": [{
                    "widgets": [ { "textParagraph": { "text": html_escape(&clip(m.body, 4000)) } } ],
                }],
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<'a>(headline: &'a str, body: &'a str) -> Message<'a> {
        Message {
            card: "update-3",
            headline,
            body,
            kind: "Customer-facing",
            status: "Investigating",
            published_at: "2026-11-26T14:05:00Z",
            published: "14:05 UTC, 26 Nov 2026",
            next_update: Some("14:35 UTC, 26 Nov 2026"),
            resolved: false,
        }
    }

    fn chars(value: &Value) -> usize {
        value.as_str().map_or(0, |s| s.chars().count())
    }

    #[test]
    fn text_is_clipped_to_the_limit_with_an_ellipsis() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("abcdefghij", 5), "abcd…");
        assert_eq!(clip("ééééé", 3).chars().count(), 3);
    }

    #[test]
    fn a_huge_update_stays_within_every_platforms_documented_limits() {
        let long_headline = "H".repeat(3000);
        let long_body = "b".repeat(40_000);
        let m = message(&long_headline, &long_body);

        let slack = slack(&m);
        assert!(chars(&slack["blocks"][0]["text"]["text"]) <= 150);
        assert!(chars(&slack["blocks"][1]["text"]["text"]) <= 3000);

        let discord = discord(&m);
        assert!(chars(&discord["content"]) <= 2000);
        let embed = &discord["embeds"][0];
        assert!(chars(&embed["title"]) <= 256);
        assert!(chars(&embed["description"]) <= 4096);
        assert!(chars(&embed["footer"]["text"]) <= 2048);
        let embed_total =
            chars(&embed["title"]) + chars(&embed["description"]) + chars(&embed["footer"]["text"]);
        assert!(embed_total <= 6000, "Discord's limit over all embeds");

        assert!(chars(&mattermost(&m)["text"]) <= 16_383);
        let card = &teams(&m)["attachments"][0]["content"];
        assert!(
            card.to_string().len() < 28_000,
            "Teams takes messages up to 28 KB"
        );
    }

    #[test]
    fn nothing_an_update_says_can_ping_a_channel_or_a_person() {
        let m = message(
            "Checkout <!channel>",
            "@channel @all <users/all> please look",
        );
        // Slack parses mentions in `text` and mrkdwn, never in plain_text.
        let slack = slack(&m);
        for parsed in [&slack["text"], &slack["blocks"][1]["text"]["text"]] {
            assert!(!parsed.to_string().contains("<!channel>"), "{parsed}");
        }
        assert_eq!(slack["blocks"][0]["text"]["type"], "plain_text");

        let mattermost = mattermost(&m);
        let text = mattermost["text"].as_str().unwrap_or_default();
        assert!(!text.contains("@channel") && !text.contains("@all"));
        assert!(text.contains("@\u{200b}channel"), "still readable");

        let discord = discord(&m);
        assert_eq!(discord["allowed_mentions"]["parse"], json!([]));

        let google = google_chat(&m);
        assert!(!google["text"]
            .as_str()
            .unwrap_or_default()
            .contains("<users/all>"));
        let paragraph = google["cardsV2"][0]["card"]["sections"][0]["widgets"][0]["textParagraph"]
            ["text"]
            .as_str()
            .unwrap_or_default();
        assert!(paragraph.contains("&lt;users/all&gt;"));
    }

    #[test]
    fn a_teams_message_is_one_adaptive_card_attachment() {
        let body = teams(&message("Card payments failing", "Some payments fail."));
        assert_eq!(body["type"], "message");
        let attachments = body["attachments"].as_array().map_or(0, Vec::len);
        assert_eq!(attachments, 1);
        let attachment = &body["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let card = &attachment["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        for element in card["body"].as_array().into_iter().flatten() {
            assert!(matches!(
                element["type"].as_str(),
                Some("TextBlock" | "FactSet")
            ));
        }
        assert_eq!(
            card["body"][2]["facts"][3]["value"],
            "14:35 UTC, 26 Nov 2026"
        );
    }

    #[test]
    fn a_google_chat_card_has_a_header_and_one_widget_per_section_entry() {
        let body = google_chat(&message("Card payments failing", "Line one\nline two"));
        let card = &body["cardsV2"][0];
        assert_eq!(card["cardId"], "update-3");
        assert_eq!(card["card"]["header"]["title"], "Card payments failing");
        let widget = &card["card"]["sections"][0]["widgets"][0];
        assert_eq!(
            widget.as_object().map_or(0, |o| o.len()),
            1,
            "one widget kind per entry"
        );
        assert_eq!(widget["textParagraph"]["text"], "Line one<br>line two");
    }

    #[test]
    fn discord_colours_a_resolution_green() {
        let mut m = message("Resolved", "All good.");
        assert_eq!(discord(&m)["embeds"][0]["color"], 0xb26a00);
        m.resolved = true;
        assert_eq!(discord(&m)["embeds"][0]["color"], 0x2e7d32);
        assert_eq!(
            discord(&m)["embeds"][0]["timestamp"],
            "2026-11-26T14:05:00Z"
        );
    }
}
