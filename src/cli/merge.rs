//! `brink merge`: the shard folders of one run into the results folder that a single
//! `brink run` of all its trials writes.

use super::*;
use crate::output::folder::{self, FolderSpec};
use crate::output::shard::{self, ShardError};

#[derive(Debug, Args)]
pub(super) struct MergeArgs {
    /// The shard folders written by `brink run --shard K/N`: every K of one run, once.
    #[arg(required = true, value_name = "SHARD_DIR")]
    shards: Vec<PathBuf>,
    /// Results folder (default: output/<scenario>[-<variant>], as `brink run`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace an existing results folder.
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    charts: ChartArgs,
}

pub(super) fn merge(a: MergeArgs) -> Result<(), Failure> {
    let shards = shard::read_run(&a.shards)?;
    let first = shards[0].manifest.clone();
    let (model, source) = shard::model_of(&shards[0])?;
    let dest = a.out.clone().unwrap_or_else(|| {
        let name = match &model.variant {
            Some(v) => format!("{}-{}", model.name, v),
            None => model.name.clone(),
        };
        Path::new("output").join(name)
    });
    let staging = Staging::create(&dest, a.force)?;
    let agg = shard::merge_aggregates(&shards, &model)?;
    let mut extra_files = Vec::new();
    if first.trials_csv {
        let header = format!("{}\n", output::trials::header(&model).join(","));
        concat(&shards, "trials.csv", header.as_bytes(), true, &staging)?;
    }
    if first.events.is_some() {
        concat(&shards, "events.csv", &output::events::header_line(&model), false, &staging)?;
        extra_files.push("events.csv".to_string());
    }
    // Timing fields describe the shards' simulations: their summed seconds and the most
    // threads one shard used. They are the only fields (with `command`) that differ
    // from a single run's manifest.
    let seconds: f64 = shards.iter().map(|s| s.manifest.wall_seconds).sum();
    let threads = shards.iter().map(|s| s.manifest.threads).max().unwrap_or(1);
    let spec = FolderSpec {
        model: &model,
        scenario_file: &first.scenario_file,
        source: source.as_bytes(),
        seed: first.seed,
        sets: first.sets.clone(),
        threads,
        seconds,
        trials_csv: first.trials_csv,
        extra_files,
        charts: a.charts.options(),
    };
    let manifest = folder::write(staging.dir(), &spec, &agg)?;
    let dest = staging.commit()?;
    if !a.quiet {
        let mut text = format!("merged {} shards of {} trials\n", shards.len(), agg.trials);
        text.push_str(&output::summary::run_summary(
            &model,
            &agg,
            first.seed,
            seconds,
            &dest,
            &manifest.files,
        ));
        say(&text);
    }
    Ok(())
}

/// Concatenates one CSV file of every shard into the staging folder.
fn concat(
    shards: &[shard::ShardFolder],
    name: &str,
    header: &[u8],
    one_row_per_trial: bool,
    staging: &Staging,
) -> Result<(), ShardError> {
    let path = staging.file(name);
    let file = std::fs::File::create(&path).map_err(io_at(&path))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    shard::concat_rows(shards, name, header, one_row_per_trial, &mut w, &path)?;
    w.flush().map_err(io_at(&path))?;
    Ok(())
}
