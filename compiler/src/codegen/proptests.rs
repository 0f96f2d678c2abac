//! Hostile names and values through every template: the generated shell script and crontab
//! are run with a `PATH` of stubs that only log, and nothing else may happen (no `X` made
//! by `$(touch X)`), every crontab entry stays one line, and no path leaves the output.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;

use super::{Templates, generate, is_contained};
use crate::manifest::Manifest;

fn quickstart() -> Manifest {
    crate::test_support::compiled_dev("examples/quickstart")
}

/// A scratch directory with `bin/` of stubs that log their arguments to `log`.
fn sandbox(case: u64) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pipec-quote-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for sub in ["work", "lock", "logs"] {
        std::fs::create_dir_all(dir.join(sub)).expect("scratch");
    }
    for stub in ["kafka-topics.sh", "mkdir", "flock", "pipec", "date"] {
        let p = bin.join(stub);
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho {stub} \"$@\" >> \"$STUB_LOG\"\n"),
        )
        .expect("stub");
        chmod(&p);
    }
    // What an injected command would run: it leaves a mark, and the file it names.
    let touch = bin.join("touch");
    std::fs::write(
        &touch,
        "#!/bin/sh\necho \"$@\" >> \"$STUB_LOG.ran\"\n: > \"$1\"\n",
    )
    .expect("stub");
    chmod(&touch);
    dir
}

fn chmod(p: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

/// Runs `script` with `sh` in `dir/work`, with only the stubs on `PATH`.
fn run_sh(dir: &Path, script: &str, envs: &[(&str, &Path)]) {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir.join("work"))
        .env_clear()
        .env("PATH", dir.join("bin"))
        .env("STUB_LOG", dir.join("log"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let _ = cmd.output();
}

/// A crontab command as cron hands it to the shell: `\%` is `%`, an unescaped `%` ends it.
fn cron_command(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                out.push('%');
                chars.next();
            }
            '%' => break,
            c => out.push(c),
        }
    }
    out
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$(touch X)".to_string()),
        Just("`touch X`".to_string()),
        Just("\"; touch X; \"".to_string()),
        Just("'; touch X; '".to_string()),
        Just("x\n* * * * * touch X".to_string()),
        Just("x\r\ntouch X".to_string()),
        Just("a%b$(touch X)%".to_string()),
        Just("\\\"$(touch X)\\".to_string()),
        Just("../../X".to_string()),
        "[a-z$`'\"\\\\;%() \n/.]{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn hostile_values_run_nothing(
        name in hostile(),
        value in hostile(),
        text in hostile(),
        case in any::<u64>(),
    ) {
        let mut m = quickstart();
        m.pipeline = name.clone();
        m.env = name.clone();
        m.description = Some(text.clone());
        for c in m.clusters.values_mut() {
            c.brokers = format!("h:9092{value}");
        }
        for t in m.topics.values_mut() {
            t.config.insert("cleanup.policy".into(), value.clone());
        }
        let reports = std::mem::take(&mut m.reports);
        for (_, mut r) in reports.into_iter() {
            r.description = Some(text.clone());
            m.reports.insert(name.clone(), r);
        }
        let jobs = std::mem::take(&mut m.jobs);
        for (_, j) in jobs {
            m.jobs.insert(value.clone(), j);
        }
        // Either the templates refuse (nothing is written), or what they wrote is safe.
        let Ok(artifacts) = generate(&m, &Templates::builtin()) else {
            return Ok(());
        };
        let dir = sandbox(case);
        for a in &artifacts {
            prop_assert!(is_contained(&a.path), "{}", a.path);
        }
        for a in artifacts.iter().filter(|a| a.path.ends_with("create-topics.sh")) {
            run_sh(&dir, &a.contents, &[]);
        }
        let cron = artifacts.iter().find(|a| a.path == "cron/crontab");
        let cron = cron.map(|a| a.contents.as_str()).unwrap_or_default();
        let mut entries = 0;
        for line in cron.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let is_var = line.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            });
            if is_var {
                continue;
            }
            entries += 1;
            prop_assert!(
                line.starts_with("30 5 * * * mkdir -p \"$PIPEC_LOG_DIR\" && flock -n "),
                "{line:?}"
            );
            let command: String = line.splitn(6, ' ').nth(5).unwrap_or_default().to_string();
            let lock = dir.join("lock");
            let log = dir.join("logs");
            run_sh(
                &dir,
                &cron_command(&command),
                &[("PIPEC_LOCK_DIR", &lock), ("PIPEC_LOG_DIR", &log), ("PIPEC_MANIFEST", &log)],
            );
        }
        prop_assert_eq!(entries, m.reports.len(), "{}", cron);
        let made: Vec<String> = std::fs::read_dir(dir.join("work"))
            .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        let ran = std::fs::read_to_string(dir.join("log.ran")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        prop_assert!(ran.is_empty() && made.is_empty(), "ran {ran:?}, made {made:?}; stub log:\n{log}");
        // The stubs did run: the test would pass vacuously otherwise.
        prop_assert!(log.contains("kafka-topics.sh --bootstrap-server"), "{log}");
        // A report name with `/` (which `check` refuses: PC0015) puts its log in a directory
        // that does not exist: the shell refuses the redirection and runs nothing, safely.
        if entries > 0 && !name.contains('/') {
            prop_assert!(log.contains("mkdir -p") && log.contains("flock -n"), "{log}");
        }
    }
}
