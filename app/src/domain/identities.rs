//! Company sign-in's rules that need no database: what a provider's role
//! claim grants, and where a person may be sent back to after signing in.

use super::users::OrgRole;

/// What the provider's role claim grants: the org role, and the leadership
/// permission. Applied at every sign-in, so the provider stays the source of
/// truth while it is configured to send the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderGrant {
    pub org_role: OrgRole,
    pub can_lead: bool,
}

/// The claim's values that mean something here (compared without case).
pub const ROLE_VALUES: [&str; 4] = ["admin", "responder", "viewer", "leadership"];

/// Reads a role claim: one string or a list of strings (a `groups` claim).
/// The strongest of `admin`, `responder` and `viewer` wins; `leadership`
/// adds the leadership permission. No recognised role makes a viewer.
pub fn grant_from_claim(value: Option<&serde_json::Value>) -> ProviderGrant {
    let values: Vec<String> = match value {
        Some(serde_json::Value::String(one)) => vec![one.to_lowercase()],
        Some(serde_json::Value::Array(many)) => many
            .iter()
            .take(1000)
            .filter_map(|v| v.as_str().map(str::to_lowercase))
            .collect(),
        _ => Vec::new(),
    };
    let has = |name: &str| values.iter().any(|v| v.trim() == name);
    let org_role = if has("admin") {
        OrgRole::Admin
    } else if has("responder") {
        OrgRole::Responder
    } else {
        OrgRole::Viewer
    };
    ProviderGrant {
        org_role,
        can_lead: has("leadership"),
    }
}

/// The longest path kept to return to after signing in.
const MAX_RETURN_CHARS: usize = 512;

/// Where to send someone once signed in: a path on this site, or `/`.
/// Anything that could leave the site (`//host`, `/\host`, a scheme) or
/// carry control characters is replaced by `/`.
pub fn safe_return_to(raw: Option<&str>) -> String {
    match raw {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.chars().count() <= MAX_RETURN_CHARS
                && !path.chars().any(|c| c.is_control() || c == '\\') =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_strongest_role_in_a_list_wins_and_leadership_is_added() {
        let grant = grant_from_claim(Some(&json!(["Viewer", "responder", "LEADERSHIP"])));
        assert_eq!(grant.org_role, OrgRole::Responder);
        assert!(grant.can_lead);
        let admin = grant_from_claim(Some(&json!("admin")));
        assert_eq!(admin.org_role, OrgRole::Admin);
        assert!(!admin.can_lead);
    }

    #[test]
    fn no_recognised_role_makes_a_viewer() {
        for claim in [
            None,
            Some(json!("sre")),
            Some(json!(42)),
            Some(json!({"a": 1})),
        ] {
            let grant = grant_from_claim(claim.as_ref());
            assert_eq!(grant.org_role, OrgRole::Viewer, "{claim:?}");
            assert!(!grant.can_lead);
        }
    }

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(
            safe_return_to(Some("/incidents/4?tab=log")),
            "/incidents/4?tab=log"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a\nb",
            "",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_return_to(None), "/");
        assert_eq!(safe_return_to(Some(&format!("/{}", "a".repeat(600)))), "/");
    }
}
