//! `brink trace`: tell single trials as a chronology, by index or found by what they reach.

use super::*;
use crate::output::events::{self, EventRows};
use crate::present::trace::{self, Criteria, PathPattern};
use crate::sim::engine::Engine;

/// How `brink trace` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum TraceFormat {
    /// A chronology for people, then the trial's trials.csv row.
    Text,
    /// One row per firing, as in events.csv.
    Csv,
    /// Everything, as one JSON document.
    Json,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).multiple(true).args(["trial", "find", "path"])))]
#[command(mut_arg("trials", |a| a.value_name("N").help("Search trials 0 to N-1 (default: the file's `trials`)")))]
pub(super) struct TraceArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// The trial to tell, by index (trial N of `brink run` with the same seed).
    #[arg(long, value_name = "N", conflicts_with_all = ["find", "path"])]
    trial: Option<u64>,
    /// Tell the first trials (in trial order) that reach this level.
    #[arg(long, value_name = "LEVEL")]
    find: Option<String>,
    /// Tell the first trials whose escalation path matches, e.g. "a>b>c"; `*` stands for
    /// any steps, "(none)" for a level that never rose. With --find, both must hold.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// How many trials --find or --path tells.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    count: u64,
    #[command(flatten)]
    trials: TrialArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: TraceFormat,
}

pub(super) fn trace(a: TraceArgs) -> Result<(), Failure> {
    let (model, _, _) = load(&a.scenario)?;
    let spec = a.trials.spec(&model, 1);
    let seed = spec.seed;
    let mut engine = Engine::new(&model, seed);
    engine.set_max_events(spec.max_events);

    let chosen: Vec<u64> = match a.trial {
        Some(t) => vec![t],
        None => {
            let level = match &a.find {
                None => None,
                Some(id) => Some(model.level_ix(id).ok_or_else(|| {
                    let known: Vec<&str> = model.levels.iter().map(|l| l.id.as_str()).collect();
                    Failure::Usage(format!(
                        "unknown level `{id}` in --find; {}",
                        crate::scenario::diag::suggest("level", id, &known)
                    ))
                })?),
            };
            let path = match &a.path {
                None => None,
                Some(p) => Some(PathPattern::parse(&model, p).map_err(Failure::Usage)?),
            };
            let searched = spec.trials;
            let found = trace::find(&mut engine, &Criteria { level, path }, searched, a.count)
                .map_err(RunError::from)?;
            if (found.len() as u64) < a.count {
                eprintln!(
                    "brink trace: found {} of {} trials asked for among trials 0-{} (seed {seed}); \
                     search more with --trials",
                    found.len(),
                    a.count,
                    searched - 1
                );
            }
            found
        }
    };

    match a.format {
        TraceFormat::Text => {
            for (i, &t) in chosen.iter().enumerate() {
                let story = trace::record(&mut engine, &model, t).map_err(RunError::from)?;
                let sep = if i > 0 { "\n" } else { "" };
                say(&format!("{sep}{}", trace::text(&model, &story, seed)));
            }
        }
        TraceFormat::Json => {
            let mut stories = Vec::with_capacity(chosen.len());
            for &t in &chosen {
                stories.push(trace::record(&mut engine, &model, t).map_err(RunError::from)?);
            }
            say(&trace::json(&model, &stories, seed));
        }
        TraceFormat::Csv => {
            let mut rows = EventRows::new(&model);
            let mut out = events::header_line(&model);
            for &t in &chosen {
                engine.run_observed(t, &mut rows).map_err(RunError::from)?;
                rows.write_to(&mut out).map_err(RunError::from)?;
            }
            say(&String::from_utf8_lossy(&out));
        }
    }
    Ok(())
}
