//! Patterns AWS refuses are refused, with the message AWS gives where it is
//! known (quoted in comments with their source) and a precise one otherwise.

use watchtrail_filter_pattern::{FilterPattern, FilterPatternError};

fn refusal(pattern: &str) -> String {
    match FilterPattern::parse(pattern) {
        Ok(parsed) => panic!("{pattern:?} should be refused but parsed as {parsed:?}"),
        Err(error) => error.message,
    }
}

#[track_caller]
fn assert_refused(pattern: &str, expected: &str) {
    assert_eq!(refusal(pattern), expected, "pattern {pattern:?}");
}

#[track_caller]
fn assert_refused_containing(pattern: &str, expected_part: &str) {
    let message = refusal(pattern);
    assert!(
        message.contains(expected_part),
        "pattern {pattern:?}: {message:?} should contain {expected_part:?}"
    );
    assert!(
        message.starts_with("Invalid filter pattern: "),
        "pattern {pattern:?}: {message:?}"
    );
}

#[test]
fn unquoted_terms_may_only_hold_letters_digits_and_underscores() {
    // AWS: "Invalid character(s) in term ':'" for `?Status: timeout`.
    assert_refused("?Status: timeout", "Invalid character(s) in term ':'");
    // AWS: "Invalid character(s) in term '('" for an unquoted phrase with a parenthesis.
    assert_refused(
        "PlayerSpawnedInWorld (reason: JoinMultiplayer",
        "Invalid character(s) in term '('",
    );
    assert_refused("level\\\":\\\"error", "Invalid character(s) in term '\\'");
    assert_refused("`ERROR", "Invalid character(s) in term '`'");
    assert_refused("email@someemail.com", "Invalid character(s) in term '@'");
    assert_refused("path/to", "Invalid character(s) in term '/'");
    assert_refused("a.b", "Invalid character(s) in term '.'");
    assert_refused("ERROR*", "Invalid character(s) in term '*'");
    assert_refused("エラー", "Invalid character(s) in term 'エ'");
    assert_refused("foo-bar", "Invalid character(s) in term '-'");
}

#[test]
fn quoted_terms_must_stand_alone() {
    // AWS refused `"event": "x"` (a quoted term glued to a colon).
    assert_refused("\"event\": \"x\"", "Invalid character(s) in term ':'");
    assert_refused("\"a\"\"b\"", "Invalid character(s) in term '\"'");
    assert_refused("%a%b", "Invalid character(s) in term 'b'");
}

#[test]
fn lone_prefixes_and_unterminated_quotes() {
    assert_refused("ERROR ?", "Invalid character(s) in term '?'");
    assert_refused("- ERROR", "Invalid character(s) in term '-'");
    assert_refused("?-x", "Invalid character(s) in term '-'");
    assert_refused_containing("\"unterminated", "no closing '\"'");
    assert_refused_containing("%unterminated", "no closing '%'");
}

#[test]
fn a_leading_space_makes_a_json_pattern_unstructured() {
    // AWS's TestMetricFilter refuses ' {$.ThisFlag IS TRUE} '.
    assert_refused(" {$.ThisFlag IS TRUE} ", "Invalid character(s) in term '{'");
}

#[test]
fn unbalanced_outer_brackets() {
    // AWS's own wording for both.
    assert_refused(
        "{ $.a = 1",
        "If a filter pattern starts with '{' it must end with '}'",
    );
    assert_refused(
        "{$.kubernetes.namespace_name=abc",
        "If a filter pattern starts with '{' it must end with '}'",
    );
    assert_refused(
        "[time, level=ERROR, msg",
        "If a filter pattern starts with '[' it must end with ']'",
    );
    // Trailing whitespace after the closing bracket is fine.
    assert!(FilterPattern::parse("{ $.a = 1 }  ").is_ok());
    assert!(FilterPattern::parse("[a, b]\n").is_ok());
}

#[test]
fn regex_outside_the_aws_subset() {
    assert_refused_containing("%something!%", "character '!' is not supported");
    assert_refused_containing("%(a|b)%", "'(' is not supported");
    assert_refused_containing("%\\(a\\)%", "the escape '\\(' is not supported");
    assert_refused_containing("%caf\u{e9}%", "multi-byte character");
    assert_refused_containing("%\\bword%", "the escape '\\b' is not supported");
    assert_refused_containing("%[abc%", "is not valid");
    assert_refused_containing("%%", "is empty");
    assert_refused_containing("{ $.a = %x y% }", "character ' ' is not supported");
    assert_refused_containing("[a = %(x)%]", "'(' is not supported");
}

#[test]
fn at_most_two_regexes_per_pattern() {
    assert!(FilterPattern::parse("{ $.a = %x% && $.b = %y% }").is_ok());
    assert_refused_containing("{ $.a = %x% && $.b = %y% && $.c = %z% }", "at most 2");
    assert_refused_containing("[a = %x%, b = %y%, c = %z%]", "at most 2");
    assert_refused_containing("%a% %b% %c%", "at most 2");
}

#[test]
fn json_syntax_errors() {
    assert_refused_containing("{}", "needs a condition");
    assert_refused_containing("{ }", "needs a condition");
    assert_refused_containing("{ eventName = x }", "expected a selector starting with '$'");
    assert_refused_containing("{ $.a }", "expected an operator");
    assert_refused_containing("{ $.a = }", "expected a value after '='");
    assert_refused_containing("{ $.a = 1 && }", "expected a selector");
    assert_refused_containing(
        "{ $.a = 1 $.b = 2 }",
        "expected '&&', '||' or the closing '}'",
    );
    assert_refused_containing("{ ($.a = 1 }", "expected ')'");
    assert_refused_containing("{ $.a = 1) }", "found ')'");
    assert_refused("{ $.a == 1 }", "Invalid character(s) in term '='");
    assert_refused_containing("{ $ = 1 }", "selects the whole event");
    assert_refused_containing("{ $.a = 1 & $.b = 2 }", "expected");
    assert_refused_containing(
        &format!("{{ {}$.a = 1{} }}", "(".repeat(100), ")".repeat(100)),
        "nested more than",
    );
}

#[test]
fn json_selector_characters() {
    // AWS: "Invalid character(s) in term '$.\"'" for `{ $."sc-status" = 5* }`.
    assert_refused(
        "{ $.\"sc-status\" = 5* }",
        "Invalid character(s) in term '$.\"'",
    );
    assert_refused("{ $.a@b = 1 }", "Invalid character(s) in term '$.a@'");
    assert_refused("{ $.a[x] = 1 }", "Invalid character(s) in term '$.a[x'");
    assert_refused("{ $.a[0 = 1 }", "Invalid character(s) in term '$.a[0 '");
    assert_refused("{ $. = 1 }", "Invalid character(s) in term '$. '");
    assert_refused_containing("{ $.['a.b = 1 }", "unterminated quoted key");
}

#[test]
fn json_values_that_need_quotes() {
    assert_refused("{ $.email = a@b.com }", "Invalid character(s) in term '@'");
    assert_refused("{ $.path = /api }", "Invalid character(s) in term '/'");
    assert_refused("{ $.a = 1+2 }", "Invalid character(s) in term '+'");
}

#[test]
fn ordering_comparisons_need_numbers() {
    // AWS: "Invalid character(s) in term '\"someString\"'" for `{ $.someInt >= "someString" }`.
    assert_refused(
        "{ $.someInt >= \"someString\" }",
        "Invalid character(s) in term '\"someString\"'",
    );
    assert_refused(
        "{ $.someInt >= \"123\" }",
        "Invalid character(s) in term '\"123\"'",
    );
    assert_refused(
        "{ $.eventType > UpdateTrail }",
        "Invalid character(s) in term 'UpdateTrail'",
    );
    assert_refused(
        "{ $.eventType <= 12* }",
        "Invalid character(s) in term '12*'",
    );
    assert_refused("{ $.a < %5% }", "Invalid character(s) in term '%5%'");
    assert_refused("[a, b > x]", "Invalid character(s) in term 'x'");
}

#[test]
fn unsupported_json_keywords() {
    assert_refused_containing("{ $.a IS NOT NULL }", "'IS NOT' is not supported");
    assert_refused_containing("{ $.a EXISTS }", "'EXISTS' is not supported");
    assert_refused_containing(
        "{ $.a IS MISSING }",
        "expected NULL, TRUE or FALSE after 'IS'",
    );
    assert_refused_containing("{ $.a NOT NULL }", "expected EXISTS after 'NOT'");
    assert_refused_containing("{ $.a is null }", "expected an operator");
    assert_refused_containing("{ $.a IS NULLX }", "expected NULL, TRUE or FALSE");
}

#[test]
fn wildcard_selector_limits() {
    assert!(FilterPattern::parse("{ $.a.* = 1 || $.b[*] = 2 || $.c.*.d = 3 }").is_ok());
    assert_refused_containing("{ $.a.*.b[*] = 1 }", "at most 1 is allowed per selector");
    assert_refused_containing(
        "{ $.a.* = 1 || $.b.* = 2 || $.c.* = 3 || $.d.* = 4 }",
        "at most 3 wildcard selectors",
    );
}

#[test]
fn space_delimited_syntax_errors() {
    assert_refused_containing("[]", "at least one field");
    assert_refused_containing("[ ]", "at least one field");
    // AWS's console refuses this documented-but-wrong example.
    assert_refused_containing(
        "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
        "must test that same field: 'status_code' is combined with 'bytes'",
    );
    assert_refused_containing("[a b]", "expected ',', ']' or an operator");
    assert_refused_containing("[a = ]", "expected a value after '='");
    assert_refused_containing("[..., x, ... y]", "expected ',' or ']'");
    assert_refused_containing("[a = 1 &&]", "expected a field name after '&&' or '||'");
    // The docs' `w1=!ERROR` is not an operator.
    assert_refused(
        "[w1=!ERROR&&w1=!WARN, w2]",
        "Invalid character(s) in term '!'",
    );
    assert_refused("[$a]", "Invalid character(s) in term '$'");
    assert_refused_containing(
        &format!("[{}]", vec!["f"; 1025].join(",")),
        "at most 1024 fields",
    );
    assert!(FilterPattern::parse(&format!("[{}]", vec!["f"; 1024].join(","))).is_ok());
    assert_refused("[a, b = x/y]", "Invalid character(s) in term '/'");
}

#[test]
fn errors_are_displayable_std_errors() {
    let error: FilterPatternError = FilterPattern::parse("{ $.a = }").unwrap_err();
    let boxed: Box<dyn std::error::Error> = Box::new(error.clone());
    assert_eq!(boxed.to_string(), error.message);
    assert_eq!(
        error,
        FilterPatternError {
            message: error.message.clone()
        }
    );
}
