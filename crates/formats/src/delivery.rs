//! Where AWS puts each log type, and the importer's naming conventions.

use crate::kind::FormatKind;
use crate::record::{FieldValue, Record};

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// The format of an object from the key AWS delivered it under:
/// `AWSLogs/ACCOUNT/vpcflowlogs/REGION/…`, `AWSLogs/ACCOUNT/elasticloadbalancing/…`
/// (ALB `…_app.NAME…`, NLB `…_net.NAME…`, else Classic), `AWSLogs/ACCOUNT/CloudTrail/…`,
/// `AWSLogs/ACCOUNT/WAFLogs/…`, `AWSLogs/ACCOUNT/vpcdnsquerylogs/…`,
/// `AWSLogs/ACCOUNT/redshift/…_connectionlog_…`, CloudFront
/// `DISTRIBUTION.YYYY-MM-DD-HH.UNIQUE.gz` and S3 access logs
/// `YYYY-MM-DD-HH-MM-SS-UNIQUE`. `None` for digests, test files and anything else.
pub fn kind_from_object_key(key: &str) -> Option<FormatKind> {
    let segments: Vec<&str> = key.split('/').collect();
    let name = file_name(key);
    if let Some(i) = segments.iter().position(|s| *s == "AWSLogs") {
        // AWSLogs/[o-ORG/]ACCOUNT/SERVICE/…
        let mut j = i + 1;
        if segments.get(j).is_some_and(|s| s.starts_with("o-")) {
            j += 1;
        }
        let service = segments.get(j + 1).copied().unwrap_or("");
        match service {
            "vpcflowlogs" => return Some(FormatKind::VpcFlow),
            "vpcdnsquerylogs" => return Some(FormatKind::Route53Resolver),
            "WAFLogs" => return Some(FormatKind::Waf),
            "CloudTrail" | "CloudTrail-Insight" => return Some(FormatKind::CloudTrail),
            "CloudTrail-Digest" => return None,
            "elasticloadbalancing" => {
                if name.starts_with("conn_log") || name == "ELBAccessLogTestFile" {
                    return None;
                }
                let after_region = name.split("_elasticloadbalancing_").nth(1).unwrap_or("");
                let lb = after_region.split_once('_').map(|(_, r)| r).unwrap_or("");
                return Some(if lb.starts_with("app.") {
                    FormatKind::Alb
                } else if lb.starts_with("net.") {
                    FormatKind::Nlb
                } else {
                    FormatKind::ElbClassic
                });
            }
            "redshift" => {
                return if name.contains("_useractivitylog_") {
                    Some(FormatKind::RedshiftUserActivity)
                } else if name.contains("_userlog_") {
                    Some(FormatKind::RedshiftUser)
                } else if name.contains("_connectionlog_") {
                    Some(FormatKind::RedshiftConnection)
                } else {
                    None
                };
            }
            _ => {}
        }
    }
    if is_cloudfront_name(name) {
        return Some(FormatKind::CloudFront);
    }
    if is_s3_access_name(name) {
        return Some(FormatKind::S3Access);
    }
    None
}

/// `E2EXAMPLE.2019-12-04-21.abcd1234.gz`
fn is_cloudfront_name(name: &str) -> bool {
    let mut parts = name.split('.');
    let (Some(dist), Some(hour)) = (parts.next(), parts.next()) else {
        return false;
    };
    dist.len() >= 8
        && dist.starts_with('E')
        && dist
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && hour.len() == 13
        && hour.bytes().enumerate().all(|(i, c)| {
            if matches!(i, 4 | 7 | 10) {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// `2019-02-06-00-00-38-5D8F0B5E8F1B0A7C`
fn is_s3_access_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.len() < 21 {
        return false;
    }
    let stamp_ok = b[..19].iter().enumerate().all(|(i, c)| {
        if matches!(i, 4 | 7 | 10 | 13 | 16) {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    stamp_ok && b[19] == b'-' && b[20..].iter().all(|c| c.is_ascii_alphanumeric())
}

fn text<'r>(record: &'r Record<'_>, name: &str) -> Option<&'r str> {
    match record.get(name) {
        Some(FieldValue::Str(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// The log stream an imported record goes to, following the stream layout
/// AWS itself uses when the service writes to CloudWatch Logs where there is
/// one (`eni-…-all` per network interface for flow logs,
/// `HOSTED_ZONE/EDGE` for Route 53, `ACCOUNT_CloudTrail_REGION` for
/// CloudTrail), and the natural source otherwise (the load balancer, the
/// bucket, the distribution host, the web ACL, the VPC). `None` when the
/// record has nothing to name a stream after; the importer then uses its own.
pub fn default_stream_name(kind: FormatKind, record: &Record<'_>) -> Option<String> {
    match kind {
        FormatKind::VpcFlow => text(record, "interfaceId").map(|eni| format!("{eni}-all")),
        FormatKind::ElbClassic | FormatKind::Alb | FormatKind::Nlb => {
            text(record, "elb").map(|e| e.replace('/', "."))
        }
        FormatKind::S3Access => text(record, "bucket").map(str::to_string),
        FormatKind::CloudFront => text(record, "cs(Host)")
            .or_else(|| text(record, "x-host-header"))
            .map(str::to_string),
        FormatKind::Waf => text(record, "webaclId").map(|arn| {
            // arn:aws:wafv2:REGION:ACCOUNT:regional/webacl/NAME/ID
            let parts: Vec<&str> = arn.split('/').collect();
            match parts.len() {
                n if n >= 3 => parts[n - 2].to_string(),
                _ => arn.to_string(),
            }
        }),
        FormatKind::Route53Public => {
            match (text(record, "hostZoneId"), text(record, "edgeLocation")) {
                (Some(z), Some(e)) => Some(format!("{z}/{e}")),
                _ => None,
            }
        }
        FormatKind::Route53Resolver => text(record, "vpc_id").map(str::to_string),
        FormatKind::CloudTrail => {
            let account = text(record, "recipientAccountId")
                .or_else(|| text(record, "userIdentity.accountId"))?;
            let region = text(record, "awsRegion")?;
            Some(format!("{account}_CloudTrail_{region}"))
        }
        FormatKind::RedshiftConnection
        | FormatKind::RedshiftUser
        | FormatKind::RedshiftUserActivity => None,
        _ => None,
    }
}

/// The log group an importer uses for a kind when the user names none.
/// Where AWS has a convention it is followed (`/aws/lambda/…`,
/// `aws-waf-logs-…`, which WAF requires, `API-Gateway-Execution-Logs…`,
/// `/aws/redshift/cluster/…/connectionlog`).
pub fn default_log_group(kind: FormatKind) -> &'static str {
    match kind {
        FormatKind::VpcFlow => "/aws/vpc/flowlogs",
        FormatKind::S3Access => "/aws/s3/server-access-logs",
        FormatKind::ElbClassic => "/aws/elb/access-logs",
        FormatKind::Alb => "/aws/alb/access-logs",
        FormatKind::Nlb => "/aws/nlb/access-logs",
        FormatKind::CloudFront => "/aws/cloudfront/access-logs",
        FormatKind::Waf => "aws-waf-logs-imported",
        FormatKind::Route53Public => "/aws/route53/queries",
        FormatKind::Route53Resolver => "/aws/route53resolver/query-logs",
        FormatKind::Lambda | FormatKind::LambdaJson => "/aws/lambda/imported",
        FormatKind::CloudTrail => "aws-cloudtrail-logs",
        FormatKind::ApiGatewayAccess | FormatKind::ApiGatewayAccessJson => {
            "/aws/apigateway/access-logs"
        }
        FormatKind::ApiGatewayExecution => "API-Gateway-Execution-Logs_imported",
        FormatKind::RedshiftConnection => "/aws/redshift/cluster/imported/connectionlog",
        FormatKind::RedshiftUser => "/aws/redshift/cluster/imported/userlog",
        FormatKind::RedshiftUserActivity => "/aws/redshift/cluster/imported/useractivitylog",
        FormatKind::RdsPostgres => "/aws/rds/instance/imported/postgresql",
        FormatKind::RdsMysql => "/aws/rds/instance/imported/mysql",
        FormatKind::ApacheCommon => "/watchtrail/imported/apache-common",
        FormatKind::ApacheCombined => "/watchtrail/imported/apache-combined",
        FormatKind::Syslog3164 | FormatKind::Syslog5424 => "/watchtrail/imported/syslog",
        FormatKind::Logfmt => "/watchtrail/imported/logfmt",
        FormatKind::Json => "/watchtrail/imported/json",
        FormatKind::SpaceDelimited => "/watchtrail/imported/text",
        FormatKind::Emf => "/watchtrail/imported/emf",
    }
}
