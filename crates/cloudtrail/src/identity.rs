//! CloudTrail's `userIdentity` from the signing key.

use serde_json::{json, Map, Value};
use watchtrail_protocol::Principal;

/// `userIdentity` for a verified (or at least known) key.
pub fn user_identity(principal: &Principal, access_key_id: &str) -> Value {
    let mut identity = Map::new();
    identity.insert("type".into(), json!(principal.identity_type));
    identity.insert("principalId".into(), json!(principal.principal_id));
    identity.insert("arn".into(), json!(principal.arn));
    identity.insert("accountId".into(), json!(principal.account_id));
    identity.insert("accessKeyId".into(), json!(access_key_id));
    if let Some(name) = &principal.user_name {
        identity.insert("userName".into(), json!(name));
    }
    Value::Object(identity)
}

/// `userIdentity` when the key is unknown (or absent): all CloudTrail can say is which key was
/// claimed.
pub fn unknown_identity(access_key_id: Option<&str>) -> Value {
    let mut identity = Map::new();
    identity.insert("type".into(), json!("Unknown"));
    if let Some(key) = access_key_id {
        identity.insert("accessKeyId".into(), json!(key));
    }
    Value::Object(identity)
}

/// LookupEvents' `Username` for a record: `userName`, `root` for the root user, the session name
/// for an assumed role; what the console shows in the "User name" column.
pub fn lookup_username(record: &Value) -> Option<String> {
    let identity = record.get("userIdentity")?;
    if let Some(name) = identity.get("userName").and_then(Value::as_str) {
        if !name.is_empty() {
            return Some(name.to_string());
        }
    }
    let kind = identity.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Root" => Some("root".to_string()),
        "AssumedRole" | "FederatedUser" => identity
            .get("arn")
            .and_then(Value::as_str)
            .and_then(|arn| arn.rsplit('/').next())
            .map(str::to_string),
        "AWSService" => identity
            .get("invokedBy")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            lookup_username(&json!({"userIdentity": {"type": "IAMUser", "userName": "Alice"}})),
            Some("Alice".into())
        );
        assert_eq!(
            lookup_username(&json!({"userIdentity": {"type": "Root"}})),
            Some("root".into())
        );
        assert_eq!(
            lookup_username(
                &json!({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/Admin/bob"}})
            ),
            Some("bob".into())
        );
        assert_eq!(lookup_username(&json!({})), None);
    }
}
