//! Object-key mapping, naming conventions, format names and input decoding.

use std::io::{Read, Write};

use watchtrail_formats::{
    default_log_group, kind_from_object_key, open_decoded, sniff_compression, Compression,
    FormatKind,
};

#[test]
fn object_keys_map_to_formats() {
    let cases: &[(&str, Option<FormatKind>)] = &[
        ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/01/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20240101T0000Z_hash.log.gz", Some(FormatKind::VpcFlow)),
        ("prefix/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2022/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20220215T2340Z_172.160.001.192_20sg8hgm.log.gz", Some(FormatKind::Alb)),
        ("AWSLogs/123456789012/elasticloadbalancing/us-east-2/2018/12/20/123456789012_elasticloadbalancing_us-east-2_net.my-network-loadbalancer.c6e77e28c25b2234_20181220T2340Z_8hgm20sg.log.gz", Some(FormatKind::Nlb)),
        ("AWSLogs/123456789012/elasticloadbalancing/us-west-2/2014/02/15/123456789012_elasticloadbalancing_us-west-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log", Some(FormatKind::ElbClassic)),
        ("AWSLogs/123456789012/elasticloadbalancing/us-east-2/2022/05/01/conn_log.123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234_20220215T2340Z_1.2.3.4_x.log.gz", None),
        ("AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/19/123456789012_CloudTrail_us-east-1_20230719T2115Z_abcdEFGH12345678.json.gz", Some(FormatKind::CloudTrail)),
        ("AWSLogs/o-exampleorgid/123456789012/CloudTrail/us-east-1/2023/07/19/x.json.gz", Some(FormatKind::CloudTrail)),
        ("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/07/19/x.json.gz", None),
        ("AWSLogs/123456789012/WAFLogs/us-east-1/my-acl/2024/01/01/00/00/123456789012_waflogs_us-east-1_my-acl_20240101T0000Z_hash.log.gz", Some(FormatKind::Waf)),
        ("AWSLogs/123456789012/vpcdnsquerylogs/vpc-1234/2024/01/01/x.log.gz", Some(FormatKind::Route53Resolver)),
        ("AWSLogs/123456789012/redshift/us-east-1/2013/10/29/123456789012_redshift_us-east-1_mycluster_userlog_2013-10-29T18:01.gz", Some(FormatKind::RedshiftUser)),
        ("AWSLogs/123456789012/redshift/us-east-1/2013/10/29/123456789012_redshift_us-east-1_mycluster_useractivitylog_2013-10-29T18:01.gz", Some(FormatKind::RedshiftUserActivity)),
        ("AWSLogs/123456789012/redshift/us-east-1/2013/10/29/123456789012_redshift_us-east-1_mycluster_connectionlog_2013-10-29T18:01.gz", Some(FormatKind::RedshiftConnection)),
        ("cf-logs/E2EXAMPLE123.2019-12-04-21.abcdef12.gz", Some(FormatKind::CloudFront)),
        ("logs/2019-02-06-00-00-38-5D8F0B5E8F1B0A7C", Some(FormatKind::S3Access)),
        ("random/file.txt", None),
    ];
    for (key, want) in cases {
        assert_eq!(kind_from_object_key(key), *want, "{key}");
    }
}

#[test]
fn names_round_trip_and_log_groups_are_set() {
    for kind in FormatKind::ALL {
        assert_eq!(kind.name().parse::<FormatKind>(), Ok(kind));
        assert!(!default_log_group(kind).is_empty());
    }
    assert_eq!("VPC_FLOW".parse::<FormatKind>(), Ok(FormatKind::VpcFlow));
    let err = "nope".parse::<FormatKind>().unwrap_err();
    assert!(err.to_string().contains("vpc-flow"));
    assert!(default_log_group(FormatKind::Waf).starts_with("aws-waf-logs-"));
}

fn read_all(bytes: Vec<u8>) -> String {
    let mut out = String::new();
    open_decoded(std::io::Cursor::new(bytes))
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn decodes_plain_gzip_multi_member_and_zstd() {
    assert_eq!(read_all(b"plain text\n".to_vec()), "plain text\n");
    assert_eq!(read_all(b"ab".to_vec()), "ab");
    assert_eq!(read_all(Vec::new()), "");

    let gz = |s: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(s.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let mut two = gz("first\n");
    two.extend(gz("second\n"));
    assert_eq!(sniff_compression(&two), Compression::Gzip);
    assert_eq!(read_all(two), "first\nsecond\n");

    let z = zstd::encode_all(&b"zstd line\n"[..], 3).unwrap();
    assert_eq!(sniff_compression(&z), Compression::Zstd);
    assert_eq!(read_all(z), "zstd line\n");
}

/// A reader that hands out one byte per call still gets its magic bytes seen.
#[test]
fn decodes_from_a_trickling_reader() {
    struct Trickle(std::io::Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"hello\n").unwrap();
    let gz = e.finish().unwrap();
    let mut out = String::new();
    open_decoded(Trickle(std::io::Cursor::new(gz)))
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "hello\n");
}
