"""Faults: a hung, refusing, connection-dropping or full database, killed
auth-workers and reloads under load, and a soak run (blocking = no).

Covers issue "Hold up under faults, hostile input and scale-out". Every
fault ends in temporary failures within query_timeout, never in a wrong
answer; lookups waiting for a hung database never pile up past
queue_limit (the overflow is refused at once); the auth master's memory
and file descriptors stay flat across fault cycles and the soak run, and
it holds at most pool_size database connections once things settle.
How the faults are made and measured: doc/testing.md."""

import os
import signal
import threading
import time
import unittest

from fixture import Servers, wait_for_first_login
from lib import proc
from lib.authclient import auth, is_tempfail, userdb
from lib.load import Load, parallel, report, timed
from lib.proc import tcp_peers
from lib.users import add_load_users, load_users

POOL_SIZE = 2
QUEUE_LIMIT = 20
QUERY_TIMEOUT = 3
CONNECT_TIMEOUT = 2
# users with cheap (cost 4) hashes for the load; user<i> has password pw-<i>
LOAD_USERS = 300
# a user whose password query takes SLOW_SECS (killed while it runs)
SLOW = "slow@nahida.net"
SLOW_SECS = 0.5
SOAK_REQUESTS = 200000
# the auth master's RSS grows in steps at first (doc/testing.md)
SOAK_WARMUP = 100000
SOAK_CHUNK = 25000
# the auth master's RSS may grow this much over a fault cycle or the soak
RSS_SLACK = 0.05
# With the module built with ASan (.ci/run), its allocator keeps freed
# memory in quarantine, so RSS says nothing about leaks there: compare
# FDs, processes and connections only (ASan itself reports bad memory use).
SANITIZED = bool(os.environ.get("SANITIZER_LOG_DIR"))

MODULE_EXTRA = """\
pool_size = %d
queue_limit = %d
unknown_user_cost = 4
password_query = SELECT CONCAT(local, '@', domain) AS user, \\
  password_hash AS password FROM users \\
  WHERE domain = :domain AND local = :local \\
  AND SLEEP(IF(local = 'slow', %s, 0)) = 0
""" % (POOL_SIZE, QUEUE_LIMIT, SLOW_SECS)

S = None


def setUpModule():
    global S
    S = Servers("faults", module_extra=MODULE_EXTRA)
    S.dovecot.query_timeout = QUERY_TIMEOUT
    S.dovecot.connect_timeout = CONNECT_TIMEOUT
    S.start()
    add_load_users(S.db, LOAD_USERS, extra=[("slow", "pw")])
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


# -- processes --

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def db_connections(pid, db_port):
    """How many TCP connections pid holds to the database port."""
    return sum(1 for port in tcp_peers(pid).values() if port == db_port)


def footprint(dovecot, db_port):
    """The auth master's (pid, VmRSS in KiB, open FDs, database
    connections). The FDs count neither the database connections nor the
    connection to each auth-worker (their number follows the load)."""
    pid = dovecot.auth_master()
    fds = len(os.listdir("/proc/%d/fd" % pid))
    db = db_connections(pid, db_port)
    workers = len(dovecot.auth_processes()[1])
    return pid, rss_kib(pid), fds - db - workers, db


def settled_footprint(dovecot, db_port, timeout=5):
    """footprint() once the FDs have stayed the same for half a second:
    the master closes a client's connection a moment after the client
    did, and a new auth-worker connects a moment after it started."""
    last = footprint(dovecot, db_port)
    stable_since = time.monotonic()
    deadline = stable_since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = footprint(dovecot, db_port)
        if now[2:] != last[2:]:
            stable_since = time.monotonic()
        elif time.monotonic() - stable_since >= 0.5:
            return now
        last = now
    return last


def mail_user_connections(db):
    return len(db.connection_ids("mail_user"))


def db_clients(db_port):
    """Who holds TCP connections to the database port: [(pid, title)], to
    explain a failed connection count."""
    holders = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            n = list(tcp_peers(pid).values()).count(db_port)
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                title = f.read().replace(b"\0", b" ").strip().decode(errors="replace")
        except OSError:
            continue
        holders += [(pid, title)] * n
    return holders


def running_statements(db):
    """How many of mail_user's connections are running a statement."""
    return int(db.sql("SELECT COUNT(*) FROM information_schema.processlist "
                      "WHERE user = 'mail_user' AND command <> 'Sleep';"))


# -- tests --

class FaultTestCase(unittest.TestCase):
    """Checks the state every fault test must leave behind."""

    def assert_healed(self, dovecot=None, db=None):
        """Logins and lookups work again, and the server sees at most
        pool_size connections of mail_user."""
        dovecot = dovecot or S.dovecot
        db = db or S.db
        proc.wait_for(lambda: auth(dovecot, "user1@nahida.net", "pw-1")[0] == "OK",
                      20, interval=0.2, what="logins to work again")
        self.assertEqual(userdb(dovecot, "user2@nahida.net")[0], "USER")
        try:
            proc.wait_for(lambda: mail_user_connections(db) <= POOL_SIZE, 15,
                          interval=0.2, what="at most pool_size connections "
                          "on the server")
        except TimeoutError as e:
            raise AssertionError("%s; held by %s" % (e, db_clients(db.port))) from None

    def assert_flat(self, before, dovecot, db_port):
        """The auth master is the same process, its RSS grew by at most
        RSS_SLACK, it has the same FDs and at most pool_size database
        connections (see footprint()). Returns the footprint now."""
        try:
            proc.wait_for(lambda: footprint(dovecot, db_port)[2] <= before[2], 5,
                          what="the FDs to settle")
        except TimeoutError:
            pass  # the assertion below says what is wrong
        after = settled_footprint(dovecot, db_port)
        self.assertEqual(after[0], before[0], "the auth master was replaced")
        if not SANITIZED:
            self.assertLessEqual(after[1], before[1] * (1 + RSS_SLACK),
                                 "RSS grew from %d to %d KiB" % (before[1], after[1]))
        self.assertEqual(after[2], before[2], "open FDs went from %d to %d"
                         % (before[2], after[2]))
        self.assertLessEqual(after[3], POOL_SIZE)
        return after

    def cycles(self, cycle, measured=2, dovecot=None, db_port=None):
        """Run the fault cycle once to warm up (the master's pools grow
        to what the fault needs), then measured times more; the auth
        master's footprint must stay flat over those."""
        dovecot = dovecot or S.dovecot
        db_port = db_port or S.db.port
        cycle()
        before = settled_footprint(dovecot, db_port)
        for _ in range(measured):
            cycle()
        after = self.assert_flat(before, dovecot, db_port)
        report(self, "%d cycles: auth master RSS %d -> %d KiB, FDs %d -> %d"
               % (measured, before[1], after[1], before[2], after[2]))


class HungDatabaseTest(FaultTestCase):
    """A hung database: LOCK TABLES users WRITE (doc/testing.md)."""

    def hang(self):
        """A session that holds the lock until it is closed."""
        lock = S.db.session(database="mail_server")
        lock.query("LOCK TABLES users WRITE;")
        return lock

    def test_lookups_fail_within_query_timeout(self):
        def cycle():
            with self.hang():
                logged_in, looked_up = parallel(
                    lambda: timed(auth, S.dovecot, "user3@nahida.net", "pw-3"),
                    lambda: timed(userdb, S.dovecot, "user4@nahida.net"))
                # the lock is still held, but the server has ended the
                # queries the module gave up on (max_statement_time)
                proc.wait_for(lambda: running_statements(S.db) == 0, 3,
                              what="the server to end the abandoned queries")
            (result, fields), elapsed = logged_in
            self.assertEqual(result, "FAIL")
            self.assertTrue(is_tempfail(fields), fields)
            self.assertLess(elapsed, QUERY_TIMEOUT + 2)
            (result, fields), elapsed = looked_up
            self.assertEqual(result, "FAIL")
            self.assertLess(elapsed, QUERY_TIMEOUT + 2)
            self.assert_healed()
        self.cycles(cycle)
        # the module's deadline; or, when libmariadb's read timeout (also
        # query_timeout) fires first, a lost connection
        proc.wait_for(lambda: S.dovecot.log_lines(
            "query failed: Query timed out after %d s" % QUERY_TIMEOUT,
            "query failed: Connection lost: 2013"), 10,
            what="the timeout in the log")

    def test_overflow_is_refused_at_once(self):
        """100 lookups at once while the database hangs: pool_size run,
        queue_limit wait and time out, the rest are refused at once."""
        flood = 100

        def cycle():
            logged = S.dovecot.log().count("Too many lookups waiting")
            with self.hang():
                load = Load(S.dovecot, load_users(LOAD_USERS), connections=4,
                            window=flood // 4, login_kinds=("good",),
                            record=True, seed=logged)
                load.run(flood)
            fast = sum(1 for t in load.latencies if t < 1.5)
            report(self, "%s; %d answered within 1.5 s"
                   % (load.summary(), fast))
            self.assertEqual(load.counts["temp"], flood, load.wrong_answers)
            self.assertLess(load.max_temp_latency, QUERY_TIMEOUT + 2)
            # at most queue_limit waited, besides those running on the
            # connections (and those that went to a connection that came
            # up while the flood arrived)
            self.assertLessEqual(flood - fast, QUEUE_LIMIT + 2 * POOL_SIZE)
            S.dovecot.wait_for_log("Too many lookups waiting",
                                   logged + flood - QUEUE_LIMIT - 2 * POOL_SIZE)
            self.assert_healed()
        self.cycles(cycle)


class RefusedConnectionTest(FaultTestCase):
    def test_closed_port_fails_at_once(self):
        """Every host refuses connections: each lookup fails at once,
        connection attempts back off."""
        closed = proc.free_port()
        d = S.add_dovecot("refused", db_hosts="127.0.0.1:%d" % closed,
                          connect_timeout=CONNECT_TIMEOUT, query_timeout=QUERY_TIMEOUT,
                          module_extra="pool_size = %d\nunknown_user_cost = 4\n" % POOL_SIZE)

        def cycle():
            # long enough for a few connection attempts (back-off 1, 2 s)
            deadline = time.monotonic() + 2.5
            n = worst = 0
            while time.monotonic() < deadline:
                logged_in, looked_up = parallel(
                    lambda: timed(auth, d, "user%d@nahida.net" % n, "pw-%d" % n),
                    lambda: timed(userdb, d, "user%d@nahida.net" % n))
                (result, fields), elapsed = logged_in
                self.assertEqual(result, "FAIL")
                self.assertTrue(is_tempfail(fields), fields)
                self.assertEqual(looked_up[0][0], "FAIL")
                worst = max(worst, elapsed, looked_up[1])
                n += 1
            report(self, "%d logins and %d lookups, slowest answer %.2f s"
                   % (n, n, worst))
            self.assertLess(worst, QUERY_TIMEOUT + 2)
        try:
            d.start()
            self.cycles(cycle, dovecot=d, db_port=closed)
            d.wait_for_log("Could not connect to any database host")
            d.wait_for_log("Not connected to any database host, next attempt in")
            self.assertEqual(d.log_lines("Panic", "Fatal"), [])
        finally:
            d.stop()


class DroppedConnectionTest(FaultTestCase):
    def test_killed_connections_under_load(self):
        """KILL (the server drops the connection; mid-query for the slow
        user, whose query takes SLOW_SECS) and KILL QUERY, again and again
        under load."""
        def cycle():
            # at most queue_limit requests in flight: a temporary failure
            # comes from the fault, not from the queue overflowing
            load = Load(S.dovecot, load_users(LOAD_USERS), connections=4,
                        window=QUEUE_LIMIT // 4,
                        login_kinds=("good",) * 4 + ("wrong", "unknown"))
            slow = {"ok": 0, "temp": 0, "wrong": []}
            stop = threading.Event()

            def slow_logins():
                while not stop.is_set():
                    (result, fields), elapsed = timed(auth, S.dovecot, SLOW, "pw")
                    if elapsed >= QUERY_TIMEOUT + 2:
                        slow["wrong"].append((result, fields, elapsed))
                    elif result == "OK":
                        slow["ok"] += 1
                    elif is_tempfail(fields):
                        slow["temp"] += 1
                    else:
                        slow["wrong"].append((result, fields, elapsed))
            t = threading.Thread(target=slow_logins)
            load.start()
            t.start()
            killed = 0
            try:
                for i in range(8):
                    time.sleep(0.25)
                    killed += len(S.db.kill_connections(
                        "mail_user", query_only=i % 2 == 1))
            finally:
                stop.set()
                t.join()
                load.stop()
            report(self, "%d kills; %s; slow user: %d right, %d temporary "
                   "failures" % (killed, load.summary(), slow["ok"], slow["temp"]))
            self.assertEqual(load.wrong_answers, [])
            self.assertEqual(slow["wrong"], [])
            self.assertLess(load.max_temp_latency, QUERY_TIMEOUT + 2)
            self.assertGreater(killed, 0)
            self.assert_healed()
        self.cycles(cycle)
        S.dovecot.wait_for_log("Lost connection to")


class MaxConnectionsTest(FaultTestCase):
    def test_full_server_fails_at_once(self):
        """max_connections reached: connecting fails with error 1040."""
        old = S.db.sql("SELECT @@max_connections;").strip()

        def cycle():
            sessions = []
            try:
                # 10 is the smallest max_connections MariaDB takes
                S.db.sql("SET GLOBAL max_connections = 10;")
                S.db.kill_connections("mail_user")
                while True:
                    try:
                        sessions.append(S.db.session(user="mail_user",
                                                     password=S.db_password,
                                                     tcp=True))
                    except Exception as e:
                        if "1040" not in str(e):
                            raise
                        break
                    self.assertLess(len(sessions), 20)
                worst = 0.0
                for n in range(3):
                    (result, fields), elapsed = timed(
                        auth, S.dovecot, "user%d@nahida.net" % n, "pw-%d" % n)
                    self.assertEqual(result, "FAIL")
                    self.assertTrue(is_tempfail(fields), fields)
                    worst = max(worst, elapsed)
                report(self, "%d sessions fill the server; slowest answer "
                       "%.2f s" % (len(sessions), worst))
                self.assertLess(worst, QUERY_TIMEOUT + 2)
                S.dovecot.wait_for_log("Too many connections")
            finally:
                for session in sessions:
                    session.close()
                S.db.sql("SET GLOBAL max_connections = %s;" % old)
            self.assert_healed()
        self.cycles(cycle, measured=1)


class SoakTest(FaultTestCase):
    def test_soak(self):
        """SOAK_REQUESTS mixed requests: the auth master's RSS and FDs stay
        flat after the warm-up, no wrong answer, temporary failure or error."""
        # a Dovecot of its own: no debug log, the default queue_limit
        d = S.add_dovecot("soak", connect_timeout=CONNECT_TIMEOUT, query_timeout=QUERY_TIMEOUT,
                          module_extra="pool_size = %d\nunknown_user_cost = 4\n" % POOL_SIZE,
                          dovecot_extra="auth_debug = no\nauth_verbose = no\n")
        users = load_users(LOAD_USERS)
        # mostly good logins (repeat logins, cheap with the login cache),
        # some wrong passwords and unknown users (bcrypt cost 4 in a worker)
        kinds = ("good",) * 6 + ("wrong", "unknown")
        samples = []  # (requests so far, footprint)
        total = duration = temp = 0
        wrong = []
        try:
            d.start()
            while total < SOAK_REQUESTS:
                load = Load(d, users, connections=8, window=64, login_kinds=kinds,
                            seed=total).run(SOAK_CHUNK)
                total += load.requests
                duration += load.duration
                temp += load.counts["temp"]
                wrong += load.wrong_answers
                if total == SOAK_WARMUP:
                    before = settled_footprint(d, S.db.port)
                    workers = d.auth_processes()[1]
                    workers_rss = sum(rss_kib(p) for p in workers)
                    samples.append((total, before))
                elif total > SOAK_WARMUP:
                    samples.append((total, self.assert_flat(
                        before, d, S.db.port)))
            after = samples[-1][1]
            workers = d.auth_processes()[1]
            report(self, "%d requests in %.1f s (%.0f/s), %d temporary failures; "
                   "auth master RSS %d -> %d KiB (%s), FDs %d -> %d (+%d -> %d "
                   "to the database); %d auth-workers, RSS %d -> %d KiB" % (
                       total, duration, total / duration, temp,
                       before[1], after[1],
                       ", ".join("%dk: %d" % (n // 1000, f[1]) for n, f in samples),
                       before[2], after[2], before[3], after[3], len(workers),
                       workers_rss, sum(rss_kib(p) for p in workers)))
            self.assertEqual(wrong, [])
            self.assertEqual(temp, 0)
            self.assertEqual(total, SOAK_REQUESTS)
            self.assertEqual(d.log_lines("Panic", "Fatal", "rror"), [])
        finally:
            d.stop()


class WorkersAndReloadTest(FaultTestCase):
    def test_killed_workers_and_reloads_under_load(self):
        """Auth-workers killed and Dovecot reloaded under load: no wrong
        answer, and it heals."""
        # written last in this module: a reload replaces the auth master
        killed = 0
        load = Load(S.dovecot, load_users(LOAD_USERS), connections=4,
                    window=QUEUE_LIMIT // 4)
        load.start()
        try:
            for _ in range(2):
                time.sleep(0.5)
                for pid in S.dovecot.auth_processes()[1]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed += 1
                    except ProcessLookupError:
                        pass
                time.sleep(0.5)
                S.dovecot.reload()
            time.sleep(1)
        finally:
            load.stop()
        report(self, "%d workers killed, 2 reloads; %s" % (killed, load.summary()))
        self.assertEqual(load.wrong_answers, [])
        self.assertGreater(load.counts["ok"], 0)
        self.assertGreater(killed, 0)
        self.assert_healed()
        # one auth master, and it holds at most pool_size connections
        master = S.dovecot.auth_master()
        self.assertLessEqual(db_connections(master, S.db.port), POOL_SIZE)
        self.assertEqual([line for line in S.dovecot.log_lines("Panic", "Fatal")
                          if "killed with signal 9" not in line], [])
