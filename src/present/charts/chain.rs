//! `chain`: the escalation chain as a layered diagram, for the report.
//!
//! `brink graph` writes DOT and Mermaid for tools that lay graphs out. The report must be
//! self-contained and the same bytes on every machine, so it cannot depend on Graphviz
//! being installed; this draws the chain with plotters instead, in the Sugiyama style:
//! steps in layers by trigger depth (steps that fire by themselves on top), back edges
//! reversed for the layering, long edges routed through dummy points, and each layer
//! ordered by barycentres to cut crossings. Modifiers are left out (`brink graph` shows
//! them). It reads the chain that `manifest.json` keeps, so `brink plot` redraws it.

use super::{err, fit, header, is_light, level_colour, DrawResult, Style, GREY, INK};
use crate::output::chain::Chain;
use crate::output::results::Results;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The report's caption of this diagram.
pub(crate) const CAPTION: &str =
    "The escalation chain: each step in a layer by trigger depth, coloured by the highest level it raises to";

/// An edge of the layered graph: a chain of layout nodes from one step to another.
struct Route {
    /// Layout nodes, in layout (downward) order: a step, dummies, a step.
    nodes: Vec<usize>,
    /// The edge points upward in the scenario (a back edge reversed for the layering).
    reversed: bool,
    /// An excitation rather than a trigger.
    excite: bool,
    /// One line per trigger or excitation the edge stands for: the branch it follows
    /// (none: any branch) and its p or n, as "hit: p 0.3".
    label: Vec<String>,
}

/// Layers, orders and routes of the chain's steps (indices `0..n`) and dummies (`n..`).
struct Layout {
    layer: Vec<usize>,
    layers: Vec<Vec<usize>>,
    routes: Vec<Route>,
    /// Labels of self-loops, per step (as [`Route::label`]'s lines).
    loops: Vec<Vec<String>>,
    /// Neighbours of each layout node in the layer above and below.
    up: Vec<Vec<usize>>,
    down: Vec<Vec<usize>>,
}

fn layout(c: &Chain) -> Layout {
    let n = c.steps.len();
    let ix = |id: &str| c.steps.iter().position(|s| s.id == id);
    // Edges between distinct steps, one per (from, to, kind), with one label line per
    // link: the branch it follows names it, so parallel triggers stay told apart.
    let mut edges: Vec<(usize, usize, bool, Vec<String>)> = Vec::new();
    let mut loops = vec![Vec::new(); n];
    for l in c.links.iter().filter(|l| l.kind != "modifier") {
        let (Some(a), Some(b)) = (ix(&l.from), ix(&l.to)) else { continue };
        let excite = l.kind == "excite";
        let text = match &l.branch {
            Some(branch) => format!("{branch}: {}", l.label),
            None => l.label.clone(),
        };
        if a == b {
            loops[a].push(text);
        } else if let Some(e) = edges.iter_mut().find(|e| e.0 == a && e.1 == b && e.2 == excite) {
            if !e.3.contains(&text) {
                e.3.push(text);
            }
        } else {
            edges.push((a, b, excite, vec![text]));
        }
    }
    // Back edges: depth-first from the steps that fire by themselves, then the rest.
    let mut roots: Vec<usize> =
        (0..n).filter(|&i| c.steps[i].rate.is_some() || c.steps[i].scheduled).collect();
    let rest: Vec<usize> = (0..n).filter(|i| !roots.contains(i)).collect();
    roots.extend(rest);
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let mut back = vec![false; edges.len()];
    for &r in &roots {
        if state[r] != 0 {
            continue;
        }
        let mut stack = vec![(r, 0usize)];
        state[r] = 1;
        while let Some(&mut (v, ref mut k)) = stack.last_mut() {
            let out: Vec<usize> = (0..edges.len()).filter(|&e| edges[e].0 == v).collect();
            if *k < out.len() {
                let e = out[*k];
                *k += 1;
                let w = edges[e].1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => back[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    // Longest-path layers over the acyclic orientation.
    let dag: Vec<(usize, usize)> =
        edges.iter().enumerate().map(|(e, x)| if back[e] { (x.1, x.0) } else { (x.0, x.1) }).collect();
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for &(a, b) in &dag {
            if layer[b] < layer[a] + 1 {
                layer[b] = layer[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Dummies on edges that span several layers.
    let mut routes = Vec::new();
    for (e, &(a, b)) in dag.iter().enumerate() {
        let mut nodes = vec![a];
        for l in layer[a] + 1..layer[b] {
            layer.push(l);
            nodes.push(layer.len() - 1);
        }
        nodes.push(b);
        let (excite, label) = (edges[e].2, edges[e].3.clone());
        routes.push(Route { nodes, reversed: back[e], excite, label });
    }
    let depth = layer.iter().copied().max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (v, &l) in layer.iter().enumerate() {
        layers[l].push(v);
    }
    // Barycentre ordering, a few sweeps down and up.
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); layer.len()];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); layer.len()];
    for r in &routes {
        for w in r.nodes.windows(2) {
            down[w[0]].push(w[1]);
            up[w[1]].push(w[0]);
        }
    }
    let mut pos = vec![0.0f64; layer.len()];
    let set_pos = |layers: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for l in layers {
            for (i, &v) in l.iter().enumerate() {
                pos[v] = i as f64 / l.len().max(1) as f64;
            }
        }
    };
    set_pos(&layers, &mut pos);
    for sweep in 0..8 {
        let range: Vec<usize> =
            if sweep % 2 == 0 { (1..depth).collect() } else { (0..depth.saturating_sub(1)).rev().collect() };
        for l in range {
            let nbrs = if sweep % 2 == 0 { &up } else { &down };
            let mut keyed: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&v| {
                    let ns = &nbrs[v];
                    let b = if ns.is_empty() {
                        pos[v]
                    } else {
                        ns.iter().map(|&u| pos[u]).sum::<f64>() / ns.len() as f64
                    };
                    (b, v)
                })
                .collect();
            keyed.sort_by(|x, y| x.0.total_cmp(&y.0));
            layers[l] = keyed.into_iter().map(|(_, v)| v).collect();
            set_pos(&layers, &mut pos);
        }
    }
    Layout { layer, layers, routes, loops, up, down }
}

/// Horizontal centres: each node near the mean of its neighbours in the layer above
/// (then below, alternately), in its layer's order, `gap` apart, within `[lo, hi]`. This
/// straightens long edges, which centred rows would bend around every box.
fn place(lay: &Layout, width: &[f64], lo: f64, hi: f64, gap: f64) -> Vec<f64> {
    let mut x = vec![0.0; width.len()];
    for l in &lay.layers {
        let total: f64 = l.iter().map(|&v| width[v]).sum::<f64>() + gap * (l.len() as f64 - 1.0).max(0.0);
        let mut cur = lo + ((hi - lo) - total).max(0.0) / 2.0;
        for &v in l {
            x[v] = cur + width[v] / 2.0;
            cur += width[v] + gap;
        }
    }
    let depth = lay.layers.len();
    for it in 0..13 {
        let downward = it % 2 == 0;
        let order: Vec<usize> = if downward { (0..depth).collect() } else { (0..depth).rev().collect() };
        for li in order {
            let l = &lay.layers[li];
            let mut p: Vec<f64> = l
                .iter()
                .map(|&v| {
                    let nb: Vec<usize> = match it {
                        12 => lay.up[v].iter().chain(&lay.down[v]).copied().collect(),
                        _ if downward => lay.up[v].clone(),
                        _ => lay.down[v].clone(),
                    };
                    if nb.is_empty() {
                        x[v]
                    } else {
                        nb.iter().map(|&u| x[u]).sum::<f64>() / nb.len() as f64
                    }
                })
                .collect();
            for i in 0..l.len() {
                let min = match i {
                    0 => lo + width[l[0]] / 2.0,
                    _ => p[i - 1] + (width[l[i - 1]] + width[l[i]]) / 2.0 + gap,
                };
                p[i] = p[i].max(min);
            }
            for i in (0..l.len()).rev() {
                let max = match i + 1 == l.len() {
                    true => hi - width[l[i]] / 2.0,
                    false => p[i + 1] - (width[l[i]] + width[l[i + 1]]) / 2.0 - gap,
                };
                p[i] = p[i].min(max);
            }
            for (i, &v) in l.iter().enumerate() {
                x[v] = p[i];
            }
        }
    }
    x
}

pub(super) fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Results, s: &Style) -> DrawResult {
    let body = header(root, s, "escalation chain", r)?;
    let Some(c) = &r.manifest.chain else {
        let note = "this results folder does not describe its chain (written by an older brink)";
        body.draw(&Text::new(note, (s.px(24.0) as i32, s.px(20.0) as i32), s.label())).map_err(err)?;
        return Ok(());
    };
    let n = c.steps.len();
    let lay = layout(c);
    let (w, h) = body.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let margin = s.px(20.0) as i32;
    let legend_w = s.px(190.0) as i32;
    let area_w = (w - 2 * margin - legend_w).max(100);
    let depth = lay.layers.len() as i32;
    let row_h = ((h - 2 * margin) / depth.max(1)).max(20);
    let box_h = ((row_h as f64 * 0.45) as i32).min(s.px(48.0) as i32).max(18);
    // Box and dummy widths: fit the widest layer.
    let gap = s.px(14.0) as f64;
    let dummy_w = s.px(10.0) as f64;
    let box_w0 = s.px(200.0) as f64;
    let widest = lay
        .layers
        .iter()
        .map(|l| {
            let boxes = l.iter().filter(|&&v| v < n).count() as f64;
            boxes * box_w0 + (l.len() as f64 - boxes) * dummy_w + gap * (l.len() as f64 - 1.0).max(0.0)
        })
        .fold(0.0f64, f64::max);
    let scale = if widest > area_w as f64 { area_w as f64 / widest } else { 1.0 };
    let box_w = box_w0 * scale;
    let (gap, dummy_w) = (gap * scale, dummy_w * scale);
    // Centres of every layout node.
    let width: Vec<f64> = (0..lay.layer.len()).map(|v| if v < n { box_w } else { dummy_w }).collect();
    let xs = place(&lay, &width, margin as f64, (margin + area_w) as f64, gap);
    // Layer heights: a gap that many label lines cross gets more room for them (the gap
    // under the steps that fire by themselves is usually the busiest), in proportion.
    let mut crossing = vec![0usize; depth.max(1) as usize];
    for r in &lay.routes {
        for w in r.nodes.windows(2) {
            crossing[lay.layer[w[0]].min(lay.layer[w[1]])] += r.label.len();
        }
    }
    let weight: Vec<f64> = crossing.iter().map(|&k| 1.0 + k as f64 / 3.0).collect();
    let gaps: f64 = weight.iter().take((depth - 1).max(0) as usize).sum();
    let usable = (depth * row_h - row_h) as f64;
    // Every gap holds a box and a line of labels at least; the rest goes by weight.
    let floor = f64::from(box_h + s.px(14.0) as i32).min(usable / f64::from((depth - 1).max(1)));
    let spare = usable - floor * f64::from((depth - 1).max(0));
    let mut layer_y = vec![margin + row_h / 2; depth.max(1) as usize];
    for l in 1..depth.max(1) as usize {
        layer_y[l] = layer_y[l - 1] + (floor + spare * weight[l - 1] / gaps.max(1e-9)).round() as i32;
    }
    let xy: Vec<(i32, i32)> =
        (0..lay.layer.len()).map(|v| (xs[v].round() as i32, layer_y[lay.layer[v]])).collect();
    let level_ix = |id: &Option<String>| id.as_ref().and_then(|l| c.levels.iter().position(|x| x == l));
    let nl = c.levels.len();

    // Edges first, under the boxes; their labels last, over everything.
    // Each route's label lines, the points of its polyline and its colour.
    type Label<'r> = (&'r [String], Vec<(i32, i32)>, RGBColor);
    let mut labels: Vec<Label> = Vec::new();
    let edge_col = RGBColor(0x55, 0x55, 0x55);
    let excite_col = RGBColor(0x6a, 0x3d, 0x9a);
    for route in &lay.routes {
        let col = if route.excite { excite_col } else { edge_col };
        let mut pts: Vec<(i32, i32)> = route.nodes.iter().map(|&v| xy[v]).collect();
        let last = pts.len() - 1;
        pts[0].1 += box_h / 2;
        pts[last].1 -= box_h / 2;
        if route.reversed {
            // Upward edges leave and enter off-centre, apart from a downward edge between
            // the same two steps.
            let dx = (box_w * 0.3) as i32;
            pts[0].0 += dx;
            pts[last].0 += dx;
        }
        let style = ShapeStyle { color: col.to_rgba(), filled: false, stroke_width: s.px(1.6).max(1) };
        if route.excite {
            body.draw(&DashedPathElement::new(pts.clone(), s.px(3.0).max(1), s.px(4.0).max(1), style))
                .map_err(err)?;
        } else {
            body.draw(&PathElement::new(pts.clone(), style)).map_err(err)?;
        }
        // The arrow points at the reacting step: the end, or the start of a reversed edge.
        let (tip, from) = if route.reversed { (pts[0], pts[1]) } else { (pts[last], pts[last - 1]) };
        arrow(&body, tip, from, s.px(9.0) as f64, col)?;
        labels.push((&route.label, pts, col));
    }

    // Boxes.
    let (bw, bh) = ((box_w / 2.0) as i32, box_h / 2);
    for (v, st) in c.steps.iter().enumerate() {
        let (x, y) = xy[v];
        let (fill, light) = match level_ix(&st.level) {
            Some(l) => (level_colour(l, nl), is_light(level_colour(l, nl))),
            None => (RGBColor(0xee, 0xee, 0xee), true),
        };
        let ink = if light { INK } else { WHITE };
        body.draw(&Rectangle::new([(x - bw, y - bh), (x + bw, y + bh)], fill.filled())).map_err(err)?;
        body.draw(&Rectangle::new([(x - bw, y - bh), (x + bw, y + bh)], INK.stroke_width(1))).map_err(err)?;
        let inner = (2 * bw - s.px(8.0) as i32).max(10);
        // The id names the step in every other output: in a crowded layer, a smaller font
        // (down to 9) before an ellipsis.
        let size = [14.0, 13.0, 12.0, 11.0, 10.0, 9.0]
            .into_iter()
            .find(|&z| body.estimate_text_size(&st.id, &s.bold(z)).map_or(true, |(tw, _)| tw as i32 <= inner))
            .unwrap_or(9.0);
        let title = fit(&body, &st.id, &s.bold(size), inner);
        let centre = Pos::new(HPos::Center, VPos::Center);
        let (y1, y2) = (y - (bh as f64 * 0.38) as i32, y + (bh as f64 * 0.42) as i32);
        body.draw(&Text::new(title, (x, y1), s.bold(size).color(&ink).pos(centre))).map_err(err)?;
        let mut how = Vec::new();
        if !st.actor.is_empty() {
            how.push(st.actor.clone());
        }
        if let Some(rate) = st.rate {
            how.push(format!("{}/day", crate::output::text::num(rate)));
        }
        if st.scheduled {
            how.push("scheduled".into());
        }
        if let Some(m) = st.max {
            how.push(format!("max {m}"));
        }
        let how = fit(&body, &how.join(" · "), &s.font(12.0), inner);
        body.draw(&Text::new(how, (x, y2), s.font(12.0).color(&ink).pos(centre))).map_err(err)?;
        if !lay.loops[v].is_empty() {
            let text = format!("↻ {}", lay.loops[v].join("; "));
            body.draw(&Text::new(text, (x + bw + s.px(4.0) as i32, y - bh), s.font(12.0).color(&excite_col)))
                .map_err(err)?;
        }
    }

    // Each label a block of lines (one per branch), no wider than two boxes (longer lines
    // are shortened, with the whole line as a tooltip), at the first point along its edge
    // where it covers no box and no label placed before it (else where it covers least).
    let max_w = (2.0 * box_w) as i32;
    let line_h = s.px(14.0) as i32;
    let mut taken: Vec<[i32; 4]> = xy[..n].iter().map(|&(x, y)| [x - bw, y - bh, x + bw, y + bh]).collect();
    let overlap = |a: &[i32; 4], b: &[i32; 4]| {
        let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0);
        let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0);
        i64::from(w) * i64::from(h)
    };
    for (lines, pts, col) in labels {
        let font = s.font(12.0).color(&col).pos(Pos::new(HPos::Center, VPos::Center));
        // Branches side by side (" · ") while a line fits, so a busy gap is not a tower.
        let fits = |t: &str| body.estimate_text_size(t, &font).map_or(true, |(w, _)| w as i32 <= max_w);
        let mut packed: Vec<String> = Vec::new();
        for t in lines {
            match packed.last_mut() {
                Some(last) if fits(&format!("{last} · {t}")) => *last = format!("{last} · {t}"),
                _ => packed.push(t.clone()),
            }
        }
        let lines: Vec<String> = packed.iter().map(|t| fit(&body, t, &font, max_w)).collect();
        let widest = lines
            .iter()
            .map(|t| body.estimate_text_size(t, &font).map(|(w, _)| w as i32))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?
            .into_iter()
            .max()
            .unwrap_or(0);
        let half_w = widest / 2 + 2;
        let half_h = line_h * lines.len() as i32 / 2 + 1;
        let rect = |at: (i32, i32)| [at.0 - half_w, at.1 - half_h, at.0 + half_w, at.1 + half_h];
        let cost = |at: (i32, i32)| taken.iter().map(|t| overlap(t, &rect(at))).sum::<i64>();
        let mut at = along(&pts, 0.5);
        let mut best = i64::MAX;
        for f in [0.5, 0.35, 0.65, 0.2, 0.8, 0.43, 0.57, 0.27, 0.73, 0.12, 0.88] {
            let p = along(&pts, f);
            let c = cost(p);
            if c < best {
                (at, best) = (p, c);
            }
            if c == 0 {
                break;
            }
        }
        taken.push(rect(at));
        let back = WHITE.mix(0.85).filled();
        body.draw(&Rectangle::new([(at.0 - half_w, at.1 - half_h), (at.0 + half_w, at.1 + half_h)], back))
            .map_err(err)?;
        for (i, t) in lines.into_iter().enumerate() {
            let y = at.1 - half_h + 1 + line_h * i as i32 + line_h / 2;
            body.draw(&Text::new(t, (at.0, y), font.clone())).map_err(err)?;
        }
    }

    // The ladder, as a legend of colours.
    let lx = w - margin - legend_w + s.px(16.0) as i32;
    let mut ly = margin;
    body.draw(&Text::new("colour: level raised to", (lx, ly), s.font(13.0).color(&GREY))).map_err(err)?;
    ly += s.px(22.0) as i32;
    let sw = s.px(14.0) as i32;
    let step_y = s.px(22.0) as i32;
    for (i, id) in c.levels.iter().enumerate() {
        body.draw(&Rectangle::new([(lx, ly), (lx + sw, ly + sw)], level_colour(i, nl).filled()))
            .map_err(err)?;
        let text = fit(&body, id, &s.font(13.0), legend_w - sw - s.px(24.0) as i32);
        body.draw(&Text::new(text, (lx + sw + s.px(6.0) as i32, ly), s.font(13.0))).map_err(err)?;
        ly += step_y;
    }
    ly += s.px(8.0) as i32;
    for line in ["arrow: trigger (branch: its p)", "dashed: excitation (its n)", "modifiers: brink graph"] {
        body.draw(&Text::new(line, (lx, ly), s.font(12.0).color(&GREY))).map_err(err)?;
        ly += s.px(18.0) as i32;
    }
    Ok(())
}

/// The point a fraction `f` of the way along a polyline.
fn along(pts: &[(i32, i32)], f: f64) -> (i32, i32) {
    let seg =
        |a: (i32, i32), b: (i32, i32)| (((b.0 - a.0) as f64).powi(2) + ((b.1 - a.1) as f64).powi(2)).sqrt();
    let total: f64 = pts.windows(2).map(|w| seg(w[0], w[1])).sum();
    let mut left = total * f;
    for w in pts.windows(2) {
        let d = seg(w[0], w[1]);
        if d >= left && d > 0.0 {
            let t = left / d;
            return (
                (w[0].0 as f64 + t * (w[1].0 - w[0].0) as f64).round() as i32,
                (w[0].1 as f64 + t * (w[1].1 - w[0].1) as f64).round() as i32,
            );
        }
        left -= d;
    }
    pts[pts.len() - 1]
}

/// An arrowhead at `tip`, pointing away from `from`.
pub(super) fn arrow<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tip: (i32, i32),
    from: (i32, i32),
    size: f64,
    col: RGBColor,
) -> DrawResult {
    let (dx, dy) = ((tip.0 - from.0) as f64, (tip.1 - from.1) as f64);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / len, dy / len);
    let base = (tip.0 as f64 - ux * size, tip.1 as f64 - uy * size);
    let (px, py) = (-uy * size * 0.45, ux * size * 0.45);
    let pts = vec![
        tip,
        ((base.0 + px).round() as i32, (base.1 + py).round() as i32),
        ((base.0 - px).round() as i32, (base.1 - py).round() as i32),
    ];
    area.draw(&Polygon::new(pts, col.filled())).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::chain::Chain;

    fn chain(src: &str) -> Chain {
        let m = crate::scenario::compile_str("t.toml", src, &Default::default()).expect("valid");
        Chain::of(&m)
    }

    const HEAD: &str =
        "[scenario]\nname = \"t\"\nhorizon_days = 10\n[[levels]]\nid = \"low\"\n[[levels]]\nid = \"high\"\n";

    /// a (spontaneous) -> b -> c, a -> c directly, and c -> a back: layers 0, 1, 2; the
    /// edge a -> c gets one dummy; c -> a is reversed, with one dummy too.
    #[test]
    fn layers_follow_trigger_depth_and_back_edges_are_reversed() {
        let c = chain(&format!(
            "{HEAD}[[steps]]\nid = \"a\"\nrate = 1\n  [[steps.triggers]]\n  after = \"c\"\n  delay = {{ fixed = 1 }}\n\
             [[steps]]\nid = \"b\"\n  [[steps.triggers]]\n  after = \"a\"\n  p = 0.5\n  delay = {{ fixed = 1 }}\n\
             [[steps]]\nid = \"c\"\n  [[steps.triggers]]\n  after = \"b\"\n  delay = {{ fixed = 1 }}\n\
               [[steps.triggers]]\n  after = \"a\"\n  p = 0.25\n  delay = {{ fixed = 1 }}\n"
        ));
        let lay = layout(&c);
        assert_eq!(&lay.layer[..3], &[0, 1, 2]);
        assert_eq!(lay.layer.len(), 5, "two dummies");
        assert_eq!(lay.routes.len(), 4);
        let back: Vec<&Route> = lay.routes.iter().filter(|r| r.reversed).collect();
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].nodes[0], *back[0].nodes.last().unwrap()),
            (0, 2),
            "c -> a drawn from a down to c"
        );
        let direct = lay.routes.iter().find(|r| !r.reversed && r.nodes.len() == 3).unwrap();
        assert_eq!(direct.label, vec!["p 0.25".to_owned()]);
        // Every layer holds its nodes once, and placement keeps them apart.
        let mut seen: Vec<usize> = lay.layers.concat();
        seen.sort();
        assert_eq!(seen, (0..5).collect::<Vec<_>>());
        let width: Vec<f64> = (0..5).map(|v| if v < 3 { 100.0 } else { 10.0 }).collect();
        let x = place(&lay, &width, 0.0, 1000.0, 10.0);
        for l in &lay.layers {
            for w in l.windows(2) {
                assert!(x[w[1]] - x[w[0]] >= (width[w[0]] + width[w[1]]) / 2.0 + 10.0 - 1e-9);
            }
            for &v in l {
                assert!(x[v] - width[v] / 2.0 >= -1e-9 && x[v] + width[v] / 2.0 <= 1000.0 + 1e-9);
            }
        }
    }

    #[test]
    fn parallel_triggers_share_one_edge_with_a_line_per_branch_and_self_excitation_is_a_loop() {
        let c = chain(&format!(
            "{HEAD}[[steps]]\nid = \"a\"\nrate = 1\n  [[steps.branches]]\n  id = \"x\"\n  p = 0.5\n  \
             excite = [ {{ step = \"a\", n = 0.5, decay_days = 1 }} ]\n  [[steps.branches]]\n  id = \"y\"\n  p = \"rest\"\n\
             [[steps]]\nid = \"b\"\n  [[steps.triggers]]\n  after = \"a.x\"\n  p = 0.5\n  \
               [[steps.triggers]]\n  after = \"a.y\"\n  p = 0.1\n"
        ));
        let lay = layout(&c);
        assert_eq!(lay.routes.len(), 1);
        // Each trigger's line names the branch it follows, as it does in `brink graph`.
        assert_eq!(lay.routes[0].label, vec!["x: p 0.5".to_owned(), "y: p 0.1".to_owned()]);
        assert_eq!(lay.loops[0], vec!["x: n 0.5".to_owned()]);
    }
}
