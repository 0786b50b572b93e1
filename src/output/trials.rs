//! `trials.csv`: one row per trial (docs/outputs.md), formatted without allocation per row.

use crate::output::digest::DigestWriter;
use crate::output::{io_at, OutputError};
use crate::sim::accumulate::Accumulate;
use crate::sim::engine::Outcome;
use crate::sim::model::Model;
use std::io::{BufWriter, Write};
use std::path::Path;

/// A row file being streamed out: buffered, and hashed when it belongs to a shard.
pub(crate) type RowWriter = DigestWriter<BufWriter<std::fs::File>>;

/// Creates `trials.csv` at `path` with its header line, ready for the runner's rows.
/// With `hash` (a shard's rows), its SHA-256 is computed on the way out, for
/// `shard.json`: [`DigestWriter::finish`].
pub fn create(path: &Path, model: &Model, hash: bool) -> Result<RowWriter, OutputError> {
    let file = std::fs::File::create(path).map_err(io_at(path))?;
    let mut w = DigestWriter::new(BufWriter::with_capacity(1 << 20, file), hash);
    w.write_all(header(model).join(",").as_bytes()).and_then(|_| w.write_all(b"\n")).map_err(io_at(path))?;
    Ok(w)
}

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

/// Rows of `trials.csv` for a chunk of trials, in a byte buffer; or, as a run's total
/// ([`TrialRows::to`]), every chunk's rows streamed to a writer in chunk order.
pub struct TrialRows<'m> {
    model: &'m Model,
    buf: Vec<u8>,
    /// Where merged chunks' rows go (None: they are kept in `buf`).
    sink: Option<&'m mut (dyn Write + Send)>,
}

impl<'m> TrialRows<'m> {
    /// An empty buffer.
    pub fn new(model: &'m Model) -> Self {
        TrialRows { model, buf: Vec::new(), sink: None }
    }

    /// A run's total: the rows of each chunk merged into it are written to `sink`, so a
    /// run of any size holds only the chunks not yet merged.
    pub fn to(model: &'m Model, sink: &'m mut (dyn Write + Send)) -> Self {
        TrialRows { model, buf: Vec::new(), sink: Some(sink) }
    }

    /// Appends the row of one trial. Ids are `[a-z0-9_]`, so nothing needs quoting.
    pub fn push(&mut self, o: &Outcome<'_>) {
        let m = self.model;
        let b = &mut self.buf;
        let mut ints = itoa::Buffer::new();
        b.extend_from_slice(ints.format(o.trial).as_bytes());
        b.push(b',');
        push_day(b, o.end_day);
        for text in [o.end_reason.as_str(), &m.levels[o.final_level].id, &m.levels[o.max_level].id] {
            b.push(b',');
            b.extend_from_slice(text.as_bytes());
        }
        for &r in o.reached {
            b.push(b',');
            if !r.is_nan() {
                push_day(b, r);
            }
        }
        for &c in o.counts {
            b.push(b',');
            b.extend_from_slice(ints.format(c).as_bytes());
        }
        for &t in o.tallies {
            b.push(b',');
            b.extend_from_slice(ints.format(t).as_bytes());
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

/// One row per trial, in trial order.
impl Accumulate for TrialRows<'_> {
    fn add(&mut self, _model: usize, outcome: &Outcome<'_>, _first: &Outcome<'_>) {
        self.push(outcome)
    }

    fn merge(&mut self, later: Self) -> std::io::Result<()> {
        match &mut self.sink {
            Some(w) => w.write_all(&later.buf),
            None => {
                self.buf.extend_from_slice(&later.buf);
                Ok(())
            }
        }
    }
}

/// Appends a day (>= 0) with exactly 4 decimals (8.6 seconds): `round(day * 10^4)`
/// split at the decimal point. Integer arithmetic after one IEEE multiply and round, so
/// the text is the same on every platform, and much faster than `format!("{:.4}")`.
pub(crate) fn push_day(b: &mut Vec<u8>, day: f64) {
    let n = (day * 10_000.0).round().max(0.0) as u64;
    let mut ints = itoa::Buffer::new();
    b.extend_from_slice(ints.format(n / 10_000).as_bytes());
    let frac = n % 10_000;
    b.extend_from_slice(&[
        b'.',
        b'0' + (frac / 1000) as u8,
        b'0' + (frac / 100 % 10) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

#[cfg(test)]
mod tests {
    use super::push_day;

    #[test]
    fn days_have_four_decimals() {
        let text = |d| {
            let mut b = Vec::new();
            push_day(&mut b, d);
            String::from_utf8(b).unwrap()
        };
        assert_eq!(text(0.0), "0.0000");
        assert_eq!(text(90.0), "90.0000");
        assert_eq!(text(1.23456), "1.2346");
        assert_eq!(text(0.00004), "0.0000");
        assert_eq!(text(12.99996), "13.0000");
        assert_eq!(text(5.0007), "5.0007");
    }
}
