//! `events.csv`: one row per firing of a trial, in tidy form.
//!
//! `trials.csv` says how each trial ended; this file says how it got there, for the first
//! trials of a run (`brink run --events K`) and for `brink trace --format csv`. Rows are
//! built by an engine [`Observer`], so they describe exactly the trial that the run
//! computed, and go to the writer one trial at a time, so the file is streamed.

use crate::output::trials::push_day;
use crate::sim::engine::{EndReason, Firing, Observer};
use crate::sim::model::{LevelIx, Model, TallyIx};
use std::io::Write;

/// Column names of `events.csv`, in order: the fixed columns, then one per tally.
pub fn header(model: &Model) -> Vec<String> {
    let mut h: Vec<String> =
        ["trial", "day", "date", "actor", "step", "branch", "level_before", "level_after"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    h.extend(model.tallies.iter().map(|t| t.id.clone()));
    h
}

/// The header line, with its line end.
pub(crate) fn header_line(model: &Model) -> Vec<u8> {
    let mut b = header(model).join(",").into_bytes();
    b.push(b'\n');
    b
}

/// An [`Observer`] that formats one `events.csv` row per firing into a buffer. Drain it
/// with [`EventRows::write_to`] after each trial.
pub(crate) struct EventRows<'m> {
    model: &'m Model,
    buf: Vec<u8>,
    trial: u64,
    /// The firing whose row is being built, if any.
    open: Option<Firing>,
    level_after: LevelIx,
    amounts: Vec<u64>,
}

impl<'m> EventRows<'m> {
    /// An empty buffer.
    pub(crate) fn new(model: &'m Model) -> Self {
        EventRows {
            model,
            buf: Vec::new(),
            trial: 0,
            open: None,
            level_after: 0,
            amounts: vec![0; model.tallies.len()],
        }
    }

    /// Writes the finished rows to `w` and empties the buffer.
    pub(crate) fn write_to(&mut self, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn close_row(&mut self) {
        let Some(f) = self.open.take() else { return };
        let m = self.model;
        let step = &m.steps[f.step];
        let b = &mut self.buf;
        let mut ints = itoa::Buffer::new();
        b.extend_from_slice(ints.format(self.trial).as_bytes());
        b.push(b',');
        push_day(b, f.time);
        b.push(b',');
        if let Some(start) = m.start {
            let _ = write!(b, "{}", start.plus_days(f.time.floor() as i64));
        }
        b.push(b',');
        // An actor is free text: a huge one is cut (to SHOWN_TEXT_CHARS) so that rows stay
        // short; a short one is borrowed, so nothing is allocated per event.
        push_field(b, &crate::scenario::diag::shown_text(&step.actor));
        for text in [
            step.id.as_str(),
            &step.branches[f.branch].id,
            &m.levels[f.level].id,
            &m.levels[self.level_after].id,
        ] {
            b.push(b',');
            b.extend_from_slice(text.as_bytes());
        }
        for &x in &self.amounts {
            b.push(b',');
            b.extend_from_slice(ints.format(x).as_bytes());
        }
        b.push(b'\n');
    }
}

impl Observer for EventRows<'_> {
    fn on_start(&mut self, trial: u64) {
        self.trial = trial;
        self.open = None;
    }

    fn on_fire(&mut self, firing: &Firing) {
        self.close_row();
        self.open = Some(*firing);
        self.level_after = firing.level;
        self.amounts.fill(0);
    }

    fn on_tally(&mut self, tally: TallyIx, amount: u64) {
        self.amounts[tally] = self.amounts[tally].saturating_add(amount);
    }

    fn on_level(&mut self, _from: LevelIx, to: LevelIx) {
        self.level_after = to;
    }

    fn on_end(&mut self, _t: f64, _reason: EndReason) {
        self.close_row();
    }
}

/// Appends a CSV field, quoted only if it has to be (free text such as an actor).
pub(crate) fn push_field(b: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        b.push(b'"');
        b.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        b.push(b'"');
    } else {
        b.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::push_field;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let f = |s: &str| {
            let mut b = Vec::new();
            push_field(&mut b, s);
            String::from_utf8(b).unwrap()
        };
        assert_eq!(f("militia"), "militia");
        assert_eq!(f("US, UK"), "\"US, UK\"");
        assert_eq!(f("the \"us\""), "\"the \"\"us\"\"\"");
    }
}
