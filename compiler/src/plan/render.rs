//! The plan as terraform-like text (`+` create, `~` change, `-` delete, `!` refused) and
//! as a Markdown pull-request comment. JSON is [`super::Plan::to_json`].

use std::fmt::Write;

use super::{Change, ConfigOp, JobChange, Plan, Refusal, StepChange, TopicAction, TopicRef};

fn sign(c: Change) -> char {
    match c {
        Change::Added => '+',
        Change::Changed => '~',
        Change::Removed => '-',
    }
}

fn topic_name(t: &TopicRef) -> String {
    match &t.id {
        Some(id) if id != &t.topic => format!("{}/{} ({id})", t.cluster, t.topic),
        _ => format!("{}/{}", t.cluster, t.topic),
    }
}

/// One line per topic action: the sign, and what changes.
fn topic_line(a: &TopicAction) -> (char, String) {
    match a {
        TopicAction::Create {
            partitions,
            replication,
            configs,
            ..
        } => {
            let mut s = format!("create: partitions {partitions}, replication {replication}");
            for (k, v) in configs {
                let _ = write!(s, ", {k}={v}");
            }
            ('+', s)
        }
        TopicAction::IncreasePartitions { from, to, .. } => {
            ('~', format!("partitions {from} -> {to}"))
        }
        TopicAction::AlterConfigs { changes, .. } => {
            let parts: Vec<String> = changes
                .iter()
                .map(|c| match c.op {
                    ConfigOp::Set => format!(
                        "{} {} -> {}",
                        c.key,
                        c.old.as_deref().unwrap_or("(default)"),
                        c.new.as_deref().unwrap_or("")
                    ),
                    ConfigOp::Delete => {
                        format!("{} {} -> (default)", c.key, c.old.as_deref().unwrap_or(""))
                    }
                })
                .collect();
            ('~', parts.join(", "))
        }
        TopicAction::Delete { requires, .. } => ('-', format!("delete (requires {requires})")),
        TopicAction::Refused {
            what,
            from,
            to,
            instead,
            ..
        } => {
            let what = match what {
                Refusal::PartitionDecrease => "partitions",
                Refusal::ReplicationChange => "replication",
            };
            (
                '!',
                format!("{what} {from} -> {to}: not possible in place; instead: {instead}"),
            )
        }
    }
}

fn step_text(s: &StepChange) -> String {
    match s.change {
        Change::Added => format!(
            "step {} added: {}",
            s.new_index.unwrap_or_default(),
            s.new_kind.as_deref().unwrap_or("")
        ),
        Change::Removed => format!(
            "step {} removed: {}",
            s.old_index.unwrap_or_default(),
            s.old_kind.as_deref().unwrap_or("")
        ),
        Change::Changed => {
            let (o, n) = (
                s.old_kind.as_deref().unwrap_or(""),
                s.new_kind.as_deref().unwrap_or(""),
            );
            let kind = if o == n {
                o.to_string()
            } else {
                format!("{o} -> {n}")
            };
            format!("step {} changed: {kind}", s.new_index.unwrap_or_default())
        }
    }
}

/// What changes in a job, as phrases.
fn job_parts(j: &JobChange) -> Vec<String> {
    let mut parts = Vec::new();
    match j.change {
        Change::Changed => {
            if let Some(f) = &j.from {
                parts.push(format!("from {} -> {}", f.from, f.to));
            }
            if let Some(r) = &j.replicas {
                parts.push(format!("replicas {} -> {}", r.from, r.to));
            }
            parts.extend(j.steps.iter().map(step_text));
            parts.extend(j.other.iter().cloned());
        }
        Change::Added | Change::Removed => {
            let replicas = j.replicas.as_ref().map_or(0, |r| r.from.max(r.to));
            parts.push(format!("from {}, replicas {replicas}", j.source));
        }
    }
    parts
}

fn summary_line(plan: &Plan) -> String {
    let s = plan.summary;
    format!(
        "Plan: {} to create, {} to change, {} to delete.",
        s.create, s.change, s.delete
    )
}

fn refused_line(plan: &Plan) -> Option<String> {
    let n = plan.summary.refused;
    (n > 0).then(|| {
        format!(
            "{n} change{} refused: not possible in place (marked `!`); see `instead`.",
            if n == 1 { "" } else { "s" }
        )
    })
}

/// The plan as text, ending with `Plan: N to create, M to change, K to delete.`.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pipec plan: pipeline {}, env {}",
        plan.pipeline, plan.env
    );
    if plan.is_empty() {
        out.push_str("\nNo changes: the current state matches the spec.\n");
    }
    if !plan.topics.is_empty() {
        out.push_str("\nTopics:\n");
        for a in &plan.topics {
            let (sign, line) = topic_line(a);
            let _ = writeln!(out, "  {sign} {}: {line}", topic_name(a.topic()));
        }
    }
    if !plan.schemas.is_empty() {
        out.push_str("\nSchemas:\n");
        for s in &plan.schemas {
            let ids = match (&s.old, &s.new) {
                (Some(o), Some(n)) if o.id == n.id => {
                    format!("{} {} -> {}", n.id, short(&o.sha256), short(&n.sha256))
                }
                (Some(o), Some(n)) => format!(
                    "{} {} -> {} {}",
                    o.id,
                    short(&o.sha256),
                    n.id,
                    short(&n.sha256)
                ),
                (Some(v), None) | (None, Some(v)) => format!("{} {}", v.id, short(&v.sha256)),
                (None, None) => String::new(),
            };
            let verdict = s
                .verdict
                .as_deref()
                .map(|v| format!(", verdict {v}"))
                .unwrap_or_default();
            let status = if s.breaking { "BREAKING" } else { "ok" };
            let _ = writeln!(
                out,
                "  {} {}: {ids}{verdict}, mode {}: {status}",
                sign(s.change),
                s.event_type,
                s.mode
            );
            for m in &s.messages {
                let mark = if m.breaking { "breaking: " } else { "" };
                let _ = writeln!(out, "      {mark}{}: {}", m.pointer, m.message);
            }
        }
    }
    if !plan.jobs.is_empty() {
        out.push_str("\nJobs:\n");
        for j in &plan.jobs {
            let _ = writeln!(out, "  {} {}", sign(j.change), j.job);
            for p in job_parts(j) {
                let _ = writeln!(out, "      {p}");
            }
        }
    }
    if !plan.schedules.is_empty() {
        out.push_str("\nSchedules:\n");
        for s in &plan.schedules {
            let _ = writeln!(
                out,
                "  {} {}: {} -> {}",
                sign(s.change),
                s.report,
                s.from.as_deref().unwrap_or("(none)"),
                s.to.as_deref().unwrap_or("(none)")
            );
        }
    }
    out.push('\n');
    out.push_str(&summary_line(plan));
    out.push('\n');
    if let Some(l) = refused_line(plan) {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Escapes a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The plan as a Markdown pull-request comment: the summary, breaking schema changes
/// called out, and a table per section.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### `pipec plan`: {} ({})\n\n**{}**",
        plan.pipeline,
        plan.env,
        summary_line(plan)
    );
    if let Some(l) = refused_line(plan) {
        let _ = writeln!(out, "\n> [!WARNING]\n> {l}");
    }
    let breaking: Vec<String> = plan
        .breaking_schemas()
        .map(|s| format!("`{}` (mode {})", s.event_type, s.mode))
        .collect();
    if !breaking.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!CAUTION]\n> Breaking schema changes: {}",
            breaking.join(", ")
        );
    }
    if plan.is_empty() {
        out.push_str("\nNo changes.\n");
        return out;
    }
    if !plan.topics.is_empty() {
        out.push_str("\n#### Topics\n\n| | cluster | topic | change |\n|---|---|---|---|\n");
        for a in &plan.topics {
            let (sign, line) = topic_line(a);
            let t = a.topic();
            let _ = writeln!(
                out,
                "| `{sign}` | {} | `{}` | {} |",
                cell(&t.cluster),
                cell(&t.topic),
                cell(&line)
            );
        }
    }
    if !plan.schemas.is_empty() {
        out.push_str(
            "\n#### Schemas\n\n| | event type | verdict | mode | breaking | changes |\n|---|---|---|---|---|---|\n",
        );
        for s in &plan.schemas {
            let msgs: Vec<String> = s
                .messages
                .iter()
                .map(|m| format!("`{}`: {}", m.pointer, m.message))
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {} |",
                sign(s.change),
                s.event_type,
                s.verdict.as_deref().unwrap_or(""),
                s.mode,
                if s.breaking { "**yes**" } else { "no" },
                cell(&msgs.join("<br>"))
            );
        }
    }
    if !plan.jobs.is_empty() {
        out.push_str("\n#### Jobs\n\n| | job | changes |\n|---|---|---|\n");
        for j in &plan.jobs {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} |",
                sign(j.change),
                j.job,
                cell(&job_parts(j).join("<br>"))
            );
        }
    }
    if !plan.schedules.is_empty() {
        out.push_str("\n#### Schedules\n\n| | report | from | to |\n|---|---|---|---|\n");
        for s in &plan.schedules {
            let _ = writeln!(
                out,
                "| `{}` | `{}` | `{}` | `{}` |",
                sign(s.change),
                s.report,
                cell(s.from.as_deref().unwrap_or("")),
                cell(s.to.as_deref().unwrap_or(""))
            );
        }
    }
    out
}
