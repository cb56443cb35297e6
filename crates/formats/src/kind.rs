//! The list of formats and the per-file parser that dispatches to them.

use std::fmt;
use std::str::FromStr;

use crate::cloudfront::CloudFrontParser;
use crate::rds::MysqlParser;
use crate::record::LineOutcome;
use crate::vpc_flow::VpcFlowParser;
use crate::{
    api_gateway, generic, json_logs, lambda, load_balancer, rds, redshift, route53, s3_access,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FormatKind {
    VpcFlow,
    S3Access,
    ElbClassic,
    Alb,
    Nlb,
    CloudFront,
    Waf,
    Route53Public,
    Route53Resolver,
    /// Lambda text logs: START/END/REPORT platform lines and runtime lines.
    Lambda,
    /// Lambda's JSON log format (platform events and application lines).
    LambdaJson,
    CloudTrail,
    /// API Gateway access logs in the console's CLF template.
    ApiGatewayAccess,
    /// API Gateway access logs written with a JSON template.
    ApiGatewayAccessJson,
    ApiGatewayExecution,
    RedshiftConnection,
    RedshiftUser,
    RedshiftUserActivity,
    RdsPostgres,
    RdsMysql,
    ApacheCommon,
    ApacheCombined,
    Syslog3164,
    Syslog5424,
    Logfmt,
    Json,
    SpaceDelimited,
    Emf,
}

impl FormatKind {
    pub const ALL: [FormatKind; 28] = [
        FormatKind::VpcFlow,
        FormatKind::S3Access,
        FormatKind::ElbClassic,
        FormatKind::Alb,
        FormatKind::Nlb,
        FormatKind::CloudFront,
        FormatKind::Waf,
        FormatKind::Route53Public,
        FormatKind::Route53Resolver,
        FormatKind::Lambda,
        FormatKind::LambdaJson,
        FormatKind::CloudTrail,
        FormatKind::ApiGatewayAccess,
        FormatKind::ApiGatewayAccessJson,
        FormatKind::ApiGatewayExecution,
        FormatKind::RedshiftConnection,
        FormatKind::RedshiftUser,
        FormatKind::RedshiftUserActivity,
        FormatKind::RdsPostgres,
        FormatKind::RdsMysql,
        FormatKind::ApacheCommon,
        FormatKind::ApacheCombined,
        FormatKind::Syslog3164,
        FormatKind::Syslog5424,
        FormatKind::Logfmt,
        FormatKind::Json,
        FormatKind::SpaceDelimited,
        FormatKind::Emf,
    ];

    /// The name used on the command line (`--format NAME`).
    pub fn name(self) -> &'static str {
        match self {
            FormatKind::VpcFlow => "vpc-flow",
            FormatKind::S3Access => "s3-access",
            FormatKind::ElbClassic => "elb-classic",
            FormatKind::Alb => "alb",
            FormatKind::Nlb => "nlb",
            FormatKind::CloudFront => "cloudfront",
            FormatKind::Waf => "waf",
            FormatKind::Route53Public => "route53-public",
            FormatKind::Route53Resolver => "route53-resolver",
            FormatKind::Lambda => "lambda",
            FormatKind::LambdaJson => "lambda-json",
            FormatKind::CloudTrail => "cloudtrail",
            FormatKind::ApiGatewayAccess => "apigateway-access",
            FormatKind::ApiGatewayAccessJson => "apigateway-access-json",
            FormatKind::ApiGatewayExecution => "apigateway-execution",
            FormatKind::RedshiftConnection => "redshift-connection",
            FormatKind::RedshiftUser => "redshift-user",
            FormatKind::RedshiftUserActivity => "redshift-user-activity",
            FormatKind::RdsPostgres => "rds-postgres",
            FormatKind::RdsMysql => "rds-mysql",
            FormatKind::ApacheCommon => "apache-common",
            FormatKind::ApacheCombined => "apache-combined",
            FormatKind::Syslog3164 => "syslog-3164",
            FormatKind::Syslog5424 => "syslog-5424",
            FormatKind::Logfmt => "logfmt",
            FormatKind::Json => "json",
            FormatKind::SpaceDelimited => "space-delimited",
            FormatKind::Emf => "emf",
        }
    }

    /// Formats whose lines are JSON objects.
    pub fn is_json(self) -> bool {
        matches!(
            self,
            FormatKind::Waf
                | FormatKind::Route53Resolver
                | FormatKind::LambdaJson
                | FormatKind::CloudTrail
                | FormatKind::ApiGatewayAccessJson
                | FormatKind::Json
                | FormatKind::Emf
        )
    }
}

impl fmt::Display for FormatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown log format {:?}; known: ", self.0)?;
        for (i, k) in FormatKind::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(k.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for FormatKind {
    type Err = UnknownFormat;

    /// Accepts [`FormatKind::name`] case-insensitively, with `_` for `-`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        FormatKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

#[derive(Debug, Clone)]
enum State {
    Stateless,
    VpcFlow(VpcFlowParser),
    CloudFront(CloudFrontParser),
    Mysql(MysqlParser),
    Syslog3164 { year: i64 },
}

/// Parses the lines of one file (or one log stream) of a known format, in order.
///
/// Formats with header lines (CloudFront `#Fields`, the VPC flow log header
/// row) and the MySQL slow log keep state between lines, so use one parser
/// per file.
#[derive(Debug, Clone)]
pub struct LineParser {
    kind: FormatKind,
    state: State,
}

fn current_year() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    crate::timestamp::civil_from_days(secs.div_euclid(86_400)).0
}

impl LineParser {
    pub fn new(kind: FormatKind) -> Self {
        let state = match kind {
            FormatKind::VpcFlow => State::VpcFlow(VpcFlowParser::default()),
            FormatKind::CloudFront => State::CloudFront(CloudFrontParser::default()),
            FormatKind::RdsMysql => State::Mysql(MysqlParser::default()),
            FormatKind::Syslog3164 => State::Syslog3164 {
                year: current_year(),
            },
            _ => State::Stateless,
        };
        LineParser { kind, state }
    }

    /// A VPC flow log parser for a custom format (`${version} ${vpc-id} …` or
    /// the header row), for CloudWatch-delivered logs that carry no header.
    pub fn vpc_flow_with_format(format: &str) -> Option<Self> {
        Some(LineParser {
            kind: FormatKind::VpcFlow,
            state: State::VpcFlow(VpcFlowParser::with_format(format)?),
        })
    }

    /// RFC 3164 syslog lines carry no year; this sets the one assumed
    /// (the current UTC year by default).
    pub fn with_syslog_year(mut self, year: i64) -> Self {
        if let State::Syslog3164 { year: y } = &mut self.state {
            *y = year;
        }
        self
    }

    pub fn kind(&self) -> FormatKind {
        self.kind
    }

    pub fn parse_line<'a>(&mut self, line: &'a str) -> LineOutcome<'a> {
        match &mut self.state {
            State::VpcFlow(p) => return p.parse_line(line),
            State::CloudFront(p) => return p.parse_line(line),
            State::Mysql(p) => return p.parse_line(line),
            State::Syslog3164 { year } => return generic::parse_syslog_3164(line, *year),
            State::Stateless => {}
        }
        match self.kind {
            FormatKind::S3Access => s3_access::parse(line),
            FormatKind::ElbClassic => load_balancer::parse_classic(line),
            FormatKind::Alb => load_balancer::parse_alb(line),
            FormatKind::Nlb => load_balancer::parse_nlb(line),
            FormatKind::Waf => json_logs::parse_waf(line),
            FormatKind::Route53Public => route53::parse(line),
            FormatKind::Route53Resolver => json_logs::parse_route53_resolver(line),
            FormatKind::Lambda => lambda::parse(line),
            FormatKind::LambdaJson => json_logs::parse_lambda_json(line),
            FormatKind::CloudTrail => json_logs::parse_cloudtrail_record(line),
            FormatKind::ApiGatewayAccess => api_gateway::parse_clf(line),
            FormatKind::ApiGatewayAccessJson => json_logs::parse_api_gateway_json(line),
            FormatKind::ApiGatewayExecution => api_gateway::parse_execution(line),
            FormatKind::RedshiftConnection => redshift::parse_connection(line),
            FormatKind::RedshiftUser => redshift::parse_user(line),
            FormatKind::RedshiftUserActivity => redshift::parse_user_activity(line),
            FormatKind::RdsPostgres => rds::parse_postgres(line),
            FormatKind::ApacheCommon => generic::parse_clf(line, false),
            FormatKind::ApacheCombined => generic::parse_clf(line, true),
            FormatKind::Syslog5424 => generic::parse_syslog_5424(line),
            FormatKind::Logfmt => generic::parse_logfmt(line),
            FormatKind::Json => json_logs::parse_json(line),
            FormatKind::SpaceDelimited => generic::parse_space_delimited(line),
            FormatKind::Emf => json_logs::parse_emf(line),
            FormatKind::VpcFlow
            | FormatKind::CloudFront
            | FormatKind::RdsMysql
            | FormatKind::Syslog3164 => unreachable!("stateful kinds are handled above"),
        }
    }
}
