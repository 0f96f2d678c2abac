//! Streams: references of every step, step shapes and order, windows, replicas and resources.

use super::flow::{is_terminal, step_outputs};
use super::{Index, duration, index::rel, positive, size};
use crate::diagnostics::{Diagnostic, Diagnostics, catalog};
use crate::spec::steps::{Step, Window};
use crate::spec::{Resources, ScalarOr, Spanned};

/// Checks every stream.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    if let Some(d) = ix
        .root
        .and_then(|r| r.spec.defaults.as_ref())
        .and_then(|d| d.stream.as_ref())
    {
        positive("replicas", d.replicas.as_ref(), diags);
        if let Some(r) = &d.resources {
            resources(r, diags);
        }
    }
    for s in &ix.streams.items {
        let stream = s.def;
        ix.topics.resolve("PC0102", &stream.from, diags);
        positive("replicas", stream.replicas.as_ref(), diags);
        if let Some(r) = &stream.resources {
            resources(r, diags);
        }
        if stream.steps.is_empty() {
            diags.push(
                catalog::invalid_value(format!("stream `{}` has no steps", s.name.value))
                    .at(s.name.span, "no steps")
                    .help("add steps, ending with `emit: <topic>` or a `route`"),
            );
        }
        let mut ended: Option<&Spanned<Step>> = None;
        let steps = &stream.steps;
        for (i, step) in steps.iter().enumerate() {
            if let Some(prev) = ended {
                diags.push(
                    Diagnostic::error(
                        "PC0404",
                        format!("no event reaches this `{}` step", step.kind()),
                    )
                    .at(step.span, "unreachable")
                    .also(prev.span, "every event leaves the stream here")
                    .help("move this step before the route or emit, or remove it"),
                );
                break;
            }
            for t in step_outputs(&step.value) {
                ix.topics.resolve("PC0102", t, diags);
            }
            check_step(ix, s.dir, step, diags);
            let next = steps.get(i + 1).map(|n| &n.value);
            match (&step.value, next) {
                (Step::Window(_), Some(Step::Aggregate(_))) => {}
                (Step::Window(_), _) => diags.push(
                    Diagnostic::error("PC0501", "a `window` must be followed by an `aggregate`")
                        .at(step.span, "window without aggregate")
                        .help("add `- aggregate: { fields: {...} }` right after this step"),
                ),
                _ => {}
            }
            if matches!(step.value, Step::Aggregate(_))
                && !matches!(
                    i.checked_sub(1)
                        .and_then(|p| steps.get(p))
                        .map(|p| &p.value),
                    Some(Step::Window(_))
                )
            {
                diags.push(
                    Diagnostic::error("PC0501", "an `aggregate` needs a `window` before it")
                        .at(step.span, "aggregate without window")
                        .help("add a `window` step (tumbling, sliding or session) right before"),
                );
            }
            if is_terminal(&step.value) {
                ended = Some(step);
            }
        }
        if ended.is_none()
            && let Some(last) = steps.last()
        {
            diags.push(
                Diagnostic::error(
                    "PC0405",
                    format!("events of stream `{}` fall off its end", s.name.value),
                )
                .at(last.span, "events go nowhere after this step")
                .help("end the stream with `emit: <topic>` or a `route` with an `else` rule"),
            );
        }
    }
}

fn check_step(
    ix: &Index<'_>,
    dir: &std::path::Path,
    step: &Spanned<Step>,
    diags: &mut Diagnostics,
) {
    match &step.value {
        Step::Unbatch(u) => {
            if let Some(e) = u.summary.as_ref().and_then(|b| b.event.as_ref())
                && !e.value.is_object()
            {
                diags.push(
                    catalog::wrong_type("a mapping", "another value")
                        .at(e.span, "the summary event's fixed fields")
                        .help("write them as a mapping: `event: { eid: LOG, ver: \"3.0\" }`"),
                );
            }
            if let Some(m) = &u.missing
                && !matches!(m.value.as_str(), "empty" | "invalid")
            {
                diags.push(
                    catalog::unknown_variant(&m.value, &["empty", "invalid"])
                        .at(m.span, "`empty` or `invalid`"),
                );
            }
            if let Some(sz) = &u.max_event_size {
                size(sz, diags);
                if u.oversized.is_none() {
                    diags.push(catalog::conflicting(
                        "`max_event_size` without an `oversized` topic".into(),
                        sz.span,
                        "events over this size need a destination",
                        "add `oversized: <topic>` so large events are kept, not dropped",
                    ));
                }
            }
        }
        Step::Validate(v) => {
            if let Some(d) = &v.schemas
                && !rel(dir, &d.value).is_dir()
            {
                diags.push(
                    Diagnostic::error(
                        "PC0205",
                        format!("schema directory `{}` not found", d.value),
                    )
                    .at(d.span, "no such directory")
                    .help("paths are relative to the spec file"),
                );
            }
            match (&v.default, &v.schemas) {
                (Some(f), Some(d)) => {
                    let dir = rel(dir, &d.value);
                    if dir.is_dir() && !dir.join(&f.value).is_file() {
                        diags.push(
                            Diagnostic::error(
                                "PC0201",
                                format!("default schema `{}` not found", f.value),
                            )
                            .at(f.span, format!("not in `{}`", d.value))
                            .help("name a file of the `schemas` directory"),
                        );
                    }
                }
                (Some(f), None) => diags.push(catalog::conflicting(
                    "`default` needs `schemas`".into(),
                    f.span,
                    "a file of which directory?",
                    "add `schemas: <dir>` to this step",
                )),
                _ => {}
            }
        }
        Step::Dedup(d) => {
            ix.stores.resolve("PC0103", &d.store, diags);
            duration(&d.ttl, diags);
        }
        Step::Enrich(e) => {
            ix.stores.resolve("PC0103", &e.store, diags);
        }
        Step::Explode(e) => {
            if let Some(t) = &e.as_type {
                ix.resolve_type(t, diags);
            }
        }
        Step::Route(rules) => route_rules(rules, step, diags),
        Step::Window(w) => window(w, step, diags),
        Step::Aggregate(a) => {
            if let Some(t) = &a.as_type {
                ix.resolve_type(t, diags);
            }
            if a.fields.is_empty() {
                diags.push(
                    catalog::invalid_value("an aggregate computes no field".into())
                        .at(step.span, "no fields")
                        .help("add `fields: { count: 'count()' }`"),
                );
            }
        }
        Step::Emit(to) if to.is_empty() => diags.push(
            catalog::invalid_value("`emit` names no topic".into())
                .at(step.span, "empty")
                .help("write `emit: <topic>`"),
        ),
        Step::Set(_)
        | Step::Flag(_)
        | Step::Filter(ScalarOr::Scalar(_) | ScalarOr::Full(_))
        | Step::Emit(_) => {}
    }
}

fn route_rules(
    rules: &crate::spec::Items<Spanned<crate::spec::steps::RouteRule>>,
    step: &Spanned<Step>,
    diags: &mut Diagnostics,
) {
    if rules.is_empty() {
        diags.push(
            Diagnostic::error("PC0407", "a route needs rules")
                .at(step.span, "no rules")
                .help("add `- { when: <condition>, to: <topic> }` rules and a final `- else: <topic>`"),
        );
        return;
    }
    let n = rules.len();
    for (i, r) in rules.iter().enumerate() {
        let label = match (&r.when, &r.to, &r.otherwise) {
            (Some(_), Some(_), None) => None,
            (None, None, Some(_)) if i + 1 == n => None,
            (None, None, Some(_)) => Some(("`else` must be the last rule", "move it to the end")),
            (Some(_), None, _) => Some(("a rule with `when` needs `to`", "add `to: <topic>`")),
            (None, Some(_), _) => Some((
                "a rule with `to` needs `when`",
                "add `when: <condition>`, or use `else: <topic>`",
            )),
            (Some(_), Some(_), Some(_)) => Some((
                "`else` is a rule of its own",
                "move `else` to a separate last rule",
            )),
            (None, None, None) => Some((
                "a rule needs `when` and `to`, or `else`",
                "write `{ when: <condition>, to: <topic> }`",
            )),
        };
        if let Some((msg, help)) = label {
            diags.push(
                Diagnostic::error("PC0407", msg)
                    .at(r.span, "this rule")
                    .help(help),
            );
        }
    }
    let has_else = rules.iter().any(|r| r.otherwise.is_some());
    let terminal = rules.iter().any(|r| !r.continue_);
    if !has_else && terminal {
        diags.push(
            Diagnostic::warning("PC0406", "route has no `else` rule")
                .at(step.span, "events matching no rule are dropped")
                .help("add `- else: <topic>` as the last rule"),
        );
    }
}

fn window(w: &Window, step: &Spanned<Step>, diags: &mut Diagnostics) {
    let kinds = [
        w.tumbling.is_some(),
        w.sliding.is_some(),
        w.session.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if kinds != 1 {
        diags.push(
            Diagnostic::error(
                "PC0502",
                "a window needs exactly one of `tumbling`, `sliding` and `session`",
            )
            .at(
                step.span,
                if kinds == 0 {
                    "none given"
                } else {
                    "more than one given"
                },
            )
            .help("keep one window kind"),
        );
    }
    let mut length = None;
    if let Some(t) = &w.tumbling {
        length = positive_duration(t, diags);
    }
    if let Some(s) = &w.sliding {
        let size = positive_duration(&s.size, diags);
        let every = positive_duration(&s.every, diags);
        if let (Some(size), Some(every)) = (size, every)
            && every > size
        {
            diags.push(
                Diagnostic::error(
                    "PC0502",
                    "a sliding window's `every` is longer than its `size`",
                )
                .at(s.every.span, "longer than the window")
                .also(s.size.span, "window size")
                .help("events between windows would be missed: make `every` at most `size`"),
            );
        }
        length = size;
    }
    if let Some(s) = &w.session {
        let gap = positive_duration(&s.gap, diags);
        if let (Some(max_t), Some(gap)) = (&s.max, gap)
            && let Some(max) = positive_duration(max_t, diags)
            && max < gap
        {
            diags.push(
                Diagnostic::error("PC0502", "a session's `max` is shorter than its `gap`")
                    .at(max_t.span, "shorter than the gap")
                    .help("make `max` longer than `gap`, or remove it"),
            );
        }
        length = gap;
    }
    if let Some(l) = &w.lateness
        && let (Some(late), Some(len)) = (duration(l, diags), length)
        && late > len
    {
        diags.push(
            Diagnostic::warning("PC0502", "allowed lateness is longer than the window")
                .at(l.span, "windows stay open this long")
                .help("shorten `lateness`, or use a longer window"),
        );
    }
}

fn positive_duration(t: &Spanned<String>, diags: &mut Diagnostics) -> Option<u64> {
    let ms = duration(t, diags)?;
    if ms == 0 {
        diags.push(
            Diagnostic::error("PC0502", "a window length must be positive")
                .at(t.span, "zero")
                .help("use a positive duration such as `1m`"),
        );
        return None;
    }
    Some(ms)
}

pub(super) fn resources(r: &Resources, diags: &mut Diagnostics) {
    if let Some(cpu) = &r.cpu {
        let v = cpu.value.strip_suffix('m').unwrap_or(&cpu.value);
        if v.parse::<f64>()
            .map_or(true, |x| x <= 0.0 || !x.is_finite())
        {
            diags.push(
                Diagnostic::error("PC0306", format!("invalid CPU quantity `{}`", cpu.value))
                    .at(cpu.span, "not a CPU quantity")
                    .help("write cores (`2`, `0.5`) or millicores (`500m`)"),
            );
        }
    }
    if let Some(mem) = &r.memory {
        let v = mem.value.as_str();
        let num_end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(v.len());
        let (num, unit) = v.split_at(num_end);
        let unit_ok = matches!(
            unit,
            "" | "k" | "K" | "M" | "G" | "T" | "Ki" | "Mi" | "Gi" | "Ti"
        );
        if num.parse::<f64>().map_or(true, |x| x <= 0.0) || !unit_ok {
            diags.push(
                Diagnostic::error("PC0306", format!("invalid memory quantity `{v}`"))
                    .at(mem.span, "not a memory quantity")
                    .help("write bytes with a Kubernetes suffix: `512Mi`, `1Gi`, `1G`"),
            );
        }
    }
}
