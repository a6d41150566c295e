"""rehash = yes: every scheme in, bcrypt out, at the users' own logins.

After a successful login whose stored password is not bcrypt, or bcrypt
below rehash_cost, the module stores a bcrypt hash of rehash_cost (12),
made in the auth-worker that verified the password, with rehash_query as
the rehash account of sql/03-grants.sql (mail_rehash). Both modes: with
blocking = no the update goes through the master's pool, with blocking =
yes over the worker's own connection. A wrong password never rehashes; a
password changed between the login's lookup and its update wins (the
query is a compare-and-swap); a failed update is logged and the login
goes on; the rehash account can change nothing but password_hash."""

import functools
import secrets
import threading
import unittest

from fixture import PASSWORD, Servers, wait_for_first_login
from lib import proc
from lib.authclient import auth, is_tempfail
from lib.dovecot import openmetrics
from lib.users import (add_user, doveadm_hash, mkpasswd_hash, sql_string,
                       stored_password)

DOMAIN = "nahida.net"
REHASH_TOKEN = "@MAIL_REHASH_PASSWORD@"
SERVERS = {}
REHASH_PASSWORD = secrets.token_hex(12)
HTTP_PORT = proc.free_port()

# doc/migration.md's metrics (Dovecot 2.3's syntax), on the first server
METRICS = """\
metric mariadb_password_check {
  filter = event=mariadb_password_check
  group_by = scheme result
}
metric mariadb_rehash {
  filter = event=mariadb_rehash
  group_by = result
}
service stats {
  inet_listener http {
    address = 127.0.0.1
    port = %d
  }
}
"""


def setUpModule():
    for mode in ("no", "yes"):
        SERVERS[mode] = Servers(
            "rehash-" + mode,
            module_extra="blocking = %s\nrehash = yes\nrehash_password = %s\n"
                         "allow_weak_schemes = yes\n" % (mode, REHASH_PASSWORD),
            dovecot_extra=METRICS % HTTP_PORT if mode == "no" else "",
            schema_tokens={REHASH_TOKEN: REHASH_PASSWORD}).start()
        wait_for_first_login(SERVERS[mode])


def tearDownModule():
    for s in SERVERS.values():
        s.stop()


def each_mode(test):
    """Run test(self, s, mode) on both servers."""
    @functools.wraps(test)
    def run(self):
        for mode, s in SERVERS.items():
            with self.subTest(blocking=mode):
                test(self, s, mode)
    return run


def new_user(s, name, stored):
    address = "%s@%s" % (name, DOMAIN)
    add_user(s.db, address, stored)
    return address


def is_bcrypt_of(s, stored, password, cost):
    """The stored value is a $2y$ hash of cost for password (checked with
    doveadm pw -t, outside the module)."""
    if not stored.startswith("$2y$%02d$" % cost) or len(stored) != 60:
        return False
    r = s.dovecot.doveadm("pw", "-t", "{BLF-CRYPT}" + stored, "-p", password)
    return r.returncode == 0


class RehashTest(unittest.TestCase):
    @each_mode
    def test_a_sha512_crypt_user_is_bcrypt_12_after_the_first_login(self, s, mode):
        address = new_user(s, "sha512-" + mode, doveadm_hash(
            "SHA512-CRYPT", PASSWORD, "x"))
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        stored = stored_password(s.db, address)
        self.assertTrue(is_bcrypt_of(s, stored, PASSWORD, 12), stored[:7])
        # and logs in with it, from now on against bcrypt
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        self.assertEqual(auth(s.dovecot, address, "wrong")[0], "FAIL")
        self.assertEqual(stored_password(s.db, address), stored)
        s.dovecot.wait_for_log("(%s," % address)
        self.assertTrue([line for line in s.dovecot.log_lines(
            "Rehashed the stored SHA512-CRYPT password to bcrypt cost 12")
            if "(%s," % address in line])

    @each_mode
    def test_every_kind_becomes_bcrypt_12(self, s, mode):
        kinds = {
            "ssha512": doveadm_hash("SSHA512", PASSWORD, "x"),
            "argon2id": doveadm_hash("ARGON2ID", PASSWORD, "x"),
            "plain-md5": doveadm_hash("PLAIN-MD5", PASSWORD, "x"),
            "shadow-sha512": mkpasswd_hash("sha-512", PASSWORD),
            "shadow-yescrypt": mkpasswd_hash("yescrypt", PASSWORD),
            "shadow-md5crypt": mkpasswd_hash("md5crypt", PASSWORD),
            "bcrypt-4": doveadm_hash("BLF-CRYPT", PASSWORD, "x",
                                               rounds=4),
            "bcrypt-11": doveadm_hash("BLF-CRYPT", PASSWORD, "x",
                                                rounds=11)[len("{BLF-CRYPT}"):],
        }
        for kind, stored in kinds.items():
            with self.subTest(kind=kind):
                address = new_user(s, "%s-%s" % (kind, mode), stored)
                self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
                self.assertTrue(is_bcrypt_of(
                    s, stored_password(s.db, address), PASSWORD, 12))
                self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")

    @each_mode
    def test_bcrypt_at_or_above_rehash_cost_stays(self, s, mode):
        for cost in (12, 13):
            stored = doveadm_hash("BLF-CRYPT", PASSWORD, "x",
                                            rounds=cost)
            address = new_user(s, "keep%d-%s" % (cost, mode), stored)
            self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
            self.assertEqual(stored_password(s.db, address), stored)

    @each_mode
    def test_a_wrong_password_never_rehashes(self, s, mode):
        stored = doveadm_hash("SSHA256", PASSWORD, "x")
        address = new_user(s, "wrong-" + mode, stored)
        for password in ("wrong", PASSWORD + "x", ""):
            result, fields = auth(s.dovecot, address, password)
            self.assertEqual((result, is_tempfail(fields)), ("FAIL", False))
        self.assertEqual(stored_password(s.db, address), stored)

    @each_mode
    def test_a_concurrent_password_change_wins(self, s, mode):
        """The admin's session holds the row (SELECT ... FOR UPDATE) while
        the login is verified, sees the module's UPDATE wait for it, then
        stores a new password and commits: the update compares with the
        value the login read and changes nothing."""
        old = doveadm_hash("SHA256-CRYPT", PASSWORD, "x")
        new = doveadm_hash("BLF-CRYPT", "changed-by-admin", "x",
                                     rounds=4)
        address = new_user(s, "race-" + mode, old)
        local = address.split("@")[0]
        where = "WHERE domain = '%s' AND local = '%s'" % (DOMAIN, local)
        results = []
        with s.db.session(database="mail_server") as admin:
            admin.query("BEGIN; SELECT password_hash FROM users %s FOR UPDATE;"
                        % where)
            login = threading.Thread(
                target=lambda: results.append(auth(s.dovecot, address, PASSWORD)))
            login.start()
            try:
                # the module's compare-and-swap waits for the row
                proc.wait_for(lambda: "UPDATE users" in s.db.sql(
                    "SELECT info FROM information_schema.processlist "
                    "WHERE user = 'mail_rehash';"), 20, interval=0.02,
                    what="the rehash update to wait for the row")
                admin.query("UPDATE users SET password_hash = %s %s; COMMIT;"
                            % (sql_string(new), where))
            finally:
                login.join(60)
        # verified against the password the login read; the change stays
        self.assertEqual(results[0][0], "OK", results)
        self.assertEqual(stored_password(s.db, address), new)
        self.assertTrue([line for line in s.dovecot.log_lines(
            "Not rehashed: rehash_query changed no row") if
            "(%s," % address in line])
        self.assertEqual(auth(s.dovecot, address, "changed-by-admin")[0], "OK")
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "FAIL")

    @each_mode
    def test_a_failed_update_is_logged_and_the_login_goes_on(self, s, mode):
        stored = mkpasswd_hash("sha-512", PASSWORD)
        address = new_user(s, "denied-" + mode, stored)
        s.db.sql("REVOKE UPDATE (password_hash) ON mail_server.users FROM "
                 "'mail_rehash'@'127.0.0.1';")
        try:
            self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        finally:
            s.db.sql("GRANT UPDATE (password_hash) ON mail_server.users TO "
                     "'mail_rehash'@'127.0.0.1';")
        self.assertEqual(stored_password(s.db, address), stored)
        self.assertTrue([line for line in s.dovecot.log_lines(
            "Rehashing the stored password failed (the login goes on)")
            if "(%s," % address in line and "1142" in line])
        # the next login rehashes
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        self.assertTrue(is_bcrypt_of(
            s, stored_password(s.db, address), PASSWORD, 12))

    def test_the_next_login_after_a_rehash_needs_no_bcrypt(self):
        s = SERVERS["no"]
        address = new_user(s, "cached", doveadm_hash(
            "SSHA512", PASSWORD, "x"))
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        before = len(s.dovecot.log_lines("Verified-login cache hit"))
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        s.dovecot.wait_for_log("Verified-login cache hit", before + 1)


class MetricTest(unittest.TestCase):
    """doc/migration.md: the non-bcrypt logins, counted by scheme, and the
    rehashes, as a Prometheus sees them."""

    def test_checks_are_counted_by_scheme_and_rehashes_by_result(self):
        s = SERVERS["no"]
        check = 'dovecot_mariadb_password_check_total{scheme="%s",result="%s"}'
        rehash = 'dovecot_mariadb_rehash_total{result="%s"}'
        wanted = (check % ("SSHA256", "ok"), check % ("SSHA256", "mismatch"),
                  check % ("BLF-CRYPT", "mismatch"), rehash % "done")

        def values():
            m = openmetrics(HTTP_PORT)
            return [m.get(series, 0) for series in wanted]
        before = values()
        address = new_user(s, "metric", doveadm_hash(
            "SSHA256", PASSWORD, "x"))
        self.assertEqual(auth(s.dovecot, address, "wrong")[0], "FAIL")
        # checked as SSHA256 and rehashed, then against bcrypt; the
        # login cache took the new hash: its hit is no check
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        self.assertEqual(auth(s.dovecot, address, PASSWORD + "x")[0], "FAIL")
        self.assertEqual(auth(s.dovecot, address, PASSWORD)[0], "OK")
        expected = [before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1]
        proc.wait_for(lambda: values() == expected, 10,
                      what="the counts %s (now %s, all: %s)" % (
                          expected, values(), sorted(openmetrics(HTTP_PORT))))


class GrantsTest(unittest.TestCase):
    """sql/03-grants.sql: mail_rehash may replace users.password_hash
    and nothing else; mail_user stays read-only."""

    REFUSED = (
        "UPDATE users SET display_name = 'x'",
        "UPDATE users SET local = 'x' WHERE local = 'deepwood'",
        "UPDATE users SET domain = 'x.example'",
        "SELECT display_name FROM users",
        "SELECT * FROM users",
        "INSERT INTO users (local, domain, password_hash, display_name) "
        "VALUES ('x', 'nahida.net', 'x', 'x')",
        "DELETE FROM users",
        "SELECT * FROM aliases",
        "UPDATE aliases SET destination_local = 'x'",
        "SELECT * FROM domains",
        "DELETE FROM domains",
        "SELECT * FROM users_fqda",
        "CREATE TABLE t (a int)",
        "DROP TABLE users",
        "SELECT user FROM mysql.user",
    )

    def rehash_sql(self, s, statement):
        return s.db.sql(statement, database="mail_server", user="mail_rehash",
                        password=REHASH_PASSWORD)

    def test_the_rehash_account_can_replace_password_hash_only(self):
        s = SERVERS["no"]
        stored = doveadm_hash("SSHA512", PASSWORD, "x")
        address = new_user(s, "grants", stored)
        for statement in self.REFUSED:
            with self.subTest(statement=statement):
                with self.assertRaisesRegex(Exception, "denied|ERROR 1142|ERROR 1143"):
                    self.rehash_sql(s, statement + ";")
        # what rehash_query does works
        self.rehash_sql(s, "UPDATE users SET password_hash = 'x' WHERE domain "
                           "= 'nahida.net' AND local = 'grants' AND "
                           "password_hash = %s;" % sql_string(stored))
        self.assertEqual(stored_password(s.db, address), "x")
        grants = s.db.sql("SHOW GRANTS FOR 'mail_rehash'@'127.0.0.1';")
        self.assertIn("GRANT SELECT (`domain`, `local`, `password_hash`), "
                      "UPDATE (`password_hash`) ON `mail_server`.`users`", grants)
        self.assertEqual(len(grants.splitlines()), 2, grants)

    def test_mail_user_stays_read_only(self):
        s = SERVERS["no"]
        with self.assertRaisesRegex(Exception, "denied|ERROR 1142"):
            s.db.sql("UPDATE users SET password_hash = 'x';",
                     database="mail_server", user="mail_user",
                     password=s.db_password)
        for mode, server in SERVERS.items():
            with self.subTest(blocking=mode):
                server.dovecot.wait_for_log("rehash_query runs")
                self.assertEqual(server.dovecot.log_lines("Self-check:"), [])


class LogTest(unittest.TestCase):
    def test_log_has_no_password_or_hash(self):
        for s in SERVERS.values():
            log = s.dovecot.log()
            self.assertNotIn(PASSWORD, log)
            self.assertNotIn("changed-by-admin", log)
            self.assertNotIn(REHASH_PASSWORD, log)
            for row in s.db.sql("SELECT password_hash FROM users;",
                                database="mail_server").split():
                tail = row[-22:]
                if len(row) > 30:
                    self.assertNotIn(tail, log)
