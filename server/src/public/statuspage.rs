//! The Statuspage v2 JSON format (`/api/v2/*.json`) that existing status tooling
//! reads: standard field names and enums, string ids, RFC 3339 times, updates
//! newest first. Only customer-facing text ever appears here.

use super::{rfc3339, PublicSettings};
use app::domain::status::{Impact, MaintenanceState};
use app::domain::uptime::{overall_basis_points, DayUptime};
use app::store::status::{Component, Maintenance, PublicIncident, PublicSnapshot};
use serde_json::{json, Value};

pub struct Documents {
    page: Value,
    status: Value,
    components: Vec<Value>,
    /// `components` with our `uptime` extension, for components.json only
    /// (the summary stays the size tools expect).
    components_with_uptime: Vec<Value>,
    incidents: Vec<Value>,
    unresolved: Vec<Value>,
    maintenances: Vec<Value>,
    upcoming: Vec<Value>,
    active: Vec<Value>,
}

const PAGE_ID: &str = "calmroom";

fn group_id(name: &str, groups: &[String]) -> Option<String> {
    groups
        .iter()
        .position(|g| g == name)
        .map(|i| format!("group-{}", i + 1))
}

/// A share in basis points as a JSON number with two decimals.
fn percent(basis_points: Option<i64>) -> Value {
    basis_points.map_or(Value::Null, |bp| {
        Value::from(i32::try_from(bp).map_or(0.0, f64::from) / 100.0)
    })
}

/// Our extension to a component: 90 days of uptime, oldest first.
fn uptime_json(days: &[DayUptime]) -> Value {
    json!({
        "days": days.len(),
        "percent": percent(overall_basis_points(days)),
        "history": days.iter().map(|d| json!({
            "date": d.date.to_string(),
            "status": d.worst.map(|s| s.as_str()),
            "percent": percent(d.basis_points()),
            "maintenance_minutes": d.maintenance_ms / 60_000,
        })).collect::<Vec<_>>(),
    })
}

fn component_json(c: &Component, groups: &[String]) -> Value {
    json!({
        "id": c.id.to_string(),
        "name": c.name,
        "status": c.status.as_str(),
        "created_at": rfc3339(c.created_at),
        "updated_at": rfc3339(c.updated_at),
        "position": c.position,
        "description": if c.description.is_empty() { Value::Null } else { Value::from(c.description.clone()) },
        "showcase": true,
        "start_date": Value::Null,
        "group_id": if c.group_name.is_empty() { None } else { group_id(&c.group_name, groups) },
        "page_id": PAGE_ID,
        "group": false,
        "only_show_if_degraded": false,
    })
}

impl Documents {
    pub fn new(snapshot: &PublicSnapshot, settings: &PublicSettings) -> Self {
        let now = snapshot.taken_at;
        let mut groups: Vec<String> = Vec::new();
        for c in &snapshot.components {
            if !c.group_name.is_empty() && !groups.contains(&c.group_name) {
                groups.push(c.group_name.clone());
            }
        }
        let mut components: Vec<Value> = snapshot
            .components
            .iter()
            .map(|c| component_json(c, &groups))
            .collect();
        let mut components_with_uptime: Vec<Value> = snapshot
            .components
            .iter()
            .map(|c| {
                let mut value = component_json(c, &groups);
                value["uptime"] = uptime_json(snapshot.uptime_of(c.id));
                value
            })
            .collect();
        for (i, group) in groups.iter().enumerate() {
            let members: Vec<&Component> = snapshot
                .components
                .iter()
                .filter(|c| &c.group_name == group)
                .collect();
            let status = members
                .iter()
                .fold(app::domain::status::ComponentStatus::Operational, |s, c| {
                    s.worst(c.status)
                });
            let first = members.first();
            let group = json!({
                "id": format!("group-{}", i + 1),
                "name": group,
                "status": status.as_str(),
                "created_at": first.map(|c| rfc3339(c.created_at)),
                "updated_at": members.iter().map(|c| c.updated_at).max().map(rfc3339),
                "position": first.map(|c| c.position).unwrap_or(0),
                "description": Value::Null,
                "showcase": false,
                "start_date": Value::Null,
                "group_id": Value::Null,
                "page_id": PAGE_ID,
                "group": true,
                "only_show_if_degraded": false,
                "components": members.iter().map(|c| c.id.to_string()).collect::<Vec<_>>(),
            });
            components_with_uptime.push(group.clone());
            components.push(group);
        }
        let component_by_id = |id: i64| {
            snapshot
                .components
                .iter()
                .find(|c| c.id == id)
                .map(|c| component_json(c, &groups))
        };
        let incident_json = |i: &PublicIncident| {
            let id = i.number.to_string();
            json!({
                "id": id,
                "name": i.name,
                "status": i.status,
                "created_at": rfc3339(i.created_at),
                "updated_at": rfc3339(i.updated_at),
                "monitoring_at": i.monitoring_at.map(rfc3339),
                "resolved_at": i.resolved_at.map(rfc3339),
                "impact": Impact::of(i.severity).as_str(),
                "shortlink": format!("{}/status#incident-{}", settings.base_url, i.number),
                "started_at": rfc3339(i.created_at),
                "page_id": PAGE_ID,
                "incident_updates": i.updates.iter().map(|u| json!({
                    "id": u.id.to_string(),
                    "status": u.status,
                    "body": u.body,
                    "incident_id": id,
                    "created_at": rfc3339(u.at),
                    "updated_at": rfc3339(u.at),
                    "display_at": rfc3339(u.at),
                    "affected_components": Value::Null,
                    "deliver_notifications": true,
                    "custom_tweet": Value::Null,
                    "tweet_id": Value::Null,
                })).collect::<Vec<_>>(),
                "components": i.components.iter().filter_map(|(c, _)| component_by_id(*c)).collect::<Vec<_>>(),
            })
        };
        let maintenance_json = |m: &Maintenance| {
            let state = m.state(now);
            json!({
                "id": format!("maintenance-{}", m.id),
                "name": m.title,
                "status": state.as_str(),
                "created_at": rfc3339(m.created_at),
                "updated_at": rfc3339(m.created_at),
                "monitoring_at": Value::Null,
                "resolved_at": (state == MaintenanceState::Completed).then(|| rfc3339(m.ends_at)),
                "impact": "maintenance",
                "shortlink": format!("{}/status#maintenance-{}", settings.base_url, m.id),
                "started_at": rfc3339(m.starts_at),
                "page_id": PAGE_ID,
                "incident_updates": if m.description.is_empty() { vec![] } else { vec![json!({
                    "id": format!("maintenance-{}-1", m.id),
                    "status": "scheduled",
                    "body": m.description,
                    "incident_id": format!("maintenance-{}", m.id),
                    "created_at": rfc3339(m.created_at),
                    "updated_at": rfc3339(m.created_at),
                    "display_at": rfc3339(m.created_at),
                    "affected_components": Value::Null,
                    "deliver_notifications": true,
                    "custom_tweet": Value::Null,
                    "tweet_id": Value::Null,
                })] },
                "components": m.components.iter().filter_map(|c| component_by_id(*c)).collect::<Vec<_>>(),
                "scheduled_for": rfc3339(m.starts_at),
                "scheduled_until": rfc3339(m.ends_at),
            })
        };
        let indicator = snapshot.indicator();
        let updated = snapshot
            .incidents
            .iter()
            .map(|i| i.updated_at)
            .chain(snapshot.components.iter().map(|c| c.updated_at))
            .max()
            .unwrap_or(now);
        Documents {
            page: json!({
                "id": PAGE_ID,
                "name": settings.title,
                "url": format!("{}/status", settings.base_url),
                "time_zone": "Etc/UTC",
                "updated_at": rfc3339(updated),
            }),
            status: json!({ "indicator": indicator.as_str(), "description": indicator.description() }),
            components,
            components_with_uptime,
            incidents: snapshot
                .incidents
                .iter()
                .take(50)
                .map(incident_json)
                .collect(),
            unresolved: snapshot
                .incidents
                .iter()
                .filter(|i| i.is_unresolved())
                .map(incident_json)
                .collect(),
            maintenances: snapshot.maintenances.iter().map(maintenance_json).collect(),
            upcoming: snapshot
                .maintenances
                .iter()
                .filter(|m| m.state(now) == MaintenanceState::Scheduled)
                .map(maintenance_json)
                .collect(),
            active: snapshot
                .maintenances
                .iter()
                .filter(|m| m.state(now) == MaintenanceState::InProgress)
                .map(maintenance_json)
                .collect(),
        }
    }

    fn document(&self, key: &str, value: Value) -> String {
        json!({ "page": self.page, key: value }).to_string()
    }

    pub fn summary(&self) -> String {
        let mut scheduled = self.active.clone();
        scheduled.extend(self.upcoming.iter().cloned());
        json!({
            "page": self.page,
            "components": self.components,
            "incidents": self.unresolved,
            "scheduled_maintenances": scheduled,
            "status": self.status,
        })
        .to_string()
    }

    pub fn status(&self) -> String {
        self.document("status", self.status.clone())
    }

    pub fn components(&self) -> String {
        self.document(
            "components",
            Value::from(self.components_with_uptime.clone()),
        )
    }

    pub fn incidents(&self) -> String {
        self.document("incidents", Value::from(self.incidents.clone()))
    }

    pub fn unresolved(&self) -> String {
        self.document("incidents", Value::from(self.unresolved.clone()))
    }

    pub fn maintenances(&self) -> String {
        self.document(
            "scheduled_maintenances",
            Value::from(self.maintenances.clone()),
        )
    }

    pub fn upcoming(&self) -> String {
        self.document("scheduled_maintenances", Value::from(self.upcoming.clone()))
    }

    pub fn active(&self) -> String {
        self.document("scheduled_maintenances", Value::from(self.active.clone()))
    }
}
