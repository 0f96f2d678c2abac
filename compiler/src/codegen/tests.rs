use super::*;

#[test]
fn shquote_quotes_only_when_needed() {
    assert_eq!(shquote("dev.telemetry.raw".into()), "dev.telemetry.raw");
    assert_eq!(
        shquote("retention.ms=172800000".into()),
        "retention.ms=172800000"
    );
    assert_eq!(shquote("a b".into()), "'a b'");
    assert_eq!(shquote("it's".into()), r"'it'\''s'");
    assert_eq!(shquote(String::new()), "''");
}

#[test]
fn dns_labels() {
    assert_eq!(dns_label("igot-telemetry"), "igot-telemetry");
    assert_eq!(dns_label("My_Pipeline."), "my-pipeline");
    assert_eq!(dns_label("..."), "pipeline");
    assert_eq!(dns_label(&"x".repeat(80)).len(), 63);
}
