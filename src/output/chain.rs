//! The escalation chain as data a results folder keeps in `manifest.json`; the diagrams
//! of `brink graph` and the report's chain picture are drawn from it or from the model.

use super::text::num;
use crate::sim::model::{LevelChange, Model};
use serde::{Deserialize, Serialize};

/// The chain in a form that a results folder can keep (in `manifest.json`), so that the
/// report, which `brink plot` redraws from the folder alone, can draw it without the
/// scenario file. Ids and short texts only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    /// Level ids, lowest first.
    pub levels: Vec<String>,
    /// Steps, in file order.
    pub steps: Vec<ChainStep>,
    /// Triggers, then excitations, then modifiers, each in file order.
    pub links: Vec<ChainLink>,
}

/// A step of a [`Chain`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainStep {
    /// Step id.
    pub id: String,
    /// Actor (may be empty).
    pub actor: String,
    /// Spontaneous rate per day, if any.
    pub rate: Option<f64>,
    /// Cap on firings per trial, if any.
    pub max: Option<u32>,
    /// Whether a `[[schedule]]` entry fires it.
    pub scheduled: bool,
    /// The highest level a branch raises the level to (or lowers it to), by id.
    pub level: Option<String>,
}

/// A trigger, modifier or excitation of a [`Chain`]: `from` (its `branch`, if one) makes
/// something happen to `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainLink {
    /// `trigger`, `excite` or `modifier`.
    pub kind: String,
    /// The step that fires first.
    pub from: String,
    /// Only after this branch of it.
    pub branch: Option<String>,
    /// The step that reacts, is excited or is modified.
    pub to: String,
    /// p for a trigger, n for an excitation, the multipliers for a modifier.
    pub label: String,
}

impl Chain {
    /// The chain of a model.
    pub fn of(model: &Model) -> Chain {
        let mut links = Vec::new();
        for (ti, t) in model.triggers.iter().enumerate() {
            let after = &model.steps[t.after];
            links.push(ChainLink {
                kind: "trigger".into(),
                from: after.id.clone(),
                branch: t.after_branch.map(|b| after.branches[b].id.clone()),
                to: model.steps[t.step].id.clone(),
                label: format!("p {}", crate::output::text::sig(model.triggers[ti].p, 3)),
            });
        }
        for kind in ["excite", "modifier"] {
            for step in &model.steps {
                for b in &step.branches {
                    let targets: Vec<(usize, String)> = if kind == "excite" {
                        b.excite.iter().map(|x| (x.step, format!("n {}", num(x.n)))).collect()
                    } else {
                        b.modify.iter().map(|m| (m.step, modifier_label(m))).collect()
                    };
                    for (to, label) in targets {
                        links.push(ChainLink {
                            kind: kind.into(),
                            from: step.id.clone(),
                            branch: Some(b.id.clone()),
                            to: model.steps[to].id.clone(),
                            label,
                        });
                    }
                }
            }
        }
        Chain {
            levels: model.levels.iter().map(|l| l.id.clone()).collect(),
            steps: model
                .steps
                .iter()
                .enumerate()
                .map(|(si, st)| ChainStep {
                    id: st.id.clone(),
                    actor: st.actor.clone(),
                    rate: st.rate,
                    max: st.max,
                    scheduled: model.schedule.iter().any(|e| e.step == si),
                    level: st
                        .branches
                        .iter()
                        .filter_map(|b| match b.level {
                            LevelChange::RaiseTo(l) | LevelChange::LowerTo(l) => Some(l),
                            LevelChange::None => None,
                        })
                        .max()
                        .map(|l| model.levels[l].id.clone()),
                })
                .collect(),
            links,
        }
    }
}

/// The modifier's effect in words, as the diagrams label it.
pub(crate) fn modifier_label(m: &crate::sim::model::ModifierSpec) -> String {
    let mut what = Vec::new();
    if m.rate_x != 1.0 {
        what.push(format!("rate x{}", num(m.rate_x)));
    }
    if m.p_x != 1.0 {
        what.push(format!("trigger p x{}", num(m.p_x)));
    }
    format!("{} for {} d", what.join(", "), num(m.days))
}
