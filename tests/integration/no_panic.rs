//! No input makes the checker panic: arbitrary bytes, and random mutations of valid specs.
//! Bounded case counts keep this fast in CI; `compiler/fuzz` runs the same for hours.

use proptest::prelude::*;

use crate::support::{no_env, root};
use pipec_compiler::{CheckOptions, check_text};

fn run(text: &str) {
    let path = root().join("examples/quickstart/pipeline.yaml");
    let result = check_text(
        &path,
        text,
        &CheckOptions {
            env: None,
            env_lookup: &no_env,
        },
    );
    // Rendering must not panic either, whatever the spans.
    let _ = crate::support::render(&result);
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            prop_oneof![
                Just(":".to_string()),
                Just("{".to_string()),
                Just("[".to_string()),
                Just("'".to_string()),
                Just("\"".to_string()),
                Just("\n  ".to_string()),
                Just(" - ".to_string()),
                Just("{env}".to_string()),
                Just("${X}".to_string()),
                Just("&a ".to_string()),
                Just("*a".to_string()),
                Just("é".to_string()),
                "[a-z_.(){}=<>!\"' 0-9-]{1,12}",
            ]
        )
            .prop_map(|(a, s)| Mutation::Insert(a, s)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut s = text.to_string();
    match m {
        Mutation::Delete(a, n) => {
            let a = floor_char(&s, a % (s.len() + 1));
            let b = floor_char(&s, a + n);
            s.replace_range(a..b, "");
        }
        Mutation::Insert(a, ins) => {
            let a = floor_char(&s, a % (s.len() + 1));
            s.insert_str(a, ins);
        }
        Mutation::DuplicateLine(a) | Mutation::SwapLines(a, _) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let i = a % lines.len();
                if let Mutation::SwapLines(_, b) = m {
                    let j = b % lines.len();
                    lines.swap(i, j);
                } else {
                    lines.insert(i, lines[i]);
                }
            }
            s = lines.join("\n");
        }
        Mutation::Truncate(a) => {
            let a = floor_char(&s, a % (s.len() + 1));
            s.truncate(a);
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        run(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_specs_never_panic(ms in proptest::collection::vec(mutation(), 1..6)) {
        let base = std::fs::read_to_string(root().join("examples/quickstart/pipeline.yaml")).unwrap_or_default();
        let mut text = base;
        for m in &ms {
            text = apply(&text, m);
        }
        run(&text);
    }
}
