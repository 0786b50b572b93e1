//! `brink track-record`: the forecast questions of several episodes, each forecast at its
//! day 0 with the params it was frozen with, answered by its dated record and scored
//! against the base rate of the episodes before (docs/track-record.md).

use super::*;
use crate::analysis::track::{self, Answer};
use crate::output::manifest::{push_folder_manifest, track_manifest, EpisodeRecord, ParamsFileRecord};

#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.help("Results folder (default: output/track-record)")))]
pub(super) struct TrackArgs {
    /// The track-record file: a list of [[episodes]] (scenario, record, params).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Trials per episode (default: each episode's `trials`, else its scenario's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    trials: Option<u64>,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    #[command(flatten)]
    output: OutputArgs,
}

/// One episode, loaded.
struct Loaded {
    model: Model,
    source: String,
    scenario_file: String,
    record_file: String,
    record_text: String,
    params: Option<ParamsFileRecord>,
    answers: Vec<Answer>,
    spec: RunSpec,
}

pub(super) fn track_record(a: TrackArgs) -> Result<(), Failure> {
    let file_text = crate::scenario::input::read_text(&a.file, "track-record file")
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let dir = a.file.parent().unwrap_or(Path::new("."));
    let episodes = crate::scenario::episodes::parse(&a.file.display().to_string(), &file_text, dir)
        .map_err(LoadError::Invalid)?;
    let threads = worker_threads(a.threads);
    let mut loaded: Vec<Loaded> = Vec::new();
    let mut reads: Vec<PathBuf> = vec![a.file.clone()];
    let file_name = a.file.display().to_string();
    // A path that cannot be read is named with the entry that gave it.
    let at = |ep: &crate::scenario::episodes::Episode, e: String| {
        Failure::Usage(format!(
            "{file_name}:{}: {e}\n  (paths in a track-record file are relative to its own folder)",
            ep.line
        ))
    };
    let mut seen: Vec<(PathBuf, usize)> = Vec::new();
    for ep in &episodes {
        if ep.revised.is_none() {
            if let Some((_, first)) = seen.iter().find(|(p, _)| *p == ep.scenario) {
                return Err(Failure::Usage(format!(
                    "{file_name}:{}: the scenario {} is already an episode (line {first}): its questions would count \
                     twice; mark a changed version with `revised = \"DATE: why\"`",
                    ep.line,
                    ep.scenario.display()
                )));
            }
            seen.push((ep.scenario.clone(), ep.line));
        }
        for p in ep.params.iter().chain([&ep.scenario, &ep.record]) {
            if let Err(e) = std::fs::metadata(p) {
                return Err(at(ep, format!("cannot read {}: {e}", p.display())));
            }
        }
        let files = ep.params.iter().map(|p| scenario::ParamsFile::read(p)).collect::<Result<Vec<_>, _>>()?;
        let params = if files.is_empty() {
            None
        } else {
            Some(std::sync::Arc::new(scenario::ParamsFile::layered(files).map_err(LoadError::Invalid)?))
        };
        let ov = Overrides { params, ..Overrides::default() };
        let (model, source) = scenario::load(&ep.scenario, &ov)?;
        let scenario_file = ep.scenario.display().to_string();
        if model.questions.is_empty() {
            return Err(Failure::Usage(format!(
                "{scenario_file}: the scenario asks no [[questions]]: a track record scores the questions a \
                 scenario writes down (docs/scenario-language.md)"
            )));
        }
        let Some(start) = model.start else {
            return Err(Failure::Usage(format!(
                "{scenario_file}: the scenario has no `start` date: a track record orders its episodes by day 0 \
                 and reads their records by date"
            )));
        };
        let record_text = crate::scenario::input::read_text(&ep.record, "event log")
            .map_err(|e| Failure::Usage(e.to_string()))?;
        let record_file = ep.record.display().to_string();
        let log = crate::scenario::log::parse_within(&record_file, &record_text, &model)
            .map_err(|e| Failure::Usage(e.to_string()))?;
        // The scenario's and the record's source keys, checked as `brink score` checks them.
        let cited = crate::scenario::sources::check(&ep.scenario, &source)
            .map_err(|e| Failure::Usage(e.to_string()))?;
        if let Some(c) = &cited {
            crate::scenario::sources::check_log(&record_file, &log, &c.sources)
                .map_err(|e| Failure::Usage(e.to_string()))?;
        }
        let within = log.events.iter().filter(|e| e.day < f64::from(model.horizon_days)).count();
        if within == 0 {
            return Err(at(
                ep,
                format!(
                    "{record_file} has no row between {start} and the end of the scenario's window ({} rows outside it): \
                     is it the record of another episode?",
                    log.outside
                ),
            ));
        }
        if log.histories > 1 {
            return Err(Failure::Usage(format!(
                "{record_file}: the log holds {} histories (its `trial` column); a record is one history",
                log.histories
            )));
        }
        let spec = RunSpec {
            trials: a.trials.or(ep.trials).unwrap_or(model.trials),
            seed: model.seed,
            threads,
            max_events: model.max_events,
        };
        let answers = model
            .questions
            .iter()
            .map(|q| Answer {
                episode: model.name.clone(),
                day0: start.to_string(),
                question: q.clone(),
                target: model.asked_text(q.target),
                trials: spec.trials,
                hits: 0,
                outcome: track::outcome(&model, &log, q),
                prior: (0, 0),
                revised: ep.revised.clone(),
            })
            .collect();
        reads.push(ep.scenario.clone());
        reads.push(ep.record.clone());
        reads.extend(ep.params.iter().cloned());
        loaded.push(Loaded {
            params: ov.params.as_deref().map(ParamsFileRecord::of),
            model,
            source,
            scenario_file,
            record_file,
            record_text,
            answers,
            spec,
        });
    }
    // Episodes by day 0 (stable: file order on the same day).
    loaded.sort_by(|x, y| x.answers[0].day0.cmp(&y.answers[0].day0));
    let dest = a.output.out.clone().unwrap_or_else(|| Path::new("output").join("track-record"));
    let read_refs: Vec<&Path> = reads.iter().map(PathBuf::as_path).collect();
    let staging = Staging::create(&dest, a.output.force, &read_refs)?;
    let total: u64 = loaded
        .iter()
        .map(|l| l.spec.trials.saturating_mul(distinct_windows(&l.model)))
        .fold(0, u64::saturating_add);
    let bar = progress_bar(total, a.output.quiet);
    let mut done: u64 = 0;
    for l in &mut loaded {
        let hits = track::forecast(&l.model, &l.spec).map_err(Failure::Run)?;
        for (ans, h) in l.answers.iter_mut().zip(hits) {
            ans.hits = h;
        }
        done = done.saturating_add(l.spec.trials.saturating_mul(distinct_windows(&l.model)));
        bar.set_position(done);
    }
    bar.finish_and_clear();
    let mut answers: Vec<Answer> = loaded.iter().flat_map(|l| l.answers.iter().cloned()).collect();
    track::set_priors(&mut answers);
    let means = track::summary(&answers);
    let records: Vec<EpisodeRecord<'_>> = loaded
        .iter()
        .map(|l| EpisodeRecord {
            scenario: (&l.scenario_file, &l.source),
            record: (&l.record_file, &l.record_text),
            params_file: l.params.clone(),
            trials: l.spec.trials,
            seed: l.spec.seed,
        })
        .collect();
    let mut files = vec![
        ("track-record.csv".to_owned(), crate::output::track::track_csv(&answers)),
        ("track-summary.csv".to_owned(), crate::output::track::summary_csv(&means)),
    ];
    push_folder_manifest(&mut files, track_manifest((&a.file.display().to_string(), &file_text), &records));
    let written: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    write_files(&staging, files)?;
    let dest = staging.commit()?;
    if !a.output.quiet {
        let view = crate::present::summary::TrackView {
            file: &a.file.display().to_string(),
            episodes: episodes.len(),
            answers: &answers,
            means,
            dest: &dest,
            files: &written,
        };
        say(&crate::present::summary::track_summary(&view));
    }
    Ok(())
}

/// How many runs an episode's questions take: one per distinct window.
fn distinct_windows(m: &Model) -> u64 {
    let mut d: Vec<u32> = m.questions.iter().map(|q| q.days).collect();
    d.sort_unstable();
    d.dedup();
    d.len() as u64
}
