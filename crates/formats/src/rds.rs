//! RDS and Aurora database logs, line by line: PostgreSQL with RDS's
//! `log_line_prefix` (`%t:%r:%u@%d:[%p]:`), and MySQL error, slow query and
//! general logs. Names follow the engines' own tables: PostgreSQL csvlog
//! columns (`log_time`, `user_name`, `database_name`, `process_id`,
//! `error_severity`) and MySQL `error_log`/`slow_log`/`general_log` columns.

use crate::lexing::{parse_float, parse_int};
use crate::record::{FieldValue, LineOutcome, Record};
use crate::timestamp::parse_iso8601_prefix;

/// `2019-03-10 03:54:59 UTC:10.0.0.123(52834):postgres@tstdb:[20175]:ERROR:  message`
pub fn parse_postgres(line: &str) -> LineOutcome<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return LineOutcome::Header;
    }
    let bad = LineOutcome::Malformed {
        reason:
            "PostgreSQL lines start with '<time> UTC:<host(port)>:<user>@<db>:[<pid>]:<LEVEL>:'",
    };
    let Some((t, used)) = parse_iso8601_prefix(line) else {
        return bad;
    };
    let rest = &line[used..];
    let Some(rest) = rest.strip_prefix(' ') else {
        return bad;
    };
    let Some(zone_end) = rest.find(':') else {
        return bad;
    };
    if !rest[..zone_end].bytes().all(|c| c.is_ascii_uppercase()) {
        return bad;
    }
    let rest = &rest[zone_end + 1..];
    let Some(pid_start) = rest.find(":[") else {
        return bad;
    };
    let Some(pid_len) = rest[pid_start + 2..].find("]:") else {
        return bad;
    };
    let Some(pid) = parse_int(&rest[pid_start + 2..pid_start + 2 + pid_len]) else {
        return bad;
    };
    let who = &rest[..pid_start];
    let Some(who_split) = who.rfind(':') else {
        return bad;
    };
    let connection = &who[..who_split];
    let Some((user, db)) = who[who_split + 1..].split_once('@') else {
        return bad;
    };
    let after = &rest[pid_start + 2 + pid_len + 2..];
    let Some((level, message)) = after.split_once(':') else {
        return bad;
    };
    let mut record = Record::with_capacity(8);
    record.push("log_time", FieldValue::Timestamp(t));
    record.push("connection_from", opt(connection));
    record.push("user_name", opt(user));
    record.push("database_name", opt(db));
    record.push("process_id", FieldValue::Int(pid));
    record.push("error_severity", FieldValue::str(level));
    record.push("message", FieldValue::str(message.trim_start()));
    record.timestamp_ms = Some(t);
    LineOutcome::Record(record)
}

fn opt(s: &str) -> FieldValue<'_> {
    if s.is_empty() {
        FieldValue::Null
    } else {
        FieldValue::str(s)
    }
}

/// MySQL logs are read per file: a statement line is only a record after a
/// slow-log `# Time:`/`# User@Host:` header has been seen.
#[derive(Debug, Default, Clone)]
pub struct MysqlParser {
    in_slow_log: bool,
}

impl MysqlParser {
    pub fn parse_line<'a>(&mut self, line: &'a str) -> LineOutcome<'a> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return LineOutcome::Header;
        }
        if line.contains("mysqld, Version:")
            || line.starts_with("Tcp port:")
            || line.starts_with("Time                 Id Command")
        {
            return LineOutcome::Header;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            return self.slow_header(rest);
        }
        if let Some((t, used)) = parse_iso8601_prefix(line) {
            return parse_timed(line, t, used);
        }
        if self.in_slow_log {
            let mut record = Record::with_capacity(1);
            record.push("sql_text", FieldValue::str(line));
            return LineOutcome::Record(record);
        }
        LineOutcome::Malformed {
            reason: "MySQL lines start with a time, or are slow-log lines",
        }
    }

    fn slow_header<'a>(&mut self, rest: &'a str) -> LineOutcome<'a> {
        let mut record = Record::with_capacity(5);
        if let Some(time) = rest.strip_prefix("Time: ") {
            let Some((t, _)) = parse_iso8601_prefix(time.trim()) else {
                return LineOutcome::Malformed {
                    reason: "slow log # Time: without a time",
                };
            };
            record.push("start_time", FieldValue::Timestamp(t));
            record.timestamp_ms = Some(t);
        } else if let Some(who) = rest.strip_prefix("User@Host: ") {
            let (user_host, id) = match who.split_once(" Id:") {
                Some((u, id)) => (u.trim(), parse_int(id.trim())),
                None => (who.trim(), None),
            };
            record.push("user_host", FieldValue::str(user_host));
            if let Some(id) = id {
                record.push("thread_id", FieldValue::Int(id));
            }
        } else if rest.starts_with("Query_time:") {
            let mut tokens = rest.split_whitespace();
            while let (Some(label), Some(value)) = (tokens.next(), tokens.next()) {
                let name = match label {
                    "Query_time:" => "query_time",
                    "Lock_time:" => "lock_time",
                    "Rows_sent:" => "rows_sent",
                    "Rows_examined:" => "rows_examined",
                    _ => continue,
                };
                let v = if name.ends_with("time") {
                    parse_float(value).map(FieldValue::Float)
                } else {
                    parse_int(value).map(FieldValue::Int)
                };
                match v {
                    Some(v) => record.push(name, v),
                    None => {
                        return LineOutcome::Malformed {
                            reason: "slow log statistics are not numbers",
                        }
                    }
                }
            }
        } else {
            return LineOutcome::Malformed {
                reason: "unknown MySQL slow log comment",
            };
        }
        self.in_slow_log = true;
        LineOutcome::Record(record)
    }
}

fn parse_timed(line: &str, t: i64, used: usize) -> LineOutcome<'_> {
    let rest = &line[used..];
    let mut record = Record::with_capacity(7);
    record.timestamp_ms = Some(t);
    if let Some(general) = rest.strip_prefix('\t') {
        // General log: `<time>\t   15 Query\tSELECT 1`
        let (id_command, argument) = general.split_once('\t').unwrap_or((general, ""));
        let mut parts = id_command.split_whitespace();
        let (Some(id), Some(command)) = (parts.next().and_then(parse_int), parts.next()) else {
            return LineOutcome::Malformed {
                reason: "general log lines are '<time>\\t<id> <command>\\t<argument>'",
            };
        };
        record.push("event_time", FieldValue::Timestamp(t));
        record.push("thread_id", FieldValue::Int(id));
        record.push("command_type", FieldValue::str(command));
        record.push("argument", FieldValue::str(argument));
        return LineOutcome::Record(record);
    }
    // Error log: `<time> <thread> [Level] [MY-code] [Subsystem] message`
    let rest = rest.trim_start();
    let (thread, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let Some(thread) = parse_int(thread) else {
        return LineOutcome::Malformed {
            reason: "error log lines are '<time> <thread> [Level] message'",
        };
    };
    record.push("logged", FieldValue::Timestamp(t));
    record.push("thread_id", FieldValue::Int(thread));
    let mut rest = rest.trim_start();
    let mut bracketed = Vec::with_capacity(3);
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else { break };
        bracketed.push(&inner[..close]);
        rest = inner[close + 1..].trim_start();
        if bracketed.len() == 3 {
            break;
        }
    }
    let Some(prio) = bracketed.first() else {
        return LineOutcome::Malformed {
            reason: "error log lines are '<time> <thread> [Level] message'",
        };
    };
    record.push("prio", FieldValue::str(prio));
    for extra in &bracketed[1..] {
        if extra.starts_with("MY-") {
            record.push("error_code", FieldValue::str(extra));
        } else {
            record.push("subsystem", FieldValue::str(extra));
        }
    }
    record.push("data", FieldValue::str(rest));
    LineOutcome::Record(record)
}
