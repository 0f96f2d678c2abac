//! The summaries of one group as Sunbird's `util/Summary.scala` keeps them: a forest of nodes
//! (each `Summary` with its `PARENT` and `CHILDREN`), what adding an event to a node does, how a
//! node closes (children first, each closing producing one ME_WORKFLOW_SUMMARY record), and the
//! upward searches the model uses. Nodes live in one arena and name each other by index; the
//! walks are loops, not recursion, so a deep chain of nested STARTs cannot overflow the stack
//! (Sunbird would throw a `StackOverflowError` there).

use std::borrow::Cow;

use super::input::Event;
use super::jvm::{eq_ignore_case, java_lower, round2_ms};

/// `Summary.interactTypes`: the `edata.type`s (lower-cased) that count as interactions.
const INTERACT_TYPES: [&str; 24] = [
    "touch", "drag", "drop", "pinch", "zoom", "shake", "rotate", "speak", "listen", "write",
    "draw", "start", "end", "choose", "activate", "scroll", "click", "edit", "submit", "search",
    "dnd", "added", "removed", "selected",
];

/// One `Summary`.
pub(super) struct Node<'e> {
    /// `firstEvent`: where the summary's identity (uid, did, sid, object, tags…) comes from.
    pub first: usize,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub closed: bool,
    /// `type`: `lower(edata.type)` of the first event, "app" when it has none or is the
    /// synthetic root.
    pub kind: Cow<'e, str>,
    /// `mode`: `edata.mode` of the first event, "" when it has none.
    pub mode: Cow<'e, str>,
    pub start: i64,
    pub end: i64,
    pub last: Option<usize>,
    /// `prevEventEts`: not reset when the node is cleared.
    pub prev_ets: i64,
    pub time_spent: f64,
    pub time_diff: f64,
    pub interact: i64,
    /// `eventsSummary`: count per `eid`, in first-insertion order.
    pub counts: Vec<(&'e str, i64)>,
    pub last_impression: Option<usize>,
    /// `impressionMap`: seconds per IMPRESSION event, in first-insertion order.
    pub impressions: Vec<(usize, f64)>,
    /// `itemResponses`: an index into [`Forest::buffers`].
    pub items: usize,
    /// `summaryEvents`: an index into [`Forest::lists`].
    pub emitted: usize,
}

/// A part of a `summaryEvents` list. Sunbird copies a child's list into its parent's when the
/// parent closes, and a parent's list into `summEvents`; the lists only grow (until a clear
/// gives the node a new one), so a copy is the same as "the first `len` parts of that list",
/// which keeps a deep tree linear in memory instead of quadratic.
#[derive(Clone, Copy, Debug)]
pub(super) enum Part {
    /// A record, an index into [`Forest::records`].
    Record(usize),
    /// The first `len` parts of a list of [`Forest::lists`].
    Prefix { list: usize, len: usize },
}

/// What one `getSummaryEvent` call captured of its node. The item responses are not copied:
/// Sunbird's record holds the node's mutable buffer itself, so responses added later (until the
/// buffer is replaced by a clear) show in it too; [`Record::items`] names the buffer.
pub(super) struct Record<'e> {
    pub first: usize,
    /// The event whose `@timestamp` gives `syncts` (`lastEvent`, else `firstEvent`).
    pub sync: usize,
    pub kind: Cow<'e, str>,
    pub mode: Cow<'e, str>,
    pub start: i64,
    pub end: i64,
    pub time_diff: f64,
    /// Accumulated time spent, not yet rounded.
    pub time_spent: f64,
    pub interact: i64,
    pub counts: Vec<(&'e str, i64)>,
    pub impressions: Vec<(usize, f64)>,
    pub items: usize,
}

/// The summaries of one group and the records their closings produced.
pub(super) struct Forest<'e> {
    pub events: &'e [Event<'e>],
    pub nodes: Vec<Node<'e>>,
    /// Item-response buffers: the ASSESS events (by index) each holds.
    pub buffers: Vec<Vec<usize>>,
    pub records: Vec<Record<'e>>,
    /// The `summaryEvents` lists, each append-only.
    pub lists: Vec<Vec<Part>>,
    /// `idleTime` in seconds.
    idle_s: f64,
}

impl<'e> Forest<'e> {
    pub fn new(events: &'e [Event<'e>], idle_time_ms: i64) -> Self {
        Forest {
            events,
            nodes: Vec::new(),
            buffers: Vec::new(),
            records: Vec::new(),
            lists: Vec::new(),
            idle_s: idle_time_ms as f64 / 1000.0,
        }
    }

    /// `new Summary(event)`: starts at the event, counts it once in `events_summary` (and as
    /// an interaction if it is one), but does not add it (no time, no impression, no item).
    pub fn node(&mut self, ev: usize) -> usize {
        let e = &self.events[ev];
        self.buffers.push(Vec::new());
        self.lists.push(Vec::new());
        self.nodes.push(Node {
            first: ev,
            parent: None,
            children: Vec::new(),
            closed: false,
            kind: e.etype.as_deref().map_or(Cow::Borrowed("app"), java_lower),
            mode: Cow::Borrowed(e.mode.as_deref().unwrap_or("")),
            start: e.ets,
            end: 0,
            last: None,
            prev_ets: e.ets,
            time_spent: 0.0,
            time_diff: 0.0,
            interact: i64::from(is_interaction(e)),
            counts: vec![(e.eid.as_ref(), 1)],
            last_impression: None,
            impressions: Vec::new(),
            items: self.buffers.len() - 1,
            emitted: self.lists.len() - 1,
        });
        self.nodes.len() - 1
    }

    /// `child.addParent(parent)` with `parent.addChild(child)`: links them and adds the
    /// child's first event to the parent (and on up).
    pub fn adopt(&mut self, parent: usize, child: usize) {
        self.nodes[parent].children.push(child);
        self.nodes[child].parent = Some(parent);
        let first = self.nodes[child].first;
        self.add(parent, first);
    }

    /// `Summary.add`: adds the event to the node and to every ancestor, closed or not.
    pub fn add(&mut self, node: usize, ev: usize) {
        let mut at = Some(node);
        while let Some(n) = at {
            self.add_one(n, ev);
            at = self.nodes[n].parent;
        }
    }

    fn add_one(&mut self, n: usize, ev: usize) {
        let e = &self.events[ev];
        let idle_s = self.idle_s;
        let node = &mut self.nodes[n];
        if node.start == 0 {
            node.start = e.ets;
        }
        // `getTimeDiff`: (end - start) / 1000 in seconds, as a double.
        let gap_ms = e.ets.wrapping_sub(node.prev_ets);
        let ts = gap_ms as f64 / 1000.0;
        node.prev_ets = e.ets;
        // A gap longer than the idle time counts as nothing.
        node.time_spent += if ts > idle_s { 0.0 } else { round2_ms(gap_ms) };
        if is_interaction(e) {
            node.interact += 1;
        }
        match node.counts.iter_mut().find(|(eid, _)| *eid == e.eid) {
            Some((_, count)) => *count += 1,
            None => node.counts.push((e.eid.as_ref(), 1)),
        }
        // The open impression gets the gap since the previous event. When a new impression
        // arrives, Sunbird adds that same gap to the open one a second time, then opens the new
        // one at 0: reproduced.
        if let Some(open) = node.last_impression {
            bump(&mut node.impressions, open, ts);
            if e.eid == "IMPRESSION" {
                bump(&mut node.impressions, open, ts);
            }
        }
        if e.eid == "IMPRESSION" {
            node.last_impression = Some(ev);
            // A node receives each event once and in order, so a key already in the map can
            // only be the latest one.
            match node.impressions.last_mut() {
                Some((key, ts)) if *key == ev => *ts = 0.0,
                _ => node.impressions.push((ev, 0.0)),
            }
        }
        node.last = Some(ev);
        node.end = e.ets;
        node.time_diff = round2_ms(node.end.wrapping_sub(node.start));
        // An ASSESS event without `edata.item` makes Sunbird throw; it records nothing here.
        if e.eid == "ASSESS" && e.item.is_some() {
            let items = node.items;
            self.buffers[items].push(ev);
        }
    }

    /// `Summary.close`: closes every open child first (children first, depth first), then,
    /// unless the time spent is negative, appends the children's records and its own new one
    /// to its `summaryEvents`. Closing an already closed node records it again.
    pub fn close(&mut self, node: usize) {
        // Each frame: a node, the next child to look at, the lists its children gave.
        let mut stack: Vec<(usize, usize, Vec<Part>)> = vec![(node, 0, Vec::new())];
        while let Some(frame) = stack.last_mut() {
            let (n, next) = (frame.0, frame.1);
            if let Some(&child) = self.nodes[n].children.get(next) {
                frame.1 += 1;
                if !self.nodes[child].closed {
                    stack.push((child, 0, Vec::new()));
                }
                continue;
            }
            let Some((n, _, from_children)) = stack.pop() else {
                break;
            };
            if self.nodes[n].time_spent >= 0.0 {
                let record = self.record(n);
                let emitted = &mut self.lists[self.nodes[n].emitted];
                emitted.extend(from_children);
                emitted.push(Part::Record(record));
            }
            self.nodes[n].closed = true;
            if let Some(parent) = stack.last_mut() {
                parent.2.push(self.emitted(n));
            }
        }
    }

    /// `getSummaryEvent`: captures the node as it is now.
    fn record(&mut self, n: usize) -> usize {
        let node = &self.nodes[n];
        self.records.push(Record {
            first: node.first,
            sync: node.last.unwrap_or(node.first),
            kind: node.kind.clone(),
            mode: node.mode.clone(),
            start: node.start,
            end: node.end,
            time_diff: node.time_diff,
            time_spent: node.time_spent,
            interact: node.interact,
            counts: node.counts.clone(),
            impressions: node.impressions.clone(),
            items: node.items,
        });
        self.records.len() - 1
    }

    /// The node's `summaryEvents` as it is now.
    pub fn emitted(&self, n: usize) -> Part {
        let list = self.nodes[n].emitted;
        Part::Prefix {
            list,
            len: self.lists[list].len(),
        }
    }

    /// The records in `parts`, lists expanded, each once, in order of first appearance
    /// (`summEvents.distinct` as far as identity goes). A prefix already walked is not walked
    /// again, so this is linear in the number of parts.
    pub fn expand(&self, parts: &[Part]) -> Vec<usize> {
        let mut seen = vec![false; self.records.len()];
        let mut walked = vec![0usize; self.lists.len()];
        let mut order = Vec::new();
        // Each frame: the list (`None` for `parts`), the next part, the end.
        let mut stack: Vec<(Option<usize>, usize, usize)> = vec![(None, 0, parts.len())];
        while let Some(frame) = stack.last_mut() {
            let (list, at, end) = *frame;
            if at >= end {
                stack.pop();
                continue;
            }
            frame.1 += 1;
            let part = match list {
                None => parts.get(at),
                Some(l) => self.lists.get(l).and_then(|parts| parts.get(at)),
            };
            match part {
                Some(&Part::Record(r)) => {
                    if let Some(seen) = seen.get_mut(r)
                        && !std::mem::replace(seen, true)
                    {
                        order.push(r);
                    }
                }
                // Lists only refer to their node's children's lists, so no list is met again
                // while it is being walked; what was walked before holds only seen records.
                Some(&Part::Prefix { list, len }) => {
                    if let Some(done) = walked.get_mut(list)
                        && *done < len
                    {
                        stack.push((Some(list), *done, len));
                        *done = len;
                    }
                }
                None => {}
            }
        }
        order
    }

    /// `clearSummary`: forgets what the node counted and recorded and reopens it; its first
    /// event, type, mode, links and `prevEventEts` stay.
    pub fn clear(&mut self, n: usize) {
        self.buffers.push(Vec::new());
        self.lists.push(Vec::new());
        let (items, emitted) = (self.buffers.len() - 1, self.lists.len() - 1);
        let node = &mut self.nodes[n];
        node.start = 0;
        node.interact = 0;
        node.last = None;
        node.items = items;
        node.end = 0;
        node.time_spent = 0.0;
        node.time_diff = 0.0;
        node.counts.clear();
        node.last_impression = None;
        node.impressions.clear();
        node.emitted = emitted;
        node.closed = false;
    }

    /// `clearAll`: clears the node and all its descendants.
    pub fn clear_all(&mut self, node: usize) {
        let mut todo = vec![node];
        while let Some(n) = todo.pop() {
            todo.extend_from_slice(&self.nodes[n].children);
            self.clear(n);
        }
    }

    /// `deepClone` (which clones nothing): the topmost ancestor.
    pub fn top(&self, mut n: usize) -> usize {
        while let Some(p) = self.nodes[n].parent {
            n = p;
        }
        n
    }

    /// `ckeckTypeMode`: type and mode equal ignoring case.
    fn same_type_mode(&self, n: usize, kind: Option<&str>, mode: &str) -> bool {
        let node = &self.nodes[n];
        eq_ignore_case(Some(&node.kind), kind) && eq_ignore_case(Some(&node.mode), Some(mode))
    }

    /// The test `checkStart`, `checkEnd` and `getSimilarEndSummary` use: type equal ignoring
    /// case, mode equal exactly.
    fn matches(&self, n: usize, kind: Option<&str>, mode: &str) -> bool {
        let node = &self.nodes[n];
        eq_ignore_case(Some(&node.kind), kind) && node.mode == mode
    }

    /// `checkForSimilarSTART`: whether the node or an ancestor has this type and mode.
    pub fn open_like(&self, n: usize, kind: Option<&str>, mode: &str) -> bool {
        self.ancestry(n).any(|a| self.same_type_mode(a, kind, mode))
    }

    /// `checkStart`: the nearest of the node and its ancestors matching this START, closed
    /// (again, if it was) on the way.
    pub fn restart(&mut self, n: usize, kind: Option<&str>, mode: &str) -> Option<usize> {
        let found = self.ancestry(n).find(|&a| self.matches(a, kind, mode))?;
        self.close(found);
        Some(found)
    }

    /// `checkEnd`: the parent of the nearest node matching this END (the node itself if it
    /// has no parent), or the topmost ancestor when none matches.
    pub fn end_target(&self, n: usize, kind: Option<&str>, mode: &str) -> usize {
        match self.ancestry(n).find(|&a| self.matches(a, kind, mode)) {
            Some(found) => self.nodes[found].parent.unwrap_or(found),
            None => self.top(n),
        }
    }

    /// `getSimilarEndSummary`: the nearest node matching this END, or the topmost ancestor.
    pub fn end_match(&self, n: usize, kind: Option<&str>, mode: &str) -> usize {
        self.ancestry(n)
            .find(|&a| self.matches(a, kind, mode))
            .unwrap_or_else(|| self.top(n))
    }

    /// `checkSimilarity`: type and mode equal ignoring case, and the same start time. It
    /// compares values, not identity, so two distinct nodes can be "similar".
    pub fn similar(&self, a: usize, b: usize) -> bool {
        let (x, y) = (&self.nodes[a], &self.nodes[b]);
        eq_ignore_case(Some(&x.kind), Some(&y.kind))
            && eq_ignore_case(Some(&x.mode), Some(&y.mode))
            && x.start == y.start
    }

    /// The node and its ancestors, nearest first.
    fn ancestry(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(n), |&a| self.nodes[a].parent)
    }
}

/// An INTERACT event whose `lower(edata.type)` is an interaction type. (An INTERACT event
/// without a type makes Sunbird throw; it does not count here.)
fn is_interaction(e: &Event<'_>) -> bool {
    e.eid == "INTERACT"
        && e.etype
            .as_deref()
            .is_some_and(|t| INTERACT_TYPES.contains(&java_lower(t).as_ref()))
}

/// `impressionMap += (key -> (impressionMap.getOrElse(key, 0) + ts))`.
fn bump(impressions: &mut Vec<(usize, f64)>, key: usize, ts: f64) {
    match impressions.iter_mut().rev().find(|(k, _)| *k == key) {
        Some((_, total)) => *total += ts,
        None => impressions.push((key, ts)),
    }
}
