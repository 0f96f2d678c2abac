//! The loop of `WorkFlowSummaryModel.algorithm` over one group's ordered events: the session
//! break, then START, END or any other event against the current and root summaries. Each
//! branch names the Scala it reproduces; the result is the model's `summEvents` (records, with
//! repeats) before `distinct`.

use super::WfsParams;
use super::input::Event;
use super::jvm::eq_ignore_case;
use super::tree::{Forest, Part};

/// Runs the model over `events` (already in Sunbird's order) and returns the forest and the
/// parts appended to `summEvents`, in order, repeats included.
pub(super) fn run<'e>(events: &'e [Event<'e>], params: &WfsParams) -> (Forest<'e>, Vec<Part>) {
    let mut w = Walk {
        f: Forest::new(events, params.idle_time_ms),
        out: Vec::new(),
        root: None,
        curr: None,
    };
    let break_s = params.session_gap_ms as f64 / 1000.0;
    let mut prev_ets = events.first().map_or(0, |e| e.ets);

    for (i, x) in events.iter().enumerate() {
        let kind = x.etype.as_deref();
        let mode = x.mode.as_deref();

        // Session break: a gap over `sessionBreakTime` before any event whose type is not
        // "app" closes the whole tree of the current summary (root included), emits it, then
        // clears every node of that tree (they stay open, empty, with their links) and makes
        // its top the root.
        let gap_s = x.ets.wrapping_sub(prev_ets) as f64 / 1000.0;
        if gap_s > break_s
            && !eq_ignore_case(Some("app"), kind)
            && let Some(c) = w.curr.filter(|&c| !w.f.nodes[c].closed)
        {
            let top = w.f.top(c);
            w.f.close(top);
            w.emit(top);
            w.f.clear_all(top);
            w.root = Some(top);
            w.f.clear(c);
        }
        prev_ets = x.ets;

        match x.eid.as_ref() {
            "START" => w.start(i, kind, mode.unwrap_or("")),
            "END" => w.end(i, kind, mode.unwrap_or("")),
            _ => w.other(i),
        }
    }

    // After the last event: close the current summary if open, and the root too if it is open
    // and not "similar" to the current one. (A closed current summary leaves an open root
    // unclosed and unreported, as in Sunbird.)
    if let Some(c) = w.curr.filter(|&c| !w.f.nodes[c].closed) {
        w.f.close(c);
        w.emit(c);
        if let Some(r) = w.root
            && !w.f.similar(c, r)
            && !w.f.nodes[r].closed
        {
            w.f.close(r);
            w.emit(r);
        }
    }
    (w.f, w.out)
}

/// The model's state while it walks the events: `rootSummary`, `currSummary` and `summEvents`.
struct Walk<'e> {
    f: Forest<'e>,
    out: Vec<Part>,
    root: Option<usize>,
    curr: Option<usize>,
}

impl Walk<'_> {
    /// Appends what a node has recorded to `summEvents`.
    fn emit(&mut self, n: usize) {
        self.out.push(self.f.emitted(n));
    }

    /// The START case.
    fn start(&mut self, i: usize, kind: Option<&str>, mode: &str) {
        let f = &mut self.f;
        match (self.root, self.curr) {
            // No open root: a START of type "app" becomes the root; any other START becomes
            // the current summary under a synthetic root of type "app" and mode "" that starts
            // at the same event (and so counts the START twice).
            (r, _) if r.is_none_or(|r| f.nodes[r].closed) => {
                let n = f.node(i);
                if eq_ignore_case(Some("app"), kind) {
                    self.root = Some(n);
                    self.curr = Some(n);
                } else {
                    f.nodes[n].kind = "app".into();
                    f.nodes[n].mode = "".into();
                    let c = f.node(i);
                    f.adopt(n, c);
                    self.root = Some(n);
                    self.curr = Some(c);
                }
            }
            (Some(r), Some(c)) => match f.restart(c, kind, mode) {
                // Nothing of this type and mode open above (`checkStart` gives null): the new
                // summary nests under the current one if that is open, else stands alone.
                None => {
                    let n = f.node(i);
                    if !f.nodes[c].closed {
                        f.adopt(c, n);
                    }
                    self.curr = Some(n);
                }
                // A summary of the same type and mode was open above (`checkStart` has closed
                // it): it is emitted and the new one takes its place under its parent.
                Some(t) if f.nodes[t].parent.is_some() => {
                    let parent = f.nodes[t].parent;
                    self.emit(t);
                    let n = self.f.node(i);
                    if let Some(p) = parent {
                        self.f.adopt(p, n);
                    }
                    self.curr = Some(n);
                }
                // It was a top-level summary: emit what the current summary's parent (or the
                // current summary) recorded; the new summary stands alone and becomes the
                // root if the root is closed.
                Some(_) => {
                    let from = f.nodes[c].parent.unwrap_or(c);
                    self.emit(from);
                    let n = self.f.node(i);
                    self.curr = Some(n);
                    if self.f.nodes[r].closed {
                        self.emit(r);
                        self.root = Some(n);
                    }
                }
            },
            // An open root without a current summary cannot happen (both are set together).
            _ => {}
        }
    }

    /// The END case. An END whose type and mode (ignoring case) match no summary from the
    /// current one up is ignored, as is an END before any summary exists.
    fn end(&mut self, i: usize, kind: Option<&str>, mode: &str) {
        let Some(c) = self.curr else { return };
        if !self.f.open_like(c, kind, mode) {
            return;
        }
        // `checkEnd`: the parent of the summary this END closes (matching the mode exactly).
        let target = self.f.end_target(c, kind, mode);
        let root = self.root;
        match self.f.nodes[c].parent {
            // The END closes the current summary: add it there, close and emit, go up.
            Some(p) if self.f.similar(target, p) => {
                if !self.f.nodes[c].closed {
                    self.close_with(c, i);
                    self.curr = Some(target);
                }
            }
            // It closes a summary higher up whose parent looks like the root: if that summary
            // itself looks like the root, the root takes the END, closes and is emitted; else
            // that summary does, if still open.
            _ if root.is_some_and(|r| self.f.similar(target, r)) => {
                let Some(r) = root else { return };
                let matched = self.f.end_match(c, kind, mode);
                if self.f.similar(matched, r) {
                    self.close_with(r, i);
                    self.curr = Some(r);
                } else if !self.f.nodes[matched].closed {
                    self.close_with(matched, i);
                    self.curr = Some(target);
                }
            }
            // Otherwise the current summary takes the END and closes (if open), and the
            // current summary moves to the target.
            _ => {
                if !self.f.nodes[c].closed {
                    self.close_with(c, i);
                }
                self.curr = Some(target);
            }
        }
    }

    /// Any other event goes to the open current summary (and its ancestors), or, with none
    /// open, starts a new "app" summary (keeping the event's mode), which becomes the root if
    /// there is no open root.
    fn other(&mut self, i: usize) {
        match self.curr {
            Some(c) if !self.f.nodes[c].closed => self.f.add(c, i),
            _ => {
                let n = self.f.node(i);
                self.f.nodes[n].kind = "app".into();
                self.curr = Some(n);
                if self.root.is_none_or(|r| self.f.nodes[r].closed) {
                    self.root = Some(n);
                }
            }
        }
    }

    /// Adds the END to a node, closes it and emits what it recorded.
    fn close_with(&mut self, n: usize, i: usize) {
        self.f.add(n, i);
        self.f.close(n);
        self.emit(n);
    }
}
