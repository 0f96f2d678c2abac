//! The code table: every diagnostic code with its title and the long explanation that
//! `pipec explain CODE` prints.

/// One diagnostic code.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// `PC0102`.
    pub code: &'static str,
    /// A few words.
    pub title: &'static str,
    /// What it means, why it matters, an example and the fix.
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($code:literal $title:literal $text:literal;)*) => {
        /// Every code, in order.
        pub const CODES: &[CodeInfo] = &[$(CodeInfo { code: $code, title: $title, explanation: $text }),*];
    };
}

codes! {
"PC0001" "YAML syntax error"
"The file is not valid YAML, so nothing in it could be read.\n\nWhy: YAML is indentation-sensitive; a missing colon, a tab, an unclosed bracket or quote stops the parser.\n\nExample:\n    topics:\n      raw: { name: x\n\nFix: close the bracket or quote at the place shown, or fix the indentation.";
"PC0002" "unknown key"
"A mapping has a key that this part of the spec does not know. It is ignored, and reported because it is most often a typo that silently drops a setting.\n\nExample:\n    topics:\n      raw: { name: x, partiton: 4 }   # `partiton` is unknown\n\nFix: use the suggested name, or remove the key. `pipec schema` prints every allowed key; wire it into your editor to catch these as you type.";
"PC0003" "wrong kind of value"
"A value has the wrong type: a list where a single value belongs, a string where a number belongs, and so on.\n\nExample:\n    topics:\n      raw: { name: x, partitions: many }\n\nFix: write the kind of value the message asks for.";
"PC0004" "missing key"
"A required key is not there.\n\nExample:\n    streams:\n      s: { steps: [] }   # no `from`\n\nFix: add the key; the message names it.";
"PC0005" "unknown kind"
"A name that must be one of a fixed set (a step kind, a format, a compatibility mode) is not one of them.\n\nExample:\n    steps:\n      - dedupe: { key: mid, store: dedup, ttl: 1h }   # the step is `dedup`\n\nFix: use one of the listed names.";
"PC0006" "duplicate key"
"A mapping sets the same key twice. YAML keeps only one of them, so one setting is silently lost.\n\nFix: remove or rename one of the two.";
"PC0007" "cannot read file"
"A spec file, an included file, or a file the spec refers to (schema, SQL, fixture) cannot be read.\n\nFix: check the path; relative paths are relative to the spec file that names them.";
"PC0008" "undefined variable"
"A string uses `{name}` for a variable that `vars` does not define, or `${NAME}` for an environment variable that is not set and has no `:-default`.\n\nExample:\n    topics:\n      raw: { name: \"{evn}.telemetry.raw\" }\n\nFix: define the variable under `vars`, correct its name, or give the environment variable a default: `${REDIS_URL:-redis://127.0.0.1:6379}`. Write `{{` and `}}` for literal braces.";
"PC0009" "invalid value"
"A value has the right type but is not allowed here.\n\nFix: see the message and help for what is allowed.";
"PC0010" "include cycle"
"Spec files include each other in a circle.\n\nFix: include each file once, from one place.";
"PC0011" "step with several kinds"
"A step is a mapping with exactly one key, its kind. A step with more keys is usually a mis-indented setting.\n\nExample:\n    steps:\n      - dedup: { key: mid, store: dedup, ttl: 1h }\n        duplicates: dup     # belongs inside the braces\n\nFix: move the extra keys into the step's settings.";
"PC0012" "invalid name"
"A name that ends up in a file path, a shell script, a crontab line or a Kubernetes object (the pipeline, an environment, a cluster, a stream, a report or a backup) has characters that are not safe there. Such names are checked where they are declared, so that no generated file ever has to guess how to quote them.\n\nExample:\n    reports:\n      \"daily; rm -rf /\": { ... }\n\nFix: use 1 to 63 letters, digits, `_`, `.` and `-`, starting with a letter or digit.";
"PC0013" "file refused"
"A file the spec names (an include, a schema, a SQL or DDL file) is not read: it lies outside the spec's root directory once symlinks are resolved, it is not a regular file (a directory, FIFO or device), or it is larger than the budget (8 MiB a file, 128 MiB for all the spec's files). The spec is untrusted input in CI, so it may only read its own files; nothing of a refused file is shown.\n\nThe root is the working directory when the spec lies under it, else the spec file's directory.\n\nFix: keep the spec's files together under its root, as regular files.";
"PC0014" "over a budget"
"The spec goes over one of the reader's budgets: YAML aliases that expand to more than 100,000 nodes (an alias of an alias of an alias multiplies), or more than 1,000 spec files included.\n\nFix: write the values out instead of aliasing aliases; include each file once.";
"PC0015" "not a Kubernetes name"
"A stream, report or backup name is safe in files, scripts and crontabs (PC0012) but not as a Kubernetes object name: the Helm chart makes a Deployment (with its ConfigMap and Service) of each stream and each backup, and a CronJob of each report, all named after it, and Kubernetes accepts only DNS labels there: lower-case letters, digits and `-`, starting and ending with a letter or digit (`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`), at most 63 characters. The chart's values schema refuses such a name, so `helm install` would fail long after `pipec check` passed; it is reported here instead, at the name.\n\nExample:\n    streams:\n      Pre_Process: { from: raw, steps: [...] }\n\nFix: rename it to the suggested spelling (`pre-process`), and every reference to it.";
"PC0101" "duplicate name"
"Two definitions of the same kind share a name (two topics, two streams, ...), possibly in different included files, or two topics resolve to the same Kafka topic name on one cluster.\n\nFix: rename one of them.";
"PC0102" "unknown topic"
"A step, stream, backup, report or test refers to a topic that the spec does not define.\n\nExample:\n    streams:\n      p: { from: raww, steps: [...] }\n\nFix: use the name of a topic under `topics` (the suggestion is the closest one), or define the topic.";
"PC0103" "unknown store"
"A dedup or enrich step names a store that is not defined under `stores`.\n\nFix: use a defined store or add one.";
"PC0104" "unknown cluster"
"A topic names a Kafka cluster that is not defined under `clusters`.\n\nFix: use a defined cluster or add one.";
"PC0105" "unknown event type"
"An event type is named (in a topic's `events`, an `explode`'s `as`, ...) that `events.types` does not declare.\n\nFix: declare the type or correct the name.";
"PC0106" "unknown stream"
"A test names a stream that is not defined.\n\nFix: use a defined stream name.";
"PC0107" "unknown backup"
"A report input names a backup that is not defined under `backups`.\n\nFix: use a defined backup.";
"PC0108" "ambiguous cluster"
"Clusters are defined but a topic names none, no default cluster is set, and there is more than one cluster, so the topic's cluster is unknown.\n\nFix: set `cluster:` on the topic, `defaults.topic.cluster`, or `default: true` on one cluster.";
"PC0109" "conflicting settings"
"Two settings exclude each other (for example a store with both `redis` and `memory`), or a choice is missing (a store with neither).\n\nFix: keep exactly one.";
"PC0110" "unknown report"
"An environment overrides a report that the spec does not define.\n\nExample:\n    environments:\n      prod:\n        reports: { workflow-sumary: { schedule: \"0 6 * * *\" } }   # `workflow-summary`\n\nFix: use the name of a report under `reports`.";
"PC0111" "unknown database"
"A report input or output names a table of a database that `databases` does not define.\n\nExample:\n    inputs:\n      users: { table: warehose.user_detail }   # `warehouse`\n\nFix: write `database.table` with a database under `databases`.";
"PC0201" "schema file not found"
"An event type's schema file does not exist.\n\nFix: add the file, correct `events.schemas`, or set `schema: none` on a type that has no schema.";
"PC0202" "schema is not valid JSON"
"A schema file cannot be parsed as JSON.\n\nFix: correct the JSON at the place shown.";
"PC0203" "schema does not compile"
"A schema is JSON but not a valid JSON Schema for its draft (for example `\"type\": 12`).\n\nFix: correct the schema; the draft is taken from `$schema`, else from `events.draft` (default draft 4, as Sunbird's schemas are).";
"PC0204" "unresolvable $ref"
"A `$ref` in a schema points at a file or a fragment that does not exist. Sunbird's schemas refer to each other as `resource:/schemas/telemetry/3.0/x.json`; such a prefix must be mapped to a local directory with `events.refs`.\n\nFix: correct the reference, or map its prefix:\n    events:\n      refs: { \"resource:/schemas/telemetry/3.0/\": schemas/telemetry/3.0 }";
"PC0205" "schema directory not found"
"`events.schemas` or a validate step's `schemas` names a directory that does not exist.\n\nFix: correct the path (relative to the spec file).";
"PC0206" "schema refers only to itself"
"A schema (or a `$ref` chain in it) refers to itself and to nothing else, so it constrains nothing: every event would be valid.\n\nExample:\n    { \"$ref\": \"#\" }\n\nFix: write the schema's constraints, or point `$ref` at another schema.";
"PC0301" "invalid topic name"
"Kafka topic names are at most 249 characters of letters, digits, `.`, `_` and `-`, and not `.` or `..`.\n\nFix: rename the topic.";
"PC0302" "count out of range"
"Partitions, replication and replicas must be at least 1.\n\nFix: set a positive number.";
"PC0303" "invalid duration"
"Durations are written with units: `500ms`, `30s`, `5m`, `48h`, `7d`, `2w`, or combined as `1h30m`. A bare number is ambiguous and rejected.\n\nFix: add a unit.";
"PC0304" "invalid size"
"Sizes are a number of bytes or a number with a unit: `512KB`, `5MB`, `1GB` (powers of 1000) or `512KiB`, `5MiB`, `1GiB` (powers of 1024).\n\nFix: write a size in one of those forms.";
"PC0305" "invalid cron expression"
"Schedules are five-field cron expressions in UTC: minute hour day-of-month month day-of-week, with `*`, lists, ranges and steps, or a macro such as `@daily`. Seconds are not supported.\n\nExample: `30 5 * * *` runs at 05:30 every day.\n\nFix: correct the field shown.";
"PC0306" "invalid resource quantity"
"CPU is written as cores (`2`, `0.5`) or millicores (`500m`); memory as bytes with a Kubernetes suffix (`512Mi`, `1Gi`, `1G`).\n\nFix: use one of those forms.";
"PC0307" "Redis database out of range"
"Redis has databases 0 to 15 by default.\n\nFix: pick a database in that range.";
"PC0308" "unknown topic config"
"A topic's `config` names a setting that is not a Kafka topic config, so the broker would reject the topic.\n\nExample:\n    config: { max.messages.bytes: 5242880 }   # `max.message.bytes`\n\nFix: use the suggested config name; `retention` and `partitions` have keys of their own.";
"PC0309" "secret written in the spec"
"A password or key stands in the spec, or reaches it through a variable: in a URL (any user information, such as `redis://:password@host` or `redis://PASSWORD@host`; a query parameter such as `?password=` or `&token=`), in a broker list (`user:password@host:9092`), in a Kafka client setting whose name says credential whatever its case (`sasl.password`, `ssl.keystore.key`, `ssl.key.pem`, `sasl.jaas.config`, `sasl.oauthbearer.config`, ...; paths such as `ssl.key.location` are fine), in a variable named as one, or in a description that takes `${NAME}` or a variable set from the environment (descriptions take only variables written in the spec). The spec is reviewed, committed and compiled into files that are shared (manifest, Helm values), so secrets must not be in it.\n\nExample:\n    stores:\n      users: { redis: \"redis://:hunter2@redis:6379\", db: 12 }\n\nFix: keep the secret in a Kubernetes Secret and reference it:\n    stores:\n      users: { redis: \"redis://redis:6379\", db: 12, password: { secret: redis-auth, key: password } }\nThe manifest and the Helm values then carry only the reference (secretKeyRef); the process reads the value from the environment variable `PIPEC_SECRET_<SECRET>_<KEY>` (or the `env` you name).";
"PC0401" "topic is consumed but never produced"
"A stream reads a topic that no stream, report or test of this pipeline writes, and that is not marked `external: true`. Nothing would ever arrive.\n\nFix: mark the topic `external: true` if another system writes it, or route events to it.";
"PC0402" "unused topic"
"A topic is defined but nothing reads, writes or backs it up.\n\nFix: remove it, or mark it `external: true` if systems outside the pipeline use it.";
"PC0403" "cycle in the topic graph"
"Streams feed each other in a circle: an event could travel around forever.\n\nFix: break the cycle, usually by routing to a different topic.";
"PC0404" "unreachable step"
"A step follows a step that sends every event elsewhere (a `route` without a matching `continue`, or an `emit`), so no event reaches it.\n\nFix: move the step before the route, or remove it.";
"PC0405" "events fall through"
"A stream's last step leaves events with nowhere to go: they would be dropped silently. Stream jobs end in `route` or `emit`.\n\nFix: end the stream with `emit: <topic>` or a `route` with an `else` rule.";
"PC0406" "route without else"
"A route has no `else` rule, so events that match no rule are dropped.\n\nFix: add `- else: <topic>` as the last rule, or confirm that dropping is wanted by routing to a dead-letter topic.";
"PC0407" "route rule shape"
"A route rule is `{ when: <condition>, to: <topics> }` or `{ else: <topics> }`, and `else` comes last.\n\nFix: give each rule a `when` and a `to`, or make it the final `else`.";
"PC0501" "window without aggregate"
"A `window` step must be followed directly by an `aggregate` step, and an `aggregate` needs a `window` before it.\n\nFix: pair them.";
"PC0502" "incoherent window"
"A window needs exactly one of `tumbling`, `sliding` and `session`; a sliding window's `every` must not exceed its `size`; lengths and gaps must be positive; allowed lateness should be shorter than the window.\n\nFix: adjust the parameters as the message says.";
"PC0601" "expression syntax error"
"An expression (a filter, route condition, key or computed field) cannot be parsed.\n\nThe language: field paths (`edata.type`, `context.cdata[0].id`, `` `@timestamp` ``), literals, `== != < <= > >=`, `in [..]`, `and`/`or`/`not`, `+ - * / %`, and functions such as `coalesce(a, b)`.\n\nFix: correct the expression at the place shown.";
"PC0602" "unknown field"
"An expression uses a field that the JSON Schemas of the event types reaching this step do not have (and no earlier step sets).\n\nExample:\n    - filter: 'edata.typo == \"TOUCH\"'   # INTERACT's edata has `type`\n\nFix: use the suggested field. When the schema allows extra fields this is a warning; when it is closed (`additionalProperties: false`) it is an error.";
"PC0603" "type mismatch"
"An expression combines values of types that cannot meet, such as comparing a string field with a number; the comparison would always be false.\n\nFix: compare like with like: quote the literal, or convert with `to_int(..)`/`to_string(..)`.";
"PC0604" "unknown function"
"An expression calls a function that is not built in. `pipec explain functions` lists them.\n\nFix: use the suggested function.";
"PC0605" "wrong number of arguments"
"A function is called with too few or too many arguments.\n\nFix: see the signature in the help.";
"PC0606" "argument type mismatch"
"A function argument has a type the function does not accept.\n\nFix: convert the argument or use another function.";
"PC0607" "condition is not boolean"
"A filter or route condition does not produce true or false.\n\nFix: compare the value: `edata.type == \"x\"`, or `exists(field)`.";
"PC0701" "fixture not found"
"A test names an input file that does not exist.\n\nFix: correct the path (relative to the spec file).";
"PC0702" "test expects an unknown topic"
"A test's `expect` names a topic that the spec does not define.\n\nFix: use a defined topic.";
"PC0801" "SQL file not found"
"A report's `sql` file does not exist.\n\nFix: correct the path (relative to the spec file).";
"PC0802" "unknown model"
"A report names a built-in model that does not exist. Built-in models: `workflow_summary`.\n\nFix: use a built-in model or a `sql` file.";
"PC0803" "unknown model parameter"
"A report sets a parameter its model does not take.\n\nFix: use one of the model's parameters.";
"PC0804" "report source"
"A report needs exactly one of `model` and `sql`; an input needs exactly one of `backup`, `path` and `table`; an output exactly one of `topic`, `path` and `table`.\n\nFix: keep exactly one.";
"PC0805" "unknown table or column in SQL"
"A report's SQL names a table that is not one of the report's inputs, or a column that the input does not have. The columns of an input come from the `CREATE TABLE` statements of its database's `ddl` file (a `table:` input), from its `columns:` (a `path:` input), or from the model's own output. Found by `pipec check`, before the report runs at night.\n\nExample:\n    -- sql/user_report.sql\n    SELECT full_nmae FROM user_detail     -- `full_name`\n\nFix: use the suggested name, add the table to the report's `inputs`, or the column to the input's `columns`.";
"PC0806" "SQL error"
"A report's SQL does not parse, or cannot be planned (a type mismatch, a function that does not exist, an ambiguous column).\n\nFix: see the message; the report's SQL is DataFusion's dialect (close to PostgreSQL's).";
"PC0901" "missing pipeline name"
"The root spec file must name the pipeline with `pipeline: <name>`.\n\nFix: add it.";
"PC0902" "no spec found"
"The path given to `pipec` is neither a spec file nor a directory holding `pipeline.yaml`.\n\nFix: pass the spec file or its directory.";
"PC1001" "Druid dimension no event carries"
"A dimension (or the time column) of a Druid datasource names a field that no event reaching the datasource's topic can carry: the JSON Schemas of the event types that reach the topic do not have it, and no step sets it. Druid would store nulls in that column.\n\nExample:\n    druid:\n      datasources:\n        telemetry:\n          topic: druid-events-telemetry\n          dimensions: [actor.id, edata.typo]   # INTERACT's edata has `type`\n\nFix: use the suggested field. When every schema rejects the field (`additionalProperties: false`) this is an error. When a schema is open, events may carry fields it does not declare: then only a name close to a declared one is reported, as a warning (a likely misspelling).";
"PC1002" "duplicate Druid column"
"Two dimensions or metrics of one Druid datasource (or a dimension and the time column) have the same column name. A dimension's name is its path with `_` for `.` (`actor.id` is `actor_id`) unless `name` says otherwise.\n\nFix: give one of them another `name`, or remove the repeated one.";
"PC1003" "Druid metric of an unknown column"
"A metric of a Druid datasource aggregates a column the datasource does not read: a metric's `field` names one of its dimensions or its time column.\n\nFix: use the suggested column, or add the field to `dimensions`.";
"PC1004" "Druid consumer without security"
"A Druid datasource reads a topic whose cluster uses SASL or TLS, but the datasource's `io.consumer` sets no `security.protocol`: the generated supervisor spec carries only `bootstrap.servers`, so Druid could not connect. pipec does not write the cluster's credentials into the Druid spec, since the spec keeps them in Kubernetes Secrets.\n\nFix: add the Kafka consumer properties Druid needs under `io.consumer` (`security.protocol`, `sasl.mechanism`, `sasl.jaas.config`), reading the password from Druid's environment with a dynamic config provider.";
}

/// The entry of a code, case-insensitive.
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}
