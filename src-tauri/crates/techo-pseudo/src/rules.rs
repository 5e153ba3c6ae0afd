//! Rule compilation: the FHIRPath subset and method parameters, checked once.

use serde_json::Value;

use crate::config::{Granularity, Method, OtherValues, RangeType, Rule};
use crate::types::{step_selects, Ty};
use crate::PseudoError;

#[derive(Debug, Clone)]
pub(crate) enum Anchor {
    /// The path is rooted at the resource.
    Root,
    /// `nodesByType('T')`: any node of type T at or below the prefix.
    Type(Ty),
    /// `descendants()`: any node at or below the prefix (descendants-or-self).
    Descendants,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledPath {
    /// `None` = any resource type (`Resource.` or a leading `nodesByType`).
    pub resource: Option<String>,
    pub prefix: Vec<String>,
    pub anchor: Anchor,
    pub suffix: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub conds: Vec<(Cmp, f64)>,
    pub output: Value,
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Redact,
    Keep,
    DateShift,
    CryptoHash,
    Generalize { cases: Vec<Case>, keep_others: bool, truncate: Option<Granularity>, max_age: Option<u32> },
    Substitute(Value),
    Perturb { span: f64, proportional: bool, round_to: u32 },
}

impl Op {
    pub(crate) fn drops_companion(&self) -> bool {
        matches!(self, Op::Redact | Op::Generalize { .. } | Op::Substitute(_))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub path: CompiledPath,
    pub op: Op,
}

impl CompiledPath {
    /// Does this path select the current node? `path` holds the element names from the
    /// resource root (empty for the root), `types[d]` the type of the node at depth d.
    pub(crate) fn selects(&self, rtype: &str, path: &[&str], types: &[Option<Ty>]) -> bool {
        if let Some(r) = &self.resource {
            if r != rtype {
                return false;
            }
        }
        let n = path.len();
        let steps_ok = |steps: &[String], keys: &[&str]| steps.iter().zip(keys).all(|(s, k)| step_selects(s, k));
        if !matches!(self.anchor, Anchor::Root) && n < self.suffix.len() {
            return false;
        }
        match self.anchor {
            Anchor::Root => n == self.prefix.len() && steps_ok(&self.prefix, path),
            Anchor::Type(t) => {
                let d = n - self.suffix.len();
                d >= self.prefix.len()
                    && types.get(d).copied().flatten().is_some_and(|a| t.selects(a))
                    && steps_ok(&self.suffix, &path[d..])
                    && steps_ok(&self.prefix, &path[..self.prefix.len()])
            }
            Anchor::Descendants => {
                let d = n - self.suffix.len();
                d >= self.prefix.len() && steps_ok(&self.suffix, &path[d..]) && steps_ok(&self.prefix, &path[..self.prefix.len()])
            }
        }
    }
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic()) && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits on dots outside parentheses and quotes.
fn split_path(p: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, false, 0usize);
    for (i, c) in p.char_indices() {
        match c {
            '\'' => quote = !quote,
            '(' if !quote => depth += 1,
            ')' if !quote => depth -= 1,
            '.' if !quote && depth == 0 => {
                out.push(&p[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quote || depth != 0 {
        return Err("unbalanced quotes or parentheses".into());
    }
    out.push(&p[start..]);
    Ok(out)
}

const SUPPORTED: &str = "supported: `Type.elem.elem`, `Resource.elem`, `nodesByType('T')`, `X.nodesByType('T').elem`, `X.descendants().elem`";

pub(crate) fn parse_path(p: &str) -> Result<CompiledPath, String> {
    let p = p.trim();
    if p.is_empty() {
        return Err("empty path".into());
    }
    let mut segs = split_path(p)?.into_iter().peekable();
    let mut resource = None;
    if let Some(first) = segs.peek() {
        if !first.contains('(') {
            if !is_name(first) || !first.starts_with(|c: char| c.is_ascii_uppercase()) {
                return Err(format!("`{first}` is not a resource type (or `Resource`); {SUPPORTED}"));
            }
            if *first != "Resource" {
                resource = Some(first.to_string());
            }
            segs.next();
        }
    }
    let (mut prefix, mut suffix, mut anchor) = (Vec::new(), Vec::new(), Anchor::Root);
    let mut anchored = false;
    for s in segs {
        if let Some(inner) = s.strip_prefix("nodesByType(").and_then(|r| r.strip_suffix(')')) {
            let name = inner.trim().trim_matches('\'');
            let t = Ty::from_name(name).ok_or_else(|| {
                format!("nodesByType('{name}') is not supported; types: HumanName, Address, ContactPoint, ContactDetail, Identifier, Attachment, Annotation, Reference, Narrative, Extension, Coding, CodeableConcept, Quantity, Age, Period, Meta, Resource, date, dateTime, instant")
            })?;
            if anchored {
                return Err("only one nodesByType()/descendants() per path".into());
            }
            anchor = Anchor::Type(t);
            anchored = true;
        } else if s == "descendants()" {
            if anchored {
                return Err("only one nodesByType()/descendants() per path".into());
            }
            anchor = Anchor::Descendants;
            anchored = true;
        } else if is_name(s) {
            if anchored { suffix.push(s.to_string()) } else { prefix.push(s.to_string()) }
        } else {
            return Err(format!("`{s}` is not supported; {SUPPORTED}"));
        }
    }
    Ok(CompiledPath { resource, prefix, anchor, suffix })
}

fn parse_cond(c: &str) -> Option<Vec<(Cmp, f64)>> {
    c.split(" and ")
        .map(|part| {
            let rest = part.trim().strip_prefix("$this")?.trim_start();
            let (op, num) = [("<=", Cmp::Le), (">=", Cmp::Ge), ("!=", Cmp::Ne), ("<", Cmp::Lt), (">", Cmp::Gt), ("=", Cmp::Eq)]
                .iter()
                .find_map(|(t, op)| rest.strip_prefix(t).map(|n| (*op, n)))?;
            let v: f64 = num.trim().parse().ok()?;
            v.is_finite().then_some((op, v))
        })
        .collect()
}

pub(crate) fn compile(index: usize, r: &Rule) -> Result<CompiledRule, PseudoError> {
    let err = |reason: String| PseudoError::Rule { index, path: r.path.clone(), reason };
    let path = parse_path(&r.path).map_err(err)?;
    let unexpected = |name: &str, present: bool| -> Result<(), PseudoError> {
        if present {
            Err(err(format!("`{name}` does not apply to method {:?}", r.method)))
        } else {
            Ok(())
        }
    };
    let is_gen = r.method == Method::Generalize;
    unexpected("cases", r.cases.is_some() && !is_gen)?;
    unexpected("otherValues", r.other_values.is_some() && !is_gen)?;
    unexpected("truncateTo", r.truncate_to.is_some() && !is_gen)?;
    unexpected("maxAge", r.max_age.is_some() && !is_gen)?;
    unexpected("replaceWith", r.replace_with.is_some() && r.method != Method::Substitute)?;
    let is_pert = r.method == Method::Perturb;
    unexpected("span", r.span.is_some() && !is_pert)?;
    unexpected("rangeType", r.range_type.is_some() && !is_pert)?;
    unexpected("roundTo", r.round_to.is_some() && !is_pert)?;
    let op = match r.method {
        Method::Redact => Op::Redact,
        Method::Keep => Op::Keep,
        Method::DateShift => Op::DateShift,
        Method::CryptoHash => Op::CryptoHash,
        Method::Substitute => Op::Substitute(r.replace_with.clone().ok_or_else(|| err("substitute needs `replaceWith`".into()))?),
        Method::Perturb => {
            let span = r.span.ok_or_else(|| err("perturb needs `span`".into()))?;
            if !span.is_finite() || span < 0.0 {
                return Err(err("`span` must be a non-negative number".into()));
            }
            let round_to = r.round_to.unwrap_or(2);
            if round_to > 18 {
                return Err(err("`roundTo` must be at most 18".into()));
            }
            Op::Perturb { span, proportional: r.range_type == Some(RangeType::Proportional), round_to }
        }
        Method::Generalize => {
            let mut cases = Vec::new();
            for (c, out) in r.cases.iter().flatten() {
                let conds = parse_cond(c).ok_or_else(|| {
                    err(format!("case `{c}` is not supported: use `$this <op> <number>` joined by `and`"))
                })?;
                cases.push(Case { conds, output: out.clone() });
            }
            if cases.is_empty() && r.truncate_to.is_none() {
                return Err(err("generalize needs `cases` or `truncateTo`".into()));
            }
            if r.max_age.is_some() && r.truncate_to != Some(Granularity::Year) {
                return Err(err("`maxAge` needs `truncateTo: \"year\"`".into()));
            }
            Op::Generalize {
                cases,
                keep_others: r.other_values == Some(OtherValues::Keep),
                truncate: r.truncate_to,
                max_age: r.max_age,
            }
        }
    };
    Ok(CompiledRule { path, op })
}

impl Case {
    pub(crate) fn holds(&self, x: f64) -> bool {
        self.conds.iter().all(|&(op, v)| match op {
            Cmp::Lt => x < v,
            Cmp::Le => x <= v,
            Cmp::Gt => x > v,
            Cmp::Ge => x >= v,
            Cmp::Eq => x == v,
            Cmp::Ne => x != v,
        })
    }
}
