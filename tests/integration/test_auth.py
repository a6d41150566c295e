"""passdb/userdb driver = mariadb in a real Dovecot against a real MariaDB.

Covers issue "The mariadb passdb/userdb module": doveadm auth test / user /
user '*', IMAP LOGIN and AUTHENTICATE PLAIN over STARTTLS (imaplib and curl),
hostile login names, and a database outage that must be a temporary failure
and heal by itself."""

import imaplib
import os
import subprocess
import unittest

from fixture import PASSWORD, SAMPLE_HASH, Servers, USERS, wait_for_first_login
from lib import dovecot, proc
from lib.authclient import auth, is_tempfail, userdb
from lib.mailclient import IMAP4, tls_context

S = None


def setUpModule():
    global S
    S = Servers("auth").start()
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


def imap():
    return IMAP4("127.0.0.1", S.dovecot.imap_port, timeout=30)


class PassdbTest(unittest.TestCase):
    def test_right_password_succeeds_for_each_sample_user(self):
        for user in USERS:
            r = S.dovecot.doveadm("auth", "test", user, PASSWORD)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("auth succeeded", r.stdout)

    def test_wrong_password_is_a_mismatch(self):
        result, fields = auth(S.dovecot, USERS[1], "test1235")
        self.assertEqual(result, "FAIL")
        self.assertFalse(is_tempfail(fields), fields)
        S.dovecot.wait_for_log("Password mismatch")

    def test_unknown_user_fails_without_tempfail(self):
        result, fields = auth(S.dovecot, "nobody@nahida.net", PASSWORD)
        self.assertEqual(result, "FAIL")
        self.assertFalse(is_tempfail(fields), fields)

    def test_unknown_domain_fails(self):
        result, fields = auth(S.dovecot, "deepwood@example.org", PASSWORD)
        self.assertEqual((result, is_tempfail(fields)), ("FAIL", False))

    def test_empty_password_fails(self):
        result, fields = auth(S.dovecot, USERS[0], "")
        self.assertEqual((result, is_tempfail(fields)), ("FAIL", False))

    def test_mixed_case_login_maps_to_the_canonical_user(self):
        result, fields = auth(S.dovecot, "DeepWood@NAHIDA.Net", PASSWORD)
        self.assertEqual(result, "OK", fields)
        self.assertEqual(fields.get("user"), "deepwood@nahida.net")

    def test_hostile_logins_fail_cleanly_and_auth_still_answers(self):
        hostile = [
            b"x' OR '1'='1@nahida.net",
            b"deepwood@nahida.net' -- ",
            b"deepwood'; DROP TABLE users; --@nahida.net",
            b"a" * 300 + b"@nahida.net",
            b"deepwood@" + b"n" * 300,
            b"\xff\xfe@nahida.net",
            b"deep\xc3wood@nahida.net",
            b"deepwood@nahida.net@nahida.net",
            b"@nahida.net",
            b"deepwood@",
            b"deepwood",
            b"deep wood@nahida.net",
            b"%u@%d",
        ]
        for login in hostile:
            with self.subTest(login=login):
                result, fields = auth(S.dovecot, login, PASSWORD)
                self.assertEqual(result, "FAIL", fields)
                self.assertFalse(is_tempfail(fields), fields)
        # the tables are intact and the auth service still answers
        self.assertEqual(auth(S.dovecot, USERS[1], PASSWORD)[0], "OK")
        self.assertEqual(S.dovecot.log_lines("Panic", "Fatal"), [])

    def test_auth_lookup_returns_the_canonical_user(self):
        r = S.dovecot.doveadm("auth", "lookup", "DEEPWOOD@nahida.net")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("deepwood@nahida.net", r.stdout)


class UserdbTest(unittest.TestCase):
    def test_userdb_returns_home_uid_gid_mail(self):
        r = S.dovecot.doveadm("user", USERS[0])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        fields = dict(line.split("\t", 1) for line in r.stdout.splitlines()[1:])
        self.assertEqual(fields["home"], os.path.join(S.dovecot.vmail, "nahida.net", "1000dreams"))
        self.assertEqual(fields["uid"], "8")
        self.assertEqual(fields["gid"], "8")
        # 2.3: mail; 2.4: mail_driver and mail_path
        # (2.4's doveadm user shows mail_path with ~ as the home)
        for name, value in dovecot.userdb_mail_fields().items():
            if name == "mail_path":
                value = value.replace("~", fields["home"], 1)
            self.assertEqual(fields[name], value)
        self.assertEqual(fields["display_name"], "천일밤의꿈")

    def test_userdb_socket_lookup_canonicalises(self):
        result, fields = userdb(S.dovecot, "DeepWood@Nahida.NET")
        self.assertEqual(result, "USER", fields)
        self.assertEqual(fields.get("home"), os.path.join(S.dovecot.vmail, "nahida.net", "deepwood"))

    def test_unknown_user_is_not_found(self):
        r = S.dovecot.doveadm("user", "nobody@nahida.net")
        self.assertEqual(r.returncode, 67, r.stdout + r.stderr)  # EX_NOUSER
        self.assertEqual(userdb(S.dovecot, "not an address")[0], "NOTFOUND")

    def test_iteration_lists_every_user(self):
        r = S.dovecot.doveadm("user", "*")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(sorted(r.stdout.split()), sorted(USERS))
        # Dovecot 2.3 always hands iteration to an auth-worker
        S.dovecot.wait_for_log("Handling LIST request")


class ImapTest(unittest.TestCase):
    def test_login_over_starttls(self):
        c = imap()
        try:
            c.starttls(ssl_context=tls_context(S.dovecot.cert))
            typ, _ = c.login(USERS[0], PASSWORD)
            self.assertEqual(typ, "OK")
            typ, data = c.select("INBOX")
            self.assertEqual(typ, "OK")
        finally:
            c.shutdown()
        # the userdb's home was used for the mailbox
        self.assertTrue(os.path.isdir(os.path.join(
            S.dovecot.vmail, "nahida.net", "1000dreams", "Maildir")))

    def test_authenticate_plain_over_starttls(self):
        c = imap()
        try:
            c.starttls(ssl_context=tls_context(S.dovecot.cert))
            typ, _ = c.authenticate(
                "PLAIN", lambda _: ("\0%s\0%s" % (USERS[1], PASSWORD)).encode())
            self.assertEqual(typ, "OK")
        finally:
            c.shutdown()

    def test_wrong_password_is_rejected(self):
        c = imap()
        try:
            c.starttls(ssl_context=tls_context(S.dovecot.cert))
            with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
                c.login(USERS[0], "wrong")
        finally:
            c.shutdown()

    def test_login_without_tls_is_refused(self):
        c = imap()
        try:
            with self.assertRaises(imaplib.IMAP4.error):
                c.login(USERS[0], PASSWORD)
        finally:
            c.shutdown()

    def test_curl_lists_mailboxes(self):
        r = subprocess.run(
            ["curl", "-sS", "--ssl-reqd", "--cacert", S.dovecot.cert,
             "--max-time", "30", "-u", "%s:%s" % (USERS[1], PASSWORD),
             "imap://localhost:%d/" % S.dovecot.imap_port],
            capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("INBOX", r.stdout)

    def test_curl_wrong_password_fails(self):
        r = subprocess.run(
            ["curl", "-sS", "--ssl-reqd", "--cacert", S.dovecot.cert,
             "--max-time", "30", "-u", "%s:wrong" % USERS[1],
             "imap://localhost:%d/" % S.dovecot.imap_port],
            capture_output=True, text=True)
        self.assertEqual(r.returncode, 67, r.stderr)  # CURLE_LOGIN_DENIED


class DatabaseOutageTest(unittest.TestCase):
    """Written after the classes above (run.py keeps that order): once the
    database is back, a worker may still be in its reconnect back-off."""

    def test_database_down_is_a_temporary_failure_and_heals(self):
        S.db.stop()
        try:
            result, fields = auth(S.dovecot, USERS[0], PASSWORD)
            self.assertEqual(result, "FAIL")
            self.assertTrue(is_tempfail(fields), "a database outage must be a temporary failure")
            result, fields = auth(S.dovecot, "nobody@nahida.net", PASSWORD)
            self.assertTrue(is_tempfail(fields), "not 'unknown user' while the database is down")
            self.assertEqual(userdb(S.dovecot, USERS[0])[0], "FAIL")
            r = S.dovecot.doveadm("user", USERS[0])
            self.assertEqual(r.returncode, 75, r.stdout + r.stderr)  # EX_TEMPFAIL
            r = S.dovecot.doveadm("user", "*")
            self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stdout.split(), [])
            c = imap()
            try:
                c.starttls(ssl_context=tls_context(S.dovecot.cert))
                with self.assertRaisesRegex(imaplib.IMAP4.error, "UNAVAILABLE"):
                    c.login(USERS[0], PASSWORD)
            finally:
                c.shutdown()
        finally:
            S.db.start()
        # no Dovecot restart: the module reconnects by itself
        proc.wait_for(lambda: auth(S.dovecot, USERS[0], PASSWORD)[0] == "OK", 30,
                      interval=0.5, what="logins to work again")
        proc.wait_for(lambda: userdb(S.dovecot, USERS[0])[0] == "USER", 30,
                      interval=0.5, what="userdb lookups to work again")


class LogTest(unittest.TestCase):
    """Written last: the log of everything above (auth_debug = yes)."""

    def test_self_check_passed_without_warnings(self):
        S.dovecot.wait_for_log("Self-check passed")
        self.assertEqual(S.dovecot.log_lines("Self-check:"), [])

    def test_log_has_no_password_or_hash(self):
        log = S.dovecot.log()
        self.assertIn("mariadb", log)
        self.assertNotIn(PASSWORD, log)
        self.assertNotIn(SAMPLE_HASH[7:], log)
        self.assertNotIn(S.db_password, log)
