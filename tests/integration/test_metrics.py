"""The module's events reach Dovecot's statistics: a metric { } block per
named event, read back with doveadm stats dump and from the OpenMetrics
endpoint (service stats' HTTP listener), as an admin's Prometheus would.
The numbers are those of the requests this test sends."""

import unittest

from fixture import PASSWORD, USERS, Servers
from lib import proc
from lib.authclient import auth, is_tempfail, userdb
from lib.dovecot import openmetrics

S = None
HTTP_PORT = None

# Dovecot 2.3's metric syntax (group_by is a list of fields)
METRICS = """\
metric mariadb_query {{
  filter = event=mariadb_query_finished
  group_by = query
}}
metric mariadb_query_failed {{
  filter = event=mariadb_query_finished AND error=*
}}
metric mariadb_login_cache {{
  filter = event=mariadb_login_cache
  group_by = result
}}
metric mariadb_dummy_check {{
  filter = event=mariadb_dummy_check
  group_by = reason
}}
service stats {{
  inet_listener http {{
    address = 127.0.0.1
    port = {port}
  }}
}}
"""


def setUpModule():
    global S, HTTP_PORT
    HTTP_PORT = proc.free_port()
    S = Servers("metrics", dovecot_extra=METRICS.format(port=HTTP_PORT)).start()


def tearDownModule():
    S.stop()


def stats_dump():
    """doveadm stats dump as {(metric, field): count}."""
    r = S.dovecot.doveadm("stats", "dump", "-f", "count")
    if r.returncode != 0:
        raise AssertionError("doveadm stats dump: %s" % r.stderr)
    counts = {}
    for line in r.stdout.splitlines()[1:]:
        metric, field, count = line.split("\t")[:3]
        counts[(metric, field)] = int(count)
    return counts


class MetricsTest(unittest.TestCase):
    def test_queries_cache_hits_dummy_checks_and_failures_are_counted(self):
        # 3 logins of one user: a miss, then two hits; a wrong password
        # (a miss); an unknown user (a dummy check, no cache); a userdb
        # lookup
        for _ in range(3):
            self.assertEqual(auth(S.dovecot, USERS[0], PASSWORD)[0], "OK")
        self.assertEqual(auth(S.dovecot, USERS[0], "wrong")[0], "FAIL")
        self.assertEqual(auth(S.dovecot, "nobody@nahida.net", PASSWORD)[0], "FAIL")
        self.assertEqual(userdb(S.dovecot, USERS[1])[0], "USER")
        # a failure the test causes: the database away
        S.db.stop()
        try:
            result, fields = auth(S.dovecot, USERS[1], PASSWORD)
            self.assertTrue(result == "FAIL" and is_tempfail(fields), fields)
        finally:
            S.db.start()
        proc.wait_for(lambda: auth(S.dovecot, USERS[1], PASSWORD)[0] == "OK", 30,
                      interval=0.5, what="logins after the outage")

        # the auth process sends its events to stats as they happen
        def counted():
            c = stats_dump()
            return c if c.get(("mariadb_login_cache", "duration")) and \
                c.get(("mariadb_query_failed", "duration")) else None
        counts = proc.wait_for(counted, 10, what="the events in stats")
        # 3 + 1 + 1 password queries, 1 user query, the self-check's 3,
        # the failed one and the first one after it (and retries): at
        # least 8
        self.assertGreaterEqual(counts[("mariadb_query", "duration")], 8, counts)
        self.assertGreaterEqual(counts[("mariadb_query_failed", "duration")], 1)
        # miss, hit, hit, miss (wrong), then the user after the outage
        self.assertEqual(counts[("mariadb_login_cache", "duration")], 5, counts)
        self.assertEqual(counts[("mariadb_dummy_check", "duration")], 1, counts)

        metrics = openmetrics(HTTP_PORT)
        self.assertEqual(metrics['dovecot_mariadb_login_cache_total{result="hit"}'], 2)
        self.assertEqual(metrics['dovecot_mariadb_login_cache_total{result="miss"}'], 3)
        self.assertEqual(metrics['dovecot_mariadb_dummy_check_total{reason="unknown_user"}'], 1)
        self.assertGreaterEqual(metrics['dovecot_mariadb_query_total{query="password"}'], 6)
        self.assertGreaterEqual(metrics['dovecot_mariadb_query_total{query="user"}'], 1)
        self.assertGreaterEqual(metrics["dovecot_mariadb_query_failed_total"], 1)
