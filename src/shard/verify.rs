//! Checking a shard: the SHA-256 of every file ([`digests`] when it is written, every
//! digest when it is read), the design against its kind, and the trial ids of its rows.

use super::{
    set, Design, ShardManifest, ShardRun, SweepPart, SweepSplit, AGGREGATE_JSON, SCENARIO_COPY, SHARD_JSON,
};
use crate::output::digest::{hex, FileDigest};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::ops::Range;
use std::path::Path;

/// Whether a file of a shard holds rows (`trials.csv`, `events.csv`): these can be many
/// GB, so they are hashed as they are written and checked as merge copies them.
pub(super) fn is_row_file(path: &str) -> bool {
    matches!(path.rsplit('/').next(), Some("trials.csv" | "events.csv"))
}

/// Size and SHA-256 of a file, read in pieces (memory stays flat whatever its size).
pub(super) fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((bytes, hex(&hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
}

/// The digests of every file below `dir` except `shard.json`, in path order. The row
/// files take theirs from `streamed` (computed by a [`DigestWriter`] as they were
/// written); every other file is small and is hashed here.
pub fn digests(dir: &Path, streamed: &[FileDigest]) -> std::io::Result<Vec<FileDigest>> {
    fn walk(
        dir: &Path,
        rel: &str,
        streamed: &[FileDigest],
        out: &mut Vec<FileDigest>,
    ) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            if e.file_type()?.is_dir() {
                walk(&e.path(), &path, streamed, out)?;
            } else if path != SHARD_JSON {
                let size = e.metadata()?.len();
                let digest = match streamed.iter().find(|d| d.path == path) {
                    Some(d) if d.bytes == size => d.clone(),
                    Some(d) => {
                        return Err(std::io::Error::other(format!(
                            "{path} has {size} bytes, but {} were written to it",
                            d.bytes
                        )))
                    }
                    None if is_row_file(&path) => {
                        return Err(std::io::Error::other(format!("{path} was not hashed as it was written")))
                    }
                    None => {
                        let (bytes, sha256) = hash_file(&e.path())?;
                        FileDigest { path, bytes, sha256 }
                    }
                };
                out.push(digest);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", streamed, &mut out)?;
    Ok(out)
}

pub(super) const SHA_MISMATCH: &str =
    "its SHA-256 is not the one shard.json recorded (was the file edited or damaged?); run this shard again";

/// The files of a shard that merge reads, relative to its folder: each needs a digest.
fn needed_files(m: &ShardManifest) -> Vec<String> {
    let mut files: Vec<String> = match &m.design {
        Design::Run {} => vec![AGGREGATE_JSON.into(), SCENARIO_COPY.into()],
        Design::Compare { runs } => {
            let mut v = vec![set::PAIRED_JSON.to_string()];
            for r in runs {
                v.push(format!("{}/{AGGREGATE_JSON}", r.name));
                v.push(format!("{}/{SCENARIO_COPY}", r.name));
            }
            v
        }
        Design::Sweep { .. } => vec![set::COUNTS_JSON.into(), SCENARIO_COPY.into()],
        Design::Sensitivity { .. } => {
            vec![set::COUNTS_JSON.into(), set::PAIRED_JSON.into(), SCENARIO_COPY.into()]
        }
    };
    if m.spread.is_some() {
        files.push(set::SPREAD_JSON.into());
    }
    files.extend(merged_row_files(m));
    files
}

/// The row files merge concatenates (and checks against their digests as it copies).
pub(super) fn merged_row_files(m: &ShardManifest) -> Vec<String> {
    let mut files = Vec::new();
    match &m.design {
        Design::Run {} if m.trials_csv => files.push("trials.csv".to_string()),
        Design::Compare { runs } if m.trials_csv => {
            files.extend(runs.iter().map(|r| format!("{}/trials.csv", r.name)))
        }
        _ => {}
    }
    if m.design == (Design::Run {}) && m.events.is_some() {
        files.push("events.csv".into());
    }
    files
}

/// Checks that `digests` is there and covers every file merge reads, each with a
/// SHA-256: without them an edited file would merge unnoticed.
pub(super) fn check_digests_complete(m: &ShardManifest) -> Result<(), String> {
    if m.digests.is_empty() {
        return Err(
            "its `digests` are empty or there are no `digests`: brink writes the size and SHA-256 of every file \
             of a shard there, and merge needs them to tell an intact shard from an edited one; run this shard again"
                .into(),
        );
    }
    for d in &m.digests {
        if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "the digest of {} has sha256 `{}`, not a SHA-256 (64 lowercase hex digits)",
                d.path, d.sha256
            ));
        }
    }
    for f in needed_files(m) {
        if !m.digests.iter().any(|d| d.path == f) {
            return Err(format!(
                "`digests` has no digest of {f}, which merge reads: the digests must cover every file of the shard"
            ));
        }
    }
    Ok(())
}

/// Checks the values of a shard's design, which serde has read as its kind's (so it
/// has the fields its kind needs, and no other).
pub(super) fn check_design(m: &ShardManifest) -> Result<(), String> {
    match &m.design {
        Design::Run {} => Ok(()),
        Design::Compare { runs } => check_runs(runs),
        Design::Sweep { sweep } => check_sweep(m, sweep),
        Design::Sensitivity { sensitivity } if !(sensitivity.spread > 0.0 && sensitivity.spread < 1.0) => {
            Err(format!("the sensitivity spread {} is not between 0 and 1", sensitivity.spread))
        }
        Design::Sensitivity { .. } => Ok(()),
    }
}

/// The compared runs of a comparison: at least two, each with a name that is one plain
/// folder name (its sub-folder: never `..` or a path that would lead a merge outside
/// its results folder), no name twice.
fn check_runs(runs: &[ShardRun]) -> Result<(), String> {
    if runs.len() < 2 {
        return Err("a comparison needs at least two `runs`".into());
    }
    let mut names = std::collections::BTreeSet::new();
    for r in runs {
        let plain = !r.name.is_empty()
            && r.name != "."
            && r.name != ".."
            && !r.name.contains(['/', '\\', '\0', ':'])
            && !r.name.starts_with('.');
        if !plain {
            return Err(format!("the run name `{}` is not a plain folder name", r.name));
        }
        if !names.insert(r.name.as_str()) {
            return Err(format!("the run name `{}` is given twice", r.name));
        }
    }
    Ok(())
}

/// A sweep's design: what `brink sweep` itself accepts (one or two distinct params,
/// finite values), and this shard's grid points.
fn check_sweep(m: &ShardManifest, sw: &SweepPart) -> Result<(), String> {
    if sw.axes.len() > 2 || sw.axes.len() == 2 && sw.axes[0].param == sw.axes[1].param {
        return Err("a sweep has one or two axes of distinct params".into());
    }
    if sw.axes.iter().any(|a| a.values.is_empty() || a.values.iter().any(|v| !v.is_finite())) {
        return Err("every sweep axis needs at least one finite value".into());
    }
    let points = sw.axes.iter().try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64));
    if sw.axes.is_empty() || points != Some(sw.points) {
        let made = points.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string());
        return Err(format!("`points` is {}, but the axes make {made} grid points", sw.points));
    }
    let want = match sw.split {
        SweepSplit::Points => m.shard().range(sw.points),
        SweepSplit::Trials => 0..sw.points,
    };
    if (sw.first_point, sw.end_point) != (want.start, want.end) {
        return Err(format!(
            "grid points {}..{} are not the shard's ({}..{})",
            sw.first_point, sw.end_point, want.start, want.end
        ));
    }
    Ok(())
}

/// Which trials a row file of a shard holds, one trial id first on every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFile {
    /// `trials.csv`: one row per trial of the shard, in trial order.
    Trials,
    /// `events.csv`: rows of the shard's trials below `--events`, in trial order.
    Events,
}

/// Checks the trial id that starts each row as the bytes stream past, without
/// holding more than the id being read.
pub(super) struct RowIds {
    kind: RowFile,
    /// The trials the rows may name.
    range: Range<u64>,
    /// Complete rows so far.
    pub(super) rows: u64,
    /// Reading the first field of a row.
    in_id: bool,
    /// Its value so far (None: not a whole number, or too large).
    id: Option<u64>,
    digits: u32,
    /// The last id read.
    last: Option<u64>,
    /// The first problem found.
    pub(super) problem: Option<String>,
}

impl RowIds {
    pub(super) fn new(kind: RowFile, range: Range<u64>) -> RowIds {
        RowIds { kind, range, rows: 0, in_id: true, id: Some(0), digits: 0, last: None, problem: None }
    }

    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() {
            if !self.in_id {
                // The rest of a row: skip to its end.
                match chunk[i..].iter().position(|&b| b == b'\n') {
                    Some(p) => {
                        i += p + 1;
                        self.rows += 1;
                        self.start_row();
                    }
                    None => return,
                }
                continue;
            }
            let b = chunk[i];
            i += 1;
            match b {
                b'0'..=b'9' => {
                    self.digits += 1;
                    self.id = self.id.and_then(|v| v.checked_mul(10)?.checked_add(u64::from(b - b'0')));
                }
                b',' | b'\n' => {
                    self.end_id();
                    self.in_id = false;
                    if b == b'\n' {
                        self.rows += 1;
                        self.start_row();
                    }
                }
                _ => self.id = None,
            }
        }
    }

    fn start_row(&mut self) {
        self.in_id = true;
        self.id = Some(0);
        self.digits = 0;
    }

    fn end_id(&mut self) {
        if self.problem.is_some() {
            return;
        }
        let row = self.rows + 1;
        let id = match self.id {
            Some(id) if self.digits > 0 => id,
            _ => {
                self.problem = Some(format!("row {row} does not start with a trial number"));
                return;
            }
        };
        self.problem = match self.kind {
            RowFile::Trials => {
                let want = self.range.start.saturating_add(row - 1);
                // Extra rows are counted (and refused) at the end.
                (want < self.range.end && id != want).then(|| {
                    format!("row {row} is trial {id}, not {want}: a shard's rows are its trials, in order")
                })
            }
            RowFile::Events if !self.range.contains(&id) => Some(format!(
                "row {row} is trial {id}, outside the shard's trials with events ({}..{})",
                self.range.start, self.range.end
            )),
            RowFile::Events => self.last.filter(|&l| id < l).map(|l| {
                format!("row {row} is trial {id}, after a row of trial {l}: the rows are not in trial order")
            }),
        };
        self.last = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::{RowFile, RowIds};

    /// Feeds `rows` in pieces of `piece` bytes: ids split across reads must read the same.
    fn scan(kind: RowFile, range: std::ops::Range<u64>, rows: &str, piece: usize) -> (u64, Option<String>) {
        let mut ids = RowIds::new(kind, range);
        for chunk in rows.as_bytes().chunks(piece) {
            ids.feed(chunk);
        }
        (ids.rows, ids.problem)
    }

    #[test]
    fn trial_ids_are_checked_across_reads() {
        let good = "1000,a,b\n1001,c\n1002,\n";
        let shifted = "1000,a\n1002,b\n1003,c\n";
        for piece in [1, 2, 3, 7, 1 << 20] {
            assert_eq!(scan(RowFile::Trials, 1000..1003, good, piece), (3, None), "{piece}");
            let (rows, problem) = scan(RowFile::Trials, 1000..1003, shifted, piece);
            assert_eq!(rows, 3);
            assert!(problem.unwrap().starts_with("row 2 is trial 1002, not 1001"), "{piece}");
            let (_, problem) = scan(RowFile::Trials, 1000..1003, "1000,a\n10x1,b\n", piece);
            assert_eq!(problem.unwrap(), "row 2 does not start with a trial number");
            let (_, problem) = scan(RowFile::Trials, 0..3, "0,a\n99999999999999999999999,b\n", piece);
            assert_eq!(problem.unwrap(), "row 2 does not start with a trial number");
            let events = "5,a\n5,b\n7,c\n";
            assert_eq!(scan(RowFile::Events, 5..8, events, piece), (3, None));
            let (_, problem) = scan(RowFile::Events, 5..7, events, piece);
            assert!(problem.unwrap().contains("row 3 is trial 7, outside"));
            let (_, problem) = scan(RowFile::Events, 5..8, "6,a\n5,b\n", piece);
            assert!(problem.unwrap().contains("not in trial order"));
        }
    }
}
