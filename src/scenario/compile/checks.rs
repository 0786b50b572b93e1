//! Whole-model checks that run once every step is known: zero-delay trigger cycles and
//! the stability of self-excitation.

use super::*;

impl Ctx {
    /// Excitations form a multi-type branching process: a firing of step s causes on
    /// average M[s][t] = sum over its branches of p x n firings of step t. The process
    /// is stable (finite clusters) only if the spectral radius of M is below 1.
    pub(super) fn excitation_stability(&mut self, doc: &raw::Document, steps: &[model::Step]) {
        let Some(m) = ExcitationMatrix::new(steps) else { return };
        let rho = m.spectral_radius();
        if rho >= 1.0 - 1e-12 {
            let exciting = m.steps.iter().zip(&m.rows).filter(|(_, row)| row.iter().any(|&(_, x)| x > 0.0));
            let involved: Vec<&str> = exciting.clone().map(|(&s, _)| steps[s].id.as_str()).collect();
            let first = exciting.map(|(&s, _)| s).next().unwrap_or(0);
            self.err(
                doc.steps[first].get_ref().id.span(),
                format!(
                    "self-excitation explodes: the branching ratio (spectral radius) of the excitations among {} is {rho:.3}, not below 1",
                    involved.join(", ")
                ),
            )
            .hint("each firing would cause on average one or more further firings, without end: lower the n of the excitations (weighted by branch p) so that their cycles multiply to less than 1");
        }
    }

    /// Zero-delay trigger cycles: reactions that can fire at the same instant forever.
    /// An edge counts when its p > 0 and its delay can be exactly 0; a cycle through a
    /// step with a `max` cap is finite and allowed.
    pub(super) fn zero_delay_cycles(
        &mut self,
        doc: &raw::Document,
        steps: &[model::Step],
        triggers: &[model::Trigger],
    ) {
        let n = steps.len();
        let mut adj = vec![Vec::new(); n];
        for (ti, t) in triggers.iter().enumerate() {
            if t.p > 0.0
                && t.delay.can_be_zero()
                && steps[t.step].max.is_none()
                && steps[t.after].max.is_none()
            {
                adj[t.after].push((t.step, ti));
            }
        }
        // Depth-first search with colours; report each cycle once.
        let mut colour = vec![0u8; n];
        let mut stack: Vec<usize> = Vec::new();
        for root in 0..n {
            if colour[root] == 0 {
                if let Some(cycle) = dfs(root, &adj, &mut colour, &mut stack) {
                    let names: Vec<&str> = cycle.iter().map(|&s| steps[s].id.as_str()).collect();
                    let first = cycle[0];
                    let span = doc.steps[first].get_ref().id.span();
                    self.err(span, format!("zero-delay trigger cycle: {} -> {}", names.join(" -> "), names[0]))
                        .hint("these triggers can fire each other at the same instant forever: give one of them a delay that cannot be 0, set its p to 0, or put a `max` on a step of the cycle");
                    return;
                }
            }
        }
    }
}

/// The excitation matrix M restricted to the steps that take part in excitations (they
/// excite or are excited), stored by sparse rows. A model with 20,000 steps and a few
/// excitations gets a matrix of a few rows, not 20,000 x 20,000 (3.2 GB). The other steps'
/// rows and columns are zero, so they change neither M's spectral radius nor, as shown
/// at [`sparse_spectral_radius`], a single bit of its computation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExcitationMatrix {
    /// The steps taking part, in step order: row and column i belong to `steps[i]`.
    pub steps: Vec<model::StepIx>,
    /// Row i: `(column, M[steps[i]][steps[column]])` in increasing column order, one entry
    /// per pair that some excitation connects.
    pub rows: Vec<Vec<(usize, f64)>>,
}

impl ExcitationMatrix {
    /// The matrix of `steps`' excitations, or `None` if there are none.
    pub fn new(steps: &[model::Step]) -> Option<ExcitationMatrix> {
        const OUT: usize = usize::MAX;
        let mut index = vec![OUT; steps.len()];
        let mut taking_part = Vec::new();
        for (s, step) in steps.iter().enumerate() {
            for x in step.branches.iter().flat_map(|b| &b.excite) {
                for t in [s, x.step] {
                    if index[t] == OUT {
                        index[t] = 0;
                        taking_part.push(t);
                    }
                }
            }
        }
        if taking_part.is_empty() {
            return None;
        }
        taking_part.sort_unstable();
        for (i, &s) in taking_part.iter().enumerate() {
            index[s] = i;
        }
        let mut rows = vec![Vec::new(); taking_part.len()];
        for (s, step) in steps.iter().enumerate() {
            for b in &step.branches {
                for x in &b.excite {
                    // Each cell sums its terms in the order a dense matrix's `+=` did.
                    let row: &mut Vec<(usize, f64)> = &mut rows[index[s]];
                    let col = index[x.step];
                    match row.iter_mut().find(|(c, _)| *c == col) {
                        Some((_, cell)) => *cell += b.p * x.n,
                        None => row.push((col, 0.0 + b.p * x.n)),
                    }
                }
            }
        }
        for row in &mut rows {
            row.sort_unstable_by_key(|&(c, _)| c);
        }
        Some(ExcitationMatrix { steps: taking_part, rows })
    }

    /// The number of rows (and columns).
    #[cfg(test)]
    pub(crate) fn dimension(&self) -> usize {
        self.steps.len()
    }

    /// The branching ratio: M's spectral radius.
    pub fn spectral_radius(&self) -> f64 {
        sparse_spectral_radius(&self.rows)
    }
}

/// Spectral radius of a non-negative square matrix by power iteration (Perron-Frobenius:
/// the dominant eigenvalue is real and non-negative).
pub fn spectral_radius(m: &[Vec<f64>]) -> f64 {
    let rows: Vec<Vec<(usize, f64)>> =
        m.iter().map(|r| r.iter().copied().enumerate().filter(|&(_, x)| x != 0.0).collect()).collect();
    sparse_spectral_radius(&rows)
}

/// [`spectral_radius`] of a matrix given by sparse rows (`(column, value)`, columns
/// increasing). It computes the very bits the dense iteration computed on any matrix
/// that holds these rows plus rows and columns of zeros: a zero term adds +0.0 to a
/// sum, which changes no bit of it, and an all-zero row and column keeps its entry of
/// the iterated vector at or below every other entry, so the maximum (the norm) is the
/// same. A sum that overflows is an explosion (the dense iteration lost it in NaNs).
pub fn sparse_spectral_radius(rows: &[Vec<(usize, f64)>]) -> f64 {
    let k = rows.len();
    if k == 0 {
        return 0.0;
    }
    // Power iteration on M + I avoids oscillation for periodic (cyclic) matrices; its
    // dominant eigenvalue is rho + 1.
    let mut v = vec![1.0; k];
    let mut w = vec![0.0; k];
    let mut rho = 0.0;
    for _ in 0..100_000 {
        for (i, row) in rows.iter().enumerate() {
            w[i] = v[i] + row.iter().map(|&(j, x)| x * v[j]).sum::<f64>();
        }
        let norm = w.iter().cloned().fold(0.0f64, f64::max);
        if norm == 0.0 {
            return 0.0;
        }
        if !norm.is_finite() {
            return f64::INFINITY;
        }
        for x in &mut w {
            *x /= norm;
        }
        let next = norm - 1.0;
        let done = (next - rho).abs() < 1e-14;
        rho = next;
        std::mem::swap(&mut v, &mut w);
        if done {
            break;
        }
    }
    rho.max(0.0)
}

fn dfs(
    u: usize,
    adj: &[Vec<(usize, usize)>],
    colour: &mut [u8],
    stack: &mut Vec<usize>,
) -> Option<Vec<usize>> {
    colour[u] = 1;
    stack.push(u);
    for &(v, _) in &adj[u] {
        if colour[v] == 1 {
            let pos = stack.iter().position(|&x| x == v).unwrap_or(0);
            return Some(stack[pos..].to_vec());
        }
        if colour[v] == 0 {
            if let Some(c) = dfs(v, adj, colour, stack) {
                return Some(c);
            }
        }
    }
    stack.pop();
    colour[u] = 2;
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{compile_str, Overrides};

    /// The dense power iteration that the sparse one replaced, kept to compare bits.
    fn dense_spectral_radius(m: &[Vec<f64>]) -> f64 {
        let k = m.len();
        let mut v = vec![1.0; k];
        let mut rho = 0.0;
        for _ in 0..100_000 {
            let mut w: Vec<f64> =
                (0..k).map(|i| v[i] + (0..k).map(|j| m[i][j] * v[j]).sum::<f64>()).collect();
            let norm = w.iter().cloned().fold(0.0f64, f64::max);
            if norm == 0.0 {
                return 0.0;
            }
            for x in &mut w {
                *x /= norm;
            }
            let next = norm - 1.0;
            let done = (next - rho).abs() < 1e-14;
            rho = next;
            v = w;
            if done {
                break;
            }
        }
        rho.max(0.0)
    }

    /// Steps s0..s{n-1} with the excitations `(from, to, n)`, on a branch of p 0.75. The
    /// n are written after compiling, so that explosive ones can be built too.
    fn steps_with_excitations(n: usize, excitations: &[(usize, usize, f64)]) -> Vec<model::Step> {
        let mut src =
            String::from("[scenario]\nname = \"t\"\nhorizon_days = 10\n[[levels]]\nid = \"calm\"\n");
        for s in 0..n {
            src += &format!("[[steps]]\nid = \"s{s}\"\nrate = 0.1\n");
            let mine: Vec<String> = excitations
                .iter()
                .filter(|e| e.0 == s)
                .map(|&(_, t, _)| format!("{{ step = \"s{t}\", n = 0.0001, decay_days = 1 }}"))
                .collect();
            if !mine.is_empty() {
                src += &format!(
                    "  [[steps.branches]]\n  id = \"b\"\n  p = 0.75\n  excite = [ {} ]\n  [[steps.branches]]\n  id = \"c\"\n  p = \"rest\"\n",
                    mine.join(", ")
                );
            }
        }
        let mut steps = compile_str("t.toml", &src, &Overrides::default()).expect("compiles").steps;
        for (s, step) in steps.iter_mut().enumerate() {
            let mut mine = excitations.iter().filter(|e| e.0 == s);
            for x in step.branches.iter_mut().flat_map(|b| &mut b.excite) {
                x.n = mine.next().expect("one per excitation").2;
            }
        }
        steps
    }

    /// Issue 12: 1,000 steps of which 4 excite or are excited give a 4 x 4 matrix.
    #[test]
    fn the_stability_matrix_spans_only_the_steps_taking_part() {
        let steps =
            steps_with_excitations(1000, &[(10, 500, 0.5), (500, 10, 0.5), (500, 999, 0.3), (7, 7, 0.2)]);
        let m = ExcitationMatrix::new(&steps).expect("excitations");
        assert_eq!(m.dimension(), 4);
        assert_eq!(m.steps, vec![7, 10, 500, 999]);
        assert_eq!(m.rows[2], vec![(1, 0.75 * 0.5), (3, 0.75 * 0.3)]);
        assert!(ExcitationMatrix::new(&steps_with_excitations(50, &[])).is_none());
    }

    /// The restricted sparse iteration gives the dense iteration's bits, on matrices with
    /// cycles, chains, self-loops, repeated cells and zero rows among the other steps (40
    /// random ones: the dense reference takes most of the time of the debug build's unit
    /// tests, which a fresh clone's set-up waits for).
    #[test]
    fn the_restricted_matrix_gives_the_dense_answer_bit_for_bit() {
        let mut seed = 12345u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..40 {
            let n = 3 + (next() % 20) as usize;
            let count = 1 + (next() % 12) as usize;
            let excitations: Vec<(usize, usize, f64)> = (0..count)
                .map(|_| {
                    let scale = if case % 2 == 0 { 1.5 } else { 0.4 };
                    (
                        (next() % n as u64) as usize,
                        (next() % n as u64) as usize,
                        (next() % 1000) as f64 / 1000.0 * scale,
                    )
                })
                .collect();
            let steps = steps_with_excitations(n, &excitations);
            let mut dense = vec![vec![0.0; n]; n];
            for (s, step) in steps.iter().enumerate() {
                for b in &step.branches {
                    for x in &b.excite {
                        dense[s][x.step] += b.p * x.n;
                    }
                }
            }
            let sparse = ExcitationMatrix::new(&steps).expect("excitations");
            let (want, got) = (dense_spectral_radius(&dense), sparse.spectral_radius());
            assert_eq!(want.to_bits(), got.to_bits(), "case {case}: {excitations:?}: {want} vs {got}");
            assert_eq!(spectral_radius(&dense).to_bits(), want.to_bits());
        }
    }

    /// An overflowing branching ratio is an explosion, not a NaN that passes the check.
    #[test]
    fn an_overflowing_branching_ratio_explodes() {
        assert_eq!(spectral_radius(&[vec![1e308, 1e308], vec![1e308, 1e308]]), f64::INFINITY);
    }
}
