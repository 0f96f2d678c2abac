//! What each step reads and writes: the topics a stream sends to, used by the graph and
//! reference checks.

use crate::spec::steps::{Step, Window};
use crate::spec::{Spanned, Stream};

/// Every topic a step sends events to, with the place it is named.
pub fn step_outputs(step: &Step) -> Vec<&Spanned<String>> {
    let mut out = Vec::new();
    match step {
        Step::Unbatch(u) => {
            out.extend(u.invalid.iter());
            out.extend(u.oversized.iter());
            out.extend(u.summary.iter().map(|b| &b.to));
        }
        Step::Validate(v) => out.push(&v.invalid),
        Step::Dedup(d) => out.extend(d.duplicates.iter()),
        Step::Filter(crate::spec::ScalarOr::Full(f)) => out.extend(f.otherwise.iter()),
        Step::Route(rules) => {
            for r in rules.iter() {
                out.extend(r.to.iter().flat_map(|t| t.iter()));
                out.extend(r.otherwise.iter().flat_map(|t| t.iter()));
            }
        }
        Step::Explode(e) => out.extend(e.to.iter()),
        Step::Window(Window { late, .. }) => out.extend(late.iter()),
        Step::Emit(to) => out.extend(to.iter()),
        _ => {}
    }
    out
}

/// Every topic a stream sends events to.
pub fn stream_outputs(stream: &Stream) -> Vec<&Spanned<String>> {
    stream
        .steps
        .iter()
        .flat_map(|s| step_outputs(&s.value))
        .collect()
}

/// Whether no event goes past this step to the next one.
pub fn is_terminal(step: &Step) -> bool {
    match step {
        Step::Emit(_) => true,
        Step::Route(rules) => !rules.iter().all(|r| r.continue_),
        _ => false,
    }
}
