//! `window` + `aggregate`: events are grouped by key into tumbling, sliding or session
//! windows over event time; a window closes when the watermark (the greatest event time
//! seen, less the allowed lateness) passes its end, and becomes one event per key with the
//! aggregate fields, the key fields and `window_start`/`window_end`. Events of windows
//! already closed are late.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use pipec_compiler::expr::{Expr, ExprKind, FieldPath};
use pipec_compiler::manifest::{self, WindowKind};
use serde_json::{Map, Value};

use super::{Builder, Scratch, parse};
use crate::RuntimeError;
use crate::event::{Ev, fields};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Count,
    CountIf,
    Sum,
    Min,
    Max,
    Avg,
    First,
    Last,
    Distinct,
    Collect,
}

#[derive(Debug)]
struct Field {
    path: FieldPath,
    func: Func,
    arg: Option<Expr>,
}

/// The running value of one aggregate field.
#[derive(Debug, Clone)]
enum Acc {
    Count(u64),
    Sum {
        int: i64,
        float: f64,
        is_float: bool,
        n: u64,
    },
    Best(Option<Value>),
    /// (event time, arrival) of the kept value.
    Timed(Option<((i64, u64), Value)>),
    Distinct(BTreeSet<String>),
    Collect(Vec<Value>),
}

#[derive(Debug, Clone)]
struct Open {
    start: i64,
    end: i64,
    accs: Vec<Acc>,
}

#[derive(Debug, Default)]
struct State {
    /// Greatest event time seen.
    max_time: Option<i64>,
    /// Open windows by key (the key values as JSON), in start order.
    open: HashMap<String, (Vec<Value>, Vec<Open>)>,
    arrivals: u64,
}

#[derive(Debug)]
pub(crate) struct WindowAgg {
    kind: WindowKind,
    key: Vec<(Option<FieldPath>, Expr)>,
    time: Expr,
    lateness_ms: i64,
    late: Option<Arc<str>>,
    fields: Vec<Field>,
    as_type: Option<Value>,
    type_field: FieldPath,
    state: Mutex<State>,
}

impl WindowAgg {
    pub(crate) fn build(
        b: &Builder<'_>,
        w: &manifest::Window,
        a: &manifest::Aggregate,
    ) -> Result<WindowAgg, RuntimeError> {
        let key = w
            .key
            .iter()
            .map(|k| Ok((FieldPath::parse(k).ok(), parse(k)?)))
            .collect::<Result<Vec<_>, RuntimeError>>()?;
        let mut agg = Vec::new();
        for (name, src) in a.fields.iter() {
            let e = parse(src)?;
            let ExprKind::Call {
                name: f, mut args, ..
            } = e.kind
            else {
                return Err(RuntimeError::Internal(format!(
                    "`{src}` is not an aggregate"
                )));
            };
            let func = match f.as_str() {
                "count" => Func::Count,
                "count_if" => Func::CountIf,
                "sum" => Func::Sum,
                "min" => Func::Min,
                "max" => Func::Max,
                "avg" => Func::Avg,
                "first" => Func::First,
                "last" => Func::Last,
                "distinct" => Func::Distinct,
                "collect" => Func::Collect,
                other => {
                    return Err(RuntimeError::Unsupported {
                        what: format!("aggregate function `{other}`"),
                    });
                }
            };
            agg.push(Field {
                path: fields::path(name).map_err(RuntimeError::Internal)?,
                func,
                arg: if args.is_empty() {
                    None
                } else {
                    Some(args.remove(0))
                },
            });
        }
        Ok(WindowAgg {
            kind: w.window.clone(),
            key,
            time: parse(&w.time)?,
            lateness_ms: i64::try_from(w.lateness_ms).unwrap_or(i64::MAX),
            late: w.late.as_deref().map(|t| b.topic(t)).transpose()?,
            fields: agg,
            as_type: a.as_type.clone().map(Value::String),
            type_field: b.type_field()?,
            state: Mutex::new(State::default()),
        })
    }

    fn new_accs(&self) -> Vec<Acc> {
        self.fields
            .iter()
            .map(|f| match f.func {
                Func::Count | Func::CountIf => Acc::Count(0),
                Func::Sum | Func::Avg => Acc::Sum {
                    int: 0,
                    float: 0.0,
                    is_float: false,
                    n: 0,
                },
                Func::Min | Func::Max => Acc::Best(None),
                Func::First | Func::Last => Acc::Timed(None),
                Func::Distinct => Acc::Distinct(BTreeSet::new()),
                Func::Collect => Acc::Collect(Vec::new()),
            })
            .collect()
    }

    /// Takes the events into their windows; returns the events of the windows that closed.
    pub(crate) fn run(
        &self,
        evs: Vec<Ev>,
        step: usize,
        s: &mut Scratch<'_>,
    ) -> Result<Vec<Ev>, RuntimeError> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for ev in evs {
            let t = match pipec_compiler::expr::eval(&self.time, &ev.value) {
                Ok(v) => v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)),
                Err(e) => {
                    s.error(ev, step, &e.to_string())?;
                    continue;
                }
            };
            let Some(t) = t else {
                s.error(ev, step, "the event time is not a number")?;
                continue;
            };
            let mut key = Vec::with_capacity(self.key.len());
            let mut failed = None;
            for (_, k) in &self.key {
                match pipec_compiler::expr::eval(k, &ev.value) {
                    Ok(v) => key.push(v),
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            if let Some(e) = failed {
                s.error(ev, step, &e)?;
                continue;
            }
            let mut values = Vec::with_capacity(self.fields.len());
            for f in &self.fields {
                match &f.arg {
                    None => values.push(Value::Null),
                    Some(a) => match pipec_compiler::expr::eval(a, &ev.value) {
                        Ok(v) => values.push(v),
                        Err(e) => failed = Some(e.to_string()),
                    },
                }
            }
            if let Some(e) = failed {
                s.error(ev, step, &e)?;
                continue;
            }
            let watermark = st.max_time.map(|m| m.saturating_sub(self.lateness_ms));
            st.arrivals += 1;
            let arrival = st.arrivals;
            if self.add(&mut st, key, t, arrival, &values, watermark) {
                s.counters[step].windowed += 1;
                st.max_time = Some(st.max_time.map_or(t, |m| m.max(t)));
            } else {
                s.counters[step].late += 1;
                if let Some(topic) = &self.late {
                    s.send(&ev, step, std::slice::from_ref(topic))?;
                }
            }
        }
        let watermark = st.max_time.map(|m| m.saturating_sub(self.lateness_ms));
        Ok(self.close(&mut st, watermark))
    }

    /// Closes every window.
    pub(crate) fn flush(&self) -> Vec<Ev> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.close(&mut st, Some(i64::MAX))
    }

    /// Adds the event to its windows; false when it is late.
    fn add(
        &self,
        st: &mut State,
        key: Vec<Value>,
        t: i64,
        arrival: u64,
        values: &[Value],
        watermark: Option<i64>,
    ) -> bool {
        let closed = |end: i64| watermark.is_some_and(|w| end <= w);
        let key_text = Value::Array(key.clone()).to_string();
        let fresh = self.new_accs();
        let (_, open) = st.open.entry(key_text).or_insert_with(|| (key, Vec::new()));
        match &self.kind {
            WindowKind::Tumbling { size_ms } | WindowKind::Sliding { size_ms, .. } => {
                let size = i64::try_from(*size_ms).unwrap_or(i64::MAX).max(1);
                let every = match &self.kind {
                    WindowKind::Sliding { every_ms, .. } => {
                        i64::try_from(*every_ms).unwrap_or(i64::MAX).max(1)
                    }
                    _ => size,
                };
                let mut start = t.div_euclid(every) * every;
                let mut added = false;
                while start + size > t {
                    let end = start + size;
                    if !closed(end) {
                        let w = match open.iter().position(|w| w.start == start) {
                            Some(i) => &mut open[i],
                            None => {
                                open.push(Open {
                                    start,
                                    end,
                                    accs: fresh.clone(),
                                });
                                open.sort_by_key(|w| w.start);
                                let i = open.iter().position(|w| w.start == start).unwrap_or(0);
                                &mut open[i]
                            }
                        };
                        self.update(&mut w.accs, t, arrival, values);
                        added = true;
                    }
                    start -= every;
                }
                added
            }
            WindowKind::Session { gap_ms, max_ms } => {
                let gap = i64::try_from(*gap_ms).unwrap_or(i64::MAX);
                if closed(t.saturating_add(gap)) {
                    return false;
                }
                let max = max_ms.map(|m| i64::try_from(m).unwrap_or(i64::MAX));
                // A session ends at its last event + gap; an event within one joins it.
                let joins = open.iter().position(|w| {
                    t >= w.start - gap
                        && t < w.end
                        && max.is_none_or(|m| t.max(w.end - gap) - t.min(w.start) <= m)
                });
                match joins {
                    Some(i) => {
                        let w = &mut open[i];
                        w.start = w.start.min(t);
                        w.end = w.end.max(t + gap);
                        self.update(&mut w.accs, t, arrival, values);
                    }
                    None => {
                        let mut w = Open {
                            start: t,
                            end: t + gap,
                            accs: fresh,
                        };
                        self.update(&mut w.accs, t, arrival, values);
                        open.push(w);
                        open.sort_by_key(|w| w.start);
                    }
                }
                true
            }
        }
    }

    fn update(&self, accs: &mut [Acc], t: i64, arrival: u64, values: &[Value]) {
        for ((f, acc), v) in self.fields.iter().zip(accs.iter_mut()).zip(values) {
            match acc {
                Acc::Count(n) => {
                    if f.func == Func::Count && f.arg.as_ref().is_none_or(|_| !v.is_null())
                        || f.func == Func::CountIf && *v == Value::Bool(true)
                    {
                        *n += 1;
                    }
                }
                Acc::Sum {
                    int,
                    float,
                    is_float,
                    n,
                } => {
                    if let Some(i) = v.as_i64() {
                        *int = int.saturating_add(i);
                        *float += i as f64;
                        *n += 1;
                    } else if let Some(x) = v.as_f64() {
                        *is_float = true;
                        *float += x;
                        *n += 1;
                    }
                }
                Acc::Best(best) => {
                    if v.is_null() {
                        continue;
                    }
                    let better = match best {
                        None => true,
                        Some(b) => {
                            let ord = compare(v, b);
                            if f.func == Func::Min {
                                ord == Some(std::cmp::Ordering::Less)
                            } else {
                                ord == Some(std::cmp::Ordering::Greater)
                            }
                        }
                    };
                    if better {
                        *best = Some(v.clone());
                    }
                }
                Acc::Timed(kept) => {
                    let at = (t, arrival);
                    let replace = match kept {
                        None => true,
                        Some((k, _)) => (f.func == Func::First) == (at < *k),
                    };
                    if replace {
                        *kept = Some((at, v.clone()));
                    }
                }
                Acc::Distinct(set) => {
                    if !v.is_null() {
                        set.insert(v.to_string());
                    }
                }
                Acc::Collect(list) => list.push(v.clone()),
            }
        }
    }

    /// Windows whose end the watermark passed become events, by end, then key.
    fn close(&self, st: &mut State, watermark: Option<i64>) -> Vec<Ev> {
        let Some(w) = watermark else {
            return Vec::new();
        };
        let mut done: BTreeMap<(i64, String, i64), Value> = BTreeMap::new();
        for (key_text, (key, open)) in st.open.iter_mut() {
            let mut i = 0;
            while i < open.len() {
                if open[i].end <= w {
                    let win = open.remove(i);
                    let ev = self.event(key, &win);
                    done.insert((win.end, key_text.clone(), win.start), ev);
                } else {
                    i += 1;
                }
            }
        }
        st.open.retain(|_, (_, open)| !open.is_empty());
        done.into_values()
            .enumerate()
            .map(|(i, value)| Ev::tree(value, u32::MAX, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect()
    }

    fn event(&self, key: &[Value], win: &Open) -> Value {
        let mut ev = Value::Object(Map::new());
        if let Some(t) = &self.as_type {
            fields::set(&mut ev, &self.type_field, t.clone());
        }
        for (i, ((path, _), v)) in self.key.iter().zip(key).enumerate() {
            match path {
                Some(p) => fields::set(&mut ev, p, v.clone()),
                None => {
                    if let Some(o) = ev.as_object_mut() {
                        o.insert(format!("key_{i}"), v.clone());
                    }
                }
            }
        }
        if let Some(o) = ev.as_object_mut() {
            o.insert("window_start".into(), Value::from(win.start));
            o.insert("window_end".into(), Value::from(win.end));
        }
        for (f, acc) in self.fields.iter().zip(&win.accs) {
            let v = match acc {
                Acc::Count(n) => Value::from(*n),
                Acc::Sum {
                    int,
                    float,
                    is_float,
                    n,
                } => match f.func {
                    Func::Avg if *n == 0 => Value::Null,
                    Func::Avg => serde_json::Number::from_f64(*float / *n as f64)
                        .map_or(Value::Null, Value::Number),
                    _ if *is_float => {
                        serde_json::Number::from_f64(*float).map_or(Value::Null, Value::Number)
                    }
                    _ => Value::from(*int),
                },
                Acc::Best(b) => b.clone().unwrap_or(Value::Null),
                Acc::Timed(k) => k.as_ref().map_or(Value::Null, |(_, v)| v.clone()),
                Acc::Distinct(set) => Value::from(set.len() as u64),
                Acc::Collect(list) => Value::Array(list.clone()),
            };
            fields::set(&mut ev, &f.path, v);
        }
        ev
    }
}

/// Orders two numbers or two strings.
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}
