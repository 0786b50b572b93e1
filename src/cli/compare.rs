//! `brink compare`: variants of one scenario, two scenario files, or two finished
//! results folders, side by side with paired statistics where the trials match.
//!
//! With `--shard K/N` it runs only shard K's trials and writes a shard folder: each
//! run's rows and exact aggregate in `<name>/`, and the pairings in `paired.json`.
//! `brink merge` then writes the folder one unsharded comparison writes, through
//! [`finish`].

use super::*;
use crate::analysis::compare::{Paired, SetOutput};
use crate::output::compare::{Comparison, RunSummary};
use crate::output::manifest::{compare_manifest, push_folder_manifest};
use crate::output::trials::TrialRows;
use crate::present::charts::compare::{render_compare, CompareView};
use crate::present::folder::{self, FolderSpec};
use crate::scenario::ParamsFile;
use crate::shard::set::{self, PAIRED_JSON};
use crate::shard::{self, AggregateFile, Design, RunFacts, Shard, ShardManifest, ShardRun};
use crate::sim::model::Model;
use crate::sim::runner::run_set;
use std::sync::Arc;

#[derive(Debug, Args)]
#[command(mut_arg("trials", |a| a.help("Number of trials of every run (default: the first scenario's `trials`)")))]
#[command(mut_arg("precision", |a| a.help(
    "Add trials in batches until the 95% interval of the paired difference in the top level's \
     probability is narrower than this half-width (e.g. 0.005 or 0.5%); --trials is then ignored"
)))]
#[command(mut_arg("seed", |a| a.help("Seed, shared by every run (default: the first scenario's `seed`)")))]
#[command(mut_arg("out", |a| a.help(
    "Results folder (default: output/<scenario>-compare, or output/<A>-vs-<B> for two results folders)"
)))]
pub(super) struct CompareArgs {
    /// One scenario with --variants, two scenario files, or two results folders.
    #[arg(required = true, num_args = 1..=2, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Variants to compare, the first as the reference (`baseline`: no variant).
    #[arg(long, value_delimiter = ',', value_name = "A,B[,C...]")]
    variants: Vec<String>,
    #[command(flatten)]
    set: SetArgs,
    #[command(flatten)]
    common: SimulateArgs,
    /// Do not write each run's trials.csv.
    #[arg(long)]
    no_trials_csv: bool,
    #[command(flatten)]
    batches: PrecisionArgs,
    /// Simulate only shard K of N (trials K*T/N to (K+1)*T/N) into a shard folder, for
    /// `brink merge` (default folder: output/<scenario>-compare-shard-K-of-N).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse, conflicts_with = "precision")]
    shard: Option<Shard>,
    /// Compare P(reach level) of every level, rare rungs included, by multilevel splitting
    /// (as `brink run --split`; --trials is each run's continuations per stage over all
    /// replications; default folder output/<scenario>-compare-split).
    #[arg(long, conflicts_with_all = ["precision", "shard", "no_trials_csv"])]
    split: bool,
    /// Independent replications of each splitting run, whose paired spread gives the
    /// intervals.
    #[arg(long, value_name = "R", requires = "split", default_value_t = 40, value_parser = super::split::replications)]
    replications: u32,
}

/// One compared run: its name, model and scenario file.
pub(super) struct Entry {
    pub(super) name: String,
    pub(super) model: Model,
    pub(super) file: String,
    pub(super) source: String,
}

/// How the compared runs were simulated: what each run's `manifest.json` records.
pub(super) struct Simulated {
    pub(super) seed: u64,
    pub(super) sets: Vec<String>,
    pub(super) params_file: Option<crate::output::manifest::ParamsFileRecord>,
    pub(super) threads: usize,
    pub(super) seconds: f64,
    pub(super) trials_csv: bool,
}

/// Whether `a` compares two results folders (nothing to simulate, so nothing to shard).
fn of_folders(a: &CompareArgs) -> Result<bool, Failure> {
    if a.paths.len() == 2 && a.paths.iter().all(|p| p.is_dir()) {
        if a.split {
            return Err(Failure::Usage("--split simulates: give scenarios, not results folders".into()));
        }
        if a.shard.is_some() {
            return Err(Failure::Usage(
                "--shard runs a comparison in parts: give scenarios, not results folders".into(),
            ));
        }
        if !a.set.params.is_empty() {
            return Err(Failure::Usage(
                "--params applies to scenarios before they run: results folders are compared as they are"
                    .into(),
            ));
        }
        return Ok(true);
    }
    Ok(false)
}

/// What `brink slurm` checks before it writes the jobs of a sharded comparison: every
/// run loads as it will in each task.
pub(super) fn slurm_plan(a: &CompareArgs) -> Result<Plan, Failure> {
    of_folders(a)?;
    let params = a.set.overrides(None)?.params;
    let entries = entries(a, &params)?;
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let models = format!("{} runs ({})", entries.len(), names.join(", "));
    Ok(Plan::new(&a.common, &entries[0].model, models, None))
}

pub(super) fn compare(a: CompareArgs) -> Result<(), Failure> {
    if of_folders(&a)? {
        return compare_folders(&a);
    }
    let params = a.set.overrides(None)?.params;
    let entries = entries(&a, &params)?;
    if a.split {
        let mut inputs: Vec<PathBuf> = entries.iter().map(|e| PathBuf::from(&e.file)).collect();
        inputs.extend(a.set.params.iter().cloned());
        return super::split::compare_split(&entries, &a.common, a.replications, &inputs);
    }
    let first = &entries[0].model;
    let s = a.common.settle(first, || default_out(&first.name, None, Some("compare"), a.shard));
    let (spec, seed, trials) = (&s.spec, s.spec.seed, s.spec.trials);
    let mut inputs: Vec<&Path> = entries.iter().map(|e| Path::new(&e.file)).collect();
    inputs.extend(a.set.params.iter().map(PathBuf::as_path));
    let staging = Staging::create(&s.dest, s.force, &inputs)?;
    let range = a.shard.map_or(0..trials, |sh| sh.range(trials));

    // Each run's folder, with its trials.csv streamed in as the trials come.
    let mut writers = Vec::new();
    for e in &entries {
        let dir = staging.file(&e.name);
        std::fs::create_dir(&dir).map_err(io_at(&dir))?;
        if a.no_trials_csv {
            writers.push(None);
            continue;
        }
        // A shard's rows are hashed on the way out, for shard.json.
        let path = dir.join("trials.csv");
        let w = output::trials::create(&path, &e.model, a.shard.is_some())?;
        writers.push(Some((w, path, format!("{}/trials.csv", e.name))));
    }
    let models: Vec<&Model> = entries.iter().map(|e| &e.model).collect();
    let bar =
        progress_bar(a.batches.precision.map_or(range.end - range.start, |_| a.batches.max_trials), s.quiet);
    let started = Instant::now();
    let out = {
        // Each run's rows, streamed to its trials.csv chunk by chunk in trial order.
        let want_rows = !a.no_trials_csv;
        let rows: Option<Vec<TrialRows>> = want_rows.then(|| {
            let writers = writers.iter_mut().flatten();
            models.iter().zip(writers).map(|(m, (w, _, _))| TrialRows::to(m, w)).collect()
        });
        let empty = || {
            (SetOutput::empty(&models), want_rows.then(|| models.iter().map(|m| TrialRows::new(m)).collect()))
        };
        let mut total = (SetOutput::empty(&models), rows);
        match a.batches.precision {
            None => {
                run_set(&models, spec, range.clone(), &empty, &mut total, &mut |done| bar.set_position(done))?
            }
            Some(target) => {
                let top = first.top_level();
                let done = |(o, _): &(SetOutput, _)| {
                    o.paired.iter().all(|p| match p.levels.iter().position(|&(a, _)| a == top) {
                        Some(k) => {
                            let d = p.level(k).difference;
                            d.high.zip(d.low).is_some_and(|(h, l)| (h - l) / 2.0 < target)
                        }
                        None => true,
                    })
                };
                crate::sim::runner::run_until(
                    &models,
                    spec,
                    a.batches.max_trials,
                    &empty,
                    &mut total,
                    &done,
                    &mut |n| bar.set_position(n),
                )?
            }
        }
        total.0
    };
    let trials = out.aggregates[0].trials;
    let precision_note = a.batches.precision.map(|target| {
        let top = first.top_level();
        let widest = out
            .paired
            .iter()
            .filter_map(|p| p.levels.iter().position(|&(a, _)| a == top).map(|k| p.level(k).difference))
            .filter_map(|d| d.high.zip(d.low).map(|(h, l)| (h - l) / 2.0))
            .fold(0.0f64, f64::max);
        let verdict = if widest < target { "reached" } else { "NOT reached (--max-trials hit)" };
        format!(
            "  precision {:.3} points on P({}) difference: {verdict} with {trials} trials (half-width {:.3} points)\n",
            100.0 * target,
            first.levels[top].id,
            100.0 * widest
        )
    });
    let mut streamed = Vec::new();
    for (w, path, rel) in writers.into_iter().flatten() {
        streamed.extend(w.finish(&rel).map_err(io_at(&path))?);
    }
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let sets = a.set.text();
    if let Some(sh) = a.shard {
        let facts = RunFacts {
            scenario_file: &entries[0].file,
            source: entries[0].source.as_bytes(),
            sets: &sets,
            params_file: params.as_deref(),
            spec,
        };
        let mut m = ShardManifest::new(Design::Compare { runs: Vec::new() }, first, &facts, sh, range);
        m.trials_csv = !a.no_trials_csv;
        m.wall_seconds = secs;
        m.digests = streamed;
        return write_shard(staging, m, &entries, &out, s.quiet);
    }
    let sim = Simulated {
        seed,
        sets,
        params_file: params.as_deref().map(crate::output::manifest::ParamsFileRecord::of),
        threads: spec.threads,
        seconds: secs,
        trials_csv: !a.no_trials_csv,
    };
    let (cmp, dest) = finish(staging, &entries, &out, &sim, &s.charts)?;
    if !s.quiet {
        say(&cmp.summary());
        if let Some(note) = precision_note {
            say(&format!("\n{note}"));
        }
        // The intervals above are Monte Carlo ones: params still given as distributions
        // are averaged over, not shown as a spread (as `brink run`'s headline does).
        let drawn = entries.iter().map(|e| e.model.uncertain.len()).max().unwrap_or(0);
        if drawn > 0 {
            say(&format!(
                "\n  intervals: Monte Carlo error only. The {drawn} params given as distributions are drawn in\n  \
                 every trial and so averaged over; what not knowing them leaves open is wider (see the\n  \
                 spread across draws of `brink run`, or `brink run --epistemic`).\n"
            ));
        }
        say(&results_line(&dest));
    }
    Ok(())
}

/// The last line of a comparison's summary.
pub(super) fn results_line(dest: &Path) -> String {
    format!("\n  results in {}/ (compare.csv, report.html, one folder per run)\n", dest.display())
}

/// Writes each run's results folder (its `trials.csv` is already there), `compare.csv`,
/// the comparison charts and `report.html`, and puts the folder in place. Returns the
/// comparison and where it went.
pub(super) fn finish(
    staging: Staging,
    entries: &[Entry],
    out: &SetOutput,
    sim: &Simulated,
    opts: &ChartOptions,
) -> Result<(Comparison, PathBuf), Failure> {
    let mut summaries = Vec::new();
    for (e, agg) in entries.iter().zip(&out.aggregates) {
        let spec = FolderSpec {
            model: &e.model,
            scenario_file: &e.file,
            source: e.source.as_bytes(),
            seed: sim.seed,
            sets: sim.sets.clone(),
            params_file: sim.params_file.clone(),
            threads: sim.threads,
            seconds: sim.seconds,
            trials_csv: sim.trials_csv,
            extra_files: Vec::new(),
            charts: *opts,
            level_intervals: None,
            spread: None,
        };
        folder::write(&staging.file(&e.name), &spec, agg)?;
        summaries.push(RunSummary::from_aggregate(&e.model, agg, sim.seed));
    }
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let cmp = Comparison::from_paired(names.clone(), &summaries, &out.paired);
    let runs: Vec<Results> =
        entries.iter().map(|e| Results::read_dir(&staging.file(&e.name))).collect::<Result<_, _>>()?;
    write_comparison(&staging, &cmp, &runs, &names, opts)?;
    let dest = staging.commit()?;
    Ok((cmp, dest))
}

/// Completes a comparison's shard folder, whose runs' `trials.csv` are written: each
/// run's `aggregate.json` and `scenario.toml`, `paired.json`, then `shard.json`.
fn write_shard(
    staging: Staging,
    mut m: ShardManifest,
    entries: &[Entry],
    out: &SetOutput,
    quiet: bool,
) -> Result<(), Failure> {
    let mut files = Vec::new();
    let mut runs = Vec::new();
    for (e, agg) in entries.iter().zip(&out.aggregates) {
        if m.trials_csv {
            files.push(format!("{}/trials.csv", e.name));
        }
        for (name, bytes) in [
            (shard::AGGREGATE_JSON, AggregateFile::new(&e.model, agg).to_bytes()),
            (shard::SCENARIO_COPY, e.source.as_bytes().to_vec()),
        ] {
            let path = staging.file(&e.name).join(name);
            std::fs::write(&path, bytes).map_err(io_at(&path))?;
            files.push(format!("{}/{name}", e.name));
        }
        runs.push(ShardRun {
            name: e.name.clone(),
            scenario_file: e.file.clone(),
            scenario_sha256: crate::output::manifest::sha256_hex(e.source.as_bytes()),
            scenario_name: e.model.name.clone(),
            variant: e.model.variant.clone(),
            params: e.model.params.clone(),
        });
    }
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let models: Vec<&Model> = entries.iter().map(|e| &e.model).collect();
    set::write_paired(staging.dir(), &names, &models, &out.paired)?;
    files.extend([PAIRED_JSON, shard::SHARD_JSON].map(String::from));
    m.design = Design::Compare { runs };
    m.files = files;
    shard_done(staging, &m, quiet)
}

/// Writes compare.csv, the comparison charts, report.html and manifest.json at the top
/// of the folder; `runs` are the runs' results folders (read back from disk, as `brink
/// plot` would), `folders` the names of those inside this folder.
fn write_comparison(
    staging: &Staging,
    cmp: &Comparison,
    runs: &[Results],
    folders: &[String],
    opts: &ChartOptions,
) -> Result<(), Failure> {
    let view = CompareView { cmp, runs };
    let mut files = vec![("compare.csv".to_owned(), cmp.csv())];
    if opts.formats != Formats::None {
        files.extend(render_compare(&view, opts)?);
    }
    files.push(("report.html".into(), crate::present::report::compare_html(&view, opts)?.into_bytes()));
    // Marks the folder as brink's comparison, with what brink wrote in it (see
    // `output::guard`): its own files and the run folders, each with its own manifest.
    let manifest = compare_manifest(folders);
    push_folder_manifest(&mut files, manifest);
    write_files(staging, files)
}

/// The runs to compare, from `--variants` or from two scenario files.
fn entries(a: &CompareArgs, params: &Option<Arc<ParamsFile>>) -> Result<Vec<Entry>, Failure> {
    let load_one = |path: &Path, variant: Option<String>| -> Result<(Model, String), Failure> {
        let ov =
            Overrides { variant, sets: a.set.sets.clone(), params: params.clone(), ..Default::default() };
        Ok(scenario::load(path, &ov)?)
    };
    let mut out = Vec::new();
    match a.paths.as_slice() {
        [one] => {
            if a.variants.len() < 2 {
                return Err(Failure::Usage(
                    "compare one scenario with --variants A,B (for example --variants baseline,restraint), or give two scenario files".into(),
                ));
            }
            for v in &a.variants {
                let variant = (v != "baseline").then(|| v.clone());
                let (model, source) = load_one(one, variant)?;
                if out.iter().any(|e: &Entry| &e.name == v) {
                    return Err(Failure::Usage(format!("variant `{v}` is listed twice in --variants")));
                }
                out.push(Entry { name: v.clone(), model, file: one.display().to_string(), source });
            }
        }
        [x, y] => {
            if !a.variants.is_empty() {
                return Err(Failure::Usage("--variants goes with one scenario file, not two".into()));
            }
            for p in [x, y] {
                if p.is_dir() {
                    return Err(Failure::Usage(format!(
                        "{} is a folder: compare two scenario files or two results folders, not one of each",
                        p.display()
                    )));
                }
                let (model, source) = load_one(p, None)?;
                out.push(Entry { name: model.name.clone(), model, file: p.display().to_string(), source });
            }
            if out[0].name == out[1].name {
                out[0].name = format!("{}-a", out[0].name);
                out[1].name = format!("{}-b", out[1].name);
            }
            check_matching_steps(&out[0].model, &out[1].model)?;
        }
        _ => return Err(Failure::Usage("compare takes one scenario (with --variants) or two paths".into())),
    }
    Ok(out)
}

/// Two files are compared on common random numbers only where their step ids match:
/// refuse files that share no step, and warn about the ones that differ.
fn check_matching_steps(a: &Model, b: &Model) -> Result<(), Failure> {
    let shared = a.steps.iter().filter(|s| b.steps.iter().any(|t| t.id == s.id)).count();
    if shared == 0 {
        return Err(Failure::Usage(format!(
            "{} and {} share no step id, so their trials cannot be paired; compare their results folders instead",
            a.name, b.name
        )));
    }
    let only: Vec<&str> = a
        .steps
        .iter()
        .filter(|s| !b.steps.iter().any(|t| t.id == s.id))
        .chain(b.steps.iter().filter(|s| !a.steps.iter().any(|t| t.id == s.id)))
        .map(|s| s.id.as_str())
        .collect();
    if !only.is_empty() {
        eprintln!("note: steps in only one file draw their own random numbers: {}", only.join(", "));
    }
    Ok(())
}

/// Two finished results folders: paired when their trials match, unpaired otherwise.
fn compare_folders(a: &CompareArgs) -> Result<(), Failure> {
    let ra = Results::read_dir(&a.paths[0])?;
    let rb = Results::read_dir(&a.paths[1])?;
    let name = |r: &Results, p: &Path| {
        let base = p
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| r.manifest.scenario_name.clone());
        base
    };
    let mut names = vec![name(&ra, &a.paths[0]), name(&rb, &a.paths[1])];
    if names[0] == names[1] {
        names = vec![format!("{}-a", names[0]), format!("{}-b", names[1])];
    }
    let sa = RunSummary::from_results(&ra);
    let sb = RunSummary::from_results(&rb);
    let trial_difference = Comparison::trial_difference(&[sa.info.clone(), sb.info.clone()]);
    let same_steps = {
        let ids = |r: &Results| r.steps.iter().map(|s| s.step.clone()).collect::<Vec<_>>();
        ids(&ra) == ids(&rb)
    };
    let trials_files = a.paths.iter().all(|p| p.join("trials.csv").is_file());
    let cmp = if trial_difference.is_none() && same_steps && trials_files {
        let paired = pair_from_trials(&a.paths[0], &ra, &a.paths[1], &rb)?;
        Comparison::from_paired(names, &[sa, sb], &[paired])
    } else {
        let why = match trial_difference {
            Some(why) => why,
            None if !same_steps => "different step ids",
            None => "a folder without trials.csv",
        };
        if !a.common.output.quiet {
            eprintln!("note: comparing unpaired, because of {why}");
        }
        Comparison::from_unpaired(names, &[sa, sb], Some(why.to_string()))
    };
    let o = &a.common.output;
    let dest = o
        .out
        .clone()
        .unwrap_or_else(|| default_out(&format!("{}-vs-{}", cmp.names[0], cmp.names[1]), None, None, None));
    let inputs: Vec<&Path> = a.paths.iter().map(PathBuf::as_path).collect();
    let staging = Staging::create(&dest, o.force, &inputs)?;
    write_comparison(&staging, &cmp, &[ra, rb], &[], &a.common.charts.options())?;
    let dest = staging.commit()?;
    if !o.quiet {
        say(&cmp.summary());
        say(&format!("\n  results in {}/ (compare.csv, report.html)\n", dest.display()));
    }
    Ok(())
}

/// Pairs two folders' trials.csv rows by trial index.
fn pair_from_trials(pa: &Path, ra: &Results, pb: &Path, rb: &Results) -> Result<Paired, Failure> {
    /// Per trial: reached flags per level, totals per tally.
    type Rows = (Vec<Vec<bool>>, Vec<Vec<u64>>);
    let read = |p: &Path, r: &Results| -> Result<Rows, Failure> {
        let path = p.join("trials.csv");
        let bad = |message: String| Failure::Results(ResultsError::Malformed { path: path.clone(), message });
        let mut rdr = csv::Reader::from_path(&path).map_err(|e| bad(e.to_string()))?;
        let header = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
        let col = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| bad(format!("no column {name}")))
        };
        let level_cols: Vec<usize> =
            r.levels.iter().map(|l| col(&format!("reached_{}_day", l.level))).collect::<Result<_, _>>()?;
        let tally_cols: Vec<usize> = r.tallies.iter().map(|t| col(&t.tally)).collect::<Result<_, _>>()?;
        let (mut reached, mut tallies) = (Vec::new(), Vec::new());
        for (i, row) in rdr.records().enumerate() {
            let row = row.map_err(|e| bad(e.to_string()))?;
            reached.push(level_cols.iter().map(|&c| !row.get(c).unwrap_or("").is_empty()).collect());
            let t: Result<Vec<u64>, _> =
                tally_cols.iter().map(|&c| row.get(c).unwrap_or("").parse::<u64>()).collect();
            tallies.push(t.map_err(|e| {
                let why = match e.kind() {
                    std::num::IntErrorKind::PosOverflow => "is too large (at most 18446744073709551615)",
                    _ => "is not a whole number >= 0",
                };
                bad(format!("line {}: a tally {why}", i + 2))
            })?);
        }
        Ok((reached, tallies))
    };
    let (a_reached, a_tallies) = read(pa, ra)?;
    let (b_reached, b_tallies) = read(pb, rb)?;
    let mut paired = Paired::from_ids(
        &ra.levels.iter().map(|l| l.level.as_str()).collect::<Vec<_>>(),
        &rb.levels.iter().map(|l| l.level.as_str()).collect::<Vec<_>>(),
        &ra.tallies.iter().map(|t| t.tally.as_str()).collect::<Vec<_>>(),
        &rb.tallies.iter().map(|t| t.tally.as_str()).collect::<Vec<_>>(),
    );
    for i in 0..a_reached.len().min(b_reached.len()) {
        paired.add_raw(&a_reached[i], &a_tallies[i], &b_reached[i], &b_tallies[i]);
    }
    Ok(paired)
}
