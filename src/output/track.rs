//! The file of `brink track-record` (docs/track-record.md): `track-record.csv`, one row
//! per question of each episode, with brink's probability, the record's answer and both
//! forecasters' scores.

use crate::analysis::track::{Answer, PairedMeans};
use crate::output::text::sig;

/// brink's (Brier, log) and the baseline's.
type Both = ((f64, f64), (f64, f64));

/// `track-summary.csv`: `score,questions,brink,base_rate,gain,gain_lo,gain_hi`, one row per
/// score (Brier, log): the means over the answered questions outside revised entries, and
/// the base rate's mean minus brink's with its 95% paired-bootstrap interval.
pub fn summary_csv(means: &(Option<PairedMeans>, Option<PairedMeans>)) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["score", "questions", "brink", "base_rate", "gain", "gain_lo", "gain_hi"]);
    for (name, m) in [("brier", &means.0), ("log_score", &means.1)] {
        if let Some(m) = m {
            let _ = w.write_record([
                name.to_owned(),
                m.n.to_string(),
                sig(m.brink, 6),
                sig(m.baseline, 6),
                sig(m.gain.0, 6),
                sig(m.gain.1, 6),
                sig(m.gain.2, 6),
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// `track-record.csv`: `episode,day0,question,kind,text,target,days,trials,p,p_lo,p_hi,
/// outcome,brier,log_score,floored,base_rate,base_yes,base_asked,base_brier,base_log_score,
/// revised`. An unanswered question leaves its outcome and scores empty.
pub fn track_csv(answers: &[Answer]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "episode",
        "day0",
        "question",
        "kind",
        "text",
        "target",
        "days",
        "trials",
        "p",
        "p_lo",
        "p_hi",
        "outcome",
        "brier",
        "log_score",
        "floored",
        "base_rate",
        "base_yes",
        "base_asked",
        "base_brier",
        "base_log_score",
        "revised",
    ]);
    for a in answers {
        let (lo, hi) = a.interval();
        let s = a.scored();
        let pick = |f: &dyn Fn(&Both) -> f64| s.as_ref().map(|x| sig(f(x), 6)).unwrap_or_default();
        let _ = w.write_record([
            a.episode.clone(),
            a.day0.clone(),
            a.question.id.clone(),
            a.question.kind.clone(),
            a.question.text.clone(),
            a.target.clone(),
            a.question.days.to_string(),
            a.trials.to_string(),
            sig(a.p(), 6),
            sig(lo, 6),
            sig(hi, 6),
            match a.outcome {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => String::new(),
            },
            pick(&|x| x.0 .0),
            pick(&|x| x.0 .1),
            if s.is_some() { a.floored().to_string() } else { String::new() },
            sig(a.baseline(), 6),
            a.prior.0.to_string(),
            a.prior.1.to_string(),
            pick(&|x| x.1 .0),
            pick(&|x| x.1 .1),
            a.revised.clone().unwrap_or_default(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
