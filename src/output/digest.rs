//! Sizes and SHA-256 digests of written files, computed while the bytes stream out.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;

/// One file of a shard folder as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Path relative to the shard folder, with `/` between components.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the contents (hex).
    pub sha256: String,
}

/// A writer that hashes (SHA-256) and counts the bytes that pass through it, so that a
/// shard's row files get their digest while they are streamed out, with no second pass.
/// Hashing is off for the row files of a whole run, which record no digest.
pub struct DigestWriter<W: Write> {
    inner: W,
    hasher: Option<Sha256>,
    bytes: u64,
}

impl<W: Write> DigestWriter<W> {
    /// Wraps `inner`, hashing what passes through only when `hash`.
    pub fn new(inner: W, hash: bool) -> Self {
        DigestWriter { inner, hasher: hash.then(Sha256::new), bytes: 0 }
    }

    /// Flushes, and returns the digest of everything written, recorded under `path`
    /// (relative to the shard folder), if hashing.
    pub fn finish(mut self, path: &str) -> std::io::Result<Option<FileDigest>> {
        self.inner.flush()?;
        Ok(self.hasher.map(|h| FileDigest {
            path: path.to_owned(),
            bytes: self.bytes,
            sha256: hex(&h.finalize()),
        }))
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
