//! Reading the files a user hands brink (scenario, observed record, mapping, the files of
//! a results folder), with a cap on their size.
//!
//! Without a cap, `/dev/zero` or a mistyped path to a disk image is read until memory runs
//! out. Every such file is read through [`read`], which stops one byte past the cap, so
//! an endless file is refused after reading the cap. The cap is 64 MB, far above any
//! real scenario or record; the environment variable `BRINK_MAX_INPUT_BYTES` changes it
//! (in bytes, or with a `K`, `M` or `G` suffix, powers of 1024).

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The cap when `BRINK_MAX_INPUT_BYTES` is not set: 64 MB.
pub(crate) const DEFAULT_MAX_INPUT_BYTES: u64 = 64 << 20;
/// The environment variable that sets the cap.
pub(crate) const MAX_INPUT_ENV: &str = "BRINK_MAX_INPUT_BYTES";

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The OS refused (missing file, permissions, a folder).
    #[error("cannot read {what} {}: {source}", path.display())]
    Io {
        /// What the file is, for people ("scenario file").
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is larger than the cap.
    #[error(
        "cannot read {what} {}: it is larger than the input limit of {} ({cap} bytes); \
         check that this is the file you meant, or raise the limit with {MAX_INPUT_ENV}=BYTES",
        path.display(),
        human(*cap)
    )]
    TooLarge {
        /// What the file is.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// The cap, in bytes.
        cap: u64,
    },
    /// The file is not UTF-8 text.
    #[error("cannot read {what} {}: it is not UTF-8 text (byte {at} is not valid UTF-8)", path.display())]
    NotText {
        /// What the file is.
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// Offset of the first invalid byte.
        at: usize,
    },
    /// `BRINK_MAX_INPUT_BYTES` is not a size.
    #[error("{MAX_INPUT_ENV}={0} is not a size: give bytes, e.g. 67108864, or 64M, 1G")]
    BadLimit(String),
}

impl InputError {
    /// The OS error, when the OS refused.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            InputError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A size for messages: whole MB, KB or bytes.
fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// The cap in force: `BRINK_MAX_INPUT_BYTES`, else 64 MB.
pub(crate) fn max_input_bytes() -> Result<u64, InputError> {
    match std::env::var(MAX_INPUT_ENV) {
        Err(_) => Ok(DEFAULT_MAX_INPUT_BYTES),
        Ok(text) => parse_size(&text).ok_or(InputError::BadLimit(text)),
    }
}

/// `123`, `64M`, `1G`, `512K` (powers of 1024); at least 1 byte.
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(unit).filter(|&n| n > 0)
}

/// The bytes of `path` (`what` names it in messages), refused past the cap.
pub fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, InputError> {
    let cap = max_input_bytes()?;
    let io = |source| InputError::Io { what, path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let too_large = || InputError::TooLarge { what, path: path.to_owned(), cap };
    // A regular file says its size: refuse it without reading.
    let known = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    if known.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(known.unwrap_or(0) as usize);
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The text of `path`, as [`read`], and UTF-8.
pub(crate) fn read_text(path: &Path, what: &'static str) -> Result<String, InputError> {
    String::from_utf8(read(path, what)?).map_err(|e| InputError::NotText {
        what,
        path: path.to_owned(),
        at: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("2k"), Some(2048));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("M"), None);
        assert_eq!(human(64 << 20), "64 MB");
        assert_eq!(human(1000), "1000 bytes");
    }
}
