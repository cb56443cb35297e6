//! Write-ahead log: segmented append-only files of checksummed records, written by one group-commit
//! thread that fsyncs once per batch.
//!
//! Frame: `[len u32 LE][crc32c u32 LE][payload; len]`, crc over the payload.
//! Payload: `magic u32 | lsn u64 | first_seq u64 | group i64 | stream i64 | ingestion_time i64 |
//! count u32 | count × (timestamp i64 | msg_len u32 | msg bytes)`, all little-endian.
//! The magic lets recovery tell a torn tail (nothing valid after the damage) from damage in the
//! middle of the log (a valid record follows) without quadratic crc attempts.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{GroupId, InputEvent, StoreError, StreamId};

pub(crate) const RECORD_MAGIC: u32 = 0x5754_4c31; // "WTL1"
const FRAME_HEADER: usize = 8;
/// magic + lsn + first_seq + group + stream + ingestion + count
const PAYLOAD_HEADER: usize = 4 + 8 + 8 + 8 + 8 + 8 + 4;
/// Upper bound on one record, so a garbage length cannot make recovery allocate or scan absurdly.
pub(crate) const MAX_RECORD_BYTES: usize = 1 << 30;
/// A new WAL file is started once the current one exceeds this.
pub(crate) const WAL_FILE_TARGET_BYTES: u64 = 64 << 20;

/// The events part of a record, encoded by the appending task (in parallel with other appenders) so
/// the writer thread only adds the header and checksum.
pub(crate) fn encode_events(events: &[InputEvent]) -> Vec<u8> {
    let size: usize = events.iter().map(|e| 12 + e.message.len()).sum();
    let mut body = Vec::with_capacity(size);
    for e in events {
        body.extend_from_slice(&e.timestamp.to_le_bytes());
        body.extend_from_slice(&(e.message.len() as u32).to_le_bytes());
        body.extend_from_slice(e.message.as_bytes());
    }
    body
}

/// Header fields of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub lsn: u64,
    pub first_seq: u64,
    pub group: GroupId,
    pub stream: StreamId,
    pub ingestion_time: i64,
    pub count: u32,
}

/// Appends one framed record (header + pre-encoded events) to `out`.
pub(crate) fn encode_record(out: &mut Vec<u8>, header: &RecordHeader, events_body: &[u8]) {
    let len = PAYLOAD_HEADER + events_body.len();
    let start = out.len();
    out.reserve(FRAME_HEADER + len);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&RECORD_MAGIC.to_le_bytes());
    out.extend_from_slice(&header.lsn.to_le_bytes());
    out.extend_from_slice(&header.first_seq.to_le_bytes());
    out.extend_from_slice(&header.group.to_le_bytes());
    out.extend_from_slice(&header.stream.to_le_bytes());
    out.extend_from_slice(&header.ingestion_time.to_le_bytes());
    out.extend_from_slice(&header.count.to_le_bytes());
    out.extend_from_slice(events_body);
    let crc = crc32c::crc32c(&out[start + FRAME_HEADER..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A decoded record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WalRecord {
    pub header: RecordHeader,
    pub events: Vec<InputEvent>,
}

/// Why a frame at some offset could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// Fewer bytes remain than the frame claims (or than a frame header).
    Truncated,
    /// Length out of range, magic wrong, crc mismatch or malformed payload.
    Invalid(&'static str),
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn read_i64(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Decodes the frame at the start of `buf`; returns the record and the frame's total size.
/// Never panics, whatever the bytes.
pub(crate) fn decode_frame(buf: &[u8]) -> Result<(WalRecord, usize), FrameError> {
    if buf.len() < FRAME_HEADER {
        return Err(FrameError::Truncated);
    }
    let len = read_u32(buf, 0) as usize;
    if !(PAYLOAD_HEADER..=MAX_RECORD_BYTES).contains(&len) {
        return Err(FrameError::Invalid("record length out of range"));
    }
    if buf.len() - FRAME_HEADER < len {
        return Err(FrameError::Truncated);
    }
    let payload = &buf[FRAME_HEADER..FRAME_HEADER + len];
    if read_u32(payload, 0) != RECORD_MAGIC {
        return Err(FrameError::Invalid("bad record magic"));
    }
    if crc32c::crc32c(payload) != read_u32(buf, 4) {
        return Err(FrameError::Invalid("record checksum mismatch"));
    }
    let header = RecordHeader {
        lsn: read_u64(payload, 4),
        first_seq: read_u64(payload, 12),
        group: read_i64(payload, 20),
        stream: read_i64(payload, 28),
        ingestion_time: read_i64(payload, 36),
        count: read_u32(payload, 44),
    };
    let mut at = PAYLOAD_HEADER;
    // A valid checksum over a malformed payload means a bug, not a torn write; still never panic.
    let mut events = Vec::with_capacity((header.count as usize).min(len / 12));
    for _ in 0..header.count {
        if payload.len() - at < 12 {
            return Err(FrameError::Invalid("event header past record end"));
        }
        let timestamp = read_i64(payload, at);
        let msg_len = read_u32(payload, at + 8) as usize;
        at += 12;
        if payload.len() - at < msg_len {
            return Err(FrameError::Invalid("event message past record end"));
        }
        let message = std::str::from_utf8(&payload[at..at + msg_len])
            .map_err(|_| FrameError::Invalid("event message is not UTF-8"))?
            .to_owned();
        at += msg_len;
        events.push(InputEvent { timestamp, message });
    }
    if at != payload.len() {
        return Err(FrameError::Invalid("trailing bytes in record"));
    }
    Ok((WalRecord { header, events }, FRAME_HEADER + len))
}

/// True if a structurally valid frame (plausible length, magic, matching crc) starts anywhere in
/// `buf` after offset 0. Used to tell damage in the middle of a file from a torn tail.
fn valid_frame_follows(buf: &[u8]) -> bool {
    let magic = RECORD_MAGIC.to_le_bytes();
    let mut from = 1;
    while from + FRAME_HEADER + 4 <= buf.len() {
        // Find the next magic at payload position (frame offset + 8).
        let window = &buf[from + FRAME_HEADER..];
        let Some(pos) = window.windows(4).position(|w| w == magic) else {
            return false;
        };
        let frame_at = from + pos;
        if decode_frame(&buf[frame_at..]).is_ok() {
            return true;
        }
        from = frame_at + 1;
    }
    false
}

pub(crate) fn wal_file_name(first_lsn: u64) -> String {
    format!("{first_lsn:020}.wal")
}

/// WAL files in `dir` as (first lsn, path), ascending.
pub(crate) fn list_wal_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_err("listing WAL directory", e))? {
        let entry = entry.map_err(|e| io_err("listing WAL directory", e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(".wal") else {
            continue;
        };
        let Ok(lsn) = stem.parse::<u64>() else {
            continue;
        };
        files.push((lsn, entry.path()));
    }
    files.sort();
    Ok(files)
}

pub(crate) fn io_err(what: &str, e: std::io::Error) -> StoreError {
    if e.raw_os_error() == Some(28) {
        return StoreError::Unavailable(format!("{what}: disk full: {e}"));
    }
    StoreError::Internal(format!("{what}: {e}"))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("fsync directory", e))
}

/// Outcome of reading the whole log at startup.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Records with lsn > checkpoint handed to the replay callback.
    pub replayed: u64,
    pub max_lsn: u64,
    /// Highest seq seen + 1 (0 if none).
    pub next_seq: u64,
    /// Bytes cut from the last file as a torn tail.
    pub truncated_bytes: u64,
    pub total_bytes: u64,
}

/// Reads every WAL file; truncates a torn tail of the last file; errors on damage anywhere else.
/// Records with lsn > `checkpoint_lsn` go to `replay` in lsn order as they are decoded, so replay
/// never holds the whole log in memory twice. If `recover` then fails, the caller must discard
/// what it replayed.
pub(crate) fn recover(
    dir: &Path,
    checkpoint_lsn: u64,
    mut replay: impl FnMut(WalRecord),
) -> Result<Recovered, StoreError> {
    let files = list_wal_files(dir)?;
    let mut out = Recovered::default();
    let mut prev_lsn: Option<u64> = None;
    for (i, (first_lsn, path)) in files.iter().enumerate() {
        let is_last = i + 1 == files.len();
        let mut buf = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(|e| io_err("reading WAL file", e))?;
        let mut at = 0usize;
        while at < buf.len() {
            match decode_frame(&buf[at..]) {
                Ok((record, size)) => {
                    let lsn = record.header.lsn;
                    if let Some(prev) = prev_lsn {
                        if lsn != prev + 1 {
                            return Err(StoreError::Corrupt(format!(
                                "WAL {}: lsn {lsn} follows {prev} at offset {at}",
                                path.display()
                            )));
                        }
                    } else if lsn < *first_lsn {
                        return Err(StoreError::Corrupt(format!(
                            "WAL {}: lsn {lsn} below the file's first lsn {first_lsn}",
                            path.display()
                        )));
                    }
                    prev_lsn = Some(lsn);
                    out.max_lsn = out.max_lsn.max(lsn);
                    let end_seq = record.header.first_seq + record.header.count as u64;
                    out.next_seq = out.next_seq.max(end_seq);
                    if lsn > checkpoint_lsn {
                        out.replayed += 1;
                        replay(record);
                    }
                    at += size;
                }
                Err(err) => {
                    if !is_last || valid_frame_follows(&buf[at..]) {
                        tracing::error!(file = %path.display(), offset = at, ?err, "WAL damaged before its tail; refusing to start");
                        return Err(StoreError::Corrupt(format!(
                            "WAL {} damaged at offset {at} ({err:?}) with valid records after it; \
                             acknowledged data would be lost, refusing to start",
                            path.display()
                        )));
                    }
                    let cut = (buf.len() - at) as u64;
                    tracing::warn!(file = %path.display(), offset = at, bytes = cut, ?err,
                        "truncating torn WAL tail (never acknowledged)");
                    let f = OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(|e| io_err("opening WAL for truncation", e))?;
                    f.set_len(at as u64)
                        .map_err(|e| io_err("truncating WAL", e))?;
                    f.sync_all().map_err(|e| io_err("fsync WAL", e))?;
                    out.truncated_bytes = cut;
                    buf.truncate(at);
                    break;
                }
            }
        }
        out.total_bytes += buf.len() as u64;
    }
    Ok(out)
}

/// The active WAL file. Owned by the group-commit thread.
pub(crate) struct WalWriter {
    dir: PathBuf,
    file: File,
    file_bytes: u64,
}

impl WalWriter {
    /// Starts a fresh file whose first record will be `next_lsn`.
    pub(crate) fn create(dir: &Path, next_lsn: u64) -> Result<WalWriter, StoreError> {
        let path = dir.join(wal_file_name(next_lsn));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_err("creating WAL file", e))?;
        let file_bytes = file
            .metadata()
            .map_err(|e| io_err("stat WAL file", e))?
            .len();
        sync_dir(dir)?;
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            file,
            file_bytes,
        })
    }

    /// Writes and fdatasyncs `buf` (whole frames). On failure the file is cut back to where it was,
    /// so a failed batch never leaves a partial record in front of later ones. If even that fails
    /// the writer must not be used again (the caller poisons it).
    pub(crate) fn write_batch(&mut self, buf: &[u8]) -> Result<(), (StoreError, bool)> {
        let before = self.file_bytes;
        let result = self.file.write_all(buf).and_then(|_| self.file.sync_data());
        match result {
            Ok(()) => {
                self.file_bytes += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                let err = io_err("writing WAL", e);
                // After a failed fsync the page cache state is unknown; only a cut + successful sync
                // restores a known file.
                let restored = self
                    .file
                    .set_len(before)
                    .and_then(|_| self.file.sync_all())
                    .is_ok();
                Err((err, !restored))
            }
        }
    }

    pub(crate) fn file_bytes(&self) -> u64 {
        self.file_bytes
    }

    /// Switches to a new file if the current one is big enough.
    pub(crate) fn maybe_rotate(&mut self, next_lsn: u64) -> Result<bool, StoreError> {
        if self.file_bytes < WAL_FILE_TARGET_BYTES {
            return Ok(false);
        }
        *self = WalWriter::create(&self.dir, next_lsn)?;
        Ok(true)
    }
}

/// Deletes WAL files all of whose records are at or below `checkpoint_lsn`; returns bytes freed.
/// The last file is never deleted (the writer may be appending to it).
pub(crate) fn delete_obsolete(dir: &Path, checkpoint_lsn: u64) -> Result<u64, StoreError> {
    let files = list_wal_files(dir)?;
    let mut freed = 0;
    for pair in files.windows(2) {
        let (_, path) = &pair[0];
        let (next_first, _) = &pair[1];
        if *next_first <= checkpoint_lsn + 1 {
            let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            fs::remove_file(path).map_err(|e| io_err("deleting WAL file", e))?;
            freed += len;
        } else {
            break;
        }
    }
    Ok(freed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Collected {
        records: Vec<WalRecord>,
        max_lsn: u64,
        next_seq: u64,
        truncated_bytes: u64,
    }

    /// `super::recover` collecting the replayed records.
    fn recover(dir: &Path, checkpoint_lsn: u64) -> Result<Collected, StoreError> {
        let mut records = Vec::new();
        let r = super::recover(dir, checkpoint_lsn, |rec| records.push(rec))?;
        assert_eq!(r.replayed as usize, records.len());
        Ok(Collected {
            records,
            max_lsn: r.max_lsn,
            next_seq: r.next_seq,
            truncated_bytes: r.truncated_bytes,
        })
    }

    fn header(lsn: u64) -> RecordHeader {
        RecordHeader {
            lsn,
            first_seq: lsn * 10,
            group: 3,
            stream: 4,
            ingestion_time: 99,
            count: 2,
        }
    }

    fn events(lsn: u64) -> Vec<InputEvent> {
        vec![
            InputEvent {
                timestamp: lsn as i64,
                message: format!("first {lsn}"),
            },
            InputEvent {
                timestamp: -5,
                message: "ünïcødé".into(),
            },
        ]
    }

    fn write_records(dir: &Path, first: u64, n: u64) -> Vec<usize> {
        let mut w = WalWriter::create(dir, first).unwrap();
        let mut ends = Vec::new();
        let mut total = 0;
        for lsn in first..first + n {
            let mut buf = Vec::new();
            encode_record(&mut buf, &header(lsn), &encode_events(&events(lsn)));
            total += buf.len();
            w.write_batch(&buf).unwrap();
            ends.push(total);
        }
        ends
    }

    #[test]
    fn frame_roundtrip() {
        let mut buf = Vec::new();
        encode_record(&mut buf, &header(7), &encode_events(&events(7)));
        let (rec, size) = decode_frame(&buf).unwrap();
        assert_eq!(size, buf.len());
        assert_eq!(rec.header, header(7));
        assert_eq!(rec.events, events(7));
    }

    #[test]
    fn frame_detects_every_single_byte_flip() {
        let mut buf = Vec::new();
        encode_record(&mut buf, &header(7), &encode_events(&events(7)));
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x40;
            assert!(decode_frame(&bad).is_err(), "flip at {i} went unnoticed");
        }
    }

    #[test]
    fn truncated_frame_is_reported_as_truncated() {
        let mut buf = Vec::new();
        encode_record(&mut buf, &header(1), &encode_events(&events(1)));
        for cut in 0..buf.len() {
            assert_eq!(
                decode_frame(&buf[..cut]).unwrap_err(),
                FrameError::Truncated,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn recover_reads_all_records_and_skips_checkpointed() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 5);
        let r = recover(dir.path(), 2).unwrap();
        assert_eq!(
            r.records.iter().map(|r| r.header.lsn).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert_eq!(r.max_lsn, 5);
        assert_eq!(r.next_seq, 52);
        assert_eq!(r.truncated_bytes, 0);
    }

    #[test]
    fn torn_tail_at_every_offset_is_truncated_to_whole_records() {
        let dir = tempfile::tempdir().unwrap();
        let ends = write_records(dir.path(), 1, 4);
        let path = dir.path().join(wal_file_name(1));
        let full = fs::read(&path).unwrap();
        for cut in 0..full.len() {
            fs::write(&path, &full[..cut]).unwrap();
            let r = recover(dir.path(), 0).unwrap();
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(r.records.len(), whole, "cut at {cut}");
            let kept = if whole == 0 { 0 } else { ends[whole - 1] };
            assert_eq!(
                fs::metadata(&path).unwrap().len() as usize,
                kept,
                "file not truncated at {cut}"
            );
        }
    }

    #[test]
    fn garbage_tail_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let ends = write_records(dir.path(), 1, 3);
        let path = dir.path().join(wal_file_name(1));
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0xAB; 1000]).unwrap();
        let r = recover(dir.path(), 0).unwrap();
        assert_eq!(r.records.len(), 3);
        assert_eq!(r.truncated_bytes, 1000);
        assert_eq!(fs::metadata(&path).unwrap().len() as usize, ends[2]);
    }

    #[test]
    fn crc_mismatch_mid_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let ends = write_records(dir.path(), 1, 4);
        let path = dir.path().join(wal_file_name(1));
        let mut bytes = fs::read(&path).unwrap();
        bytes[ends[0] + 30] ^= 1; // inside record 2; records 3 and 4 remain valid
        fs::write(&path, &bytes).unwrap();
        let err = recover(dir.path(), 0).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
        assert_eq!(
            fs::read(&path).unwrap(),
            bytes,
            "damaged WAL must not be modified"
        );
    }

    #[test]
    fn damage_in_a_non_last_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 2);
        write_records(dir.path(), 3, 2);
        let first = dir.path().join(wal_file_name(1));
        let bytes = fs::read(&first).unwrap();
        fs::write(&first, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(
            recover(dir.path(), 0),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn delete_obsolete_keeps_files_with_live_records_and_the_last() {
        let dir = tempfile::tempdir().unwrap();
        write_records(dir.path(), 1, 2);
        write_records(dir.path(), 3, 2);
        write_records(dir.path(), 5, 2);
        delete_obsolete(dir.path(), 3).unwrap();
        let left: Vec<u64> = list_wal_files(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(left, vec![3, 5]);
        delete_obsolete(dir.path(), 100).unwrap();
        let left: Vec<u64> = list_wal_files(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(left, vec![5]);
    }

    proptest::proptest! {
        #[test]
        fn decoder_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = decode_frame(&bytes);
            let _ = valid_frame_follows(&bytes);
        }

        #[test]
        fn decoder_never_panics_on_valid_header_garbage_body(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
            count in 0u32..1000,
        ) {
            // A frame with a correct crc but a malformed payload must be rejected, not panic.
            let mut payload = Vec::new();
            payload.extend_from_slice(&RECORD_MAGIC.to_le_bytes());
            payload.extend_from_slice(&[0u8; 40]);
            payload.extend_from_slice(&count.to_le_bytes());
            payload.extend_from_slice(&body);
            let mut frame = Vec::new();
            frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            frame.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
            frame.extend_from_slice(&payload);
            let _ = decode_frame(&frame);
        }
    }
}
