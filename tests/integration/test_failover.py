"""Failover: a primary and a replica with real replication, the primary
killed (SIGKILL) under a steady login load, then started again, with
blocking = no and yes: no wrong answer, logins go on from the replica,
and the connections return to the primary (doc/testing.md).

Covers the scale-out part of issue "Hold up under faults, hostile input
and scale-out". The scenario runs once, in setUpClass; the tests check
what it recorded."""

import threading
import time
import unittest

from fixture import Servers
from lib import proc
from lib.authclient import auth
from lib.load import Load, report
from lib.proc import tcp_peers
from lib.users import add_load_users, load_users

POOL_SIZE = 2
CONNECT_TIMEOUT = 2
QUERY_TIMEOUT = 3
# DB_MARIADB_HOST_RETRY_SECS in plugin/db-mariadb-conn.h
HOST_RETRY_SECS = 30
LOAD_USERS = 100
# a temporary failure is allowed while switching; none may take longer
SWITCH_BOUND = CONNECT_TIMEOUT + QUERY_TIMEOUT + 5
# mostly good logins, as mail clients make them
LOGIN_KINDS = ("good",) * 4 + ("wrong", "unknown")

S = None
DOVECOTS = None  # blocking = no/yes -> its Dovecot


def module_extra(blocking):
    return ("blocking = %s\npool_size = %d\nunknown_user_cost = 4\n"
            % (blocking, POOL_SIZE))


def setUpModule():
    global S, DOVECOTS
    S = Servers("failover", module_extra=module_extra("no"),
                dovecot_extra="auth_debug = no\n")
    S.add_replica()
    S.dovecot.connect_timeout = CONNECT_TIMEOUT
    S.dovecot.query_timeout = QUERY_TIMEOUT
    S.add_dovecot("dovecot-blocking-yes", module_extra=module_extra("yes"),
                  dovecot_extra="auth_debug = no\n",
                  connect_timeout=CONNECT_TIMEOUT, query_timeout=QUERY_TIMEOUT)
    S.start()
    DOVECOTS = {"no": S.dovecot, "yes": S.more_dovecots[0]}
    # written to the primary only: they reach the replica by replication
    add_load_users(S.db, LOAD_USERS)
    S.replica.wait_caught_up(S.db)
    for d in DOVECOTS.values():
        proc.wait_for(lambda: auth(d, "user1@nahida.net", "pw-1")[0] == "OK", 30,
                      what="the first successful login")


def tearDownModule():
    S.stop()


def db_peers(mode):
    """(connections to the primary, connections to the replica) of the
    processes that talk to the database in a mode: the auth master with
    blocking = no, the auth-workers with blocking = yes."""
    d = DOVECOTS[mode]
    if mode == "no":
        pids = [d.auth_master()]
    else:
        pids = d.auth_processes()[1]
    ports = []
    for pid in pids:
        try:
            ports += tcp_peers(pid).values()
        except OSError:
            pass  # a worker that just exited
    return ports.count(S.db.port), ports.count(S.replica.port)


class FailoverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        """The scenario; its figures go to the class attributes."""
        cls.loads = {mode: Load(d, load_users(LOAD_USERS), connections=4, window=5,
                                login_kinds=LOGIN_KINDS, record=True, seed=mode)
                     for mode, d in DOVECOTS.items()}
        cls.peers = {"no": [], "yes": []}  # (time, on primary, on replica)
        cls.events = {}
        stop_sampling = threading.Event()

        def sample():
            while not stop_sampling.wait(0.2):
                now = time.monotonic()
                for mode in cls.peers:
                    cls.peers[mode].append((now,) + db_peers(mode))
        sampler = threading.Thread(target=sample)
        for load in cls.loads.values():
            load.start()
        sampler.start()
        try:
            for mode in cls.peers:
                proc.wait_for(lambda: db_peers(mode)[0] > 0, 10,
                              what="blocking = %s on the primary" % mode)
            time.sleep(1)
            cls.events["kill"] = time.monotonic()
            S.db.kill()
            proc.wait_for(lambda: db_peers("no")[1] > 0, SWITCH_BOUND,
                          what="the pool on the replica")
            cls.events["replica"] = time.monotonic()
            S.db.start()
            cls.events["primary up"] = time.monotonic()
            # every connection back on the primary (the tests check
            # whether that happened); blocking = yes gets 5 s more
            try:
                proc.wait_for(lambda: (lambda p: p[0] > 0 and p[1] == 0)(
                    db_peers("no")), HOST_RETRY_SECS + SWITCH_BOUND, interval=0.2,
                    what="the pool back on the primary")
                cls.events["back"] = time.monotonic()
                proc.wait_for(lambda: db_peers("yes")[1] == 0, 5, interval=0.2,
                              what="the auth-workers back on the primary")
                cls.events["workers back"] = time.monotonic()
            except TimeoutError:
                pass
            time.sleep(1)
        finally:
            stop_sampling.set()
            sampler.join()
            for load in cls.loads.values():
                load.stop()
        cls.events["end"] = time.monotonic()

    def figures(self, mode):
        load = self.loads[mode]
        kill = self.events["kill"]
        first = next((t for t in load.successes if t > kill), None)
        gap = load.longest_gap(kill - 1, self.events["end"])
        return load, (first - kill if first else None), gap

    def test_switch_gives_no_wrong_answer(self):
        for mode in ("no", "yes"):
            with self.subTest(blocking=mode):
                load, switch, gap = self.figures(mode)
                report(self, "blocking = %s: %s; first success %.2f s after the "
                       "kill; longest gap without one %.2f s" % (
                           mode, load.summary(), switch, gap))
                self.assertEqual(load.wrong_answers, [])
                self.assertLess(switch, SWITCH_BOUND)
                self.assertLess(gap, SWITCH_BOUND)
                self.assertLess(load.max_temp_latency, SWITCH_BOUND)
                # logins went on from the replica while the primary was down
                self.assertTrue(any(self.events["kill"] < t < self.events["primary up"]
                                    for t in load.successes))
        for d in DOVECOTS.values():
            d.wait_for_log(
                "Connected to 127.0.0.1:%d, not to the primary" % S.replica.port)

    def test_pool_returns_to_the_primary(self):
        kill = self.events["kill"]
        back = self.events.get("back", float("inf")) - kill
        report(self, "pool on the replica %.2f s after the kill, primary up "
               "again after %.2f s, pool back on the primary after %.2f s" % (
                   self.events["replica"] - kill,
                   self.events["primary up"] - kill, back))
        self.assertIn("back", self.events, "the pool stayed on the replica")
        # what /proc showed, the primary sees too
        self.assertGreater(len(S.db.connection_ids("mail_user")), 0)

    def test_blocking_workers_return_to_the_primary(self):
        """blocking = yes: every auth-worker is back on the primary."""
        on_replica = [(round(t - self.events["kill"], 1), p, r)
                      for t, p, r in self.peers["yes"]
                      if t >= self.events.get("back", 0)]
        report(self, "auth-workers' connections (s after the kill, to the "
               "primary, to the replica) once the pool was back: %s"
               % on_replica[-3:])
        self.assertIn("workers back", self.events)
