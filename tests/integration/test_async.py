"""blocking = no: lookups in the auth master, bcrypt in auth-workers, the
verified-login cache, and what happens under load and faults.

Covers issue "Never block the auth master": thousands of concurrent mixed
requests all answered right; a changed password refused at the next login
with the cache on; a killed auth-worker and a restarted MariaDB under load
give temporary failures, never wrong answers, and heal by themselves; a
hung query fails within query_timeout; reloading Dovecot with requests in
flight fails them cleanly; the master holds at most pool_size connections."""

import os
import random
import signal
import subprocess
import threading
import time
import unittest

from fixture import Servers, wait_for_first_login
from lib import proc
from lib.authclient import AuthClient, MasterClient, auth, is_tempfail
from lib.users import cheap_hash

POOL_SIZE = 2
QUERY_TIMEOUT = 3
# extra users with cheap (cost 4) hashes, so that load tests are fast;
# their hashes carry doveadm pw's {BLF-CRYPT} prefix
EXTRA_USERS = 30
# a user whose lookups hang in SLEEP() (see the password_query below)
SLEEPY = "sleepy@nahida.net"

MODULE_EXTRA = """\
pool_size = %d
password_query = SELECT CONCAT(local, '@', domain) AS user, \\
  password_hash AS password FROM users \\
  WHERE domain = :domain AND local = :local \\
  AND SLEEP(IF(local = 'sleepy', 30, 0)) = 0
""" % POOL_SIZE

S = None


def setUpModule():
    global S
    S = Servers("async", module_extra=MODULE_EXTRA)
    S.dovecot.query_timeout = QUERY_TIMEOUT
    S.start()
    rows = []
    for i in range(EXTRA_USERS):
        rows.append("('user%d', 'nahida.net', '%s', 'load test')" % (i, cheap_hash("pw-%d" % i)))
    rows.append("('sleepy', 'nahida.net', '%s', 'hangs')" % cheap_hash("pw"))
    S.db.sql("INSERT INTO users (local, domain, password_hash, display_name) VALUES %s;"
             % ", ".join(rows), database="mail_server")
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


def mixed_load(requests_per_thread, threads, allow_tempfail=False, during=None):
    """Send a random mix of logins and userdb lookups from several
    connections at once; return a list of wrong answers."""
    wrong = []
    counts = {"ok": 0, "tempfail": 0}
    lock = threading.Lock()

    def worker(seed):
        rnd = random.Random(seed)
        c = AuthClient(S.dovecot.auth_client_socket)
        m = MasterClient(S.dovecot.auth_userdb_socket)
        try:
            for _ in range(requests_per_thread):
                i = rnd.randrange(EXTRA_USERS)
                user = "user%d@nahida.net" % i
                kind = rnd.choice(["good", "good", "wrong", "unknown", "userdb"])
                if kind == "userdb":
                    result, fields = m.user(user)
                    expected = "USER"
                    good = result == "USER" and fields.get("home", "").endswith("/nahida.net/user%d" % i)
                    temp = result == "FAIL"
                else:
                    password = "pw-%d" % i if kind != "wrong" else "pw-x%d" % i
                    if kind == "unknown":
                        user = "nobody%d@nahida.net" % i
                    result, fields = c.plain(user, password)
                    expected = "OK" if kind == "good" else "FAIL"
                    temp = result == "FAIL" and is_tempfail(fields)
                    good = (result == expected and not temp and
                            (kind != "good" or fields.get("user") == user))
                with lock:
                    if good:
                        counts["ok"] += 1
                    elif temp and allow_tempfail:
                        counts["tempfail"] += 1
                    else:
                        wrong.append((kind, user, result, fields))
        finally:
            c.close()
            m.close()

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    if during is not None:
        during()
    for t in ts:
        t.join()
    return wrong, counts


def auth_worker_pids():
    """PIDs of this Dovecot's auth-worker processes."""
    return S.dovecot.auth_processes()[1]


class LoadTest(unittest.TestCase):
    def test_concurrent_mixed_requests_are_all_answered_right(self):
        wrong, counts = mixed_load(requests_per_thread=250, threads=8)
        self.assertEqual(wrong, [])
        self.assertEqual(counts["ok"], 2000)
        # repeat logins were served by the cache, not by bcrypt
        S.dovecot.wait_for_log("Verified-login cache hit")

    def test_master_holds_at_most_pool_size_connections(self):
        mixed_load(requests_per_thread=50, threads=8)
        n = int(S.db.sql("SELECT COUNT(*) FROM information_schema.processlist "
                         "WHERE user = 'mail_user';").strip())
        self.assertGreater(n, 0)
        self.assertLessEqual(n, POOL_SIZE)


class PriorityTest(unittest.TestCase):
    def test_workers_check_passwords_below_the_master(self):
        """An auth-worker that checked a bcrypt hash for the master runs 10
        nicer (at most 19) from then on, with a longer time slice where the
        kernel knows custom slices; the master keeps its priority."""
        base = proc.nice(S.dovecot.pid())
        if base >= 19:
            self.skipTest("Dovecot runs at nice %d: no lower priority left" % base)
        # a wrong password is never in the login cache: a worker checks it
        self.assertEqual(auth(S.dovecot, "user11@nahida.net", "pw-x11")[0], "FAIL")
        masters, workers = S.dovecot.auth_processes()
        self.assertEqual({proc.nice(pid) for pid in masters} - {None}, {base})
        lowered = min(base + 10, 19)
        nice = {proc.nice(pid) for pid in workers} - {None}
        self.assertIn(lowered, nice)
        self.assertLessEqual(nice, {base, lowered})
        if not proc.custom_slice_supported():
            return
        # ... and asks for a longer time slice than the default, so that
        # the master and other processes preempt it when they wake up
        worker_slice = 6 * 1000 * 1000
        lowered_workers = [pid for pid in workers if proc.nice(pid) == lowered]
        self.assertEqual({proc.sched_slice(pid) for pid in lowered_workers} - {None},
                         {worker_slice})
        self.assertNotIn(worker_slice, {proc.sched_slice(pid) for pid in masters})


class CacheTest(unittest.TestCase):
    def test_changed_password_is_refused_at_the_next_login(self):
        user, local = "user7@nahida.net", "user7"
        self.assertEqual(auth(S.dovecot, user, "pw-7")[0], "OK")
        hits = S.dovecot.log().count("Verified-login cache hit")
        self.assertEqual(auth(S.dovecot, user, "pw-7")[0], "OK")
        S.dovecot.wait_for_log("Verified-login cache hit", hits + 1)
        S.db.sql("UPDATE users SET password_hash = '%s' WHERE domain = 'nahida.net' "
                 "AND local = '%s';" % (cheap_hash("changed"), local), database="mail_server")
        try:
            result, fields = auth(S.dovecot, user, "pw-7")
            self.assertEqual(result, "FAIL")
            self.assertFalse(is_tempfail(fields))
            self.assertEqual(auth(S.dovecot, user, "changed")[0], "OK")
        finally:
            S.db.sql("UPDATE users SET password_hash = '%s' WHERE domain = 'nahida.net' "
                     "AND local = '%s';" % (cheap_hash("pw-7"), local), database="mail_server")

    def test_wrong_password_is_not_served_from_the_cache(self):
        self.assertEqual(auth(S.dovecot, "user8@nahida.net", "pw-8")[0], "OK")
        result, fields = auth(S.dovecot, "user8@nahida.net", "pw-9")
        self.assertEqual((result, is_tempfail(fields)), ("FAIL", False))


class QueueTest(unittest.TestCase):
    def test_userdb_lookup_waits_ahead_of_password_lookups(self):
        """pool_size = 1 and its connection busy: a userdb lookup that
        comes after two password lookups gets the connection before them
        (a delivery must not wait behind a storm of cold logins)."""
        slow = """\
pool_size = 1
password_query = SELECT CONCAT(local, '@', domain) AS user, \\
  password_hash AS password FROM users \\
  WHERE domain = :domain AND local = :local \\
  AND SLEEP(IF(local IN ('user0', 'user1', 'user2'), 1, 0)) = 0
"""
        d = S.add_dovecot("queue", module_extra=slow, query_timeout=10)
        d.start()
        answered = {}

        def login(i):
            answered["user%d" % i] = (auth(d, "user%d@nahida.net" % i, "pw-%d" % i)[0],
                                      time.monotonic())

        def lookup():
            m = MasterClient(d.auth_userdb_socket)
            try:
                answered["userdb"] = (m.user("user3@nahida.net")[0], time.monotonic())
            finally:
                m.close()
        try:
            threads = []
            for target, args in ((login, (0,)), (login, (1,)), (login, (2,)), (lookup, ())):
                threads.append(threading.Thread(target=target, args=args))
                threads[-1].start()
                # each is queued before the next comes
                time.sleep(0.2)
            for t in threads:
                t.join(30)
        finally:
            d.stop()
        self.assertEqual({k: v[0] for k, v in answered.items()},
                         {"user0": "OK", "user1": "OK", "user2": "OK", "userdb": "USER"})
        # user0 held the connection; the lookup went next
        self.assertLess(answered["userdb"][1], answered["user1"][1])
        self.assertLess(answered["user1"][1], answered["user2"][1])


class FaultTest(unittest.TestCase):
    def test_killed_auth_worker_under_load_gives_no_wrong_answer(self):
        def kill_workers():
            proc.wait_for(auth_worker_pids, 10, what="an auth-worker")
            for _ in range(3):
                time.sleep(0.3)
                for pid in auth_worker_pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        wrong, counts = mixed_load(requests_per_thread=100, threads=6,
                                   allow_tempfail=True, during=kill_workers)
        self.assertEqual(wrong, [])
        self.assertGreater(counts["ok"], 0)
        proc.wait_for(lambda: auth(S.dovecot, "user3@nahida.net", "pw-3")[0] == "OK", 30,
                      interval=0.5, what="logins to work again")

    def test_mariadb_restart_under_load_gives_no_wrong_answer(self):
        def restart():
            time.sleep(0.5)
            S.db.stop()
            time.sleep(1)
            S.db.start()
        wrong, counts = mixed_load(requests_per_thread=150, threads=6,
                                   allow_tempfail=True, during=restart)
        self.assertEqual(wrong, [])
        proc.wait_for(lambda: auth(S.dovecot, "user4@nahida.net", "pw-4")[0] == "OK", 30,
                      interval=0.5, what="logins to work again")

    def test_connection_the_server_ends_while_idle_is_closed_at_once(self):
        """The server ends idle pool connections (as a restart, KILL or
        wait_timeout does): the master closes its end at once, leaving no
        socket in CLOSE_WAIT, and the next login opens a new connection
        instead of failing over a dead one."""
        def close_wait():
            return subprocess.run(
                ["ss", "-Htn", "state", "close-wait",
                 "dst", "127.0.0.1:%d" % S.db.port],
                capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(auth(S.dovecot, "user6@nahida.net", "pw-6")[0], "OK")
        lost = len(S.dovecot.log_lines("Lost connection to"))
        ended = len(S.dovecot.log_lines("ended the idle connection"))
        self.assertGreater(len(S.db.kill_connections("mail_user")), 0)
        proc.wait_for(lambda: close_wait() == "", 10,
                      what="the master to close the ended connections")
        S.dovecot.wait_for_log("ended the idle connection", count=ended + 1)
        self.assertEqual(auth(S.dovecot, "user6@nahida.net", "pw-6")[0], "OK")
        self.assertEqual(len(S.dovecot.log_lines("Lost connection to")), lost)

    def test_hung_query_is_a_temporary_failure_within_query_timeout(self):
        start = time.monotonic()
        result, fields = auth(S.dovecot, SLEEPY, "pw")
        elapsed = time.monotonic() - start
        self.assertEqual(result, "FAIL")
        self.assertTrue(is_tempfail(fields), fields)
        self.assertLess(elapsed, QUERY_TIMEOUT + 2)
        S.dovecot.wait_for_log("Query timed out after %d s" % QUERY_TIMEOUT)
        # the pool recovered
        self.assertEqual(auth(S.dovecot, "user5@nahida.net", "pw-5")[0], "OK")

    def test_reload_with_requests_in_flight(self):
        # written last in this module: the reload replaces the auth master
        results = []

        def hang():
            try:
                results.append(auth(S.dovecot, SLEEPY, "pw"))
            except (OSError, ConnectionError) as e:
                results.append(("closed", str(e)))
        t = threading.Thread(target=hang)
        t.start()
        time.sleep(0.5)
        S.dovecot.reload()
        t.join(60)
        self.assertFalse(t.is_alive())
        # failed (temporarily) or cut off, never accepted
        self.assertNotEqual(results[0][0], "OK")
        proc.wait_for(lambda: auth(S.dovecot, "user6@nahida.net", "pw-6")[0] == "OK", 30,
                      interval=0.5, what="logins after the reload")
        # the workers killed by the test above are the only fatal lines
        self.assertEqual([line for line in S.dovecot.log_lines("Panic", "Fatal")
                          if "killed with signal 9" not in line], [])
