use super::*;

fn sq(s: &str) -> String {
    shquote(s.to_string()).unwrap_or_else(|e| format!("error: {e}"))
}

#[test]
fn shquote_quotes_only_when_needed() {
    assert_eq!(sq("dev.telemetry.raw"), "dev.telemetry.raw");
    assert_eq!(sq("retention.ms=172800000"), "retention.ms=172800000");
    assert_eq!(sq("a b"), "'a b'");
    assert_eq!(sq("it's"), r"'it'\''s'");
    assert_eq!(sq(""), "''");
}

#[test]
fn dns_labels() {
    assert_eq!(dns_label("igot-telemetry"), "igot-telemetry");
    assert_eq!(dns_label("My_Pipeline."), "my-pipeline");
    assert_eq!(dns_label("..."), "pipeline");
    assert_eq!(dns_label(&"x".repeat(80)).len(), 63);
}
