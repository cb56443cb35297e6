//! Fixtures from AWS's "Filter pattern syntax" documentation (and behaviour
//! observed against the real TestMetricFilter API where noted): each pattern
//! with the documented events it must and must not match.

use watchtrail_filter_pattern::{FilterPattern, PatternKind};

fn pattern(text: &str) -> FilterPattern {
    FilterPattern::parse(text).unwrap_or_else(|error| panic!("{text:?} should parse: {error}"))
}

fn assert_matches(text: &str, events: &[&str]) {
    let pattern = pattern(text);
    for event in events {
        assert!(pattern.matches(event), "{text:?} should match {event:?}");
        assert!(
            pattern.extract(event).is_some(),
            "{text:?} should extract from {event:?}"
        );
    }
}

fn assert_rejects(text: &str, events: &[&str]) {
    let pattern = pattern(text);
    for event in events {
        assert!(
            !pattern.matches(event),
            "{text:?} should not match {event:?}"
        );
        assert!(
            pattern.extract(event).is_none(),
            "{text:?} should not extract from {event:?}"
        );
    }
}

mod unstructured {
    use super::*;

    #[test]
    fn blank_pattern_matches_everything() {
        for blank in ["", " ", "\t\n "] {
            let pattern = pattern(blank);
            assert!(pattern.is_match_all());
            assert_eq!(pattern.kind(), PatternKind::MatchAll);
            assert!(pattern.matches(""));
            assert!(pattern.matches("anything at all"));
            assert_eq!(pattern.extract("x"), Some(vec![]));
        }
        assert!(!pattern("ERROR").is_match_all());
    }

    #[test]
    fn single_term_is_a_case_sensitive_substring() {
        assert_matches(
            "ERROR",
            &[
                "[ERROR] A fatal exception has occurred",
                "Exiting with ERRORCODE: -1",
            ],
        );
        assert_rejects("ERROR", &["[error] lower case", "ERRO R", ""]);
    }

    #[test]
    fn excluded_term() {
        assert_matches(
            "\"ERROR\" -\"Exiting\"",
            &["[ERROR] A fatal exception has occurred"],
        );
        assert_rejects("\"ERROR\" -\"Exiting\"", &["Exiting with ERRORCODE: -1"]);
        assert_matches("-DEBUG", &["INFO started", ""]);
        assert_rejects("-DEBUG", &["DEBUG details"]);
    }

    #[test]
    fn multiple_terms_all_required() {
        assert_matches(
            "ERROR Exception",
            &[
                "[ERROR] Caught IllegalArgumentException",
                "[ERROR] Unhandled Exception",
            ],
        );
        assert_rejects(
            "ERROR Exception",
            &["[ERROR] nothing else", "Exception only"],
        );
        assert_matches(
            "Failed to process the request",
            &[
                "[WARN] Failed to process the request",
                "[ERROR] Unable to continue: Failed to process the request",
            ],
        );
        // Unquoted words need not be adjacent.
        assert_matches("Failed request", &["Failed to process the request"]);
    }

    #[test]
    fn quoted_phrase_is_exact() {
        assert_matches(
            "\"Failed to process\"",
            &["[WARN] Failed to process the request"],
        );
        assert_rejects(
            "\"Failed to process\"",
            &["Failed  to process", "process Failed to"],
        );
        assert_matches("\"user@example.com\"", &["login user@example.com ok"]);
        assert_matches("\"ERROR 401\"", &["[ERROR 401] UNAUTHORIZED REQUEST"]);
    }

    // The docs' three events: `ERROR WARN message`, `ERROR message`, `WARN message`.
    const LEVELS: [&str; 3] = ["ERROR WARN message", "ERROR message", "WARN message"];

    #[test]
    fn or_terms() {
        assert_matches("ERROR", &LEVELS[..2]);
        assert_rejects("ERROR", &LEVELS[2..]);
        assert_matches("?ERROR ?WARN", &LEVELS);
        assert_rejects("?ERROR ?WARN", &["INFO message"]);
        assert_matches("ERROR WARN", &LEVELS[..1]);
        assert_rejects("ERROR WARN", &LEVELS[1..]);
        assert_matches("ERROR -WARN", &LEVELS[1..2]);
        assert_rejects("ERROR -WARN", &[LEVELS[0], LEVELS[2]]);
    }

    #[test]
    fn or_terms_beside_plain_terms_are_ignored() {
        // AWS ignores `?` terms when the pattern also has plain terms.
        assert_matches("message ?NOPE", &LEVELS);
        assert_rejects("ERROR ?WARN", &LEVELS[2..]);
        assert_matches("ERROR ?WARN", &LEVELS[1..2]);
    }

    #[test]
    fn or_terms_with_exclusions() {
        assert_matches("?ERROR ?WARN -message2", &LEVELS);
        assert_rejects("?ERROR ?WARN -WARN", &[LEVELS[0], LEVELS[2], "INFO"]);
        assert_matches("?ERROR ?WARN -WARN", &LEVELS[1..2]);
    }

    #[test]
    fn standalone_regex() {
        assert_matches(
            "%AUTHORIZED%",
            &[
                "[ERROR 401] UNAUTHORIZED REQUEST",
                "[SUCCESS 200] AUTHORIZED REQUEST",
            ],
        );
        assert_matches(
            "%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
            &["from 192.168.0.1 port"],
        );
        assert_rejects(
            "%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
            &["from 192.168.0 port"],
        );
        assert_matches("%[Ee]rror|[Ff]ail%", &["an error", "Failed", "fail"]);
        assert_rejects("%[Ee]rror|[Ff]ail%", &["ERROR", "FAIL"]);
        assert_matches("%^[hc]at%", &["hat", "cat food"]);
        assert_rejects("%^[hc]at%", &["that", "a cat"]);
        assert_matches("%[hc]at$%", &["a hat", "cat"]);
        assert_rejects("%[hc]at$%", &["hats"]);
        assert_matches("%colou?r%", &["color", "colour"]);
        assert_matches("%a{3,5}%", &["aaa", "baaaaab"]);
        assert_rejects("%a{3,5}%", &["aa"]);
    }

    #[test]
    fn regex_as_one_of_several_terms() {
        assert_matches("ERROR %code=\\d+%", &["ERROR code=42"]);
        assert_rejects("ERROR %code=\\d+%", &["ERROR code=x", "INFO code=42"]);
        assert_rejects("-%DEBUG|TRACE%", &["TRACE x"]);
        assert_matches("?%^a% ?%b$%", &["a..", "..b"]);
    }

    #[test]
    fn term_patterns_extract_nothing() {
        assert_eq!(pattern("ERROR").extract("ERROR 1"), Some(vec![]));
        assert!(pattern("ERROR").field_references().is_empty());
        assert_eq!(pattern("ERROR").kind(), PatternKind::Terms);
        assert_eq!(pattern("ERROR").extract("INFO"), None);
    }

    #[test]
    fn multibyte_text_in_events_and_quoted_terms() {
        assert_matches("\"エラー\"", &["致命的なエラーです"]);
        assert_matches("ERROR", &["ünïcödé ERROR 🚀"]);
    }
}

mod json {
    use super::*;

    // The documentation's JSON example event.
    const TRAIL: &str = r#"{
      "eventType": "UpdateTrail",
      "sourceIPAddress": "111.111.111.111",
      "arrayKey": ["value", "another value"],
      "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
      "SomeObject": null,
      "ThisFlag": true
    }"#;

    #[test]
    fn documented_matches() {
        for text in [
            "{ $.eventType = \"UpdateTrail\" }",
            "{ $.eventType = UpdateTrail }",
            "{ $.sourceIPAddress != 123.123.* }",
            "{ $.arrayKey[0] = \"value\" }",
            "{ $.objectList[1].id = 2 }",
            "{ $.SomeObject IS NULL }",
            "{ $.SomeOtherObject NOT EXISTS }",
            "{ $.ThisFlag IS TRUE }",
            "{$.eventType=\"UpdateTrail\"}",
        ] {
            assert_matches(text, &[TRAIL]);
        }
    }

    #[test]
    fn documented_non_matches() {
        for text in [
            "{ $.eventType = \"NoTrail\" }",
            "{ $.sourceIPAddress = 123.123.* }",
            "{ $.arrayKey[1] = \"value\" }",
            "{ $.eventType[0] = \"value\" }",
            "{ $.ThisFlag[0] = \"value\" }",
            "{ $.objectList[1].number = 2 }",
            "{ $.objectList[2].id = 2 }",
            "{ $.eventType IS NULL }",
            "{ $.SomeOtherObject IS NULL }",
            "{ $.ThisFlag IS FALSE }",
            "{ $.eventType NOT EXISTS }",
            // NOT EXISTS is about absence, not null.
            "{ $.SomeObject NOT EXISTS }",
        ] {
            assert_rejects(text, &[TRAIL]);
        }
    }

    #[test]
    fn json_patterns_never_match_non_json() {
        for text in [
            "{ $.eventType = \"UpdateTrail\" }",
            "{ $.x NOT EXISTS }",
            "{ $.a != 1 }",
        ] {
            assert_rejects(
                text,
                &[
                    "UpdateTrail",
                    "eventType=UpdateTrail",
                    "",
                    "{not json",
                    "[1,2",
                    "\"string\"",
                ],
            );
        }
        assert_rejects("{ $.x NOT EXISTS }", &["{\"a\": 1} trailing text"]);
    }

    #[test]
    fn or_across_events() {
        let first = r#"{"foo": "bar"}"#;
        let second = r#"{"foo": "baz"}"#;
        assert_matches("{$.foo = bar}", &[first]);
        assert_rejects("{$.foo = bar}", &[second]);
        assert_matches("{$.foo = baz }", &[second]);
        assert_matches("{$.foo = bar || $.foo = baz }", &[first, second]);
    }

    // The documentation's compound-conditions event.
    const USERS: &str = r#"{
      "user": {"id": 1, "email": "John.Stiles@example.com"},
      "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
      "actions": ["GET", "PUT", "DELETE"],
      "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
    }"#;

    #[test]
    fn compound_conditions_follow_precedence() {
        assert_matches(
            "{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }",
            &[USERS],
        );
        assert_rejects(
            "{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }",
            &[USERS],
        );
        // && binds tighter than ||.
        assert_matches(
            "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }",
            &[USERS],
        );
        assert_rejects(
            "{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }",
            &[USERS],
        );
        assert_matches(
            "{ $.coordinates[2][0] = 7 && $.actions[1] = PUT }",
            &[USERS],
        );
        assert_matches("{ ((($.user.id = 1))) }", &[USERS]);
    }

    #[test]
    fn selecting_an_object_or_array_never_matches() {
        let event = r#"{"users": [1, 2, 3], "user": {"id": 1}}"#;
        for text in [
            "{ $.users = 1 }",
            "{ $.users != 1 }",
            "{ $.user = * }",
            "{ $.user != \"x\" }",
            "{ $.users > 0 }",
        ] {
            assert_rejects(text, &[event]);
        }
    }

    #[test]
    fn numeric_comparisons() {
        let event = r#"{"latency": 500, "numbers": [5, 0.001], "errorCode": 400, "processes": [0,0,0,0,{"averageRuntime": 55.5}]}"#;
        for text in [
            "{ $.latency >= 500 }",
            "{ $.numbers[0] < 10e3 }",
            "{ $.numbers[1] < 10e-3 }",
            "{ $.processes[4].averageRuntime <= 55.5 }",
            "{ $.errorCode = 400 }",
            "{ $.errorCode != 500 }",
            "{ $.latency > +100 }",
            "{ $.latency = 500.0 }",
            "{ $.latency = 5e2 }",
            "{ $.latency > -1 }",
        ] {
            assert_matches(text, &[event]);
        }
        for text in [
            "{ $.latency > 500 }",
            "{ $.latency < 500 }",
            "{ $.numbers[0] > 10e3 }",
            "{ $.errorCode != 400 }",
            "{ $.errorCode = 500 }",
            "{ $.latency > +1000 }",
            "{ $.missing < 1 }",
            "{ $.missing != 1 }",
        ] {
            assert_rejects(text, &[event]);
        }
    }

    // Behaviour recorded from the real TestMetricFilter API by a public test suite.
    const OBSERVED: &str = r#"{
      "eventType": "UpdateTrail",
      "someString": "111.111.111.111",
      "someInt": 123,
      "someFloat": 12.34,
      "someFloat2": 12.0,
      "someObject": {},
      "someArray": []
    }"#;

    #[test]
    fn string_and_number_semantics_observed_on_aws() {
        for text in [
            "{ $.someString = \"111.111.111.111\" }",
            "{ $.someString = 111.111.111.111 }",
            "{ $.someString = \"*\" }",
            "{ $.someString = * }",
            "{ $.someString = \"111*\" }",
            "{ $.someString != \"222*\" }",
            "{ $.someString != *222 }",
            "{ $.someString = *.111.111.111 }",
            // A quoted value compares as text, even against a number.
            "{ $.someInt = \"123\" }",
            "{ $.someInt != \"123.0\" }",
            "{ $.someFloat2 != \"12\" }",
            "{ $.someInt = \"1*\" }",
            "{ $.someInt = \"*23\" }",
            "{ $.someFloat = \"12.3*\" }",
            "{ $.someFloat = \"*.34\" }",
            // An unquoted number compares numerically.
            "{ $.someInt = 123.0 }",
            "{ $.someFloat2 = 12 }",
            "{ $.someInt != 111 }",
            "{ $.someInt >= 1 }",
            "{ $.someFloat < 100.0 }",
            "{ $.someFloat      <=     100.0 }",
            // Unquoted wildcards compare as text against numbers too.
            "{ $.someInt = 1* }",
            "{ $.someInt = *3 }",
            "{ $.someInt != 3* }",
            "{ $.someFloat = 12.* }",
            "{ $.someFloat != 43.21* }",
            "{ $.someFloat = *}",
        ] {
            assert_matches(text, &[OBSERVED]);
        }
        for text in [
            "{ $.notExisted = \"UpdateTrail\" }",
            "{ $.notExisted != \"UpdateTrail\" }",
            "{ $.someObject = \"someString\" }",
            "{ $.someObject != \"someString\" }",
            "{ $.someArray = \"someString\" }",
            "{ $.someArray != someString }",
            "{ $.someInt = \"123.00\" }",
            "{ $.someInt != 123 }",
            "{ $.someInt != \"123\" }",
            "{ $.eventType >= 123 }",
        ] {
            assert_rejects(text, &[OBSERVED]);
        }
    }

    #[test]
    fn regex_values() {
        let event = r#"{"message": "bind: address already in use", "code": 503}"#;
        assert_matches("{ $.message = %already\\sin\\suse% }", &[event]);
        assert_matches("{ $.code = %^5\\d\\d$% }", &[event]);
        assert_matches("{ $.message != %^error% }", &[event]);
        assert_rejects("{ $.message = %^address% }", &[event]);
        assert_rejects("{ $.message != %address% }", &[event]);
    }

    #[test]
    fn wildcard_selectors() {
        let event = r#"{"services": {"a": {"status": "ok"}, "b": {"status": "down"}}, "items": [{"qty": 1}, {"qty": 12}]}"#;
        assert_matches("{ $.services.*.status = down }", &[event]);
        assert_rejects("{ $.services.*.status = degraded }", &[event]);
        assert_matches("{ $.items[*].qty > 10 }", &[event]);
        assert_rejects("{ $.items[*].qty > 100 }", &[event]);
        assert_matches("{ $.items[*].price NOT EXISTS }", &[event]);
        assert_rejects("{ $.items[*].qty NOT EXISTS }", &[event]);
        assert_matches("{ $.* = * || $.items[*].qty = 1 }", &[event]);
    }

    #[test]
    fn bracket_keys_reach_names_with_dots() {
        let event = r#"{"a.b": "dotted", "a": {"b": "nested"}, "odd key!": 7, "detail-type": "Scheduled Event"}"#;
        assert_matches("{ $.['a.b'] = dotted }", &[event]);
        assert_matches("{ $['a.b'] = dotted }", &[event]);
        assert_matches("{ $.a.b = nested }", &[event]);
        assert_matches("{ $.[\"odd key!\"] = 7 }", &[event]);
        assert_matches("{ $.detail-type = \"Scheduled Event\" }", &[event]);
        assert_matches("{ $.detail_type NOT EXISTS }", &[event]);
    }

    #[test]
    fn booleans_and_nulls() {
        let event = r#"{"on": true, "off": false, "none": null, "text": "true"}"#;
        assert_matches(
            "{ $.on IS TRUE && $.off IS FALSE && $.none IS NULL }",
            &[event],
        );
        assert_rejects("{ $.text IS TRUE }", &[event]);
        assert_rejects("{ $.on IS FALSE }", &[event]);
        assert_rejects("{ $.none = * }", &[event]);
    }

    #[test]
    fn root_arrays_and_escaped_strings() {
        assert_matches("{ $[1].id = 2 }", &[r#"[{"id": 1}, {"id": 2}]"#]);
        assert_matches(r#"{ $.msg = "say \"hi\"" }"#, &[r#"{"msg": "say \"hi\""}"#]);
        assert_matches(r#"{ $.path = "C:\\temp" }"#, &[r#"{"path": "C:\\temp"}"#]);
        assert_matches("{ $.name = \"Zoë*\" }", &[r#"{"name": "Zoë Ångström"}"#]);
    }

    #[test]
    fn extraction_reports_the_tested_selectors() {
        let event = r#"{"status": 500, "path": "/api", "user": {"id": "u-1"}, "flag": true}"#;
        let pattern = pattern("{ $.status >= 500 && ($.path = \"/api*\" || $.user.id = *) && $.missing NOT EXISTS && $.status != 0 }");
        assert_eq!(
            pattern.extract(event),
            Some(vec![
                ("$.status".to_string(), "500".to_string()),
                ("$.path".to_string(), "/api".to_string()),
                ("$.user.id".to_string(), "u-1".to_string()),
            ])
        );
        assert_eq!(pattern.extract(r#"{"status": 200, "path": "/api"}"#), None);
        assert_eq!(pattern.kind(), PatternKind::Json);
        assert_eq!(
            pattern.field_references(),
            ["$.status", "$.path", "$.user.id", "$.missing"]
        );
    }
}

mod space_delimited {
    use super::*;

    const ACCESS_LOG: [&str; 3] = [
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
    ];

    #[test]
    fn field_lists_and_ellipses() {
        for text in [
            "[ip, user, username, timestamp, request, status_code, bytes]",
            "[..., status_code, bytes]",
            "[ip, user, ..., status_code, bytes]",
            "[ip, user, ...]",
            "[...]",
            "[..., ip, user, username, timestamp, request, status_code, bytes, ...]",
        ] {
            assert_matches(text, &ACCESS_LOG);
        }
        for text in [
            "[ip, user, username, timestamp, request, status_code]",
            "[a, b, c, d, e, f, g, h]",
            "[a, b, c, d, e, f, g, h, ...]",
        ] {
            assert_rejects(text, &ACCESS_LOG);
        }
    }

    #[test]
    fn field_conditions() {
        assert_matches(
            "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
            &ACCESS_LOG,
        );
        assert_rejects(
            "[ip, user, username, timestamp, request, status_code, bytes > 5000]",
            &[ACCESS_LOG[0], ACCESS_LOG[2]],
        );
        assert_matches(
            "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            &[ACCESS_LOG[0], ACCESS_LOG[2]],
        );
        assert_rejects(
            "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            &ACCESS_LOG[1..2],
        );
        assert_matches(
            "[ip, user, username, timestamp, request, status_code = 5*, bytes]",
            &ACCESS_LOG[1..2],
        );
        assert_matches(
            "[ip, user, username, timestamp, request = *gif*, status_code = 2*, bytes]",
            &[ACCESS_LOG[0]],
        );
        assert_rejects(
            "[ip, user, username, timestamp, request = *html*, status_code, bytes]",
            &ACCESS_LOG,
        );
        assert_matches(
            "[ip, user, username, timestamp = \"10/Oct/2000:13:25:15 -0700\", ...]",
            &ACCESS_LOG[..1],
        );
        assert_matches("[ip = %^127\\.%, ...]", &ACCESS_LOG);
        assert_matches("[..., status_code != 200, bytes]", &ACCESS_LOG[1..2]);
        assert_matches(
            "[..., status_code >= 500, bytes <= 5324]",
            &ACCESS_LOG[1..2],
        );
    }

    #[test]
    fn and_or_within_a_field() {
        assert_matches(
            "[..., status_code = 2* && status_code != 201, bytes]",
            &[ACCESS_LOG[0]],
        );
        assert_rejects(
            "[..., status_code = 2* && status_code != 200, bytes]",
            &ACCESS_LOG,
        );
        assert_matches(
            "[..., status_code = 500 || status_code = 404, bytes]",
            &ACCESS_LOG[1..2],
        );
        // && binds tighter than ||.
        assert_matches(
            "[..., status_code = 9 || status_code = 2* && status_code != 201, bytes]",
            &[ACCESS_LOG[0]],
        );
    }

    // The documentation's OR example events.
    const LEVELS: [&str; 3] = ["ERROR WARN message", "ERROR message", "WARN message"];

    #[test]
    fn or_example_needs_the_field_count() {
        assert_matches("[w1=ERROR, w2]", &LEVELS[1..2]);
        assert_rejects("[w1=ERROR, w2]", &[LEVELS[0], LEVELS[2]]);
        assert_matches("[w1=ERROR || w1=WARN, w2]", &LEVELS[1..]);
        assert_rejects("[w1=ERROR || w1=WARN, w2]", &LEVELS[..1]);
        assert_matches("[w1=ERROR || w1=WARN, ...]", &LEVELS);
    }

    #[test]
    fn extraction_names_fields_or_numbers_them() {
        // The documented extraction: named fields as `$name`, the rest by position.
        let event =
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
        let pattern = pattern("[..., request=*.html*, status_code=4*,]");
        let extracted = pattern.extract(event).expect("matches");
        let pairs: Vec<(&str, &str)> = extracted
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("$1", "127.0.0.1"),
                ("$2", "-"),
                ("$3", "frank"),
                ("$4", "10/Oct/2000:13:25:15 -0700"),
                ("$request", "GET /index.html HTTP/1.0"),
                ("$status_code", "404"),
                ("$7", "1534"),
            ]
        );
        assert_eq!(pattern.kind(), PatternKind::SpaceDelimited);
        assert_eq!(pattern.field_references(), ["$request", "$status_code"]);
    }

    #[test]
    fn extraction_with_named_prefix_and_conditions() {
        let pattern = pattern("[ip, user, ..., status=4*, bytes>1000]");
        assert_eq!(
            pattern.extract("1.2.3.4 - GET /x 404 2048"),
            Some(vec![
                ("$ip".to_string(), "1.2.3.4".to_string()),
                ("$user".to_string(), "-".to_string()),
                ("$3".to_string(), "GET".to_string()),
                ("$4".to_string(), "/x".to_string()),
                ("$status".to_string(), "404".to_string()),
                ("$bytes".to_string(), "2048".to_string()),
            ])
        );
        assert_eq!(pattern.extract("1.2.3.4 - GET /x 404 999"), None);
        assert_eq!(pattern.extract("1.2.3.4 - GET /x 200 2048"), None);
    }

    #[test]
    fn several_ellipses_search_for_an_assignment() {
        let pattern = pattern("[..., level = ERROR, ..., code = 5*, ...]");
        assert!(pattern.matches("a b ERROR c d 503 e"));
        assert!(pattern.matches("ERROR 500"));
        assert!(!pattern.matches("a b 503 ERROR"));
        // Many fields and ellipses stay fast: dead ends are remembered.
        let long_event = ["x"; 3000].join(" ");
        let stress = self::pattern("[..., a = 1, ..., b = 2, ..., c = 3, ..., d = 4, ...]");
        assert!(!stress.matches(&long_event));
        // The widest pattern allowed recurses once per field without trouble.
        let widest = self::pattern(&format!("[{}]", vec!["f = x"; 1024].join(", ")));
        assert!(widest.matches(&["x"; 1024].join(" ")));
        assert!(!widest.matches(&["x"; 1023].join(" ")));
    }

    #[test]
    fn tabs_and_repeated_spaces_separate_fields() {
        assert_matches(
            "[a, b = INFO, c]",
            &["2026-01-01T00:00:00Z\tINFO\tstarted", "x   INFO  y"],
        );
    }
}
