//! Atom (RFC 4287) and RSS 2.0 feeds of the public history: one entry per
//! customer-facing update and per maintenance window, with ids that never change.

use super::PublicSettings;
use app::domain::status::public_status_label;
use app::store::status::PublicSnapshot;
use atom_syndication::{ContentBuilder, EntryBuilder, FeedBuilder, LinkBuilder, PersonBuilder};
use chrono::{DateTime, FixedOffset, Utc};
use rss::{ChannelBuilder, GuidBuilder, ItemBuilder};

/// One feed entry, whichever format carries it.
struct Entry {
    id: String,
    title: String,
    link: String,
    body: String,
    at: DateTime<Utc>,
}

fn entries(snapshot: &PublicSnapshot, settings: &PublicSettings) -> Vec<Entry> {
    let base = &settings.base_url;
    let mut entries: Vec<Entry> = snapshot
        .incidents
        .iter()
        .flat_map(|incident| {
            incident.updates.iter().map(move |u| Entry {
                id: format!("{base}/status#update-{}", u.id),
                title: format!("{}: {}", public_status_label(&u.status), incident.name),
                link: format!("{base}/status#incident-{}", incident.number),
                body: u.body.clone(),
                at: u.at,
            })
        })
        .collect();
    entries.extend(snapshot.maintenances.iter().map(|m| Entry {
        id: format!("{base}/status#maintenance-{}", m.id),
        title: format!(
            "Maintenance: {} ({} to {} UTC)",
            m.title,
            m.starts_at.format("%Y-%m-%d %H:%M"),
            m.ends_at.format("%Y-%m-%d %H:%M")
        ),
        link: format!("{base}/status#maintenance-{}", m.id),
        body: m.description.clone(),
        at: m.created_at,
    }));
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    entries
}

fn fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

pub fn atom(snapshot: &PublicSnapshot, settings: &PublicSettings) -> String {
    let base = &settings.base_url;
    let list = entries(snapshot, settings);
    let updated = list.first().map(|e| e.at).unwrap_or(snapshot.taken_at);
    FeedBuilder::default()
        .title(format!("{} history", settings.title))
        .id(format!("{base}/status/history.atom"))
        .updated(fixed(updated))
        .authors(vec![PersonBuilder::default()
            .name(settings.title.clone())
            .build()])
        .links(vec![
            LinkBuilder::default()
                .href(format!("{base}/status/history.atom"))
                .rel("self".to_owned())
                .mime_type(Some("application/atom+xml".to_owned()))
                .build(),
            LinkBuilder::default()
                .href(format!("{base}/status"))
                .rel("alternate".to_owned())
                .mime_type(Some("text/html".to_owned()))
                .build(),
        ])
        .entries(
            list.into_iter()
                .map(|e| {
                    EntryBuilder::default()
                        .title(e.title)
                        .id(e.id)
                        .updated(fixed(e.at))
                        .published(Some(fixed(e.at)))
                        .links(vec![LinkBuilder::default()
                            .href(e.link)
                            .rel("alternate".to_owned())
                            .build()])
                        .content(Some(
                            ContentBuilder::default()
                                .value(Some(e.body))
                                .content_type(Some("text".to_owned()))
                                .build(),
                        ))
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .build()
        .to_string()
}

pub fn rss(snapshot: &PublicSnapshot, settings: &PublicSettings) -> String {
    let base = &settings.base_url;
    let list = entries(snapshot, settings);
    let updated = list.first().map(|e| e.at).unwrap_or(snapshot.taken_at);
    ChannelBuilder::default()
        .title(format!("{} history", settings.title))
        .link(format!("{base}/status"))
        .description(format!("Incidents and maintenance of {}", settings.title))
        .last_build_date(Some(updated.to_rfc2822()))
        .items(
            list.into_iter()
                .map(|e| {
                    ItemBuilder::default()
                        .title(Some(e.title))
                        .link(Some(e.link))
                        .description(Some(e.body))
                        .guid(Some(
                            GuidBuilder::default().value(e.id).permalink(false).build(),
                        ))
                        .pub_date(Some(e.at.to_rfc2822()))
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .build()
        .to_string()
}
