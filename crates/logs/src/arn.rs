//! CloudWatch Logs ARNs and log group identifiers.

use watchtrail_protocol::AwsError;
use watchtrail_store::Scope;

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`, the form DescribeLogGroups calls `arn`.
pub fn log_group_arn_wildcard(scope: &Scope, name: &str) -> String {
    format!("{}:*", log_group_arn(scope, name))
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, the form tagging APIs and `logGroupArn` use.
pub fn log_group_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        scope.region, scope.account_id
    )
}

pub fn log_stream_arn(scope: &Scope, group: &str, stream: &str) -> String {
    format!("{}:log-stream:{stream}", log_group_arn(scope, group))
}

/// Resolves a `logGroupIdentifier` (a name or an ARN, with or without `:*`) to a group name in the
/// caller's scope. ARNs of another account or region name nothing the caller can see.
pub fn resolve_identifier(scope: &Scope, identifier: &str) -> Result<String, AwsError> {
    if !identifier.starts_with("arn:") {
        return Ok(identifier.to_string());
    }
    let parsed = parse_log_group_arn(identifier)?;
    if parsed.0 != *scope {
        return Err(not_found_group());
    }
    Ok(parsed.1)
}

/// Parses `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]`.
pub fn parse_log_group_arn(arn: &str) -> Result<(Scope, String), AwsError> {
    let invalid = || AwsError::client("InvalidParameterException", format!("Invalid ARN: {arn}"));
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    if parts.len() != 7 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" {
        return Err(invalid());
    }
    let name = parts[6].strip_suffix(":*").unwrap_or(parts[6]);
    if name.is_empty() || name.contains(':') {
        return Err(invalid());
    }
    Ok((
        Scope {
            account_id: parts[4].to_string(),
            region: parts[3].to_string(),
        },
        name.to_string(),
    ))
}

pub fn not_found_group() -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
}

pub fn not_found_stream() -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn arns_have_aws_shape() {
        assert_eq!(
            log_group_arn_wildcard(&scope(), "/app/web"),
            "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:*"
        );
        assert_eq!(
            log_stream_arn(&scope(), "g", "s"),
            "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s"
        );
    }

    #[test]
    fn identifiers_resolve_names_and_arns() {
        assert_eq!(resolve_identifier(&scope(), "/a").unwrap(), "/a");
        assert_eq!(
            resolve_identifier(
                &scope(),
                "arn:aws:logs:us-east-1:123456789012:log-group:/a:*"
            )
            .unwrap(),
            "/a"
        );
        assert_eq!(
            resolve_identifier(&scope(), "arn:aws:logs:us-east-1:123456789012:log-group:/a")
                .unwrap(),
            "/a"
        );
        assert_eq!(
            resolve_identifier(&scope(), "arn:aws:logs:eu-west-1:123456789012:log-group:/a")
                .unwrap_err()
                .code,
            "ResourceNotFoundException"
        );
        assert_eq!(
            resolve_identifier(&scope(), "arn:aws:s3:::bucket")
                .unwrap_err()
                .code,
            "InvalidParameterException"
        );
    }
}
