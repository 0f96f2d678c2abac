//! Broker lists: each address `host:port` (`[v6]:port` for IPv6, an optional `SCHEME://`), as
//! Kafka clients and the generated `create-topics.sh` pass them on. A list often comes from
//! the environment (`${KAFKA_BROKERS:-...}`), where an env file or a CI setting keeps quotes
//! as part of the value (`KAFKA_BROKERS='[::1]:9092'`): the script would then hand
//! `'[::1]:9092'`, quotes and all, to `kafka-topics.sh`. Such an address is reported here, at
//! the list, rather than as a connection failure at deploy time.

use std::net::Ipv6Addr;

use super::Index;
use crate::diagnostics::{Diagnostics, catalog};

/// What is wrong with one address of a broker list, and what to write: `(label, help)`.
pub(crate) fn address_problem(addr: &str) -> Option<(String, String)> {
    if addr.contains(['\'', '"']) {
        let bare = addr.trim_matches(['\'', '"']);
        return Some((
            "quotes are part of this address".into(),
            format!(
                "a variable's value is used as it is, quotes included (env files and CI \
                 settings keep them): set it to `{bare}`"
            ),
        ));
    }
    if addr.contains(char::is_whitespace) {
        return Some((
            "a space inside an address".into(),
            "separate brokers with commas: `host1:9092,host2:9092`".into(),
        ));
    }
    let rest = addr.split_once("://").map_or(addr, |(_, r)| r);
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some((ip, after)) = v6.split_once(']') else {
            return Some(("no `]` after the IPv6 address".into(), V6_HELP.into()));
        };
        if ip.parse::<Ipv6Addr>().is_err() {
            return Some((format!("`{ip}` is not an IPv6 address"), V6_HELP.into()));
        }
        match after {
            "" => return None,
            p => match p.strip_prefix(':') {
                Some(port) => (ip, port),
                None => return Some(("text after the `]`".into(), V6_HELP.into())),
            },
        }
    } else if rest.matches(':').count() > 1 {
        return Some(("an IPv6 address without brackets".into(), V6_HELP.into()));
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, p),
            // No port: the client's default (9092).
            None => (rest, "9092"),
        }
    };
    if host.is_empty() {
        return Some(("no host".into(), "write `host:port`".into()));
    }
    if !port.parse::<u16>().is_ok_and(|p| p > 0) || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Some((
            format!("port `{port}` is not 1 to 65535"),
            "write `host:port`".into(),
        ));
    }
    None
}

const V6_HELP: &str = "write an IPv6 address in brackets: `[::1]:9092`";

/// Reports every address of every cluster's broker list that is not `host:port`.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    for c in &ix.clusters.items {
        let brokers = &c.def.brokers;
        // An undefined variable is reported where it is written (PC0008), credentials in
        // the list by PC0309, which never quotes them: this check must not either.
        if brokers.value.contains(['{', '$', '@'])
            || !super::credentials::broker_credentials(&brokers.value).is_empty()
        {
            continue;
        }
        let mut at = 0;
        for part in brokers.value.split(',') {
            let lead = part.len() - part.trim_start().len();
            let addr = part.trim();
            let range = at + lead..at + lead + addr.len();
            at += part.len() + 1;
            if addr.is_empty() {
                continue;
            }
            if let Some((label, help)) = address_problem(addr) {
                let span = super::sub_span(ix.sources, brokers, range);
                diags.push(
                    catalog::invalid_value(format!("broker `{addr}` is not `host:port`"))
                        .at(span, label)
                        .help(help),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::address_problem;
    use crate::{CheckOptions, check_text};

    #[test]
    fn addresses_as_kafka_takes_them() {
        for ok in [
            "127.0.0.1:9092",
            "kafka-0.kafka.svc:9093",
            "[::1]:9092",
            "[fe80::1]",
            "localhost",
            "SASL_SSL://broker:9094",
        ] {
            assert_eq!(address_problem(ok), None, "{ok}");
        }
        for bad in [
            "'[::1]:9092'",
            "\"kafka:9092\"",
            "::1:9092",
            "[::1:9092",
            "[nope]:9092",
            "kafka:0",
            "kafka:99999",
            "kafka:port",
            ":9092",
            "kafka 9092",
        ] {
            assert!(address_problem(bad).is_some(), "{bad}");
        }
    }

    /// `KAFKA_BROKERS='[::1]:9092'` from an env file: the quotes are in the value.
    #[test]
    fn quotes_from_the_environment_are_reported_at_the_list() {
        let spec = "pipeline: p
description: Brokers.
vars: { env: dev }
clusters:
  main: { brokers: \"${KAFKA_BROKERS:-127.0.0.1:9092}\" }
events:
  type_field: eid
  types: { LOG: { schema: none } }
topics:
  raw: { name: \"{env}.raw\", external: true }
  logs: { name: \"{env}.logs\" }
streams:
  pre:
    from: raw
    steps:
      - route:
          - { else: logs }
";
        let check = |value: &'static str| {
            let lookup = move |name: &str| (name == "KAFKA_BROKERS").then(|| value.to_string());
            let opts = CheckOptions {
                env: None,
                env_lookup: &lookup,
            };
            let r = check_text(Path::new("/nonexistent/pipeline.yaml"), spec, &opts);
            r.diagnostics
                .iter()
                .map(|d| {
                    let line_col = d
                        .primary
                        .as_ref()
                        .and_then(|p| r.sources.get(p.span.file).map(|f| f.line_col(p.span.start)));
                    (d.code, d.message.clone(), line_col, d.help.clone())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            check("'[::1]:9092'"),
            [(
                "PC0009",
                "broker `'[::1]:9092'` is not `host:port`".to_string(),
                Some((5, 20)),
                Some(
                    "a variable's value is used as it is, quotes included (env files and CI \
                     settings keep them): set it to `[::1]:9092`"
                        .to_string()
                )
            )]
        );
        assert_eq!(check("[::1]:9092"), []);
        assert_eq!(check("a:9092, b:9092").len(), 0);
        assert_eq!(check("a:9092,::1:9092").len(), 1);
    }
}
