//! Input bytes to text: gzip (all members, as AWS and `cat a.gz b.gz` produce),
//! zstd, or plain, told apart by their magic bytes.

use std::io::{self, BufRead, BufReader, Read};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

pub fn sniff_compression(prefix: &[u8]) -> Compression {
    if prefix.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if prefix.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Wraps `reader` in the decoder its first bytes call for.
pub fn open_decoded<R: Read + 'static>(mut reader: R) -> io::Result<Box<dyn BufRead>> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match reader.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(read) => n += read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let compression = sniff_compression(&head[..n]);
    let whole = io::Cursor::new(head[..n].to_vec()).chain(reader);
    let buffered = BufReader::with_capacity(64 * 1024, whole);
    Ok(match compression {
        Compression::Gzip => Box::new(BufReader::with_capacity(
            64 * 1024,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            64 * 1024,
            zstd::stream::read::Decoder::with_buffer(buffered)?,
        )),
        Compression::None => Box::new(buffered),
    })
}
