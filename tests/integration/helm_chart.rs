//! The Helm chart under `templates/helm/chart/`, checked without a `helm` binary: the
//! values schema is a valid draft-07 schema that accepts what pipec generates and refuses
//! broken values; every value path a template reads exists in that schema; and every
//! template's `{{ }}` delimiters and `if`/`range`/`with`/`define` blocks balance.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::root;

/// The chart's source directory.
fn chart_dir() -> PathBuf {
    root().join("templates/helm/chart")
}

/// `values.schema.json`, parsed.
fn schema() -> Value {
    let path = chart_dir().join("values.schema.json");
    let text = std::fs::read_to_string(&path).expect("read values.schema.json");
    serde_json::from_str(&text).expect("values.schema.json is JSON")
}

/// The Go templates of the chart (`templates/*`), by file name, sorted.
fn templates() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(chart_dir().join("templates"))
        .expect("read templates/helm/chart/templates")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, std::fs::read_to_string(&p).expect("read template"))
        })
        .collect();
    out.sort();
    out
}

/// Values as pipec generates them: one job and one report.
fn example_values() -> Value {
    json!({
        "pipeline": "igot-telemetry",
        "environment": "dev",
        "logLevel": "info",
        "image": { "repository": "ghcr.io/pipec/pipec", "tag": "0.1.0", "pullPolicy": "IfNotPresent" },
        "serviceAccountName": "",
        "podAnnotations": {},
        "nodeSelector": {},
        "tolerations": [],
        "securityContext": { "runAsNonRoot": true, "readOnlyRootFilesystem": true },
        "metrics": {
            "port": 9464,
            "path": "/metrics",
            "serviceMonitor": { "enabled": false, "interval": "30s", "labels": {} }
        },
        "probes": {
            "liveness": { "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3 },
            "readiness": { "initialDelaySeconds": 5, "periodSeconds": 10, "failureThreshold": 3 }
        },
        "clusters": { "processing": { "brokers": "127.0.0.1:9092" } },
        "jobs": {
            "pipeline-preprocessor": {
                "description": "Validates events and routes them by type",
                "replicas": 2,
                "resources": {
                    "requests": { "cpu": "1", "memory": "2Gi" },
                    "limits": { "memory": "2Gi" }
                },
                "consumerGroup": "igot-telemetry.pipeline-preprocessor",
                "source": { "cluster": "processing", "topic": "dev.telemetry.raw", "partitions": 16 },
                "clusters": ["processing"],
                "env": {},
                "secrets": [
                    { "env": "PIPEC_SECRET_REDIS_AUTH_PASSWORD", "secret": "redis-auth", "key": "password" }
                ],
                "autoscaling": { "enabled": false, "minReplicas": 2, "maxReplicas": 16, "lagThreshold": 1000 }
            }
        },
        "dataDir": "s3://telemetry-backups/igot",
        "backups": {
            "unique": {
                "topic": "unique",
                "resources": { "requests": { "cpu": "250m", "memory": "512Mi" }, "limits": { "memory": "512Mi" } },
                "clusters": ["processing"],
                "env": {},
                "secrets": []
            }
        },
        "reports": {
            "workflow-summary": {
                "description": null,
                "schedule": "30 5 * * *",
                "timeZone": "Etc/UTC",
                "startingDeadlineSeconds": 3600,
                "backoffLimit": 1,
                "resources": {
                    "requests": { "cpu": "1", "memory": "2Gi" },
                    "limits": { "memory": "2Gi" }
                },
                "clusters": ["processing"],
                "args": ["--kafka"],
                "env": {},
                "secrets": []
            }
        }
    })
}

/// The schema's errors for `values`, one line each.
fn errors(values: &Value) -> Vec<String> {
    let validator = jsonschema::draft7::new(&schema()).expect("values.schema.json compiles");
    validator
        .iter_errors(values)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_values_schema_is_a_draft_07_schema() {
    let schema = schema();
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-07/schema#",
        "Helm validates values with a draft-07 validator"
    );
    if let Err(e) = jsonschema::draft7::meta::validate(&schema) {
        panic!("values.schema.json is not a valid draft-07 schema: {e}");
    }
}

#[test]
fn generated_values_validate() {
    let errs = errors(&example_values());
    assert!(errs.is_empty(), "{}", errs.join("\n"));

    // The optional parts switched on: autoscaling, a ServiceMonitor, scheduling options.
    let mut v = example_values();
    v["jobs"]["pipeline-preprocessor"]["autoscaling"]["enabled"] = json!(true);
    v["metrics"]["serviceMonitor"] =
        json!({ "enabled": true, "interval": "1m30s", "labels": { "release": "prom" } });
    v["tolerations"] = json!([{ "key": "dedicated", "operator": "Equal", "value": "kafka", "effect": "NoSchedule" }]);
    v["nodeSelector"] = json!({ "pool": "streaming" });
    v["reports"]["workflow-summary"]["failedJobsHistoryLimit"] = json!(0);
    v["reports"]["workflow-summary"]["schedule"] = json!("@daily");
    v["dataDir"] = json!("s3://reports/igot");
    let errs = errors(&v);
    assert!(errs.is_empty(), "{}", errs.join("\n"));

    // Nothing to report is allowed, and so is leaving the optional keys out.
    let mut v = example_values();
    v["reports"] = json!({});
    for key in [
        "serviceAccountName",
        "podAnnotations",
        "nodeSelector",
        "tolerations",
        "securityContext",
    ] {
        v.as_object_mut().expect("object").remove(key);
    }
    let errs = errors(&v);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn broken_values_are_rejected() {
    type Breakage = fn(&mut Value);
    let cases: [(&str, Breakage); 19] = [
        ("missing image", |v| {
            v.as_object_mut().expect("object").remove("image");
        }),
        ("a literal value in a secret reference", |v| {
            v["jobs"]["pipeline-preprocessor"]["secrets"][0]["value"] = json!("hunter2");
        }),
        ("negative replicas", |v| {
            v["jobs"]["pipeline-preprocessor"]["replicas"] = json!(-1);
        }),
        ("unknown top-level key", |v| {
            v["imageTag"] = json!("latest");
        }),
        ("misspelt job key", |v| {
            v["jobs"]["pipeline-preprocessor"]["replica"] = json!(2);
        }),
        ("job name that is not a DNS label", |v| {
            v["jobs"]["Pipeline.Preprocessor"] = v["jobs"]["pipeline-preprocessor"].clone();
        }),
        ("no reports map", |v| {
            v.as_object_mut().expect("object").remove("reports");
        }),
        ("report name that is not a DNS label", |v| {
            v["reports"]["workflow_summary"] = v["reports"]["workflow-summary"].clone();
        }),
        ("port out of range", |v| {
            v["metrics"]["port"] = json!(70000);
        }),
        ("a time zone inside the schedule", |v| {
            v["reports"]["workflow-summary"]["schedule"] = json!("CRON_TZ=UTC 30 5 * * *");
        }),
        ("a resource that is not a quantity", |v| {
            v["jobs"]["pipeline-preprocessor"]["resources"]["requests"]["memory"] = json!("2 GB");
        }),
        ("a backup without its topic", |v| {
            v["backups"]["unique"]
                .as_object_mut()
                .expect("object")
                .remove("topic");
        }),
        ("a report argument that is not a flag", |v| {
            v["reports"]["workflow-summary"]["args"] = json!(["--kafka; rm -rf /"]);
        }),
        ("unknown pull policy", |v| {
            v["image"]["pullPolicy"] = json!("Sometimes");
        }),
        ("autoscaling without its bounds", |v| {
            v["jobs"]["pipeline-preprocessor"]["autoscaling"] = json!({ "enabled": true });
        }),
        ("a minute out of range", |v| {
            v["reports"]["workflow-summary"]["schedule"] = json!("61 * * * *");
        }),
        ("a month out of range", |v| {
            v["reports"]["workflow-summary"]["schedule"] = json!("0 5 * 13 *");
        }),
        ("a step of zero", |v| {
            v["reports"]["workflow-summary"]["schedule"] = json!("*/0 * * * *");
        }),
        ("a time zone no area of the tz database has", |v| {
            v["reports"]["workflow-summary"]["timeZone"] = json!("Mars/Olympus");
        }),
    ];
    for (what, breakage) in cases {
        let mut v = example_values();
        breakage(&mut v);
        assert!(
            !errors(&v).is_empty(),
            "the schema accepts values with {what}"
        );
    }
}

/// The schedules and time zones Kubernetes takes pass the tightened patterns.
#[test]
fn cron_schedules_and_time_zones_in_range_are_accepted() {
    for schedule in [
        "30 5 * * *",
        "*/15 0-23/2 1,15 JAN-DEC mon-fri",
        "0 0 ? * 7",
        "59 23 31 12 0",
        "05 09 01 01 *",
        "0 23 * * *",
        "005 0 * * *",
        "@daily",
    ] {
        let mut v = example_values();
        v["reports"]["workflow-summary"]["schedule"] = json!(schedule);
        let errs = errors(&v);
        assert!(errs.is_empty(), "{schedule}: {}", errs.join("\n"));
    }
    for zone in [
        "Etc/UTC",
        "UTC",
        "Asia/Kolkata",
        "America/Argentina/Buenos_Aires",
        "Etc/GMT+5",
    ] {
        let mut v = example_values();
        v["reports"]["workflow-summary"]["timeZone"] = json!(zone);
        let errs = errors(&v);
        assert!(errs.is_empty(), "{zone}: {}", errs.join("\n"));
    }
}

/// `pipec check` and the values schema agree: a schedule the spec's check takes (and so
/// `pipec compile` writes into the values as written) passes the schema, and one it refuses
/// because Kubernetes would (`@DAILY`, a minute of 61) the schema refuses too.
#[test]
fn the_values_schema_takes_every_schedule_check_takes() {
    let schedules = [
        "30 5 * * *",
        " 30 5 * * * ",
        "0,15,30,45 9-17 * JAN-MAR mon-fri",
        "1,2,3,5 0 1,15 6/2 5-7",
        "10/20 * * * *",
        "5-50/15 * * * *",
        "0 0 1-31 * 7",
        "005 0 * * *",
        "@annually",
        "@midnight",
        "@DAILY",
        "61 * * * *",
        "0 0 * * 8",
    ];
    let mut disagree = Vec::new();
    for schedule in schedules {
        let check = pipec_compiler::cron::parse_cron(schedule).is_ok();
        let mut v = example_values();
        v["reports"]["workflow-summary"]["schedule"] = json!(schedule);
        let schema = errors(&v).is_empty();
        if check != schema {
            disagree.push(format!(
                "{schedule:?}: check {check}, values schema {schema}"
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

// ---------------------------------------------------------------------------------------
// A static reading of the Go templates. Not a Go template parser: it knows the few forms
// the chart uses (`.Values.a.b`, `range $k, $v := PATH`, `$v := index PATH KEY`,
// `$v := PATH`, `$v.field`), and refuses a field read from a variable it cannot follow,
// so that a new form fails loudly here instead of going unchecked.
// ---------------------------------------------------------------------------------------

/// One `{{ }}` action: its text without delimiters, trim markers and surrounding blanks.
struct Action {
    text: String,
    line: usize,
    comment: bool,
}

/// 1-based line of byte offset `at`.
fn line_of(src: &str, at: usize) -> usize {
    src[..at].matches('\n').count() + 1
}

/// The actions of a template, or where its delimiters do not pair up.
fn actions(src: &str) -> Result<Vec<Action>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let Some(open) = src[pos..].find("{{").map(|i| pos + i) else {
            if let Some(i) = src[pos..].find("}}") {
                return Err(format!(
                    "line {}: `}}}}` without `{{{{`",
                    line_of(src, pos + i)
                ));
            }
            return Ok(out);
        };
        if let Some(i) = src[pos..open].find("}}") {
            return Err(format!(
                "line {}: `}}}}` without `{{{{`",
                line_of(src, pos + i)
            ));
        }
        let Some(close) = src[open + 2..].find("}}").map(|i| open + 2 + i) else {
            return Err(format!("line {}: `{{{{` never closed", line_of(src, open)));
        };
        let inner = &src[open + 2..close];
        if inner.contains("{{") {
            return Err(format!(
                "line {}: `{{{{` opened again before `}}}}`",
                line_of(src, open)
            ));
        }
        // `{{- x -}}`: the dashes trim text around the action and are not part of it.
        let inner = inner.strip_prefix("- ").unwrap_or(inner);
        let inner = inner.strip_suffix(" -").unwrap_or(inner).trim();
        let comment = inner.starts_with("/*");
        if comment && !inner.ends_with("*/") {
            return Err(format!(
                "line {}: a comment must end with `*/` right before `}}}}`",
                line_of(src, open)
            ));
        }
        out.push(Action {
            text: inner.to_string(),
            line: line_of(src, open),
            comment,
        });
        pos = close + 2;
    }
}

/// The errors of a template's block structure: `if`, `range`, `with`, `define` and
/// `block` each closed by an `end`, `else` only inside a block.
fn block_errors(actions: &[Action]) -> Vec<String> {
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut errs = Vec::new();
    for a in actions.iter().filter(|a| !a.comment) {
        let word = a.text.split_whitespace().next().unwrap_or("");
        match word {
            "if" | "range" | "with" | "define" | "block" => open.push((word, a.line)),
            // The guard pops the block `end` closes; it fails only when there is none.
            "end" if open.pop().is_none() => {
                errs.push(format!("line {}: `end` closes nothing", a.line));
            }
            "else" if open.is_empty() => {
                errs.push(format!("line {}: `else` outside a block", a.line));
            }
            _ => {}
        }
    }
    for (word, line) in open {
        errs.push(format!("line {line}: `{word}` is never closed by `end`"));
    }
    errs
}

/// The action's text with its string literals blanked, so that a message such as
/// "not in .Values.clusters" is not read as a value path.
fn without_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            '`' => {
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// A step into the values: a key, or any element of a map or list.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Any,
}

/// Follows `$ref`s (`#/definitions/...`) to the schema they name.
fn deref<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(r) = node.get("$ref").and_then(Value::as_str) {
        node = root
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("values.schema.json: dangling $ref {r}"));
    }
    node
}

/// Whether `path` leads somewhere in the schema. A free-form object (no `properties`,
/// unknown keys allowed) accepts whatever follows it.
fn resolve(root: &Value, path: &[Step]) -> Result<(), String> {
    let mut node = root;
    for (i, step) in path.iter().enumerate() {
        node = deref(root, node);
        let extra = node.get("additionalProperties");
        let map_schema = extra.filter(|e| e.is_object());
        let next = match step {
            Step::Key(k) => node.get("properties").and_then(|p| p.get(k)).or(map_schema),
            Step::Any => node.get("items").or(map_schema),
        };
        match next {
            Some(n) => node = n,
            None => {
                let free_form = node.get("type") == Some(&json!("object"))
                    && node.get("properties").is_none()
                    && extra != Some(&json!(false));
                if free_form {
                    return Ok(());
                }
                return Err(format!(
                    "no `{}` at {}",
                    show(&path[i..=i]),
                    show(&path[..i])
                ));
            }
        }
    }
    Ok(())
}

/// A path as `.Values.a.b[*]`.
fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Step::Any => s.push_str("[*]"),
        }
    }
    s
}

/// Whether `c` can be part of a Go template identifier.
fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The dotted fields of `s` up to the first character that is not part of one:
/// `.a.b)` gives `["a", "b"]`.
fn fields(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(after) = rest.strip_prefix('.') {
        let end = after.find(|c: char| !ident_char(c)).unwrap_or(after.len());
        if end == 0 {
            break;
        }
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

/// The values path a token reads, if the checker can tell: `.Values.a`, `$.Values.a`,
/// `.root.Values.a`, or a bound variable's fields. `Err` for fields of a variable it
/// cannot follow.
fn token_path(token: &str, vars: &HashMap<String, Vec<Step>>) -> Result<Option<Vec<Step>>, String> {
    if let Some(i) = token.find(".Values") {
        let after = &token[i + ".Values".len()..];
        if !after.starts_with(|c: char| ident_char(c)) {
            return Ok(Some(fields(after).into_iter().map(Step::Key).collect()));
        }
    }
    let Some(var) = token.strip_prefix('$') else {
        return Ok(None);
    };
    let end = var.find(|c: char| !ident_char(c)).unwrap_or(var.len());
    let (name, rest) = var.split_at(end);
    if name.is_empty() {
        return Ok(None); // `$` alone, or `$.Release...`: not values.
    }
    let more = fields(rest);
    match vars.get(name) {
        Some(base) => {
            let mut path = base.clone();
            path.extend(more.into_iter().map(Step::Key));
            Ok(Some(path))
        }
        None if more.is_empty() => Ok(None),
        None => Err(format!(
            "`{token}` reads a field of ${name}, which the checker cannot trace to .Values"
        )),
    }
}

/// The errors of the value paths a template reads, against `schema`.
fn path_errors(schema: &Value, actions: &[Action]) -> Vec<String> {
    let mut vars: HashMap<String, Vec<Step>> = HashMap::new();
    let mut errs = Vec::new();
    for a in actions.iter().filter(|a| !a.comment) {
        let text = without_strings(&a.text).replace(['(', ')', ','], " ");
        let tokens: Vec<&str> = text.split_whitespace().collect();
        for t in &tokens {
            match token_path(t, &vars) {
                Ok(Some(path)) => {
                    if let Err(e) = resolve(schema, &path) {
                        errs.push(format!("line {}: `{t}`: {e}", a.line));
                    }
                }
                Ok(None) => {}
                Err(e) => errs.push(format!("line {}: {e}", a.line)),
            }
        }
        // Bindings, for the actions after this one. Variables are not scoped: the
        // chart's templates do not reuse a name for something else.
        let Some(assign) = tokens.iter().position(|t| *t == ":=" || *t == "=") else {
            continue;
        };
        let Some(var) = tokens[..assign]
            .iter()
            .rev()
            .find_map(|t| t.strip_prefix('$'))
        else {
            continue;
        };
        let rhs: Vec<&str> = tokens[assign + 1..]
            .iter()
            .copied()
            .take_while(|t| *t != "|")
            .collect();
        let bound = match (tokens.first(), rhs.as_slice()) {
            // `range $k, $v := PATH`: $v is an element.
            (Some(&"range"), [path]) => token_path(path, &vars).ok().flatten().map(|mut p| {
                p.push(Step::Any);
                p
            }),
            // `$v := index PATH KEY...`: one level down per key.
            (_, ["index", path, keys @ ..]) if !keys.is_empty() => {
                token_path(path, &vars).ok().flatten().map(|mut p| {
                    p.extend(keys.iter().map(|_| Step::Any));
                    p
                })
            }
            (_, [path]) => token_path(path, &vars).ok().flatten(),
            _ => None,
        };
        match bound {
            Some(path) => {
                vars.insert(var.to_string(), path);
            }
            None => {
                vars.remove(var);
            }
        }
    }
    errs
}

/// Every problem the static check finds in one template.
fn check_template(schema: &Value, src: &str) -> Vec<String> {
    match actions(src) {
        Ok(actions) => {
            let mut errs = block_errors(&actions);
            errs.extend(path_errors(schema, &actions));
            errs
        }
        Err(e) => vec![e],
    }
}

#[test]
fn the_chart_passes_the_static_check() {
    let schema = schema();
    let templates = templates();
    for expected in [
        "_helpers.tpl",
        "configmap.yaml",
        "cronjob.yaml",
        "deployment.yaml",
        "NOTES.txt",
        "scaledobject.yaml",
        "service.yaml",
        "servicemonitor.yaml",
    ] {
        assert!(
            templates.iter().any(|(n, _)| n == expected),
            "templates/{expected} is missing"
        );
    }
    let mut problems = Vec::new();
    let mut paths = 0;
    for (name, src) in &templates {
        for e in check_template(&schema, src) {
            problems.push(format!("templates/{name}: {e}"));
        }
        paths += src.matches(".Values.").count();
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check saw the templates' value reads, not an empty chart.
    assert!(paths >= 40, "only {paths} `.Values.` reads in the chart");
}

#[test]
fn the_static_check_finds_what_it_should() {
    let schema = schema();
    let bad = |src: &str| {
        let errs = check_template(&schema, src);
        assert!(!errs.is_empty(), "no error for {src:?}");
    };
    let good = |src: &str| {
        let errs = check_template(&schema, src);
        assert!(errs.is_empty(), "{src:?}: {}", errs.join("; "));
    };
    good("{{ .Values.metrics.port | int }}");
    good("{{ include \"x\" (dict \"root\" $) }}{{ .root.Values.environment }}");
    good("{{- range $n, $job := .Values.jobs }}{{ $job.resources.requests.cpu }}{{- end }}");
    good(
        "{{- range $n, $r := $.Values.reports }}{{ range $s := $r.secrets }}{{ $s.key }}{{ end }}{{ end }}",
    );
    good("{{ $c := index $.Values.clusters \"processing\" }}{{ $c.brokers }}");
    good("{{ with .Values.securityContext.runAsUser }}{{ . }}{{ end }}");
    good("{{ fail \"not in .Values.nothing\" }}");
    good("{{/* .Values.nothing is not read in a comment */}}");

    bad("{{ .Values.metrics.prot }}");
    bad("{{ $.Values.imag.tag }}");
    bad("{{- range $n, $job := .Values.jobs }}{{ $job.resources.request.cpu }}{{- end }}");
    bad(
        "{{- range $n, $job := .Values.jobs }}{{ range $s := $job.secrets }}{{ $s.value }}{{ end }}{{- end }}",
    );
    bad("{{ $c := index $.Values.clusters \"processing\" }}{{ $c.bootstrap }}");
    bad("{{ $ctx := dict }}{{ $ctx.whatever }}");
    bad("{{ .Values.metrics.port.number }}");
    bad("{{ .Values.metrics.port }");
    bad("{{ .Values.metrics.port }}}}");
    bad("{{ if .Values.metrics.port }}no end");
    bad("{{- define \"x\" }}{{ end }}{{ end }}");
    bad("{{ else }}");
}

#[test]
fn includes_name_defined_templates() {
    let templates = templates();
    let mut defined = BTreeSet::new();
    let mut used = Vec::new();
    for (name, src) in &templates {
        for a in actions(src).expect("delimiters pair up") {
            let words: Vec<&str> = a.text.split_whitespace().collect();
            for pair in words.windows(2) {
                let target = pair[1].trim_matches('"').to_string();
                match pair[0] {
                    "define" => {
                        assert!(defined.insert(target.clone()), "{target} defined twice");
                    }
                    "include" | "(include" | "template" => used.push((name.clone(), target)),
                    _ => {}
                }
            }
        }
    }
    assert!(!used.is_empty(), "no include found");
    for (file, target) in used {
        assert!(
            defined.contains(&target),
            "templates/{file} includes {target:?}, which no template defines"
        );
    }
}

/// `{{ ... }}` in the minijinja `Chart.yaml.j2`: every value is written as JSON.
#[test]
fn chart_yaml_writes_every_value_as_json() {
    let path = chart_dir().join("Chart.yaml.j2");
    let src = std::fs::read_to_string(&path).expect("read Chart.yaml.j2");
    for line in ["apiVersion: v2", "type: application"] {
        assert!(
            src.lines().any(|l| l == line),
            "Chart.yaml.j2 lacks `{line}`"
        );
    }
    let exprs: Vec<&str> = src
        .split("{{")
        .skip(1)
        .map(|s| s.split("}}").next().unwrap_or(""))
        .collect();
    assert!(exprs.len() >= 5, "too few expressions: {exprs:?}");
    for e in exprs {
        assert!(
            e.trim_end().ends_with("| tojson"),
            "`{{{{{e}}}}}` in Chart.yaml.j2 is not written with tojson"
        );
    }
    for key in ["name:", "version:", "appVersion:", "description:"] {
        assert!(
            src.lines().any(|l| l.starts_with(key)),
            "Chart.yaml.j2 lacks {key}"
        );
    }
}

/// The chart reads the files `pipec compile` writes beside it, and keeps the promises the
/// rest of pipec relies on: secrets by reference, report runs that never overlap, pods
/// that roll when their manifest changes.
#[test]
fn the_chart_reads_what_pipec_writes() {
    let all: String = templates().into_iter().map(|(_, src)| src).collect();
    for needle in [
        "printf \"files/%s/jobs/%s.json\" .root.Values.environment .name",
        "printf \"files/%s/reports.json\" .Values.environment",
        "secretKeyRef:",
        "concurrencyPolicy: Forbid",
        "checksum/config:",
        "- /etc/pipec/manifest.json",
        "mountPath: /etc/pipec",
        "path: /health",
    ] {
        assert!(
            all.contains(needle),
            "no `{needle}` in the chart's templates"
        );
    }
    // A secret's value never appears: every secret becomes a secretKeyRef, nothing else.
    assert!(
        !all.contains("$secret.value"),
        "a template reads a secret's value"
    );
}
