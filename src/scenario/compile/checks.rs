//! Whole-model checks that run once every step is known: zero-delay trigger cycles and
//! the stability of self-excitation.

use super::*;

impl Ctx {
    /// Excitations form a multi-type branching process: a firing of step s causes on
    /// average M[s][t] = sum over its branches of p x n firings of step t. The process
    /// is stable (finite clusters) only if the spectral radius of M is below 1.
    pub(super) fn excitation_stability(&mut self, doc: &raw::Document, steps: &[model::Step]) {
        let k = steps.len();
        let mut m = vec![vec![0.0; k]; k];
        let mut any = false;
        for (s, step) in steps.iter().enumerate() {
            for b in &step.branches {
                for x in &b.excite {
                    m[s][x.step] += b.p * x.n;
                    any = true;
                }
            }
        }
        if !any {
            return;
        }
        let rho = spectral_radius(&m);
        if rho >= 1.0 - 1e-12 {
            let involved: Vec<&str> =
                (0..k).filter(|&s| m[s].iter().any(|&x| x > 0.0)).map(|s| steps[s].id.as_str()).collect();
            let first = (0..k).find(|&s| m[s].iter().any(|&x| x > 0.0)).unwrap_or(0);
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

/// Spectral radius of a non-negative matrix by power iteration (Perron-Frobenius: the
/// dominant eigenvalue is real and non-negative). Matrices here are small.
pub fn spectral_radius(m: &[Vec<f64>]) -> f64 {
    let k = m.len();
    if k == 0 {
        return 0.0;
    }
    // Power iteration on M + I avoids oscillation for periodic (cyclic) matrices; its
    // dominant eigenvalue is rho + 1.
    let mut v = vec![1.0; k];
    let mut rho = 0.0;
    for _ in 0..100_000 {
        let mut w: Vec<f64> = (0..k).map(|i| v[i] + (0..k).map(|j| m[i][j] * v[j]).sum::<f64>()).collect();
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
