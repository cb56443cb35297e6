//! The fuzz target's check (`fuzz/fuzz_targets/check.rs`) under proptest,
//! so it runs on stable in CI: arbitrary text and token soups from both
//! query languages go through `parse` and `parse_sql`, and whatever parses
//! is executed.

use proptest::prelude::*;

#[path = "../fuzz/fuzz_targets/check.rs"]
mod check;

const VOCABULARY: &[&str] = &[
    "fields",
    "filter",
    "stats",
    "sort",
    "limit",
    "any",
    "parse",
    "dedup",
    "display",
    "pattern",
    "diff",
    "previousDay",
    "previousMonth",
    "unmask",
    "by",
    "as",
    "multi",
    "logfmt",
    "csv",
    "json",
    "and",
    "or",
    "not",
    "in",
    "like",
    "desc",
    "asc",
    "SOURCE",
    "|",
    ",",
    "(",
    ")",
    "[",
    "]",
    "=",
    "!=",
    "<",
    ">=",
    "=~",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "#",
    "\n",
    "@message",
    "@timestamp",
    "a.b",
    "`x y`",
    "\"str\"",
    "'s'",
    "/(\\d+)/",
    "/(?<n>x)/",
    "5m",
    "1.5",
    "42",
    "0",
    "count(*)",
    "bin(5m)",
    "parseDate",
    "formatDate",
    "strftime",
    "'yyyy-MM-dd'",
    "'%Y'",
    "'+05:30'",
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "DISTINCT",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "INT",
    "AS",
    "IS",
    "NULL",
    "BETWEEN",
    "LIKE",
    "'%x%'",
    "`g`",
    "`@message`",
    ";",
    "SUBSTRING",
    "LOWER",
    "é",
    "\\",
    "`",
    "\"",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..28).prop_map(|t| t.join(" "))
}

/// Queries that parse in one language or the other, so execution is
/// exercised as well as error paths.
const SEEDS: &[&str] = &[
    "pattern @message",
    "filter a = 1 | diff",
    "parse @message logfmt as m | stats count(*) by m.level",
    "parse @message csv as x, y, z | limit any 2",
    "parse @message /(\\d+)/ as n multi | stats sum(n)",
    "fields parseDate(b, 'yyyy') as d, strftime(@timestamp, '%F') as s",
    "SELECT a, COUNT(*) AS n FROM `g` WHERE b = 'x' GROUP BY a HAVING n > 0 ORDER BY n DESC LIMIT 3",
    "SELECT * FROM `g`",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check::check_query_text(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check::check_query_text(&text);
    }

    #[test]
    fn mutated_seeds_never_panic(seed in prop::sample::select(SEEDS), cut in 0usize..120, insert in prop::sample::select(VOCABULARY)) {
        let at = seed.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(seed.len());
        let text = format!("{} {insert} {}", &seed[..at], &seed[at..]);
        check::check_query_text(&text);
    }
}

#[test]
fn seeds_parse() {
    for seed in SEEDS {
        let ok = watchtrail_insights::parse(seed).is_ok()
            || watchtrail_insights::parse_sql(seed).is_ok();
        assert!(ok, "seed does not parse: {seed}");
        check::check_query_text(seed);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("filter {}a{}", "(".repeat(5000), ")".repeat(5000));
    assert!(watchtrail_insights::parse(&deep).is_err());
    let deep_sql = format!("SELECT {}1{} FROM `g`", "(".repeat(5000), ")".repeat(5000));
    assert!(watchtrail_insights::parse_sql(&deep_sql).is_err());
    let nots = format!("filter {}a", "not ".repeat(5000));
    assert!(watchtrail_insights::parse(&nots).is_err());
    let negs = format!("fields {}1 as x", "-".repeat(5000));
    assert!(watchtrail_insights::parse(&negs).is_err());
}

/// Queries whose per-event work reads the raw message text: arbitrary
/// messages must never make them panic.
const TEXT_QUERIES: &[&str] = &[
    "fields parseDate(@message, 'yyyy-MM-dd HH:mm:ss.SSS') as a, parseDate(@message, 'dd/MMM/yyyy:HH:mm:ss Z') as b, parseDate(@message, 'EEE, d MMMM yy h a XXX') as c, parseDate(@message, 'yyyyMMddHHmmssSSS', '+05:30') as d",
    "fields formatDate(@message, 'EEEE MMMM D k K S z') as a, strftime(@message, '%a %B %e %I %p %j %Z %s') as b",
    "parse @message logfmt as m | parse @message csv as x, y, z | json field=@message \"a.b\" as j | display m, x, y, z, j",
    "parse @message /(\\w+)/ as w multi | stats count(*) by w",
    "pattern @message",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_messages_never_panic(messages in prop::collection::vec(any::<String>(), 1..6)) {
        for text in TEXT_QUERIES {
            let query = watchtrail_insights::parse(text).expect("query parses");
            let mut run = query.execute(watchtrail_insights::ExecutionContext::unbounded(0));
            for (i, m) in messages.iter().enumerate() {
                run.push(&watchtrail_insights::Event {
                    timestamp_ms: i as i64,
                    ingestion_time_ms: 0,
                    message: m,
                    log_stream: "s",
                    log_group: "g",
                    ptr: String::new(),
                });
            }
            run.finish();
        }
    }
}
