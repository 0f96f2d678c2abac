//! `pipec apply`: carries out the topic actions of a plan on the live clusters — the plan of
//! the spec made now, or a plan saved by `pipec plan --out` (applied only while the clusters
//! still match it). Deletes need `--allow-delete`; a plan with changes Kafka cannot make in
//! place is not applied at all.

use std::io::Write;
use std::path::PathBuf;

use pipec_compiler::plan::{self, Plan, TopicAction};
use pipec_runtime::cluster::live::{self, ActionOutcome};

use crate::plan::{ERROR, LiveArgs, OK, block_on, cluster_brokers, make_plan};

/// Arguments of `pipec apply`.
#[derive(clap::Args)]
pub struct Args {
    /// Spec file, or directory holding `pipeline.yaml` (not read with `--plan`).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Environment; overrides `vars.env` and `PIPEC_ENV`.
    #[arg(long)]
    env: Option<String>,
    /// The manifest deployed now: its topics count as the pipeline's, so those the spec
    /// dropped are deleted (with `--allow-delete`).
    #[arg(long, value_name = "OLD_MANIFEST", conflicts_with = "plan")]
    against: Option<PathBuf>,
    /// Apply this saved plan (`pipec plan --brokers ... --out FILE`) instead of planning
    /// again; refused when a cluster no longer matches it.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    /// Also delete the topics the plan deletes.
    #[arg(long)]
    allow_delete: bool,
}

/// Runs `pipec apply`; returns the exit code.
pub fn run(args: Args) -> u8 {
    let plan = match &args.plan {
        Some(file) => match saved_plan(file, &args.live) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return ERROR;
            }
        },
        None => {
            if args.live.brokers.is_empty() {
                eprintln!("error: `pipec apply` needs --brokers (or --plan FILE made with them)");
                return ERROR;
            }
            match make_plan(&args.path, args.env, args.against.as_deref(), &args.live) {
                Ok(p) => p,
                Err(code) => return code,
            }
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(plan::render::text(&plan).as_bytes());
    let refused: Vec<&TopicAction> = plan
        .topics
        .iter()
        .filter(|a| matches!(a, TopicAction::Refused { .. }))
        .collect();
    if !refused.is_empty() {
        eprintln!(
            "error: nothing applied: {} change(s) cannot be made in place ({}); change the spec \
             or do what the plan says instead",
            refused.len(),
            names(&refused)
        );
        return ERROR;
    }
    let deletes: Vec<&TopicAction> = plan
        .topics
        .iter()
        .filter(|a| matches!(a, TopicAction::Delete { .. }))
        .collect();
    if !deletes.is_empty() && !args.allow_delete {
        eprintln!(
            "error: nothing applied: the plan deletes {} topic(s) ({}), which needs --allow-delete",
            deletes.len(),
            names(&deletes)
        );
        return ERROR;
    }
    if plan.topics.is_empty() {
        let _ = writeln!(out, "\nNo topic changes to apply.");
        return OK;
    }
    let mut done = Vec::new();
    let result = block_on(live::execute(
        &plan.topics,
        &plan.brokers,
        args.live.timeout(),
        &mut done,
    ));
    let _ = writeln!(out);
    for o in &done {
        let _ = writeln!(out, "{}", outcome_line(o));
    }
    let failed = done.iter().filter(|o| o.result.is_err()).count();
    let count = |action: &str| {
        done.iter()
            .filter(|o| o.action == action && o.result.is_ok())
            .count()
    };
    let _ = writeln!(
        out,
        "\nApply {}: {} created, {} changed, {} deleted{}.",
        if failed == 0 && result.is_ok() {
            "complete"
        } else {
            "incomplete"
        },
        count("create"),
        count("increase_partitions") + count("alter_configs"),
        count("delete"),
        if failed > 0 {
            format!(", {failed} refused by the broker")
        } else {
            String::new()
        }
    );
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ERROR;
    }
    if failed > 0 { ERROR } else { OK }
}

/// A saved plan, checked against the clusters as they are now.
fn saved_plan(file: &std::path::Path, live: &LiveArgs) -> Result<Plan, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut plan: Plan = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not a plan written by `pipec plan --out`: {e}",
            file.display()
        )
    })?;
    if plan.plan_version != plan::PLAN_VERSION {
        return Err(format!(
            "{}: plan_version {}; this pipec reads version {}",
            file.display(),
            plan.plan_version,
            plan::PLAN_VERSION
        ));
    }
    let names = plan.topic_names();
    if !live.brokers.is_empty() {
        let clusters: Vec<&str> = names.keys().map(String::as_str).collect();
        plan.brokers =
            cluster_brokers(&live.brokers, &clusters).map_err(|e| format!("--brokers: {e}"))?;
    }
    if let Some(c) = names.keys().find(|c| !plan.brokers.contains_key(*c)) {
        return Err(format!(
            "{}: the plan does not say where cluster `{c}` is (it was not made with --brokers); give --brokers",
            file.display()
        ));
    }
    let state = block_on(live::read_state(&names, &plan.brokers, live.timeout()))
        .map_err(|e| format!("reading the live topics: {e}"))?;
    let stale = plan.stale(&state);
    if !stale.is_empty() {
        return Err(format!(
            "nothing applied: the clusters no longer match {}; plan again.\n  - {}",
            file.display(),
            stale.join("\n  - ")
        ));
    }
    Ok(plan)
}

fn names(actions: &[&TopicAction]) -> String {
    actions
        .iter()
        .map(|a| a.topic().topic.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome_line(o: &ActionOutcome) -> String {
    let what = match o.action {
        "create" => "created",
        "increase_partitions" => "partitions increased",
        "alter_configs" => "configs altered",
        "delete" => "deleted",
        other => other,
    };
    match &o.result {
        Ok(()) => format!("  ok      {} ({}): {what}", o.topic, o.cluster),
        Err(r) => format!(
            "  FAILED  {} ({}): {} refused: {r}",
            o.topic, o.cluster, o.action
        ),
    }
}
