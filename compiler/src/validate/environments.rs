//! Environments: each names topics, streams and reports that exist, and its settings are
//! as valid as the spec's own. Every environment is checked, not only the chosen one, so
//! that a broken `prod` is found while compiling `dev`.

use super::{Index, duration, positive};
use crate::diagnostics::Diagnostics;

/// Checks every environment.
pub fn check(ix: &Index<'_>, diags: &mut Diagnostics) {
    let Some(root) = ix.root else { return };
    for (_, env) in root.spec.environments.iter() {
        if let Some(d) = &env.defaults {
            if let Some(t) = &d.topic {
                positive("partitions", t.partitions.as_ref(), diags);
                positive("replication", t.replication.as_ref(), diags);
                if let Some(r) = &t.retention {
                    duration(r, diags);
                }
                if let Some(c) = &t.cluster {
                    ix.clusters.resolve("PC0104", c, diags);
                }
                super::topics::check_configs(&t.config, diags);
            }
            if let Some(s) = &d.stream {
                positive("replicas", s.replicas.as_ref(), diags);
                if let Some(r) = &s.resources {
                    super::streams::resources(r, diags);
                }
            }
        }
        for (name, t) in env.topics.iter() {
            ix.topics.resolve("PC0102", name, diags);
            positive("partitions", t.partitions.as_ref(), diags);
            positive("replication", t.replication.as_ref(), diags);
            if let Some(r) = &t.retention {
                duration(r, diags);
            }
            super::topics::check_configs(&t.config, diags);
        }
        for (name, s) in env.streams.iter() {
            ix.streams.resolve("PC0106", name, diags);
            positive("replicas", s.replicas.as_ref(), diags);
            if let Some(r) = &s.resources {
                super::streams::resources(r, diags);
            }
        }
        for (name, r) in env.reports.iter() {
            ix.reports.resolve("PC0110", name, diags);
            if let Some(s) = &r.schedule {
                super::reports::schedule(ix, s, diags);
            }
        }
    }
}
