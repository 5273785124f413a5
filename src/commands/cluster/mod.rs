//! CLUSTER, READONLY, READWRITE and ASKING as a Redis 7.0 server started without
//! `cluster-enabled` answers them: every one is in the table (COMMAND, COMMAND LIST, arity
//! errors, ACL categories are Redis's) and replies "This instance has cluster support
//! disabled". Cinnabar has no cluster mode. Redis: cluster.c (clusterCommand's first check).

use bytes::Bytes;

use crate::command::spec::{acl::CONNECTION, flags::*};
use crate::command::{dispatch::Ctx, CommandSpec};
use crate::error::{Error, Result};
use crate::reply::Reply;

#[cfg(test)]
mod tests;

const G: &str = "cluster";

static CLUSTER_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("addslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("3.0.0", "Assign new hash slots to receiving node", "O(N) where N is the total number of hash slot arguments")
        .args("slot@integer ..."),
    CommandSpec::new("addslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("7.0.0", "Assign new hash slots to receiving node", "O(N) where N is the total number of the slots between the start slot and end slot arguments.")
        .args("start-slot_end-slot=(start-slot@integer end-slot@integer) ..."),
    CommandSpec::new("bumpepoch", 2, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled).tips("nondeterministic_output").doc(
        "3.0.0",
        "Advance the cluster config epoch",
        "O(1)",
    ),
    CommandSpec::new("count-failure-reports", 3, ADMIN | STALE, G, disabled)
        .tips("nondeterministic_output")
        .doc("3.0.0", "Return the number of failure reports active for a given node", "O(N) where N is the number of failure reports")
        .args("node-id"),
    CommandSpec::new("countkeysinslot", 3, STALE, G, disabled)
        .doc("3.0.0", "Return the number of local keys in the specified hash slot", "O(1)")
        .args("slot@integer"),
    CommandSpec::new("delslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("3.0.0", "Set hash slots as unbound in receiving node", "O(N) where N is the total number of hash slot arguments")
        .args("slot@integer ..."),
    CommandSpec::new("delslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc(
            "7.0.0",
            "Set hash slots as unbound in receiving node",
            "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
        )
        .args("start-slot_end-slot=(start-slot@integer end-slot@integer) ..."),
    CommandSpec::new("failover", -2, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("3.0.0", "Forces a replica to perform a manual failover of its master.", "O(1)")
        .args("options=[FORCE|TAKEOVER]"),
    CommandSpec::new("flushslots", 2, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled).doc("3.0.0", "Delete a node's own slots information", "O(1)"),
    CommandSpec::new("forget", 3, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled).doc("3.0.0", "Remove a node from the nodes table", "O(1)").args("node-id"),
    CommandSpec::new("getkeysinslot", 4, STALE, G, disabled)
        .tips("nondeterministic_output")
        .doc("3.0.0", "Return local key names in the specified hash slot", "O(log(N)) where N is the number of requested keys")
        .args("slot@integer count"),
    CommandSpec::new("help", 2, LOADING | STALE, G, disabled).doc("5.0.0", "Show helpful text about the different subcommands", "O(1)"),
    CommandSpec::new("info", 2, STALE, G, disabled).tips("nondeterministic_output").doc("3.0.0", "Provides info about Redis Cluster node state", "O(1)"),
    CommandSpec::new("keyslot", 3, STALE, G, disabled)
        .doc("3.0.0", "Returns the hash slot of the specified key", "O(N) where N is the number of bytes in the key")
        .args("key@string"),
    CommandSpec::new("links", 2, STALE, G, disabled).tips("nondeterministic_output").doc(
        "7.0.0",
        "Returns a list of all TCP links to and from peer nodes in cluster",
        "O(N) where N is the total number of Cluster nodes",
    ),
    CommandSpec::new("meet", -4, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("3.0.0", "Force a node cluster to handshake with another node", "O(1)")
        .args("ip port@integer [cluster_bus_port@integer]"),
    CommandSpec::new("myid", 2, STALE, G, disabled).doc("3.0.0", "Return the node id", "O(1)"),
    CommandSpec::new("nodes", 2, STALE, G, disabled).tips("nondeterministic_output").doc(
        "3.0.0",
        "Get Cluster config for the node",
        "O(N) where N is the total number of Cluster nodes",
    ),
    CommandSpec::new("replicas", 3, ADMIN | STALE, G, disabled)
        .tips("nondeterministic_output")
        .doc("5.0.0", "List replica nodes of the specified master node", "O(1)")
        .args("node-id"),
    CommandSpec::new("replicate", 3, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("3.0.0", "Reconfigure a node as a replica of the specified master node", "O(1)")
        .args("node-id"),
    CommandSpec::new("reset", -2, ADMIN | NOSCRIPT | STALE, G, disabled)
        .doc("3.0.0", "Reset a Redis Cluster node", "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.")
        .args("hard_soft=[HARD|SOFT]"),
    CommandSpec::new("saveconfig", 2, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled).doc("3.0.0", "Forces the node to save cluster state on disk", "O(1)"),
    CommandSpec::new("set-config-epoch", 3, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("3.0.0", "Set the configuration epoch in a new node", "O(1)")
        .args("config-epoch@integer"),
    CommandSpec::new("setslot", -4, ADMIN | STALE | NO_ASYNC_LOADING, G, disabled)
        .doc("3.0.0", "Bind a hash slot to a specific node", "O(1)")
        .args("slot@integer subcommand=(IMPORTING node-id|MIGRATING node-id|NODE node-id|STABLE)"),
    CommandSpec::new("shards", 2, STALE, G, disabled).tips("nondeterministic_output").doc(
        "7.0.0",
        "Get array of cluster slots to node mappings",
        "O(N) where N is the total number of cluster nodes",
    ),
    CommandSpec::new("slaves", 3, ADMIN | STALE, G, disabled)
        .tips("nondeterministic_output")
        .doc("3.0.0", "List replica nodes of the specified master node", "O(1)")
        .args("node-id"),
    CommandSpec::new("slots", 2, STALE, G, disabled).tips("nondeterministic_output").doc(
        "3.0.0",
        "Get array of Cluster slot to node mappings",
        "O(N) where N is the total number of Cluster nodes",
    ),
];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec::new("asking", 1, FAST, G, disabled).acl(CONNECTION).doc("3.0.0", "Sent by cluster clients after an -ASK redirect", "O(1)"),
    CommandSpec::container("cluster", G, CLUSTER_SUBCOMMANDS).doc("3.0.0", "A container for cluster commands", "Depends on subcommand."),
    CommandSpec::new("readonly", 1, LOADING | STALE | FAST, G, disabled).acl(CONNECTION).doc(
        "3.0.0",
        "Enables read queries for a connection to a cluster replica node",
        "O(1)",
    ),
    CommandSpec::new("readwrite", 1, LOADING | STALE | FAST, G, disabled).acl(CONNECTION).doc(
        "3.0.0",
        "Disables read queries for a connection to a cluster replica node",
        "O(1)",
    ),
];

/// Every cluster command, in a server without cluster mode.
fn disabled(_ctx: &mut Ctx, _argv: &[Bytes]) -> Result<Reply> {
    Err(Error::Msg("ERR This instance has cluster support disabled"))
}
