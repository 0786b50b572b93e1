//! The overrides of a compile, in their order: the variant `--variant` names (every
//! variant is checked), the `--params` file, then `--set`.

use super::*;

impl Ctx {
    /// `[variants]`: every variant is checked; the one `--variant` names overrides params.
    /// Returns that variant's name (`None` for the baseline).
    pub(super) fn variant(&mut self, doc: &raw::Document, ov: &Overrides) -> Option<String> {
        let param_names: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
        let mut variant_found = false;
        let wanted = ov.variant.as_deref().filter(|v| *v != "baseline");
        for (vname, table) in &doc.variants.0 {
            let vn = vname.get_ref();
            if let Some(problem) = id_problem("variant name", vn) {
                self.err(vname.span(), problem).hint(ID_RULE);
            } else if vn == "baseline" {
                self.err(vname.span(), "`baseline` is reserved: it names the scenario without overrides");
            }
            let chosen = wanted == Some(vn.as_str());
            variant_found |= chosen;
            for (key, value) in &table.get_ref().0 {
                let k = key.get_ref();
                let (x, dist) = match (k.as_str(), value.get_ref()) {
                    ("description", VariantValue::Text(_)) => continue,
                    ("description", VariantValue::Num(_)) => {
                        self.err(value.span(), "a variant's description must be text");
                        continue;
                    }
                    (_, VariantValue::Text(t)) => {
                        self.err(
                            value.span(),
                            format!(
                                "variant `{}` sets `{}` to text \"{}\"; a param override must be a number",
                                shown_id(vn),
                                shown_id(k),
                                shown_text(t)
                            ),
                        );
                        continue;
                    }
                    (_, VariantValue::Num(x)) => (*x, None),
                    (_, VariantValue::Dist(d)) => (d.mean(), Some(*d)),
                };
                let Some(ix) = param_names.iter().position(|p| p == k) else {
                    let help = suggest("param", k, &strs(&param_names));
                    self.err(key.span(), format!("variant `{vn}` overrides `{k}`, which is not a param"))
                        .hint(help);
                    continue;
                };
                if dist.is_none() && !x.is_finite() {
                    self.err(value.span(), format!("variant value for `{k}` must be a finite number"));
                }
                if chosen {
                    self.params[ix].value = x;
                    self.params[ix].dist = dist;
                    self.params[ix].origin = Origin::Variant(vn.clone());
                }
            }
        }
        if let Some(w) = wanted {
            if !variant_found {
                let names: Vec<String> = doc.variants.0.iter().map(|(k, _)| k.get_ref().clone()).collect();
                self.diags.push(
                    Diagnostic::whole_file(format!(
                        "variant `{w}` (from --variant) is not defined in this file"
                    ))
                    .help(format!(
                        "{}; `baseline` runs the file without overrides",
                        suggest("variant", w, &strs(&names))
                    )),
                );
            }
        }
        wanted.map(str::to_owned)
    }

    /// `--params FILE`: its `[params]` table, applied after the variant as a variant's is,
    /// except that its `source` and `note` replace the scenario's (the value no longer
    /// comes from the scenario's source). `compile_str` has already checked its names
    /// against the file, at the params file's lines; one left is reported here for
    /// callers that compile without it.
    pub(super) fn params_file(&mut self, ov: &Overrides) {
        let Some(pf) = &ov.params else { return };
        for (k, v) in &pf.entries {
            let name = k.get_ref();
            let spec = v.get_ref();
            let Some(p) = self.params.iter_mut().find(|p| &p.name == name) else {
                self.diags.push(Diagnostic::whole_file(format!(
                    "--params {}: `{name}` is not a param of this file",
                    pf.file
                )));
                continue;
            };
            let (value, dist) = match spec.value {
                ParamValue::Num(x) => (x, None),
                ParamValue::Dist(d) => (d.mean(), Some(d)),
            };
            p.value = value;
            p.dist = dist;
            p.origin = Origin::ParamsFile(pf.file.clone());
            p.source = spec.source.clone();
            p.note = spec.note.clone();
        }
    }

    /// `--set NAME=VALUE` from the command line (or `set=NAME=VALUE` from a served page's
    /// query), applied last; messages name them as they were written.
    pub(super) fn sets(&mut self, ov: &Overrides) {
        let param_names: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
        let how = ov.sets_as;
        for (k, x) in &ov.sets {
            match self.params.iter_mut().find(|p| &p.name == k) {
                Some(p) => {
                    p.value = *x;
                    p.dist = None;
                    p.origin = Origin::Set(how);
                }
                None => {
                    let help = suggest_listed("param", k, &strs(&param_names), how.whole_list());
                    self.diags.push(
                        Diagnostic::whole_file(format!(
                            "{}=...: `{k}` is not a param of this file",
                            how.of(k)
                        ))
                        .help(help),
                    );
                }
            }
            if !x.is_finite() {
                self.diags.push(Diagnostic::whole_file(format!(
                    "{}: the value must be a finite number",
                    how.of(k)
                )));
            }
        }
    }
}
