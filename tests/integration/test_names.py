"""Host names in hosts, resolved without blocking the auth master (issue 11).

A name server of the test's own (lib/nameserver.py) answers for the
Dovecots, which see it as /etc/resolv.conf in their mount namespace:
db.test has two addresses, 127.0.0.2 (nothing listens there; sorted
first) and 127.0.0.1 (the MariaDB); nx.test does not exist; held-no.test
and held-yes.test are answered only when the test says so, as by a name
server that hangs.

- A name works in both modes, its addresses tried in order.
- A name that does not resolve is a temporary failure, and the log names
  it ("Could not resolve nx.test").
- While the name server holds its answer (hosts = held-MODE.test, the
  only host), the auth master goes on serving: a new auth-client
  connection gets its handshake and a login from a passwd-file passdb
  placed before mariadb is answered. The database login that waits for
  the name is answered once the name server answers. Both modes: with
  blocking = no the master itself waits for the name (the pool), with
  blocking = yes an auth-worker does, and the master only for the
  start-up self-check. With the name resolved by a blocking call
  (getaddrinfo() inside libmariadb, as before this test) the master
  would answer nothing until the name server did."""

import atexit
import os
import threading
import unittest

from fixture import PASSWORD, USERS, Servers
from lib import proc
from lib.authclient import auth, is_tempfail
from lib.nameserver import NameServer

# how long the test waits for the master while held.test is held (the
# master answers in milliseconds; blocked, it would answer only after)
HOLD_BOUND = 20
PROBE_USER = "probe@nahida.net"
PROBE_PASSWORD = "probe-password"
MODES = ("no", "yes")

S = None
NS = None
DOVECOTS = {}


def login(dovecot, user, password):
    return auth(dovecot, user, password, timeout=HOLD_BOUND + 40)


def setUpModule():
    global S, NS
    NS = NameServer({"db.test": ["127.0.0.2", "127.0.0.1"],
                     "held-no.test": ["127.0.0.1"],
                     "held-yes.test": ["127.0.0.1"]},
                    hold=["held-no.test", "held-yes.test"]).start()
    atexit.register(NS.stop)
    S = Servers("names")
    etc_files = NS.etc_files(S.dir, timeout=HOLD_BOUND + 20,
                             first=["127.0.0.2"])
    passwd_file = os.path.join(S.dir, "probe.passwd")
    with open(passwd_file, "w") as f:
        f.write("%s:{PLAIN}%s\n" % (PROBE_USER, PROBE_PASSWORD))
    os.chmod(passwd_file, 0o644)
    S.start()
    port = S.db.port
    configs = {
        "db-no": ("db.test:%d" % port, "blocking = no\n", ""),
        "db-yes": ("db.test:%d" % port, "blocking = yes\n", ""),
        "nx-no": ("nx.test:%d" % port, "blocking = no\n", ""),
        "nx-yes": ("nx.test:%d" % port, "blocking = yes\n", ""),
    }
    for mode in MODES:
        # nothing times out while the name server holds its answer
        configs["held-" + mode] = (
            "held-%s.test:%d" % (mode, port), "blocking = %s\n" % mode,
            "passdb {\n  driver = passwd-file\n  args = %s\n}\n" % passwd_file)
    for name, (hosts, extra, before) in configs.items():
        timeout = HOLD_BOUND + 10 if name.startswith("held") else 3
        DOVECOTS[name] = S.add_dovecot(
            "dovecot-" + name, db_hosts=hosts, module_extra=extra,
            passdbs_before=before, etc_files=etc_files,
            connect_timeout=timeout, query_timeout=timeout)
    # "held-*" start in their test: their lookups must not time out before
    for name, d in DOVECOTS.items():
        if not name.startswith("held"):
            d.start()


def tearDownModule():
    try:
        NS.release()
        S.stop()
    finally:
        NS.stop()


class NamesTest(unittest.TestCase):
    def test_a_name_resolves_and_its_addresses_are_tried_in_order(self):
        for mode in MODES:
            with self.subTest(blocking=mode):
                d = DOVECOTS["db-" + mode]
                result, fields = proc.wait_for(
                    lambda: (lambda r: r if r[0] == "OK" else None)(
                        login(d, USERS[0], PASSWORD)), 30,
                    what="a login through db.test")
                self.assertEqual(fields.get("user"), USERS[0])
                # 127.0.0.2 refused the connection, 127.0.0.1 took it
                d.wait_for_log("Connected to db.test:%d (127.0.0.1) after: "
                               "db.test:%d (127.0.0.2): "
                               % (S.db.port, S.db.port))
        self.assertIn("db.test", NS.queries)

    def test_a_name_that_does_not_resolve_is_a_temporary_failure(self):
        for mode in MODES:
            with self.subTest(blocking=mode):
                d = DOVECOTS["nx-" + mode]
                result, fields = login(d, USERS[0], PASSWORD)
                self.assertEqual(result, "FAIL")
                self.assertTrue(is_tempfail(fields), fields)
                d.wait_for_log("Could not connect to any database host: "
                               "nx.test:%d: 2005: Could not resolve nx.test: "
                               % S.db.port)

    def test_the_master_serves_while_a_name_server_hangs(self):
        for mode in MODES:
            with self.subTest(blocking=mode):
                self.master_serves_while_held(mode)

    def master_serves_while_held(self, mode):
        d = DOVECOTS["held-" + mode]
        name = "held-%s.test" % mode
        # the self-check at start-up asks for the name, and so may the
        # login's connection: both wait for the name server
        d.start()
        db_login = {}
        t = threading.Thread(target=lambda: db_login.update(
            answer=login(d, USERS[0], PASSWORD)), daemon=True)
        t.start()
        self.assertTrue(NS.wait_held(name, HOLD_BOUND), "nobody asked for " + name)
        probe = {}
        p = threading.Thread(target=lambda: probe.update(
            answer=login(d, PROBE_USER, PROBE_PASSWORD)), daemon=True)
        p.start()
        p.join(HOLD_BOUND)
        # both looked at before the name server answers: the probe must
        # have been answered, the database login can't have been
        probe_answered = "answer" in probe
        db_login_answered = "answer" in db_login
        NS.release(name)
        t.join(HOLD_BOUND + 30)
        self.assertTrue(probe_answered, "the auth master did not answer "
                        "while it waited for the name server")
        self.assertEqual(probe["answer"][0], "OK", probe)
        self.assertFalse(db_login_answered, "the database login was "
                         "answered before the name was")
        self.assertEqual(db_login.get("answer", ("none",))[0], "OK", db_login)
