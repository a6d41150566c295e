"""A private three-node MariaDB Galera cluster for the tests.

Each node is a tests/lib/mariadb.py MariaDB with a directory of its own and
a loopback address of its own (127.0.0.11, .12, .13), on which it listens
like a server of its own: the SQL port (the same on every node, as 3306 on
real servers, so that Dovecot's built-in sql driver, which takes one port
for all its hosts, can be pointed at them too), gcomm (the group
communication between the nodes), IST (incremental state transfer: the
write sets a node that was away for a while missed) and SST (a whole copy
of the data, by rsync, for a node whose position is unknown, e.g. after
SIGKILL; wsrep_sst_rsync comes with mariadb-server, as galera-4 and rsync
do). The account a client uses from the host connects from 127.0.0.1
(the source address of every loopback route), as sql/03-grants.sql
expects. Nodes are started and stopped by the PID they wrote, like every
test server.

The test bootstraps the cluster (start()): node1 is made and started as a
new cluster, stopped, and its data directory copied to the other nodes;
then node1 starts a new cluster again and the others join it. The copies
need only IST, not an SST each. After that each node is started plainly
(start(), optionally naming the donor of its state transfer) and joins
whoever is up; bootstrap_again() turns a node that lost its quorum into a
new primary component, as an admin does when the others are gone for
good.

The timeouts of the group communication are shortened (a dead or cut-off
node is noticed in about 2 s instead of 5-15 s) so that the tests don't
wait for them; everything else is Galera's default.

Tools for the faults the tests make: kill() (SIGKILL) and start() of a
node, isolate() (gmcast.isolate: the node's group communication is cut
off, it leaves the cluster and answers 1047 to queries, as behind a
network partition), desync() (wsrep_desync, as a donor is), and status
variables (state())."""

import functools
import os
import pwd
import secrets
import shutil
import socket

from . import proc
from .load import parallel
from .mariadb import MariaDB, MariaDBError

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
# group communication: notice a dead or cut-off node within ~2 s
EVS_OPTIONS = ("evs.keepalive_period=PT0.5S; evs.inactive_check_period=PT0.5S; "
               "evs.suspect_timeout=PT1.5S; evs.inactive_timeout=PT3S; "
               "evs.install_timeout=PT3S")
JOIN_TIMEOUT = 180.0  # seconds for a node to be Synced (an SST included)
ADDRESSES = ("127.0.0.11", "127.0.0.12", "127.0.0.13")


def _port_free_on(addresses):
    """A TCP port that nothing listens on at any of addresses."""
    for _ in range(100):
        port = proc.free_port()
        socks = []
        try:
            for address in addresses:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no TCP port free on %s" % ", ".join(addresses))


class GaleraNode(MariaDB):
    """One node: a MariaDB with the wsrep options, at host:port; name
    ("node1"), gcomm_port, ist_port and sst_port."""

    def __init__(self, basedir, name, address, ports, cluster_name,
                 gcomm_addresses):
        self.name = name
        port, self.gcomm_port, self.ist_port, self.sst_port = ports
        provider_options = "gmcast.listen_addr=tcp://%s:%d; " \
            "ist.recv_addr=%s:%d; gcache.size=64M; %s" % (
                address, self.gcomm_port, address, self.ist_port, EVS_OPTIONS)
        super().__init__(basedir, port, options=(
            "--wsrep-on=ON",
            "--wsrep-provider=%s" % PROVIDER,
            "--wsrep-cluster-name=%s" % cluster_name,
            "--wsrep-cluster-address=gcomm://%s" % gcomm_addresses,
            "--wsrep-node-name=%s" % name,
            "--wsrep-node-address=%s:%d" % (address, self.gcomm_port),
            "--wsrep-provider-options=%s" % provider_options,
            "--wsrep-sst-method=rsync",
            "--wsrep-sst-receive-address=%s:%d" % (address, self.sst_port),
            "--binlog-format=ROW",
            "--default-storage-engine=InnoDB",
            "--innodb-autoinc-lock-mode=2",
        ))
        self.host = address
        self.start_timeout = JOIN_TIMEOUT
        self.plain_options = self.options

    def start(self, new_cluster=False, donor=None):
        """Start the node and wait until it is Synced: a new cluster of
        its own with new_cluster, else joining the others, with its state
        transfer from the node named donor if given."""
        extra = ()
        if new_cluster:
            extra += ("--wsrep-new-cluster",)
        if donor:
            extra += ("--wsrep-sst-donor=%s" % donor,)
        self.options = self.plain_options + extra
        try:
            super().start()
        finally:
            self.options = self.plain_options
        self.wait_synced()

    def copy_data_from(self, other):
        """Give this (stopped) node a copy of another stopped node's data
        directory."""
        shutil.rmtree(self.datadir, ignore_errors=True)
        os.makedirs(self.basedir, exist_ok=True)
        shutil.copytree(other.datadir, self.datadir, symlinks=True)
        if os.geteuid() == 0:
            mysql = pwd.getpwnam("mysql")
            os.chown(self.basedir, mysql.pw_uid, mysql.pw_gid)
            for directory, dirs, files in os.walk(self.datadir):
                for path in [directory] + [os.path.join(directory, f) for f in files]:
                    os.chown(path, mysql.pw_uid, mysql.pw_gid)

    def status(self, name):
        """A status variable ("wsrep_local_state_comment")."""
        out = self.sql("SHOW GLOBAL STATUS LIKE '%s';" % name)
        return out.split("\t", 1)[1].strip() if "\t" in out else ""

    def state(self):
        """(wsrep_local_state_comment, part of the primary component?),
        ("down", False) if the node does not answer."""
        try:
            return (self.status("wsrep_local_state_comment"),
                    self.status("wsrep_cluster_status") == "Primary")
        except MariaDBError:
            return ("down", False)

    def wait_synced(self, timeout=JOIN_TIMEOUT):
        proc.wait_for(lambda: self.state() == ("Synced", True), timeout,
                      interval=0.2, what="%s to be Synced" % self.name)

    def isolate(self, on=True):
        """Cut the node's group communication off (gmcast.isolate), or
        let it back in."""
        self.sql("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=%d';"
                 % (1 if on else 0))

    def desync(self, on=True):
        self.sql("SET GLOBAL wsrep_desync = %s;" % ("ON" if on else "OFF"))

    def bootstrap_again(self):
        """Make this node, which lost its quorum, a primary component of
        its own (pc.bootstrap), what an admin does when the others are
        gone for good."""
        self.sql("SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES';")


class GaleraCluster:
    """Three GaleraNodes under basedir (node1, node2, node3) at ADDRESSES,
    all on the SQL port `port`."""

    def __init__(self, basedir):
        self.basedir = os.path.abspath(basedir)
        name = "test-" + secrets.token_hex(4)
        self.port = _port_free_on(ADDRESSES)
        # (SQL, gcomm, IST, SST) of each node
        ports = [[self.port] + [_port_free_on([a]) for _ in range(3)]
                 for a in ADDRESSES]
        gcomm = ",".join("%s:%d" % (a, p[1]) for a, p in zip(ADDRESSES, ports))
        self.nodes = [GaleraNode(os.path.join(self.basedir, "node%d" % (i + 1)),
                                 "node%d" % (i + 1), address, ports[i], name,
                                 gcomm)
                      for i, address in enumerate(ADDRESSES)]

    def hosts(self):
        """The nodes, node1 first, as the module's hosts setting wants
        them."""
        return " ".join("%s:%d" % (n.host, n.port) for n in self.nodes)

    def start(self):
        """Bootstrap the cluster (see the module's documentation)."""
        first = self.nodes[0]
        first.start(new_cluster=True)
        first.stop()
        for node in self.nodes[1:]:
            node.copy_data_from(first)
        first.start(new_cluster=True)
        self.start_nodes(self.nodes[1:])

    @staticmethod
    def start_nodes(nodes, donor=None):
        """Start nodes at once and wait until all are Synced; raises the
        first start's error (after waiting for the others)."""
        parallel(*[functools.partial(n.start, donor=donor) for n in nodes])

    def stop(self):
        for node in reversed(self.nodes):
            try:
                node.stop()
            except MariaDBError:
                node.kill()

