//! Run-time implementations of the built-in functions declared in [`super::functions`].

use std::ops::Range;

use serde_json::Value;

use super::ast::{Expr, ExprKind};
use super::eval::{EvalError, Num, eval, float, kind, lookup, num, num_cmp, truth, values_equal};
use super::functions::{FunctionDef, lookup as lookup_fn};
use super::{md5, time};

/// Evaluates the call `name(args)` spanning `span`.
pub(crate) fn call(
    name: &str,
    name_span: &Range<usize>,
    args: &[Expr],
    span: Range<usize>,
    event: &Value,
) -> Result<Value, EvalError> {
    let Some(def) = lookup_fn(name) else {
        return Err(EvalError::new(
            name_span.clone(),
            format!("unknown function `{name}`"),
        ));
    };
    let count_ok =
        args.len() >= def.min_args() && def.max_args().is_none_or(|max| args.len() <= max);
    if !count_ok {
        return Err(EvalError::new(
            span,
            format!("wrong number of arguments: {}", def.signature()),
        ));
    }
    // The two functions that do not evaluate all their arguments.
    match (name, args) {
        ("exists", [arg]) => {
            return match &arg.kind {
                ExprKind::Path(path) => Ok(Value::Bool(lookup(event, path).is_some())),
                _ => Err(EvalError::new(
                    arg.span.clone(),
                    "`exists` takes a field path",
                )),
            };
        }
        ("if", [cond, then, otherwise]) => {
            let chosen = if truth(&eval(cond, event)?, &cond.span)? {
                then
            } else {
                otherwise
            };
            return eval(chosen, event);
        }
        _ => {}
    }
    let values = args
        .iter()
        .map(|a| eval(a, event))
        .collect::<Result<Vec<_>, _>>()?;
    if def.null_in_null_out && values.first().is_some_and(Value::is_null) {
        return Ok(Value::Null);
    }
    let a = Args {
        def,
        exprs: args,
        values,
    };
    apply(&a, span)
}

/// Evaluated arguments of one call, with what is needed to report a bad one.
struct Args<'a> {
    def: &'static FunctionDef,
    exprs: &'a [Expr],
    values: Vec<Value>,
}

impl Args<'_> {
    fn value(&self, i: usize) -> &Value {
        self.values.get(i).unwrap_or(&Value::Null)
    }

    fn bad(&self, i: usize, want: &str) -> EvalError {
        let span = self.exprs.get(i).map_or(0..0, |e| e.span.clone());
        let param = self.def.param(i).map_or("argument", |p| p.name);
        EvalError::new(
            span,
            format!(
                "`{}` needs {want} for `{param}`, found {}",
                self.def.name,
                kind(self.value(i))
            ),
        )
    }

    fn str(&self, i: usize) -> Result<&str, EvalError> {
        self.value(i)
            .as_str()
            .ok_or_else(|| self.bad(i, "a string"))
    }

    fn obj(&self, i: usize) -> Result<&serde_json::Map<String, Value>, EvalError> {
        self.value(i)
            .as_object()
            .ok_or_else(|| self.bad(i, "an object"))
    }

    fn num(&self, i: usize) -> Result<Num, EvalError> {
        num(self.value(i)).ok_or_else(|| self.bad(i, "a number"))
    }

    /// An int, or a float without a fraction.
    fn int(&self, i: usize) -> Result<i64, EvalError> {
        match self.num(i) {
            Ok(Num::Int(n)) => Ok(n),
            Ok(Num::Float(f)) if f.fract() == 0.0 => {
                float_to_int(f).ok_or_else(|| self.bad(i, "an int"))
            }
            _ => Err(self.bad(i, "an int")),
        }
    }
}

fn float_to_int(f: f64) -> Option<i64> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    // The cast is exact once the range is checked.
    (f.is_finite() && (-TWO_63..TWO_63).contains(&f)).then_some(f as i64)
}

/// Text of a value for `concat`/`join`: strings as they are, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `f` of a string, or of each string in a list (other elements as they are).
fn each_string(a: &Args<'_>, f: fn(&str) -> String) -> Result<Value, EvalError> {
    match a.value(0) {
        Value::String(s) => Ok(Value::String(f(s))),
        Value::Array(items) => Ok(Value::Array(
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Value::String(f(s)),
                    other => other.clone(),
                })
                .collect(),
        )),
        _ => Err(a.bad(0, "a string or list")),
    }
}

fn apply(a: &Args<'_>, span: Range<usize>) -> Result<Value, EvalError> {
    let err = |message: String| Err(EvalError::new(span.clone(), message));
    let string = |s: String| Ok(Value::String(s));
    Ok(match a.def.name {
        "coalesce" => a
            .values
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null),
        "is_null" => Value::Bool(a.value(0).is_null()),
        "lower" => return each_string(a, str::to_lowercase),
        "upper" => return each_string(a, str::to_uppercase),
        "trim" => return string(a.str(0)?.trim().to_string()),
        "len" => Value::from(match a.value(0) {
            Value::String(s) => s.chars().count(),
            Value::Array(items) => items.len(),
            Value::Object(members) => members.len(),
            _ => return Err(a.bad(0, "a string, list or object")),
        }),
        "concat" => {
            return string(a.values.iter().filter(|v| !v.is_null()).map(text).collect());
        }
        "join" => {
            let Value::Array(items) = a.value(0) else {
                return Err(a.bad(0, "a list"));
            };
            let parts: Vec<String> = items.iter().filter(|v| !v.is_null()).map(text).collect();
            return string(parts.join(a.str(1)?));
        }
        "contains" => Value::Bool(match a.value(0) {
            Value::String(s) => s.contains(a.str(1)?),
            Value::Array(items) => items.iter().any(|item| values_equal(item, a.value(1))),
            _ => return Err(a.bad(0, "a string or list")),
        }),
        "starts_with" => Value::Bool(a.str(0)?.starts_with(a.str(1)?)),
        "ends_with" => Value::Bool(a.str(0)?.ends_with(a.str(1)?)),
        "substr" => {
            let chars: Vec<char> = a.str(0)?.chars().collect();
            let n = i64::try_from(chars.len()).unwrap_or(i64::MAX);
            let start = a.int(1)?;
            let start = if start < 0 {
                n.saturating_add(start).max(0)
            } else {
                start.min(n)
            };
            let len = if a.values.len() > 2 { a.int(2)? } else { n };
            if len < 0 {
                return err(format!("`substr` needs a length of 0 or more, found {len}"));
            }
            let (skip, take) = (
                usize::try_from(start).unwrap_or(0),
                usize::try_from(len).unwrap_or(usize::MAX),
            );
            return string(chars.iter().skip(skip).take(take).collect());
        }
        "replace" => return string(a.str(0)?.replace(a.str(1)?, a.str(2)?)),
        "split" => {
            let (s, sep) = (a.str(0)?, a.str(1)?);
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep).map(|p| Value::String(p.to_string())).collect()
            };
            Value::Array(parts)
        }
        "md5" => return string(md5::hex_digest(a.str(0)?.as_bytes())),
        "to_string" => return string(text(a.value(0))),
        "to_int" => match a.value(0) {
            Value::Bool(b) => Value::from(i64::from(*b)),
            Value::String(s) => match parse_int(s.trim()) {
                Some(n) => Value::from(n),
                None => return err(format!("cannot convert {s:?} to int")),
            },
            v => match num(v) {
                Some(Num::Int(n)) => Value::from(n),
                Some(Num::Float(f)) => match float_to_int(f.trunc()) {
                    Some(n) => Value::from(n),
                    None => return err(format!("{f:?} is out of the int range")),
                },
                None => return Err(a.bad(0, "a number, string or bool")),
            },
        },
        "to_float" => match a.value(0) {
            Value::Bool(b) => return float(if *b { 1.0 } else { 0.0 }, span),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => return float(f, span),
                _ => return err(format!("cannot convert {s:?} to float")),
            },
            _ => {
                let n = a.num(0).map_err(|_| a.bad(0, "a number, string or bool"))?;
                return float(n.as_f64(), span);
            }
        },
        "parse_json" => match serde_json::from_str::<Value>(a.str(0)?) {
            Ok(v) => v,
            Err(e) => return err(format!("not a JSON text: {e}")),
        },
        "decode_text" => {
            let s = a.str(0)?;
            let t = s.trim_start();
            if t.starts_with('[') || t.starts_with('{') {
                match json_with_raw_controls(s) {
                    Ok(v) => v,
                    Err(e) => return err(format!("not a JSON text: {e}")),
                }
            } else {
                Value::String(s.to_string())
            }
        }
        "now_ms" => Value::from(super::clock::now_ms()),
        "add_months" => match time::add_months(a.int(0)?, a.int(1)?) {
            Some(ms) => Value::from(ms),
            None => return err("the date is out of range".to_string()),
        },
        "end_of_day" => match time::end_of_day(a.int(0)?) {
            Some(ms) => Value::from(ms),
            None => return err("the date is out of range".to_string()),
        },
        "iso8601" => match time::format_iso8601(a.int(0)?) {
            Some(s) => Value::String(s),
            None => return err("timestamp is outside the years 0000 to 9999".to_string()),
        },
        "from_iso8601" => match time::parse_iso8601(a.str(0)?) {
            Some(ms) => Value::from(ms),
            None if a.values.len() > 1 => Value::from(a.int(1)?),
            None => return err(format!("{:?} is not an ISO 8601 timestamp", a.str(0)?)),
        },
        "type_of" => return string(super::eval::kind(a.value(0)).to_string()),
        "pick" => {
            let keys = a.value(1).as_array().ok_or_else(|| a.bad(1, "a list"))?;
            let wanted: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
            Value::Object(
                a.obj(0)?
                    .iter()
                    .filter(|(k, _)| wanted.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        }
        "compact" => Value::Object(
            a.obj(0)?
                .iter()
                .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        "lower_keys" => Value::Object(
            a.obj(0)?
                .iter()
                .map(|(k, v)| (k.to_lowercase(), v.clone()))
                .collect(),
        ),
        "replace_keys" => {
            let (from, to) = (a.str(1)?, a.str(2)?);
            if from.is_empty() {
                return err("`from` is empty".to_string());
            }
            Value::Object(
                a.obj(0)?
                    .iter()
                    .map(|(k, v)| (k.replace(from, to), v.clone()))
                    .collect(),
            )
        }
        "merge" => {
            let mut out = serde_json::Map::new();
            for (i, v) in a.values.iter().enumerate() {
                match v {
                    Value::Null => {}
                    Value::Object(m) => {
                        out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    _ => return Err(a.bad(i, "an object")),
                }
            }
            Value::Object(out)
        }
        "abs" => match a.num(0)? {
            Num::Int(n) => match n.checked_abs() {
                Some(n) => Value::from(n),
                None => return err("integer overflow".to_string()),
            },
            Num::Float(f) => return float(f.abs(), span),
        },
        "min" | "max" => {
            let want = if a.def.name == "min" {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            };
            let mut best = (0, a.num(0)?);
            for i in 1..a.values.len() {
                let n = a.num(i)?;
                if num_cmp(n, best.1) == want {
                    best = (i, n);
                }
            }
            a.value(best.0).clone()
        }
        "round" => match a.num(0)? {
            Num::Int(n) => Value::from(n),
            Num::Float(f) => match float_to_int(f.round()) {
                Some(n) => Value::from(n),
                None => return err(format!("{f:?} is out of the int range")),
            },
        },
        other => return err(format!("function `{other}` has no implementation")),
    })
}

/// An int from text: `"42"`, `"-7"`, or a float text such as `"1.9"` truncated to 1.
fn parse_int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        float_to_int(f.trunc())
    })
}

/// The value of a JSON text that may hold raw control characters (a tab, a newline) inside
/// its strings, as caches written by Gson do (Gson reads them; strict JSON does not): such
/// characters are escaped before it is parsed. Anything else must be JSON.
fn json_with_raw_controls(s: &str) -> Result<Value, serde_json::Error> {
    let strict = serde_json::from_str::<Value>(s);
    if strict.is_ok() || !s.bytes().any(|b| b < 0x20) {
        return strict;
    }
    let mut out = String::with_capacity(s.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    for c in s.chars() {
        if in_string && !escaped && c < ' ' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
            continue;
        }
        out.push(c);
        if escaped {
            escaped = false;
        } else if in_string && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_string = !in_string;
        }
    }
    serde_json::from_str(&out)
}

#[cfg(test)]
#[path = "builtins_tests.rs"]
mod tests;
