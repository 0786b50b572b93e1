//! Merging shards: the run's models compiled from a shard's scenario copies, the
//! aggregates added up, and the row files concatenated in shard order as they are checked.

use super::verify::{RowIds, SHA_MISMATCH};
use super::{RowFile, ShardError, ShardFolder, SCENARIO_COPY, SHARD_JSON};
use crate::output::digest::hex;
use crate::output::io_at;
use crate::scenario::{self, Overrides, ParamsFile};
use crate::sim::model::Model;
use crate::sim::stats::Aggregate;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::Arc;

/// Compiles the run's model from the first shard's copy of the scenario, with its
/// variant and `--set` overrides. Returns the model and the scenario text.
pub fn model_of(shard: &ShardFolder) -> Result<(Model, String), ShardError> {
    let m = &shard.manifest;
    compile_copy(shard, Path::new(SCENARIO_COPY), &m.scenario_sha256, &m.scenario_file, &m.variant)
}

/// Compiles every compared run of a comparison's shard: (model, scenario text) each.
pub fn run_models(shard: &ShardFolder) -> Result<Vec<(Model, String)>, ShardError> {
    let copies = shard.scenario_copies();
    let runs = shard.manifest.design.runs().iter().zip(copies);
    runs.map(|(r, (rel, sha))| compile_copy(shard, &rel, sha, &r.scenario_file, &r.variant)).collect()
}

/// The shard's `--set` overrides, parsed back from `NAME=VALUE`.
pub fn sets_of(shard: &ShardFolder) -> Result<Vec<(String, f64)>, ShardError> {
    let path = shard.dir.join(SHARD_JSON);
    let parse = |s: &String| {
        let parsed = s.split_once('=').and_then(|(k, v)| v.parse::<f64>().ok().map(|x| (k.to_owned(), x)));
        parsed.ok_or_else(|| ShardError::Malformed {
            path: path.clone(),
            message: format!("`{s}` in sets is not NAME=VALUE"),
        })
    };
    shard.manifest.sets.iter().map(parse).collect()
}

/// The shard's `--params FILE`, parsed back from the text shard.json keeps, which must
/// be the file whose SHA-256 it records.
pub fn params_of(shard: &ShardFolder) -> Result<Option<Arc<ParamsFile>>, ShardError> {
    let m = &shard.manifest;
    let bad = |message: String| ShardError::Malformed { path: shard.dir.join(SHARD_JSON), message };
    match (&m.params_file, &m.params_text) {
        (None, None) => Ok(None),
        (Some(record), Some(text)) => {
            if crate::output::manifest::sha256_hex(text.as_bytes()) != record.sha256 {
                return Err(bad(format!(
                    "params_text is not the params file {} whose SHA-256 it records (was shard.json edited?)",
                    record.file
                )));
            }
            let p = ParamsFile::parse(&record.file, text)
                .map_err(|d| bad(format!("its params file does not parse:\n{}", d.render())))?;
            Ok(Some(Arc::new(p)))
        }
        _ => Err(bad("it records params_file without params_text, or the other way round".into())),
    }
}

/// Compiles the scenario copy at `rel` with `variant` and the shard's `--params` and `--set`.
fn compile_copy(
    shard: &ShardFolder,
    rel: &Path,
    sha256: &str,
    file: &str,
    variant: &Option<String>,
) -> Result<(Model, String), ShardError> {
    let source = shard.scenario_at(rel, sha256)?;
    let overrides = Overrides {
        variant: variant.clone(),
        sets: sets_of(shard)?,
        params: params_of(shard)?,
        ..Default::default()
    };
    let model = scenario::compile_str(file, &source, &overrides).map_err(|d| ShardError::Malformed {
        path: shard.dir.join(rel),
        message: format!(
            "the scenario does not compile with the shard's variant, --params and --set:\n{}",
            d.render()
        ),
    })?;
    Ok((model, source))
}

/// Adds up the shards' aggregates at `rel` (exact, so the order does not matter).
pub fn merge_aggregates(shards: &[ShardFolder], rel: &Path, model: &Model) -> Result<Aggregate, ShardError> {
    let mut total = Aggregate::new(model);
    for s in shards {
        total.merge(&s.aggregate_at(rel, model)?);
    }
    Ok(total)
}

/// Concatenates a row file of every shard into `out`, in shard order: the header once
/// (every shard's must equal `header`), then each shard's rows. As the bytes are copied,
/// each file is checked against the SHA-256 shard.json recorded and its trial ids
/// against the shard's trials (`trials.csv`: exactly the shard's range, one row each,
/// in order). Nothing is read twice and memory stays flat whatever the file's size.
pub fn concat_rows(
    shards: &[ShardFolder],
    name: &str,
    header: &[u8],
    kind: RowFile,
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<(), ShardError> {
    out.write_all(header).map_err(io_at(out_path))?;
    let mut buf = vec![0u8; 1 << 20];
    for s in shards {
        let path = s.dir.join(name);
        let read_err = |source| ShardError::Read { path: path.clone(), source };
        let bad = |message: String| ShardError::Malformed { path: path.clone(), message };
        // `ShardFolder::read` requires this digest; a shard read otherwise is refused too.
        let Some(digest) = s.digest(name) else {
            return Err(bad("shard.json records no SHA-256 of it; run this shard again".into()));
        };
        let file = std::fs::File::open(&path).map_err(read_err)?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let mut head = Vec::new();
        r.read_until(b'\n', &mut head).map_err(read_err)?;
        hasher.update(&head);
        bytes += head.len() as u64;
        // The first problem; reported after the SHA-256, which says more (an edit).
        let problem = (head != header).then(|| {
            format!("its header is not the scenario's: `{}`", String::from_utf8_lossy(&head).trim_end())
        });
        let range = match kind {
            RowFile::Trials => s.range(),
            RowFile::Events => {
                let k = s.manifest.events.unwrap_or(0);
                s.range().start.min(k)..s.range().end.min(k)
            }
        };
        let mut ids = RowIds::new(kind, range.clone());
        let mut last = b'\n';
        loop {
            let n = r.read(&mut buf).map_err(read_err)?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            hasher.update(chunk);
            bytes += n as u64;
            ids.feed(chunk);
            last = chunk[n - 1];
            if problem.is_none() {
                out.write_all(chunk).map_err(io_at(out_path))?;
            }
        }
        if bytes != digest.bytes || hex(&hasher.finalize()) != digest.sha256 {
            return Err(bad(SHA_MISMATCH.into()));
        }
        if let Some(p) = problem.or(ids.problem) {
            return Err(bad(p));
        }
        if last != b'\n' {
            return Err(bad("its last row is cut off (no line end)".into()));
        }
        if kind == RowFile::Trials {
            let want = range.end - range.start;
            if ids.rows != want {
                return Err(bad(format!(
                    "it has {} rows, but shard {} has {want} trials",
                    ids.rows,
                    s.manifest.shard()
                )));
            }
        }
    }
    Ok(())
}
