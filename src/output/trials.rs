//! `trials.csv`: one row per trial (MODEL.md §4), formatted without allocation per row.

use crate::engine::Outcome;
use crate::model::Model;
use std::io::Write;

/// Column names of `trials.csv`, in order.
pub fn header(model: &Model) -> Vec<String> {
    let mut h: Vec<String> = ["trial", "end_day", "end_reason", "final_level", "max_level"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(model.levels.iter().map(|l| format!("reached_{}_day", l.id)));
    h.extend(model.steps.iter().map(|s| format!("count_{}", s.id)));
    h.extend(model.tallies.iter().map(|t| t.id.clone()));
    h.push("path".into());
    h
}

/// Rows of `trials.csv` for a chunk of trials, in a byte buffer.
pub struct TrialRows<'m> {
    model: &'m Model,
    buf: Vec<u8>,
}

impl<'m> TrialRows<'m> {
    /// An empty buffer.
    pub fn new(model: &'m Model) -> Self {
        TrialRows {
            model,
            buf: Vec::new(),
        }
    }

    /// Appends the row of one trial. Ids are `[a-z0-9_]`, so nothing needs quoting.
    pub fn push(&mut self, o: &Outcome<'_>) {
        let m = self.model;
        let b = &mut self.buf;
        let _ = write!(
            b,
            "{},{},{},{},{}",
            o.trial,
            Day(o.end_day),
            o.end_reason.as_str(),
            m.levels[o.final_level].id,
            m.levels[o.max_level].id
        );
        for &r in o.reached {
            b.push(b',');
            if !r.is_nan() {
                let _ = write!(b, "{}", Day(r));
            }
        }
        for &c in o.counts {
            let _ = write!(b, ",{c}");
        }
        for &t in o.tallies {
            let _ = write!(b, ",{t}");
        }
        b.push(b',');
        for (i, &s) in o.path.iter().enumerate() {
            if i > 0 {
                b.push(b'>');
            }
            b.extend_from_slice(m.steps[s as usize].id.as_bytes());
        }
        b.push(b'\n');
    }

    /// The rows written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// A day, written with 4 decimals (8.6 seconds), trailing zeros kept for fixed width.
pub struct Day(pub f64);

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.4}", self.0)
    }
}
