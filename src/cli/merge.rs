//! `brink merge`: the shard folders of one run (of `run`, `compare`, `sweep` or
//! `sensitivity`) into the results folder that one unsharded command writes.

use super::compare::{self, Entry, Simulated};
use super::explore::{self, Setup};
use super::*;
use crate::analysis::compare::SetOutput;
use crate::present::folder::{self, FolderSpec};
use crate::shard::set;
use crate::shard::{self, Design, Kind, RowFile, ShardError, ShardFolder};
use crate::sim::model::Model;

#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Results folder (default: the one the unsharded command writes)")))]
pub(super) struct MergeArgs {
    /// The shard folders written with `--shard K/N` by `brink run`, `compare`, `sweep` or
    /// `sensitivity`: every K of one run, once.
    #[arg(required = true, value_name = "SHARD_DIR")]
    shards: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    charts: ChartArgs,
}

pub(super) fn merge(a: MergeArgs) -> Result<(), Failure> {
    let shards = shard::read_shards(&a.shards)?;
    match shards[0].manifest.design.kind() {
        Kind::Run => merge_run(&a, &shards),
        Kind::Compare => merge_compare(&a, &shards),
        Kind::Sweep | Kind::Sensitivity => merge_explore(&a, &shards),
    }
}

/// The staging folder of the results, refused when the results folder is, holds, or lies
/// inside a shard folder: `--force` would otherwise delete shards being merged.
fn create_out(dest: &Path, force: bool, shards: &[ShardFolder]) -> Result<Staging, Failure> {
    let resolved = crate::output::guard::resolve(dest);
    if let Some(out) = resolved {
        for s in shards {
            let Ok(dir) = s.dir.canonicalize() else { continue };
            if dir.starts_with(&out) || out.starts_with(&dir) {
                return Err(Failure::Usage(format!(
                    "the results folder {} would overlap the shard folder {}: choose an --out outside the shards",
                    dest.display(),
                    s.dir.display()
                )));
            }
        }
    }
    Ok(Staging::create(dest, force, &[])?)
}

/// Timing fields describe the shards' simulations: their summed seconds and the most
/// threads one shard used. They are the only fields (with `command`) that differ from a
/// single run's manifest.
fn timing(shards: &[ShardFolder]) -> (f64, usize) {
    let seconds: f64 = shards.iter().map(|s| s.manifest.wall_seconds).sum();
    let threads = shards.iter().map(|s| s.manifest.threads).max().unwrap_or(1);
    (seconds, threads)
}

fn merge_run(a: &MergeArgs, shards: &[ShardFolder]) -> Result<(), Failure> {
    let first = shards[0].manifest.clone();
    let (model, source) = shard::model_of(&shards[0])?;
    let dest = a
        .output
        .out
        .clone()
        .unwrap_or_else(|| default_out(&model.name, model.variant.as_deref(), None, None));
    let staging = create_out(&dest, a.output.force, shards)?;
    let agg = shard::merge_aggregates(shards, Path::new(shard::AGGREGATE_JSON), &model)?;
    let mut extra_files = Vec::new();
    if first.trials_csv {
        concat(shards, "trials.csv", &trials_header(&model), RowFile::Trials, &staging)?;
    }
    if first.events.is_some() {
        concat(shards, "events.csv", &output::events::header_line(&model), RowFile::Events, &staging)?;
        extra_files.push("events.csv".to_string());
    }
    // Uncertain params: the shards' draws of the spread follow one another.
    let spread = shard::set::merge_spread(shards, &model)?;
    if let Some(sp) = &spread {
        let files = super::epistemic::spread_files(&model, first.seed, sp, &a.charts.options())?;
        extra_files.extend(files.iter().map(|(n, _)| n.clone()));
        write_files(&staging, files)?;
    }
    let (seconds, threads) = timing(shards);
    let spec = FolderSpec {
        model: &model,
        scenario_file: &first.scenario_file,
        source: source.as_bytes(),
        seed: first.seed,
        sets: first.sets.clone(),
        params_file: first.params_file.clone(),
        threads,
        seconds,
        trials_csv: first.trials_csv,
        extra_files,
        charts: a.charts.options(),
        level_intervals: None,
        spread: spread
            .as_ref()
            .map(|sp| crate::output::manifest::SpreadRecord { draws: sp.draws, trials_per_draw: sp.trials }),
    };
    let manifest = folder::write(staging.dir(), &spec, &agg)?;
    let dest = staging.commit()?;
    if !a.output.quiet {
        let mut text = format!("merged {} shards of {} trials\n", shards.len(), agg.trials);
        text.push_str(&crate::present::summary::run_summary(
            &model,
            &agg,
            spread.as_ref().map(|counts| crate::present::summary::Spread { counts, seconds: None }),
            first.seed,
            seconds,
            &dest,
            &manifest.files,
        ));
        say(&text);
    }
    Ok(())
}

/// The shards of a comparison: each run's rows and aggregates, and the pairings.
fn merge_compare(a: &MergeArgs, shards: &[ShardFolder]) -> Result<(), Failure> {
    let first = &shards[0].manifest;
    let entries: Vec<Entry> = shard::run_models(&shards[0])?
        .into_iter()
        .zip(first.design.runs())
        .map(|((model, source), r)| Entry {
            name: r.name.clone(),
            model,
            file: r.scenario_file.clone(),
            source,
        })
        .collect();
    let dest = a
        .output
        .out
        .clone()
        .unwrap_or_else(|| default_out(&entries[0].model.name, None, Some("compare"), None));
    let staging = create_out(&dest, a.output.force, shards)?;
    let mut aggregates = Vec::new();
    for e in &entries {
        let dir = staging.file(&e.name);
        std::fs::create_dir(&dir).map_err(io_at(&dir))?;
        if first.trials_csv {
            let name = format!("{}/trials.csv", e.name);
            concat(shards, &name, &trials_header(&e.model), RowFile::Trials, &staging)?;
        }
        let rel = Path::new(&e.name).join(shard::AGGREGATE_JSON);
        aggregates.push(shard::merge_aggregates(shards, &rel, &e.model)?);
    }
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let models: Vec<&Model> = entries.iter().map(|e| &e.model).collect();
    let paired = set::merge_paired(shards, &names, &models)?;
    let (seconds, threads) = timing(shards);
    let sim = Simulated {
        seed: first.seed,
        sets: first.sets.clone(),
        params_file: first.params_file.clone(),
        threads,
        seconds,
        trials_csv: first.trials_csv,
    };
    let out = SetOutput { aggregates, paired };
    let (cmp, dest) = compare::finish(staging, &entries, &out, &sim, &a.charts.options())?;
    if !a.output.quiet {
        say(&format!("merged {} shards of {} trials\n{}", shards.len(), first.trials, cmp.summary()));
        say(&compare::results_line(&dest));
    }
    Ok(())
}

/// The shards of a sweep or a sensitivity analysis: level counts, and the pairings of
/// a sensitivity analysis.
fn merge_explore(a: &MergeArgs, shards: &[ShardFolder]) -> Result<(), Failure> {
    let first = &shards[0].manifest;
    let (base, source) = shard::model_of(&shards[0])?;
    let spec = RunSpec { trials: first.trials, seed: first.seed, threads: 1, max_events: first.max_events };
    let s = Setup {
        base,
        source,
        file: first.scenario_file.clone(),
        spec,
        sets: shard::sets_of(&shards[0])?,
        params: shard::params_of(&shards[0])?,
    };
    let opts = a.charts.options();
    let text = match &first.design {
        Design::Sweep { sweep: sw } => {
            let staging =
                create_out(&explore::dest(&a.output.out, &s.base, "sweep"), a.output.force, shards)?;
            let counts = set::merge_counts(shards, &s.base, sw.points)?;
            let note = format!("merged {} shards of a sweep of {} grid points\n", shards.len(), sw.points);
            note + &explore::finish_sweep(staging, &s, &sw.axes, &counts, &opts)?
        }
        Design::Sensitivity { sensitivity: d } => {
            let bad = |message: String| ShardError::Malformed {
                path: shards[0].dir.join(shard::SHARD_JSON),
                message,
            };
            let level = s
                .base
                .level_ix(&d.metric)
                .ok_or_else(|| bad(format!("`{}` is not a level of the scenario", d.metric)))?;
            let names =
                explore::sensitivity_names(&crate::analysis::explore::sensitivity_design(&s.base, d.spread));
            let models = vec![&s.base; names.len()];
            let paired = set::merge_paired(shards, &names, &models)?;
            let counts = set::merge_counts(shards, &s.base, names.len() as u64)?;
            let staging =
                create_out(&explore::dest(&a.output.out, &s.base, "sensitivity"), a.output.force, shards)?;
            let note = format!("merged {} shards of {} trials\n", shards.len(), first.trials);
            note + &explore::finish_sensitivity(staging, &s, d.spread, level, &counts[0], &paired, &opts)?
        }
        // `merge` passes only sweep and sensitivity shards.
        Design::Run {} | Design::Compare { .. } => {
            return Err(Failure::Usage("a sweep or sensitivity shard without its design".into()))
        }
    };
    if !a.output.quiet {
        say(&text);
    }
    Ok(())
}

fn trials_header(model: &Model) -> Vec<u8> {
    format!("{}\n", output::trials::header(model).join(",")).into_bytes()
}

/// Concatenates one row file of every shard into the staging folder, each checked
/// against its SHA-256 and its shard's trials as it is copied (before any commit).
fn concat(
    shards: &[ShardFolder],
    name: &str,
    header: &[u8],
    kind: RowFile,
    staging: &Staging,
) -> Result<(), ShardError> {
    let path = staging.file(name);
    let file = std::fs::File::create(&path).map_err(io_at(&path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    shard::concat_rows(shards, name, header, kind, &mut w, &path)?;
    w.flush().map_err(io_at(&path))?;
    Ok(())
}
