//! The registry of built-in functions: names, parameters, result types and documentation.
//! The checker reads signatures from here, the evaluator implements each name, and
//! [`render_markdown`] writes the reference table of the docs.

use super::Ty;

/// A parameter of a built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Name used in signatures and messages.
    pub name: &'static str,
    /// Types the argument may have.
    pub ty: Ty,
    /// Whether the argument may be left out (only trailing parameters are optional).
    pub optional: bool,
    /// Whether the argument must be written as a field path (`exists(edata.x)`).
    pub field_path: bool,
}

/// How the result type of a call follows from its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// Always this type.
    Fixed(Ty),
    /// The type of argument N (narrowed to what its parameter accepts).
    SameAs(usize),
    /// The union of the types of the arguments from index N on.
    UnionFrom(usize),
    /// The union of the arguments' types; null only when every argument may be null.
    Coalesce,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunctionDef {
    /// The name it is called by.
    pub name: &'static str,
    /// Fixed parameters, required ones first.
    pub params: &'static [Param],
    /// Any number of extra arguments of this kind, if the function takes them.
    pub variadic: Option<Param>,
    /// The result type.
    pub returns: Ret,
    /// A null first argument gives a null result (and makes the result type nullable).
    pub null_in_null_out: bool,
    /// One line of documentation.
    pub summary: &'static str,
    /// A call showing the function at work.
    pub example: &'static str,
    /// The JSON value `example` evaluates to (on the sample event of the docs).
    pub example_result: &'static str,
}

const fn p(name: &'static str, ty: Ty) -> Param {
    Param {
        name,
        ty,
        optional: false,
        field_path: false,
    }
}

const fn opt(name: &'static str, ty: Ty) -> Param {
    Param {
        name,
        ty,
        optional: true,
        field_path: false,
    }
}

const S: Ty = Ty::STRING;
const ANY: Ty = Ty::ANY;
const NUM: Ty = Ty::NUMBER;

/// A [`FunctionDef`] from its fields in declaration order.
macro_rules! def {
    ($name:expr, $params:expr, $variadic:expr, $returns:expr, $nulls:expr,
     $summary:expr, $example:expr, $result:expr $(,)?) => {
        FunctionDef {
            name: $name,
            params: $params,
            variadic: $variadic,
            returns: $returns,
            null_in_null_out: $nulls,
            summary: $summary,
            example: $example,
            example_result: $result,
        }
    };
}

#[rustfmt::skip]
static FUNCTIONS: &[FunctionDef] = &[
    def!("coalesce", &[p("value", ANY)], Some(p("more", ANY)), Ret::Coalesce, false,
        "The first argument that is not null (null if all are).",
        r#"coalesce(null, "x", "y")"#, r#""x""#),
    def!("if", &[p("cond", Ty::BOOL.or(Ty::NULL)), p("then", ANY), p("else", ANY)], None,
        Ret::UnionFrom(1), false,
        "`then` if `cond` is true, else `else` (null counts as false); only the chosen branch is evaluated.",
        r#"if(1 > 2, "yes", "no")"#, r#""no""#),
    def!("is_null", &[p("value", ANY)], None, Ret::Fixed(Ty::BOOL), false,
        "Whether the value is null or missing.",
        "is_null(edata.value)", "true"),
    def!("exists", &[Param { name: "field", ty: ANY, optional: false, field_path: true }], None,
        Ret::Fixed(Ty::BOOL), false,
        "Whether the event has the field, even if its value is null.",
        "exists(edata.value)", "true"),
    def!("lower", &[p("s", S.or(Ty::LIST))], None, Ret::SameAs(0), true,
        "The string in lower case; of a list, each string in it (other elements as they are).",
        r#"lower("AbC")"#, r#""abc""#),
    def!("upper", &[p("s", S.or(Ty::LIST))], None, Ret::SameAs(0), true,
        "The string in upper case; of a list, each string in it (other elements as they are).",
        r#"upper(["ab", 1])"#, r#"["AB",1]"#),
    def!("trim", &[p("s", S)], None, Ret::Fixed(S), true,
        "The string without leading and trailing whitespace.", r#"trim("  a b ")"#, r#""a b""#),
    def!("len", &[p("value", S.or(Ty::LIST).or(Ty::OBJECT))], None, Ret::Fixed(Ty::INT), true,
        "Characters in a string, elements in a list, or members in an object.",
        r#"len("héllo")"#, "5"),
    def!("concat", &[p("value", ANY)], Some(p("more", ANY)), Ret::Fixed(S), false,
        "The values written one after the other; nulls are skipped, other non-strings written as JSON.",
        r#"concat("id-", 42, null, true)"#, r#""id-42true""#),
    def!("contains", &[p("haystack", S.or(Ty::LIST)), p("needle", ANY)], None,
        Ret::Fixed(Ty::BOOL), true,
        "Whether a string contains a substring, or a list an element equal to `needle`.",
        r#"contains("telemetry", "met")"#, "true"),
    def!("starts_with", &[p("s", S), p("prefix", S)], None, Ret::Fixed(Ty::BOOL), true,
        "Whether the string starts with `prefix`.", r#"starts_with("do_1234", "do_")"#, "true"),
    def!("ends_with", &[p("s", S), p("suffix", S)], None, Ret::Fixed(Ty::BOOL), true,
        "Whether the string ends with `suffix`.", r#"ends_with("report.pdf", ".pdf")"#, "true"),
    def!("substr", &[p("s", S), p("start", Ty::INT), opt("len", Ty::INT)], None, Ret::Fixed(S), true,
        "At most `len` characters from `start` on (a negative `start` counts from the end).",
        r#"substr("pipeline", 4, 2)"#, r#""li""#),
    def!("replace", &[p("s", S), p("from", S), p("to", S)], None, Ret::Fixed(S), true,
        "The string with every `from` replaced by `to`.",
        r#"replace("a-b-c", "-", "_")"#, r#""a_b_c""#),
    def!("split", &[p("s", S), p("sep", S)], None, Ret::Fixed(Ty::LIST), true,
        "The parts of the string between separators (an empty `sep` splits into characters).",
        r#"split("a,b,c", ",")"#, r#"["a","b","c"]"#),
    def!("join", &[p("list", Ty::LIST), p("sep", S)], None, Ret::Fixed(S), true,
        "The list's elements written as by `concat`, separated by `sep`; nulls are skipped.",
        r#"join(["a", 1, null], "-")"#, r#""a-1""#),
    def!("md5", &[p("s", S)], None, Ret::Fixed(S), true,
        "The MD5 digest of the string's UTF-8 bytes, in lower-case hex.",
        r#"md5("abc")"#, r#""900150983cd24fb0d6963f7d28e17f72""#),
    def!("to_string", &[p("value", ANY)], None, Ret::Fixed(S), true,
        "The value as a string: strings unchanged, anything else as JSON.",
        "to_string(1.5)", r#""1.5""#),
    def!("to_int", &[p("value", ANY)], None, Ret::Fixed(Ty::INT), true,
        "The value as an int: strings are parsed, floats truncated toward zero, booleans 1 or 0.",
        r#"to_int("42")"#, "42"),
    def!("to_float", &[p("value", ANY)], None, Ret::Fixed(Ty::FLOAT), true,
        "The value as a float: strings are parsed, booleans 1.0 or 0.0.",
        r#"to_float("2.5")"#, "2.5"),
    def!("parse_json", &[p("s", S)], None, Ret::Fixed(ANY), true,
        "The value of a JSON text (a Redis hash keeps objects and lists as such texts); an error when it is none.",
        r#"parse_json("{\"os\":\"Android 9\"}")"#, r#"{"os": "Android 9"}"#),
    def!("decode_text", &[p("s", S)], None, Ret::Fixed(ANY), true,
        "A text that holds a JSON list or object (as a Redis hash keeps them) as that list or object; any other text as it is.",
        r#"decode_text("[\"English\"]")"#, r#"["English"]"#),
    def!("now_ms", &[], None, Ret::Fixed(Ty::INT), false,
        "The current time in milliseconds since 1970-01-01 UTC; the run's fixed time under `pipec run --now` or a test's `now:`.", "now_ms()", "1700000000123"),
    def!("add_months", &[p("ms", Ty::INT), p("n", Ty::INT)], None, Ret::Fixed(Ty::INT), true,
        "`n` calendar months after `ms` (before when negative), UTC: the same time and day of the month, or the month's last day when it is shorter.",
        "add_months(1706659200000, 1)", "1709164800000"),
    def!("end_of_day", &[p("ms", Ty::INT)], None, Ret::Fixed(Ty::INT), true,
        "The last millisecond of the UTC day of `ms`.",
        "end_of_day(1700000000123)", "1700006399999"),
    def!("iso8601", &[p("ms", Ty::INT)], None, Ret::Fixed(S), true,
        "Milliseconds since 1970 as a UTC timestamp `YYYY-MM-DDTHH:MM:SS.sssZ`.",
        "iso8601(1700000000123)", r#""2023-11-14T22:13:20.123Z""#),
    def!("from_iso8601", &[p("s", S), opt("otherwise", Ty::INT)], None, Ret::Fixed(Ty::INT), true,
        "An ISO 8601 timestamp (`Z`, `±HH:MM` or `±HHMM` offset, none for UTC; date alone is midnight UTC) as milliseconds since 1970; `otherwise` when given and `s` is no timestamp, else an error.",
        r#"from_iso8601("2023-11-14T22:13:20.123Z")"#, "1700000000123"),
    def!("type_of", &[p("value", ANY)], None, Ret::Fixed(S), false,
        "The value's type: `null`, `bool`, `int`, `float`, `string`, `list` or `object`.",
        "type_of(1.5)", r#""float""#),
    def!("pick", &[p("object", Ty::OBJECT), p("keys", Ty::LIST)], None, Ret::Fixed(Ty::OBJECT), true,
        "The object's members whose keys are in the list, in the object's order.",
        r#"pick(parse_json("{\"a\":1,\"b\":2}"), ["b", "c"])"#, r#"{"b": 2}"#),
    def!("compact", &[p("object", Ty::OBJECT)], None, Ret::Fixed(Ty::OBJECT), true,
        "The object without its members that are null or the empty string.",
        r#"compact(parse_json("{\"a\":\"\",\"b\":null,\"c\":0}"))"#, r#"{"c": 0}"#),
    def!("lower_keys", &[p("object", Ty::OBJECT)], None, Ret::Fixed(Ty::OBJECT), true,
        "The object with its keys in lower case (a later key wins when two become one).",
        r#"lower_keys(parse_json("{\"mimeType\":\"video\"}"))"#, r#"{"mimetype": "video"}"#),
    def!("replace_keys", &[p("object", Ty::OBJECT), p("from", S), p("to", S)], None, Ret::Fixed(Ty::OBJECT), true,
        "The object with `from` replaced by `to` in its keys (a later key wins when two become one).",
        r#"replace_keys(parse_json("{\"created_by\":\"u\"}"), "_", "")"#, r#"{"createdby": "u"}"#),
    def!("merge", &[p("a", Ty::OBJECT.or(Ty::NULL))], Some(p("more", Ty::OBJECT.or(Ty::NULL))), Ret::Fixed(Ty::OBJECT), false,
        "The members of the objects, later ones winning; nulls are skipped (none at all: `{}`).",
        r#"merge(parse_json("{\"a\":1,\"b\":1}"), null, parse_json("{\"b\":2}"))"#, r#"{"a": 1, "b": 2}"#),
    def!("abs", &[p("x", NUM)], None, Ret::SameAs(0), true,
        "The absolute value.", "abs(-3)", "3"),
    def!("min", &[p("a", NUM), p("b", NUM)], Some(p("more", NUM)), Ret::UnionFrom(0), false,
        "The smallest of the numbers.", "min(3, 1.5, 2)", "1.5"),
    def!("max", &[p("a", NUM), p("b", NUM)], Some(p("more", NUM)), Ret::UnionFrom(0), false,
        "The largest of the numbers.", "max(3, 1.5, 2)", "3"),
    def!("round", &[p("x", NUM)], None, Ret::Fixed(Ty::INT), true,
        "The nearest int, halves rounded away from zero.", "round(2.5)", "3"),
];

/// All built-in functions, in documentation order.
pub fn functions() -> &'static [FunctionDef] {
    FUNCTIONS
}

/// The built-in function called `name`.
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

impl FunctionDef {
    /// The fewest arguments a call may pass.
    pub fn min_args(&self) -> usize {
        self.params.iter().filter(|p| !p.optional).count()
    }

    /// The most arguments a call may pass (`None`: any number).
    pub fn max_args(&self) -> Option<usize> {
        match self.variadic {
            Some(_) => None,
            None => Some(self.params.len()),
        }
    }

    /// The parameter that argument `i` is passed to.
    pub fn param(&self, i: usize) -> Option<&Param> {
        self.params.get(i).or(self.variadic.as_ref())
    }

    /// `substr(s: string, start: int, len?: int) -> string`.
    pub fn signature(&self) -> String {
        let mut parts: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}{}: {}", p.name, if p.optional { "?" } else { "" }, p.ty))
            .collect();
        if let Some(v) = &self.variadic {
            parts.push(format!("{}: {}...", v.name, v.ty));
        }
        format!(
            "{}({}) -> {}",
            self.name,
            parts.join(", "),
            self.returns_text()
        )
    }

    /// The result type in words.
    fn returns_text(&self) -> String {
        match self.returns {
            Ret::Fixed(ty) => ty.to_string(),
            Ret::SameAs(i) => match self.params.get(i) {
                Some(p) => format!("type of {}", p.name),
                None => "any".to_string(),
            },
            Ret::UnionFrom(i) => {
                let names: Vec<&str> = self.params.iter().skip(i).map(|p| p.name).collect();
                format!("type of {}", names.join("/"))
            }
            Ret::Coalesce => "type of the arguments".to_string(),
        }
    }

    /// The result type of a call whose arguments have the types `args`.
    pub fn return_type(&self, args: &[Ty]) -> Ty {
        let narrowed = |i: usize| {
            let accepted = self.param(i).map_or(Ty::ANY, |p| p.ty);
            let ty = args.get(i).copied().unwrap_or(accepted).and(accepted);
            if ty.is_never() { accepted } else { ty }
        };
        let ty = match self.returns {
            Ret::Fixed(ty) => ty,
            Ret::SameAs(i) => narrowed(i),
            Ret::UnionFrom(from) => (from..args.len().max(from + 1))
                .map(narrowed)
                .fold(Ty::NEVER, Ty::or),
            Ret::Coalesce => {
                let all = args.iter().fold(Ty::NEVER, |acc, t| acc.or(*t));
                if args.iter().all(|t| t.contains(Ty::NULL)) {
                    all
                } else {
                    all.without(Ty::NULL)
                }
            }
        };
        let nullable = self.null_in_null_out && args.first().is_some_and(|t| t.contains(Ty::NULL));
        if nullable { ty.or(Ty::NULL) } else { ty }
    }
}

/// The reference table of built-in functions, as Markdown.
pub fn render_markdown() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out =
        String::from("| Function | Returns | Description | Example |\n| --- | --- | --- | --- |\n");
    for f in FUNCTIONS {
        let sig = f.signature();
        let args = sig.split(" -> ").next().unwrap_or(&sig);
        let mut returns = f.returns_text();
        if f.null_in_null_out {
            returns.push_str(&format!(
                " (null if {} is null)",
                f.params.first().map_or("the argument", |p| p.name)
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` → `{}` |\n",
            cell(args),
            cell(&returns),
            cell(f.summary),
            cell(f.example),
            cell(f.example_result),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_arity() {
        let substr = lookup("substr").unwrap_or_else(|| panic!("substr missing"));
        assert_eq!((substr.min_args(), substr.max_args()), (2, Some(3)));
        assert_eq!(
            substr.signature(),
            "substr(s: string, start: int, len?: int) -> string"
        );
        let coalesce = lookup("coalesce").unwrap_or_else(|| panic!("coalesce missing"));
        assert_eq!((coalesce.min_args(), coalesce.max_args()), (1, None));
        assert_eq!(
            coalesce.signature(),
            "coalesce(value: any, more: any...) -> type of the arguments"
        );
        assert!(lookup("nope").is_none());
        let mut names: Vec<&str> = functions().iter().map(|f| f.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate function names");
    }

    #[test]
    fn optional_params_are_trailing() {
        for f in functions() {
            let first_opt = f
                .params
                .iter()
                .position(|p| p.optional)
                .unwrap_or(f.params.len());
            assert!(
                f.params[first_opt..].iter().all(|p| p.optional),
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn return_types() {
        let ret = |name: &str, args: &[Ty]| lookup(name).map(|f| f.return_type(args));
        assert_eq!(ret("lower", &[Ty::STRING]), Some(Ty::STRING));
        assert_eq!(
            ret("lower", &[Ty::STRING.or(Ty::NULL)]),
            Some(Ty::STRING.or(Ty::NULL))
        );
        assert_eq!(ret("abs", &[Ty::INT]), Some(Ty::INT));
        assert_eq!(ret("abs", &[Ty::ANY]), Some(Ty::NUMBER.or(Ty::NULL)));
        assert_eq!(ret("min", &[Ty::INT, Ty::FLOAT]), Some(Ty::NUMBER));
        assert_eq!(
            ret("if", &[Ty::BOOL, Ty::STRING, Ty::INT]),
            Some(Ty::STRING.or(Ty::INT))
        );
        assert_eq!(
            ret("coalesce", &[Ty::NULL.or(Ty::INT), Ty::STRING]),
            Some(Ty::INT.or(Ty::STRING))
        );
        assert_eq!(
            ret("coalesce", &[Ty::NULL.or(Ty::INT), Ty::NULL]),
            Some(Ty::INT.or(Ty::NULL))
        );
        assert_eq!(ret("is_null", &[Ty::NULL]), Some(Ty::BOOL));
    }

    #[test]
    fn markdown_table() {
        let md = render_markdown();
        assert!(md.starts_with("| Function | Returns | Description | Example |\n"));
        assert_eq!(md.lines().count(), functions().len() + 2);
        assert!(md.contains(
            "| `md5(s: string)` | string (null if s is null) | The MD5 digest of the string's UTF-8 bytes, in lower-case hex. | `md5(\"abc\")` → `\"900150983cd24fb0d6963f7d28e17f72\"` |"
        ));
    }
}
