//! Pagination tokens.
//!
//! Event tokens look like AWS's (`f/` or `b/` followed by 56 digits): 20 digits of offset
//! timestamp, 20 of seq, and 16 binding the token to the log group so a token cannot be replayed
//! against another group. Listing tokens carry the last key returned, hex-encoded.

use watchtrail_store::EventPosition;

const TIMESTAMP_OFFSET: i128 = 1 << 62;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventToken {
    /// Continue strictly after the position, ascending.
    Forward(EventPosition),
    /// Continue strictly before the position, descending.
    Backward(EventPosition),
}

pub fn encode_event_token(token: EventToken, binding: u64) -> String {
    let (prefix, position) = match token {
        EventToken::Forward(p) => ('f', p),
        EventToken::Backward(p) => ('b', p),
    };
    format!(
        "{prefix}/{:020}{:020}{:016}",
        position.timestamp as i128 + TIMESTAMP_OFFSET,
        position.seq,
        binding % 10_000_000_000_000_000
    )
}

pub fn decode_event_token(token: &str, binding: u64) -> Option<EventToken> {
    let (prefix, digits) = token.split_once('/')?;
    if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let timestamp = digits[..20].parse::<i128>().ok()? - TIMESTAMP_OFFSET;
    let seq = digits[20..40].parse::<u64>().ok()?;
    let bound = digits[40..].parse::<u64>().ok()?;
    if bound != binding % 10_000_000_000_000_000 {
        return None;
    }
    let position = EventPosition {
        timestamp: i64::try_from(timestamp).ok()?,
        seq,
    };
    match prefix {
        "f" => Some(EventToken::Forward(position)),
        "b" => Some(EventToken::Backward(position)),
        _ => None,
    }
}

/// The position immediately before `p` in `(timestamp, seq)` order.
pub fn predecessor(p: EventPosition) -> EventPosition {
    if p.seq > 0 {
        EventPosition {
            timestamp: p.timestamp,
            seq: p.seq - 1,
        }
    } else {
        EventPosition {
            timestamp: p.timestamp.saturating_sub(1),
            seq: u64::MAX,
        }
    }
}

/// The position immediately after `p`.
pub fn successor(p: EventPosition) -> EventPosition {
    if p.seq < u64::MAX {
        EventPosition {
            timestamp: p.timestamp,
            seq: p.seq + 1,
        }
    } else {
        EventPosition {
            timestamp: p.timestamp.saturating_add(1),
            seq: 0,
        }
    }
}

/// AWS event ids are 56-digit strings; ours encode the event's position, unique per event.
pub fn event_id(position: EventPosition) -> String {
    format!(
        "{:020}{:020}{:016}",
        position.timestamp as i128 + TIMESTAMP_OFFSET,
        position.seq,
        0
    )
}

pub fn encode_listing_token(kind: &str, key: &str) -> String {
    let mut out = String::with_capacity(kind.len() + 1 + key.len() * 2);
    out.push_str(kind);
    out.push('_');
    for b in key.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub fn decode_listing_token(kind: &str, token: &str) -> Option<String> {
    let hex = token.strip_prefix(kind)?.strip_prefix('_')?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// FNV-1a; binds tokens to the resource they page through (not a security boundary).
pub fn binding(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0xff)) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x100000001b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_tokens_roundtrip_and_are_bound() {
        for p in [
            EventPosition {
                timestamp: 0,
                seq: 0,
            },
            EventPosition {
                timestamp: 1_700_000_000_000,
                seq: 42,
            },
            EventPosition {
                timestamp: -5,
                seq: u64::MAX,
            },
        ] {
            for t in [EventToken::Forward(p), EventToken::Backward(p)] {
                let s = encode_event_token(t, 7);
                assert_eq!(s.len(), 58, "{s}");
                assert_eq!(decode_event_token(&s, 7), Some(t));
                assert_eq!(decode_event_token(&s, 8), None);
            }
        }
        assert_eq!(decode_event_token("f/123", 7), None);
        assert_eq!(
            decode_event_token(
                "x/00000000000000000000000000000000000000000000000000000000",
                0
            ),
            None
        );
    }

    #[test]
    fn listing_tokens_roundtrip() {
        let t = encode_listing_token("g", "/app/wéb");
        assert_eq!(decode_listing_token("g", &t).as_deref(), Some("/app/wéb"));
        assert_eq!(decode_listing_token("s", &t), None);
        assert_eq!(decode_listing_token("g", "g_zz"), None);
    }
}
