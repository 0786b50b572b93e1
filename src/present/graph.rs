//! The escalation chain as a diagram (`brink graph`), in Graphviz DOT or Mermaid.
//!
//! A scenario file lists steps one by one; the chain they make (who reacts to what, with
//! which probability and delay, and which rung each outcome reaches) is easier to check
//! as a picture. Both formats show the same things: the ladder of levels, one node per
//! step (its actor, its rate if it arrives spontaneously, windows and cap), its branches
//! (p, tallies, level change), triggers as edges labelled with p, delay and guards,
//! modifiers and excitations as dashed and dotted edges, and the schedule. Branches that
//! raise the level share the colour of that level on the ladder (light for the lowest
//! rung, dark for the highest, the ramp of the charts).
//!
//! Output is text only; brink never calls Graphviz. DOT renders with `dot -Tsvg`, and
//! Mermaid renders in Markdown viewers that support it.

use crate::output::chain::modifier_label;
use crate::output::text::num;
use crate::scenario::diag::{shown_actor, shown_text};
use crate::sim::model::{Branch, LevelChange, Model, Step};
use std::fmt::Write as _;

/// Viridis anchors, as in the charts.
const VIRIDIS: [(u8, u8, u8); 5] =
    [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)];

/// Colour of level `i` of `n` (light for the lowest rung), and whether it is light.
fn level_colour(i: usize, n: usize) -> (String, bool) {
    let t = if n <= 1 { 0.5 } else { 0.88 - 0.88 * i as f64 / (n - 1) as f64 };
    let t = t.clamp(0.0, 1.0) * 4.0;
    let k = (t.floor() as usize).min(3);
    let f = t - k as f64;
    let (a, b) = (VIRIDIS[k], VIRIDIS[k + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    let (r, g, bl) = (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
    let light = 0.2126 * r as f64 + 0.7152 * g as f64 + 0.0722 * bl as f64 > 140.0;
    (format!("#{r:02x}{g:02x}{bl:02x}"), light)
}

/// What a step's header says about how it fires by itself: rate, windows, cap.
fn step_notes(step: &Step) -> Vec<String> {
    let mut how = Vec::new();
    if let Some(r) = step.rate {
        let mut t = format!("spontaneous: rate {}/day", num(r));
        for w in &step.windows {
            let _ = write!(t, ", x{} on days {} to {}", num(w.rate_x), num(w.from), num(w.to));
        }
        how.push(t);
    }
    if let Some(m) = step.max {
        how.push(format!("at most {m} per trial"));
    }
    how
}

/// A branch's effects in short: tallies touched, level change.
fn branch_effects(model: &Model, b: &Branch) -> (Vec<String>, Option<String>) {
    let tallies = b.tallies.iter().map(|(t, _)| format!("+{}", model.tallies[*t].id)).collect();
    let level = match b.level {
        LevelChange::RaiseTo(l) => Some(format!("raise to {}", model.levels[l].id)),
        LevelChange::LowerTo(l) => Some(format!("lower to {}", model.levels[l].id)),
        LevelChange::None => None,
    };
    (tallies, level)
}

/// The label of a trigger edge: p, delay, guards.
fn trigger_label(model: &Model, ti: usize) -> Vec<String> {
    let t = &model.triggers[ti];
    let mut lines = vec![format!("p={}", num(t.p)), t.delay.describe()];
    if let Some(l) = t.min_level {
        lines.push(format!("if level >= {}", model.levels[l].id));
    }
    if let Some(l) = t.max_level {
        lines.push(format!("if level <= {}", model.levels[l].id));
    }
    lines
}

fn excite_label(x: &crate::sim::model::Excitation) -> String {
    format!("n={}, decay {} d", num(x.n), num(x.decay_days))
}

fn schedule_label(model: &Model, i: usize) -> String {
    let e = &model.schedule[i];
    match model.start {
        Some(d) => format!("day {} ({})", num(e.day), d.plus_days(e.day.floor() as i64)),
        None => format!("day {}", num(e.day)),
    }
}

/// Escapes text for a DOT quoted string.
fn dot_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            _ => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Escapes text inside a DOT HTML-like label.
fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The chain as a Graphviz `digraph`, top to bottom: the ladder on one side, steps as
/// tables whose rows are their branches, triggers from a branch (or from the whole step,
/// when the trigger reacts to any branch) to the step that reacts.
pub fn dot(model: &Model) -> String {
    let n = model.levels.len();
    let mut s = String::new();
    let _ = writeln!(s, "// {}: the escalation chain, drawn by `brink graph`", model.name);
    let _ = writeln!(s, "digraph {} {{", dot_str(&model.name));
    let mut title = format!("{}: {}", model.name, shown_text(&model.title));
    if let Some(v) = &model.variant {
        let _ = write!(title, " [{v}]");
    }
    let _ = writeln!(
        s,
        "  graph [rankdir=TB, labelloc=t, fontname=\"Helvetica\", fontsize=16, nodesep=0.35, ranksep=0.6, label={}];",
        dot_str(&title)
    );
    let _ = writeln!(s, "  node [fontname=\"Helvetica\", fontsize=10];");
    let _ = writeln!(s, "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#444444\"];");

    // The ladder.
    let _ = writeln!(s, "  subgraph cluster_ladder {{");
    let _ = writeln!(s, "    label=\"Escalation ladder\"; style=rounded; color=\"#999999\";");
    let _ = writeln!(s, "    node [shape=box, style=\"rounded,filled\"];");
    for (i, l) in model.levels.iter().enumerate() {
        let (fill, light) = level_colour(i, n);
        let mut label = format!("{}\n{}", l.id, shown_text(&l.label));
        if i == model.initial_level {
            label.push_str("\n(initial)");
        }
        if l.terminal {
            label.push_str("\n(terminal: ends the trial)");
        }
        let _ = writeln!(
            s,
            "    l_{} [label={}, fillcolor=\"{fill}\", fontcolor=\"{}\"{}];",
            l.id,
            dot_str(&wrap(&label, 40)),
            if light { "#111111" } else { "#ffffff" },
            if l.terminal { ", penwidth=2.5" } else { "" }
        );
    }
    for w in model.levels.windows(2) {
        let _ = writeln!(s, "    l_{} -> l_{} [color=\"#999999\"];", w[0].id, w[1].id);
    }
    let _ = writeln!(s, "  }}");

    // Steps as tables: a header, the firing notes, one row per branch (port b<i>).
    for step in &model.steps {
        let _ = writeln!(s, "  s_{} [shape=plain, label=<", step.id);
        let _ = writeln!(
            s,
            "    <table border=\"1\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"3\" color=\"#555555\">"
        );
        let actor = if step.actor.is_empty() {
            String::new()
        } else {
            format!(" ({})", html(&shown_actor(&step.actor)))
        };
        let _ = writeln!(
            s,
            "    <tr><td port=\"step\" bgcolor=\"#e8e8e8\"><b>{}</b>{actor}</td></tr>",
            html(&step.id)
        );
        for note in step_notes(step) {
            let _ = writeln!(s, "    <tr><td><font point-size=\"9\">{}</font></td></tr>", html(&note));
        }
        for (bi, b) in step.branches.iter().enumerate() {
            let (tallies, level) = branch_effects(model, b);
            let (fill, light) = match b.level {
                LevelChange::RaiseTo(l) | LevelChange::LowerTo(l) => level_colour(l, n),
                LevelChange::None => ("#ffffff".to_owned(), true),
            };
            let ink = if light { "#111111" } else { "#ffffff" };
            let mut cell = format!("{}  p={}", html(&b.id), num(b.p));
            if let Some(l) = level {
                let _ = write!(cell, "  <b>{}</b>", html(&l));
            }
            if !tallies.is_empty() {
                let t = html(&wrap(&tallies.join(" "), 44)).replace('\n', "<br/>");
                let _ = write!(cell, "<br/><font point-size=\"8\">{t}</font>");
            }
            let _ = writeln!(
                s,
                "    <tr><td port=\"b{bi}\" bgcolor=\"{fill}\" align=\"left\" balign=\"left\"><font color=\"{ink}\">{cell}</font></td></tr>"
            );
        }
        let _ = writeln!(s, "    </table>>];");
    }

    // The schedule.
    for (i, e) in model.schedule.iter().enumerate() {
        let _ = writeln!(
            s,
            "  sched_{i} [shape=cds, style=filled, fillcolor=\"#f4f4f4\", label={}];",
            dot_str(&format!("schedule\n{}", schedule_label(model, i)))
        );
        let (port, label) = match e.branch {
            Some(b) => (format!("b{b}"), format!("branch {}", model.steps[e.step].branches[b].id)),
            None => ("step".to_owned(), String::new()),
        };
        let _ = writeln!(
            s,
            "  sched_{i} -> s_{}:{port} [style=bold, label={}];",
            model.steps[e.step].id,
            dot_str(&label)
        );
    }

    // Triggers.
    for (ti, t) in model.triggers.iter().enumerate() {
        let port = t.after_branch.map_or("step".to_owned(), |b| format!("b{b}"));
        let _ = writeln!(
            s,
            "  s_{}:{port} -> s_{}:step [label={}, tooltip={}];",
            model.steps[t.after].id,
            model.steps[t.step].id,
            dot_str(&trigger_label(model, ti).join("\n")),
            dot_str(&format!("trigger {ti}"))
        );
    }

    // Modifiers.
    for step in &model.steps {
        for (bi, b) in step.branches.iter().enumerate() {
            for m in &b.modify {
                let _ = writeln!(
                    s,
                    "  s_{}:b{bi} -> s_{}:step [style=dashed, color=\"#b05a00\", fontcolor=\"#b05a00\", label={}];",
                    step.id,
                    model.steps[m.step].id,
                    dot_str(&format!("modifier\n{}", modifier_label(m)))
                );
            }
        }
    }

    // Excitations (self-exciting rates).
    for step in &model.steps {
        for (bi, b) in step.branches.iter().enumerate() {
            for x in &b.excite {
                let _ = writeln!(
                    s,
                    "  s_{}:b{bi} -> s_{}:step [style=dotted, color=\"#6a3d9a\", fontcolor=\"#6a3d9a\", label={}];",
                    step.id,
                    model.steps[x.step].id,
                    dot_str(&format!("excites\n{}", excite_label(x)))
                );
            }
        }
    }

    // A legend, so the picture explains itself.
    let _ = writeln!(
        s,
        "  legend [shape=note, fontsize=9, style=filled, fillcolor=\"#fafafa\", label={}];",
        dot_str(
            "How to read: a box is a step, its rows are branches (p per firing).\n\
             Solid arrow: trigger (p, delay, guard). Dashed: modifier. Dotted: excitation.\n\
             A coloured row raises the level to the rung of that colour."
        )
    );
    let _ = writeln!(s, "}}");
    s
}

/// Wraps text at spaces to lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (k, para) in text.split('\n').enumerate() {
        if k > 0 {
            out.push('\n');
        }
        let mut len = 0;
        for (i, word) in para.split(' ').enumerate() {
            let w = word.chars().count();
            if i > 0 {
                if len + 1 + w > width {
                    out.push('\n');
                    len = 0;
                } else {
                    out.push(' ');
                    len += 1;
                }
            }
            out.push_str(word);
            len += w;
        }
    }
    out
}

/// Escapes text for a Mermaid quoted label (quotes and angle brackets as entities).
fn mm(s: &str) -> String {
    s.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}

/// The chain as a Mermaid flowchart. Mermaid's layout has no ports, so it is kept
/// compact: the ladder as a subgraph, one node per step that lists its branches, and
/// triggers as edges that name the branch they react to. Each step is coloured like the
/// highest level it can raise the level to.
pub fn mermaid(model: &Model) -> String {
    let n = model.levels.len();
    let mut s = String::new();
    let mut title = format!("{}: {}", model.name, shown_text(&model.title));
    if let Some(v) = &model.variant {
        let _ = write!(title, " [{v}]");
    }
    // Wider labels than Mermaid's default of 200 px, so a step's branches fit on one
    // line each.
    let _ = writeln!(s, "---\ntitle: \"{}\"\nconfig:\n  flowchart:\n    wrappingWidth: 420\n---", mm(&title));
    let _ = writeln!(s, "flowchart TB");
    let _ = writeln!(s, "  subgraph ladder[\"Escalation ladder\"]");
    let _ = writeln!(s, "    direction TB");
    for (i, l) in model.levels.iter().enumerate() {
        let mut label = format!("<b>{}</b><br/>{}", l.id, mm(&shown_text(&l.label)));
        if i == model.initial_level {
            label.push_str("<br/>(initial)");
        }
        if l.terminal {
            label.push_str("<br/>(terminal)");
        }
        let _ = writeln!(s, "    l_{}([\"{label}\"])", l.id);
    }
    for w in model.levels.windows(2) {
        let _ = writeln!(s, "    l_{} --> l_{}", w[0].id, w[1].id);
    }
    let _ = writeln!(s, "  end");

    for step in &model.steps {
        let mut label = format!("<b>{}</b>", step.id);
        if !step.actor.is_empty() {
            let _ = write!(label, " ({})", mm(&shown_actor(&step.actor)));
        }
        for note in step_notes(step) {
            let _ = write!(label, "<br/><i>{}</i>", mm(&note));
        }
        for b in &step.branches {
            let (_, level) = branch_effects(model, b);
            let _ = write!(label, "<br/>• {} p={}", b.id, num(b.p));
            if let Some(l) = level {
                let _ = write!(label, " <b>{}</b>", mm(&l));
            }
        }
        let _ = writeln!(s, "  s_{}[\"{label}\"]", step.id);
    }
    for (i, e) in model.schedule.iter().enumerate() {
        let _ = writeln!(s, "  sched_{i}>\"schedule: {}\"]", mm(&schedule_label(model, i)));
        let step = &model.steps[e.step];
        match e.branch {
            Some(b) => {
                let _ = writeln!(s, "  sched_{i} ==>|\"branch {}\"| s_{}", step.branches[b].id, step.id);
            }
            None => {
                let _ = writeln!(s, "  sched_{i} ==> s_{}", step.id);
            }
        }
    }
    for (ti, t) in model.triggers.iter().enumerate() {
        let after = &model.steps[t.after];
        let mut lines: Vec<String> = Vec::new();
        if let Some(b) = t.after_branch {
            lines.push(format!("after {}", after.branches[b].id));
        }
        lines.extend(trigger_label(model, ti).iter().map(|l| mm(l)));
        let _ = writeln!(s, "  s_{} -->|\"{}\"| s_{}", after.id, lines.join("<br/>"), model.steps[t.step].id);
    }
    for step in &model.steps {
        for b in &step.branches {
            for m in &b.modify {
                let _ = writeln!(
                    s,
                    "  s_{} -.->|\"modifier after {}:<br/>{}\"| s_{}",
                    step.id,
                    b.id,
                    mm(&modifier_label(m)),
                    model.steps[m.step].id
                );
            }
        }
    }
    for step in &model.steps {
        for b in &step.branches {
            for x in &b.excite {
                let _ = writeln!(
                    s,
                    "  s_{} -.->|\"excites after {}:<br/>{}\"| s_{}",
                    step.id,
                    b.id,
                    mm(&excite_label(x)),
                    model.steps[x.step].id
                );
            }
        }
    }
    // Colours: each level, and each step by the highest level one of its branches moves to.
    for (i, l) in model.levels.iter().enumerate() {
        let (fill, light) = level_colour(i, n);
        let ink = if light { "#111111" } else { "#ffffff" };
        let _ = writeln!(s, "  classDef lv{i} fill:{fill},color:{ink},stroke:#555555");
        let mut members = vec![format!("l_{}", l.id)];
        for step in &model.steps {
            let top = step
                .branches
                .iter()
                .filter_map(|b| match b.level {
                    LevelChange::RaiseTo(x) | LevelChange::LowerTo(x) => Some(x),
                    LevelChange::None => None,
                })
                .max();
            if top == Some(i) {
                members.push(format!("s_{}", step.id));
            }
        }
        let _ = writeln!(s, "  class {} lv{i}", members.join(","));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
        assert_eq!(wrap("a\nbb cc", 4), "a\nbb\ncc");
    }

    #[test]
    fn escapes() {
        assert_eq!(dot_str("a \"b\"\nc\\"), "\"a \\\"b\\\"\\nc\\\\\"");
        assert_eq!(html("a<b & c>"), "a&lt;b &amp; c&gt;");
        assert_eq!(mm("level >= \"x\""), "level #gt;= #quot;x#quot;");
    }

    #[test]
    fn level_colours_run_light_to_dark() {
        assert!(level_colour(0, 3).1);
        assert!(!level_colour(2, 3).1);
    }
}
