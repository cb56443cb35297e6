//! Property tests: no input makes parsing or matching panic, `extract` agrees
//! with `matches`, and simple patterns agree with an obvious model.

use proptest::prelude::*;
use watchtrail_filter_pattern::FilterPattern;

/// Characters that steer the parsers into their interesting branches.
const PATTERN_ALPHABET: &str = "[\\[\\]{}()$.*=!<>&|\"%?,_ \\-\\\\a-cA-C0-9'eEx+^:]{0,60}";

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{1,6}"
}

fn json_value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        word(),
        "-?[0-9]{1,4}(\\.[0-9]{1,2})?(e-?[0-9])?",
        "\"[ -~&&[^\"\\\\]]{0,8}\"",
        "[A-Za-z0-9]{0,3}\\*[A-Za-z0-9.]{0,3}",
        Just("*".to_string()),
        "%[a-z0-9]{1,3}[+*]?%",
    ]
}

fn selector() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        word().prop_map(|key| format!(".{key}")),
        (0usize..3).prop_map(|index| format!("[{index}]")),
        "[a-z.]{1,4}".prop_map(|key| format!(".['{key}']")),
    ];
    (
        prop::collection::vec(step, 1..4),
        prop::option::of(prop_oneof![Just(".*"), Just("[*]")]),
    )
        .prop_map(|(steps, wildcard)| format!("${}{}", steps.concat(), wildcard.unwrap_or("")))
}

fn json_test() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            selector(),
            prop_oneof![Just("="), Just("!=")],
            json_value_text()
        )
            .prop_map(|(s, op, v)| format!("{s} {op} {v}")),
        (
            selector(),
            prop_oneof![Just("<"), Just("<="), Just(">"), Just(">=")],
            "-?[0-9]{1,3}(\\.[0-9])?"
        )
            .prop_map(|(s, op, v)| format!("{s} {op} {v}")),
        (
            selector(),
            prop_oneof![
                Just("IS NULL"),
                Just("IS TRUE"),
                Just("IS FALSE"),
                Just("NOT EXISTS")
            ]
        )
            .prop_map(|(s, check)| format!("{s} {check}")),
    ]
}

fn json_expression() -> impl Strategy<Value = String> {
    json_test().prop_recursive(3, 8, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn delimited_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("...".to_string()),
        word(),
        (
            word(),
            prop_oneof![Just("="), Just("!=")],
            json_value_text()
        )
            .prop_map(|(n, op, v)| format!("{n} {op} {v}")),
        (word(), prop_oneof![Just(">"), Just("<=")], "[0-9]{1,3}")
            .prop_map(|(n, op, v)| format!("{n}{op}{v} || {n} = x*")),
    ]
}

fn structured_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        json_expression().prop_map(|expression| format!("{{ {expression} }}")),
        prop::collection::vec(delimited_field(), 1..6)
            .prop_map(|fields| format!("[{}]", fields.join(", "))),
        prop::collection::vec(
            (
                prop_oneof![Just(""), Just("?"), Just("-")],
                prop_oneof![word(), "\"[ -~&&[^\"\\\\]]{0,6}\"", "%[a-z]{1,3}%"]
            ),
            1..5
        )
        .prop_map(|terms| terms
            .into_iter()
            .map(|(prefix, term)| format!("{prefix}{term}"))
            .collect::<Vec<_>>()
            .join(" ")),
    ]
}

/// Messages that are sometimes JSON, sometimes access-log-like, sometimes junk.
fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        prop::collection::vec(
            prop_oneof![word(), "\\[[a-z ]{0,6}\\]", "\"[a-z ]{0,6}\"", "[0-9]{1,4}"],
            0..8
        )
        .prop_map(|fields| fields.join(" ")),
        prop::collection::vec((word(), json_value_text()), 0..5).prop_map(|members| {
            let body: Vec<String> = members
                .into_iter()
                .map(|(key, value)| {
                    let value = if value.starts_with('"') || value.parse::<f64>().is_ok() {
                        value
                    } else {
                        format!("{value:?}")
                    };
                    format!("\"{key}\": {{\"{key}\": [{value}, null, true]}}, \"{key}2\": {value}")
                })
                .collect();
            format!("{{{}}}", body.join(", "))
        }),
    ]
}

fn check_consistency(pattern: &FilterPattern, message: &str) -> Result<(), TestCaseError> {
    let matched = pattern.matches(message);
    let extracted = pattern.extract(message);
    prop_assert_eq!(
        matched,
        extracted.is_some(),
        "pattern {} message {:?}",
        pattern,
        message
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(pattern in any::<String>()) {
        let _ = FilterPattern::parse(&pattern);
    }

    #[test]
    fn parse_never_panics_on_pattern_like_text(pattern in PATTERN_ALPHABET, message in message()) {
        if let Ok(parsed) = FilterPattern::parse(&pattern) {
            check_consistency(&parsed, &message)?;
        }
    }

    #[test]
    fn generated_patterns_parse_and_match_without_panicking(pattern in structured_pattern(), messages in prop::collection::vec(message(), 1..6)) {
        // Generated patterns are valid except where they exceed AWS's limits.
        let parsed = match FilterPattern::parse(&pattern) {
            Ok(parsed) => parsed,
            Err(error) => {
                prop_assert!(
                    error.message.contains("at most"),
                    "generated pattern {:?} refused: {}", pattern, error
                );
                return Ok(());
            }
        };
        for message in &messages {
            check_consistency(&parsed, message)?;
        }
    }

    /// AWS terms are case-sensitive substrings: `ERROR` matches `ERRORCODE`.
    #[test]
    fn plain_terms_match_exactly_when_every_term_is_a_substring(
        terms in prop::collection::vec("[a-c0-1_]{1,3}", 1..4),
        message in "[a-c0-1_ ]{0,30}",
    ) {
        let pattern = FilterPattern::parse(&terms.join(" ")).unwrap();
        let expected = terms.iter().all(|term| message.contains(term.as_str()));
        prop_assert_eq!(pattern.matches(&message), expected);
    }

    #[test]
    fn term_pattern_agrees_with_the_model(
        required in prop::collection::vec("[ab]{1,2}", 0..3),
        optional in prop::collection::vec("[ab]{1,2}", 0..3),
        excluded in prop::collection::vec("[ab]{1,3}", 0..2),
        message in "[ab ]{0,12}",
    ) {
        prop_assume!(!(required.is_empty() && optional.is_empty() && excluded.is_empty()));
        let text = required.iter().map(String::clone)
            .chain(optional.iter().map(|term| format!("?{term}")))
            .chain(excluded.iter().map(|term| format!("-{term}")))
            .collect::<Vec<_>>()
            .join(" ");
        let pattern = FilterPattern::parse(&text).unwrap();
        let contains = |term: &String| message.contains(term.as_str());
        let expected = required.iter().all(contains)
            && (!required.is_empty() || optional.is_empty() || optional.iter().any(contains))
            && !excluded.iter().any(contains);
        prop_assert_eq!(pattern.matches(&message), expected, "pattern {:?}", text);
    }

    #[test]
    fn quoted_phrases_match_exactly_when_a_substring(phrase in "[a-c :/.@-]{0,6}", message in "[a-c :/.@-]{0,20}") {
        let pattern = FilterPattern::parse(&format!("\"{phrase}\"")).unwrap();
        prop_assert_eq!(pattern.matches(&message), message.contains(&phrase));
    }

    #[test]
    fn json_numeric_comparisons_agree_with_f64(actual in -1000i32..1000, expected in -1000i32..1000, fraction in 0u8..4) {
        let actual = f64::from(actual) + f64::from(fraction) / 4.0;
        let message = format!("{{\"outer\": {{\"value\": {actual}}}}}");
        for (operator, holds) in [
            ("=", actual == f64::from(expected)),
            ("!=", actual != f64::from(expected)),
            ("<", actual < f64::from(expected)),
            ("<=", actual <= f64::from(expected)),
            (">", actual > f64::from(expected)),
            (">=", actual >= f64::from(expected)),
        ] {
            let pattern = FilterPattern::parse(&format!("{{ $.outer.value {operator} {expected} }}")).unwrap();
            prop_assert_eq!(pattern.matches(&message), holds, "{} {} {}", actual, operator, expected);
        }
    }

    #[test]
    fn space_delimited_field_count_must_match_without_ellipsis(
        fields in prop::collection::vec("[a-z0-9]{1,5}", 1..8),
        pattern_width in 1usize..9,
    ) {
        let message = fields.join(" ");
        let names: Vec<String> = (0..pattern_width).map(|index| format!("f{index}")).collect();
        let exact = FilterPattern::parse(&format!("[{}]", names.join(", "))).unwrap();
        prop_assert_eq!(exact.matches(&message), pattern_width == fields.len());
        let open = FilterPattern::parse(&format!("[{}, ...]", names.join(", "))).unwrap();
        prop_assert_eq!(open.matches(&message), pattern_width <= fields.len());
        let last = FilterPattern::parse(&format!("[..., last = \"{}\"]", fields[fields.len() - 1])).unwrap();
        prop_assert!(last.matches(&message));
        let extracted = exact.extract(&message);
        if let Some(values) = extracted {
            let values: Vec<String> = values.into_iter().map(|(_, value)| value).collect();
            prop_assert_eq!(values, fields);
        }
    }
}
