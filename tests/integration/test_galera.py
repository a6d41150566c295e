"""A MariaDB Galera cluster of three nodes under load (issue 11).

A real cluster (tests/lib/galera.py: three mariadbd with the galera-4
provider, each on a loopback address of its own, bootstrapped by the test,
started once for the module) and two Dovecots with hosts = node1 node2
node3, one per blocking mode, under a steady load of mixed requests
(lib/load.py's Load: good and wrong passwords, unknown users, userdb
lookups). Each scenario makes a fault while both loads run and records,
per mode: the requests, the wrong answers (there must be none), the
temporary failures, the longest time without a successful login or
lookup, and when the Dovecot was back on node1, the preferred node (which
server each auth process talks to is read with ss). The figures are
printed, and collected in a table at the end (doc/configuration.md and
the README quote them):

1. a password changed on node2 is seen by the next login, which node1
   answers: with wsrep_sync_wait = 1 in password_query (SET STATEMENT,
   as doc/configuration.md recommends) always; without it, the count of
   logins that still saw the old password is a figure;
2. node1 desynced (wsrep_desync, FLUSH TABLES WITH READ LOCK held, as
   an rsync donor is): it keeps answering, no request fails;
3. node1 isolated (gmcast.isolate: it leaves the cluster and answers
   1047): skipped at once, no request fails; back on node1 once it has
   rejoined and its 30 s skip is over;
4. node1 killed (SIGKILL) and started again (SST, with node2, which the
   Dovecots use meanwhile, as the donor): temporary failures at most while
   switching; back on node1 once it has rejoined;
5. many Dovecot hosts: four Dovecots with the module and four with
   Dovecot's built-in passdb sql under the same load against the cluster;
   the database connections each group holds, side by side (a figure);
6. quorum lost (node2 and node3 killed: node1 answers 1047): temporary
   failures only, never a wrong answer; logins work again, without
   restarting Dovecot, once node1 is a primary component again
   (pc.bootstrap).

The scenarios run in this order on one cluster; the last leaves it
broken."""

import atexit
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

from fixture import MODULE_SO, SQL_DIR, stop_all
from lib import proc
from lib.authclient import auth
from lib.dovecot import Dovecot
from lib.galera import GaleraCluster
from lib.load import Load, report
from lib.users import add_load_users, bcrypt_hashes, load_users

MODES = ("no", "yes")
POOL_SIZE = 2
CONNECT_TIMEOUT = 2
QUERY_TIMEOUT = 3
# DB_MARIADB_HOST_RETRY_SECS in plugin/db-mariadb-conn.h
HOST_RETRY_SECS = 30
LOAD_USERS = 100
# mostly good logins, as mail clients make them
LOGIN_KINDS = ("good",) * 4 + ("wrong", "unknown")
# a request that fails while switching may take this long
SWITCH_BOUND = CONNECT_TIMEOUT + QUERY_TIMEOUT + 5
# Dovecot hosts in the connection count
MANY = 4
# password changes in scenario 1, per Dovecot
CHANGES = 30
SYNC_WAIT_QUERY = (
    "password_query = SET STATEMENT wsrep_sync_wait = 1 FOR "
    "SELECT CONCAT(local, '@', domain) AS user, password_hash AS password "
    "FROM users WHERE domain = :domain AND local = :local\n")

C = None
# scenario -> mode -> figures, for the table printed at the end
RESULTS = {}


class Servers:
    """The cluster, the two Dovecots of the faults (self.dovecots by
    mode) and two with wsrep_sync_wait in password_query (self.synced);
    cleaned up at exit too."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mariadb-auth-galera-")
        os.chmod(self.dir, 0o755)
        self.db_password = "galera-" + os.urandom(8).hex()
        self.cluster = GaleraCluster(os.path.join(self.dir, "galera"))
        self.dovecots = {m: self.dovecot("dovecot-" + m, m) for m in MODES}
        self.synced = {m: self.dovecot("synced-" + m, m, SYNC_WAIT_QUERY)
                       for m in MODES}
        self.extra = []
        self.stopped = False
        atexit.register(self.stop)

    def dovecot(self, name, mode, module_extra="", builtin_sql=False):
        return Dovecot(
            os.path.join(self.dir, name), MODULE_SO, db_hosts=self.cluster.hosts(),
            db_password=self.db_password, connect_timeout=CONNECT_TIMEOUT,
            query_timeout=QUERY_TIMEOUT, builtin_sql=builtin_sql,
            # the auth sockets only: no IMAP port that another process's
            # connection could take (free_port() picks an ephemeral one)
            protocols="none",
            module_extra="blocking = %s\npool_size = %d\nunknown_user_cost = 4\n%s"
                         % (mode, POOL_SIZE, module_extra),
            dovecot_extra="auth_debug = no\nauth_verbose = no\n")

    def start(self):
        try:
            self.cluster.start()
            node1 = self.cluster.nodes[0]
            node1.load_schema(SQL_DIR, self.db_password)
            add_load_users(node1, LOAD_USERS)
            for d in list(self.dovecots.values()) + list(self.synced.values()):
                d.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if not self.stopped:
            self.stopped = True
            stop_all(self.extra + list(self.dovecots.values()) +
                     list(self.synced.values()) + [self.cluster], self.dir)

    def connections(self, dovecots):
        """For each Dovecot, the TCP connections its processes hold to
        each node: [[to node1, node2, node3], ...] (from ss)."""
        out = subprocess.run(["ss", "-Htnp", "state", "established",
                              "( dport = :%d )" % self.cluster.port],
                             capture_output=True, text=True).stdout
        owners = {}
        for i, d in enumerate(dovecots):
            masters, workers = d.auth_processes()
            for pid in masters + workers:
                owners[pid] = i
        addresses = [n.host for n in self.cluster.nodes]
        counts = [[0] * len(addresses) for _ in dovecots]
        for line in out.splitlines():
            fields = line.split()
            peer = fields[3].rsplit(":", 1)[0] if len(fields) > 3 else ""
            for pid in re.findall(r"pid=(\d+)", line):
                i = owners.get(int(pid))
                if i is not None and peer in addresses:
                    counts[i][addresses.index(peer)] += 1
                    break
        return counts


def setUpModule():
    global C
    C = Servers().start()
    for d in list(C.dovecots.values()) + list(C.synced.values()):
        proc.wait_for(lambda: login(d, "user1", "pw-1")[0] == "OK", 30,
                      what="the first successful login")


def tearDownModule():
    try:
        print_table()
    finally:
        C.stop()


def login(dovecot, local, password):
    return auth(dovecot, "%s@nahida.net" % local, password)


def on_node1(counts):
    return counts[0] > 0 and counts[1] == counts[2] == 0


def print_table():
    if not RESULTS:
        return
    print("\nGalera figures (per blocking mode: requests, wrong answers, "
          "temporary failures, the longest gap without a successful login or "
          "lookup; times from the start of the fault):")
    for name, modes in RESULTS.items():
        for mode, f in modes.items():
            print("  %-26s blocking = %-3s %s" % (name, mode, f["text"]))


class Scenario:
    """Both Dovecots under load while a fault happens; the figures of
    each mode."""

    def __init__(self, test, name, report_again=False):
        self.test = test
        self.name = name
        # report how soon after the fault ended logins worked again
        self.report_again = report_again
        self.loads = {m: Load(C.dovecots[m], load_users(LOAD_USERS), connections=4,
                              window=5, login_kinds=LOGIN_KINDS, record=True,
                              seed=name + m)
                      for m in MODES}
        self.samples = []  # (time, {mode: [to node1, node2, node3]})
        self.events = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        dovecots = [C.dovecots[m] for m in MODES]
        while not self._stop.wait(0.2):
            counts = C.connections(dovecots)
            self.samples.append((time.monotonic(), dict(zip(MODES, counts))))

    def now_on_node1(self, mode):
        return bool(self.samples) and on_node1(self.samples[-1][1][mode])

    def __enter__(self):
        for load in self.loads.values():
            load.start()
        self._sampler.start()
        try:
            for mode in MODES:
                proc.wait_for(lambda: self.now_on_node1(mode), HOST_RETRY_SECS + 20,
                              interval=0.2, what="blocking = %s on node1" % mode)
            time.sleep(1)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.events["fault"] = time.monotonic()
        return self

    def wait_back(self, timeout=2 * HOST_RETRY_SECS + 20):
        """Wait until both modes are on node1 only; record when each was
        (None if not within timeout)."""
        since = self.events["fault"]
        deadline = time.monotonic() + timeout
        back = {}
        while time.monotonic() < deadline and len(back) < len(MODES):
            time.sleep(0.2)
            for t, counts in list(self.samples):
                for mode in MODES:
                    if mode not in back and t > self.events["recovered"] and \
                            on_node1(counts[mode]):
                        back[mode] = t - since
        self.events["back"] = back

    def __exit__(self, *exc):
        time.sleep(1)
        self._stop.set()
        self._sampler.join()
        self.events["end"] = time.monotonic()
        for load in self.loads.values():
            load.stop()

    def figures(self, mode):
        load = self.loads[mode]
        fault = self.events["fault"]
        back = self.events.get("back", {}).get(mode)
        recovered = self.events["recovered"]
        again = next((t - recovered for t in load.successes if t > recovered), None)
        f = {
            "requests": load.requests, "wrong": load.counts["wrong"],
            "temp": load.counts["temp"],
            "gap": load.longest_gap(fault - 1, self.events["end"]),
            "back": back, "again": again,
            "max_temp_latency": load.max_temp_latency,
            "left_node1": any(not on_node1(c[mode]) for t, c in self.samples
                              if t > fault),
        }
        f["text"] = ("%d requests, %d wrong, %d temporary failures, longest "
                     "gap %.2f s" % (f["requests"], f["wrong"], f["temp"], f["gap"]))
        if self.report_again:
            f["text"] += ", logins again %.1f s after the fault ended" % again
        elif back is not None:
            f["text"] += (", node1 ready again after %.1f s, connections back "
                          "on it after %.1f s" % (recovered - fault, back))
        elif not f["left_node1"]:
            f["text"] += ", never left node1"
        else:
            f["text"] += ", not back on node1"
        RESULTS.setdefault(self.name, {})[mode] = f
        report(self.test, "blocking = %s: %s" % (mode, f["text"]))
        self.test.assertEqual(load.wrong_answers, [], "blocking = %s" % mode)
        return f


class GaleraTest(unittest.TestCase):
    def test_1_password_change_seen_on_another_node(self):
        node2 = C.cluster.nodes[1]
        passwords = ["changed-%d" % i for i in range(CHANGES + 1)]
        hashes = bcrypt_hashes(passwords)
        stale = {}
        session = node2.session(database="mail_server")
        try:
            for group in ("synced", "dovecots"):
                for mode in MODES:
                    d = getattr(C, group)[mode]
                    local = "change-%s-%s" % (group, mode)
                    session.query("INSERT INTO users (local, domain, password_hash, "
                                  "display_name) VALUES ('%s', 'nahida.net', '%s', "
                                  "'changes');" % (local, hashes[0]))
                    stale[(group, mode)] = 0
                    for i in range(1, CHANGES + 1):
                        session.query("UPDATE users SET password_hash = '%s' WHERE "
                                      "local = '%s';" % (hashes[i], local))
                        new = login(d, local, passwords[i])[0]
                        old = login(d, local, passwords[i - 1])[0]
                        if (new, old) != ("OK", "FAIL"):
                            stale[(group, mode)] += 1
        finally:
            session.close()
        for (group, mode), count in stale.items():
            report(self, "%s, blocking = %s: %d of %d logins right after a change on "
                   "node2 saw the old password on node1" % (
                       "wsrep_sync_wait = 1" if group == "synced" else "default",
                       mode, count, CHANGES))
            RESULTS.setdefault("password change (%s)" % (
                "wsrep_sync_wait" if group == "synced" else "default"), {})[mode] = {
                "text": "%d of %d logins saw the old password" % (count, CHANGES)}
        for mode in MODES:
            self.assertEqual(stale[("synced", mode)], 0)

    def test_2_desynced_node_keeps_answering(self):
        node1 = C.cluster.nodes[0]
        with Scenario(self, "node1 desynced") as s:
            lock = node1.session()
            try:
                node1.desync()
                lock.query("FLUSH TABLES WITH READ LOCK;")
                self.assertEqual(node1.state()[0], "Donor/Desynced")
                time.sleep(5)
            finally:
                lock.close()
                node1.desync(False)
            s.events["recovered"] = time.monotonic()
        for mode in MODES:
            f = s.figures(mode)
            self.assertEqual(f["temp"], 0)
            self.assertFalse(f["left_node1"])

    def test_3_isolated_node_is_skipped_at_once(self):
        node1 = C.cluster.nodes[0]
        with Scenario(self, "node1 isolated (1047)") as s:
            node1.isolate()
            try:
                proc.wait_for(lambda: not node1.state()[1], 20,
                              what="node1 out of the primary component")
                time.sleep(3)
            finally:
                node1.isolate(False)
            node1.wait_synced()
            s.events["recovered"] = time.monotonic()
            s.wait_back()
        for mode in MODES:
            f = s.figures(mode)
            # skipped at once: no request waited for node1 until it
            # timed out
            self.assertEqual(f["temp"], 0)
            self.assertIsNotNone(f["back"], "not back on node1")
        for d in C.dovecots.values():
            d.wait_for_log(": 1047: ")

    def test_4_killed_node_rejoins(self):
        node1 = C.cluster.nodes[0]
        log_start = os.path.getsize(node1.log_file)
        with Scenario(self, "node1 killed (SIGKILL)") as s:
            node1.kill()
            for mode in MODES:
                proc.wait_for(lambda: any(c[mode][1] > 0 for t, c in s.samples
                                          if t > s.events["fault"]),
                              SWITCH_BOUND, interval=0.2,
                              what="blocking = %s on node2" % mode)
            # node2 serves the Dovecots and node1's state transfer
            node1.start(donor="node2")
            s.events["recovered"] = time.monotonic()
            s.wait_back()
        for mode in MODES:
            f = s.figures(mode)
            self.assertLess(f["gap"], SWITCH_BOUND)
            self.assertLess(f["max_temp_latency"], SWITCH_BOUND)
            self.assertIsNotNone(f["back"], "not back on node1")
        with open(node1.log_file, errors="replace") as log:
            log.seek(log_start)
            rejoin = log.read()
        # its position was lost with it: a whole copy, from node2
        self.assertIn("Installed new state from SST", rejoin)
        self.assertRegex(rejoin, r"Selected [0-9.]+ \(node2\)")

    def test_5_many_dovecot_hosts(self):
        """MANY Dovecots with the module, then MANY with the built-in
        driver, each group under the same load: the most connections each
        group held at once on the cluster."""
        held = {}
        rates = {}
        for kind in ("module", "builtin"):
            group = [C.dovecot("%s-%d" % (kind, i), "no",
                               builtin_sql=(kind == "builtin"))
                     for i in range(MANY)]
            C.extra += group
            for d in group:
                d.start()
            for d in group:
                proc.wait_for(lambda: login(d, "user1", "pw-1")[0] == "OK", 30,
                              what="the first successful login")
            loads = [Load(d, load_users(LOAD_USERS), connections=4, window=5,
                          login_kinds=LOGIN_KINDS, seed=kind + str(i))
                     for i, d in enumerate(group)]
            most = [0] * MANY
            for load in loads:
                load.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                for i, counts in enumerate(C.connections(group)):
                    most[i] = max(most[i], sum(counts))
                time.sleep(0.2)
            for load in loads:
                load.stop()
                self.assertEqual(load.wrong_answers, [])
            held[kind] = most
            rates[kind] = sum(load.requests for load in loads) / max(
                loads[0].duration, 1e-9)
            workers = [len(d.auth_processes()[1]) for d in group]
            for d in group:
                d.stop()
            report(self, "%d Dovecots, %s: at most %s database connections each "
                   "(%d in all), %d auth-workers each at the end, %.0f requests/s "
                   "in all" % (MANY, "the module (blocking = no, pool_size = %d)"
                               % POOL_SIZE if kind == "module"
                               else "built-in passdb sql (3 hosts)",
                               most, sum(most), max(workers), rates[kind]))
            RESULTS.setdefault("%d Dovecot hosts" % MANY, {})[kind] = {
                "text": "%d connections in all (%s per host), %.0f requests/s"
                        % (sum(most), most, rates[kind])}
        for n in held["module"]:
            self.assertLessEqual(n, POOL_SIZE)

    def test_6_quorum_lost_and_back(self):
        node1, node2, node3 = C.cluster.nodes
        with Scenario(self, "quorum lost (2 of 3 killed)", report_again=True) as s:
            node2.kill()
            node3.kill()
            proc.wait_for(lambda: not node1.state()[1], 20,
                          what="node1 without quorum")
            time.sleep(5)
            node1.bootstrap_again()
            proc.wait_for(lambda: node1.state()[1], 20,
                          what="node1 a primary component again")
            s.events["recovered"] = time.monotonic()
            for mode in MODES:
                proc.wait_for(lambda: login(C.dovecots[mode], "user1", "pw-1")[0]
                              == "OK", SWITCH_BOUND + 8, interval=0.2,
                              what="blocking = %s to log in again" % mode)
        for mode in MODES:
            f = s.figures(mode)
            self.assertGreater(f["temp"], 0)
            self.assertIsNotNone(f["again"])
