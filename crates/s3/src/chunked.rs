//! `aws-chunked` request bodies: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` (every chunk signed,
//! chained from the request's seed signature) and `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (chunks
//! unsigned, a checksum in the trailer). The whole body is decoded and verified before any byte of
//! it is stored.

use watchtrail_protocol::sigv4::ChunkSigner;

use crate::error::S3Error;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    pub data: Vec<u8>,
    /// Trailing headers (`x-amz-checksum-crc32`, …), names lower-case; the trailer signature excluded.
    pub trailers: Vec<(String, String)>,
}

fn incomplete() -> S3Error {
    S3Error::new(
        400,
        "IncompleteBody",
        "The request body terminated unexpectedly",
    )
}

fn bad_signature() -> S3Error {
    S3Error::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
}

fn read_line<'a>(body: &'a [u8], at: &mut usize) -> Result<&'a str, S3Error> {
    let rest = &body[*at..];
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(incomplete)?;
    *at += end + 2;
    std::str::from_utf8(&rest[..end]).map_err(|_| incomplete())
}

/// Decodes `body`; with `signer`, every chunk signature (and the trailer signature, if trailers
/// are sent) must verify.
pub fn decode(body: &[u8], mut signer: Option<&mut ChunkSigner>) -> Result<Decoded, S3Error> {
    let mut at = 0;
    let mut data = Vec::with_capacity(body.len());
    loop {
        let line = read_line(body, &mut at)?;
        let (size, extension) = line.split_once(';').unwrap_or((line, ""));
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| {
            S3Error::new(
                400,
                "InvalidChunkSizeError",
                "Only the last chunk is allowed to have a size less than 8192 bytes",
            )
        })?;
        let chunk = body
            .get(at..at.checked_add(size).ok_or_else(incomplete)?)
            .ok_or_else(incomplete)?;
        at += size;
        if let Some(signer) = signer.as_deref_mut() {
            let signature = extension
                .strip_prefix("chunk-signature=")
                .ok_or_else(bad_signature)?;
            if !signer.verify_chunk(chunk, signature) {
                return Err(bad_signature());
            }
        }
        data.extend_from_slice(chunk);
        if size == 0 {
            break;
        }
        if body.get(at..at + 2) != Some(b"\r\n") {
            return Err(incomplete());
        }
        at += 2;
    }
    let mut trailers = Vec::new();
    let mut trailer_signature = None;
    loop {
        if at == body.len() {
            // Some clients end the body right after the final chunk's line.
            break;
        }
        let line = read_line(body, &mut at)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(incomplete)?;
        let name = name.trim().to_ascii_lowercase();
        if name == "x-amz-trailer-signature" {
            trailer_signature = Some(value.trim().to_string());
        } else {
            trailers.push((name, value.trim().to_string()));
        }
    }
    if at != body.len() {
        return Err(incomplete());
    }
    if let Some(signer) = signer {
        if !trailers.is_empty() || trailer_signature.is_some() {
            let canonical: String = trailers
                .iter()
                .map(|(name, value)| format!("{name}:{value}\n"))
                .collect();
            let provided = trailer_signature.ok_or_else(bad_signature)?;
            if !signer.verify_trailer(&canonical, &provided) {
                return Err(bad_signature());
            }
        }
    }
    Ok(Decoded { data, trailers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchtrail_protocol::sigv4::SigningCredentials;

    fn credentials() -> SigningCredentials<'static> {
        SigningCredentials {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "s3",
        }
    }

    /// AWS's worked example ("Signature Calculations for the Authorization Header: Transferring
    /// Payload in Multiple Chunks"): 64 KiB + 1 KiB of 'a', seed signature 4f232c4…
    #[test]
    fn aws_documented_chunk_signatures_verify() {
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let mut client = ChunkSigner::for_client(&credentials(), "20130524T000000Z", seed);
        let first = vec![b'a'; 65536];
        let second = vec![b'a'; 1024];
        let s1 = client.sign_chunk(&first);
        assert_eq!(
            s1,
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        let s2 = client.sign_chunk(&second);
        assert_eq!(
            s2,
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        let s3 = client.sign_chunk(b"");
        assert_eq!(
            s3,
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
        let mut body = Vec::new();
        for (chunk, sig) in [(&first[..], &s1), (&second[..], &s2)] {
            body.extend_from_slice(
                format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes(),
            );
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("0;chunk-signature={s3}\r\n\r\n").as_bytes());

        let mut server = ChunkSigner::for_client(&credentials(), "20130524T000000Z", seed);
        let decoded = decode(&body, Some(&mut server)).unwrap();
        assert_eq!(decoded.data.len(), 66560);

        let mut tampered = body.clone();
        tampered[100] = b'b';
        let mut server = ChunkSigner::for_client(&credentials(), "20130524T000000Z", seed);
        assert_eq!(
            decode(&tampered, Some(&mut server)).unwrap_err().code,
            "SignatureDoesNotMatch"
        );
    }

    #[test]
    fn unsigned_trailer_body() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let decoded = decode(body, None).unwrap();
        assert_eq!(decoded.data, b"hello world");
        assert_eq!(
            decoded.trailers,
            vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
        );
        assert_eq!(
            decode(b"5\r\nhel", None).unwrap_err().code,
            "IncompleteBody"
        );
        assert_eq!(
            decode(b"zz\r\nhello\r\n", None).unwrap_err().code,
            "InvalidChunkSizeError"
        );
    }
}
