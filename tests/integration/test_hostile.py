"""Hostile input: stored hashes that are not what they should be, odd
passwords, the dummy check for unknown users, and the configuration
file's permissions.

Every case gets a clear result (a failed login, or a temporary failure
with an error naming the user and the reason) and never a crash; no
password and no hash reaches the log."""

import os
import time
import unittest

from fixture import PASSWORD, SAMPLE_HASH, Servers, USERS, wait_for_first_login
from lib import dovecot, proc
from lib.authclient import AuthClient, auth, is_tempfail
from lib.users import cheap_hash

P72 = "p" * 72

# a custom password query that can return NULL as the password
MODULE_EXTRA = """\
password_query = SELECT CONCAT(local, '@', domain) AS user, \\
  NULLIF(password_hash, 'sql-null') AS password, \\
  IF(display_name = 'nopassword-n', 'N', NULL) AS nopassword FROM users \\
  WHERE domain = :domain AND local = :local
"""

S = None


# local part -> stored password_hash, and what a login with PASSWORD gives:
# "fail" (a failed login) or "temp" (temporary failure, logged as an error)
STORED = {
    "empty": ("", "fail"),
    "star": ("*0", "fail"),
    "bang": ("!" + SAMPLE_HASH, "fail"),
    "sqlnull": ("sql-null", "fail"),
    "truncated": (SAMPLE_HASH[:-5], "temp"),
    "toolong": (SAMPLE_HASH + "xx", "temp"),
    "x2x": ("$2x$" + SAMPLE_HASH[4:], "temp"),
    # a well-formed SHA512-CRYPT string (libxcrypt checks it, see
    # test_schemes): the password doesn't match it
    "sha512": ("$6$saltsalt$Qm0nGgH7oB9oZkY8r3N6aT2Vx1Lw5P4cE7dJ0fS9uK2iR8hW3qA6zX1vB4nM7kL0jH3gF6dS9aP2oI5uY8tR1e", "fail"),
    # truncated
    "sha512short": ("$6$saltsalt$Qm0nGgH7oB9oZkY8r3N6aT2Vx1Lw5P4cE7dJ0fS9uK2iR8hW3qA6zX1vB4nM7kL0jH3gF6dS9aP2oI5uY8t", "temp"),
    "otherscheme": ("{SHA512-CRYPT}$6$saltsalt$Qm0nGgH7oB9o", "temp"),
    "unknownscheme": ("{NO-SUCH}" + SAMPLE_HASH, "temp"),
    "bare": ("test1234", "temp"),
    "badcost": ("$2y$99$" + SAMPLE_HASH[7:], "temp"),
    # above bcrypt_max_cost (15): one check would take minutes
    "toocostly": ("$2y$16$" + SAMPLE_HASH[7:], "temp"),
    "badchar": (SAMPLE_HASH[:-1] + "!", "temp"),
}


def setUpModule():
    global S
    S = Servers("hostile", module_extra=MODULE_EXTRA).start()
    rows = ["('%s', 'nahida.net', '%s', 'hostile')" % (local, stored.replace("'", "''"))
            for local, (stored, _) in STORED.items()]
    rows.append("('long', 'nahida.net', '%s', 'long password')" % cheap_hash(P72))
    rows.append("('nopassn', 'nahida.net', '%s', 'nopassword-n')" % SAMPLE_HASH)
    S.db.sql("INSERT INTO users (local, domain, password_hash, display_name) VALUES %s;"
             % ", ".join(rows), database="mail_server")
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


def login_works(servers):
    """After a reload: the new auth process may still be starting (or
    throttled after a refused start), which cuts the client off."""
    try:
        return auth(servers.dovecot, USERS[0], PASSWORD)[0] == "OK"
    except OSError:
        return False


class StoredHashTest(unittest.TestCase):
    def test_each_stored_value_gets_a_clear_result(self):
        for local, (stored, expected) in STORED.items():
            with self.subTest(local=local):
                result, fields = auth(S.dovecot, local + "@nahida.net", PASSWORD)
                self.assertEqual(result, "FAIL")
                self.assertEqual("temp" if is_tempfail(fields) else "fail", expected)
                if expected == "temp":
                    proc.wait_for(lambda: any(
                        "Stored password" in line for line in
                        S.dovecot.log_lines("(%s@nahida.net" % local)),
                        10, what="the error for %s" % local)
        # and the module still works
        self.assertEqual(auth(S.dovecot, USERS[1], PASSWORD)[0], "OK")
        self.assertEqual(S.dovecot.log_lines("Panic", "Fatal"), [])

    def test_a_cost_above_bcrypt_max_cost_is_refused_with_its_reason(self):
        result, fields = auth(S.dovecot, "toocostly@nahida.net", PASSWORD)
        self.assertEqual((result, is_tempfail(fields)), ("FAIL", True), fields)
        S.dovecot.wait_for_log("bcrypt cost 16 is outside 4..15")

    def test_a_nopassword_that_reads_as_no_is_refused(self):
        """Dovecot allows any password when nopassword is not NULL, 'N'
        too: a value that reads as "no" is an error, not an open door."""
        for password in (PASSWORD, "anything"):
            result, fields = auth(S.dovecot, "nopassn@nahida.net", password)
            self.assertEqual((result, is_tempfail(fields)), ("FAIL", True), fields)
        S.dovecot.wait_for_log("returned nopassword = 'N': any value but NULL "
                               "allows every password")

    def test_errors_never_quote_the_stored_value(self):
        for local, (stored, expected) in STORED.items():
            auth(S.dovecot, local + "@nahida.net", PASSWORD)
        log = S.dovecot.log()
        for local, (stored, expected) in STORED.items():
            if len(stored) > 8:
                self.assertNotIn(stored[7:], log, local)


class PasswordTest(unittest.TestCase):
    def test_empty_password_fails(self):
        result, fields = auth(S.dovecot, USERS[0], "")
        self.assertEqual((result, is_tempfail(fields)), ("FAIL", False))

    def test_bcrypt_uses_the_first_72_octets(self):
        """Documented behaviour: bcrypt ignores everything after octet 72."""
        self.assertEqual(auth(S.dovecot, "long@nahida.net", P72)[0], "OK")
        self.assertEqual(auth(S.dovecot, "long@nahida.net", P72 + "anything")[0], "OK")
        self.assertEqual(auth(S.dovecot, "long@nahida.net", P72[:-1])[0], "FAIL")

    def test_passwords_of_512_octets_and_more_never_match(self):
        # libxcrypt refuses them: a plain failure, not an error
        for n in (511, 512, 4000):
            result, fields = auth(S.dovecot, "long@nahida.net", "p" * n)
            expected = "OK" if n < 512 else "FAIL"
            self.assertEqual((result, is_tempfail(fields)), (expected, False), n)

    def test_a_1_mib_password_is_refused_and_auth_still_answers(self):
        c = AuthClient(S.dovecot.auth_client_socket)
        try:
            try:
                result, _ = c.plain(USERS[0], "x" * (1024 * 1024))
            except (OSError, ConnectionError):
                result = "closed"
        finally:
            c.close()
        # Dovecot's auth protocol has a line limit: the connection is
        # dropped (or the login fails), never accepted
        self.assertIn(result, ("closed", "FAIL", ""))
        self.assertEqual(auth(S.dovecot, USERS[0], PASSWORD)[0], "OK")


class UnknownUserTest(unittest.TestCase):
    def test_unknown_users_are_checked_against_a_dummy_hash(self):
        before = len(S.dovecot.log_lines("Verifying a dummy hash"))
        for login in ("nobody@nahida.net", "not-an-address", "a@b@c"):
            result, fields = auth(S.dovecot, login, PASSWORD)
            self.assertEqual((result, is_tempfail(fields)), ("FAIL", False))
        S.dovecot.wait_for_log("Verifying a dummy hash", before + 3)

    def test_locked_accounts_are_checked_against_a_dummy_hash(self):
        # else a locked account would answer at once, unlike a wrong password
        what = "in a worker (locked account)"
        before = len(S.dovecot.log_lines(what))
        for local in ("empty", "star", "bang"):
            result, fields = auth(S.dovecot, local + "@nahida.net", PASSWORD)
            self.assertEqual((result, is_tempfail(fields)), ("FAIL", False), local)
        S.dovecot.wait_for_log(what, before + 3)

    def test_the_dummy_check_follows_the_cost_of_the_stored_hashes(self):
        """unknown_user_cost = auto (the default): an unknown user costs
        what the hashes that were read recently cost (the most common cost
        of the last 64), so that it answers as late as a wrong password
        whatever cost the admin's hashing tool used."""
        def dummy_cost_after(user, password):
            # the window holds 64 hashes: fill it with this user's
            for _ in range(70):
                self.assertEqual(auth(S.dovecot, user, password)[0], "OK")
            before = len(S.dovecot.log_lines("Verifying a dummy hash of cost"))
            self.assertEqual(auth(S.dovecot, "nobody@nahida.net", PASSWORD)[0], "FAIL")
            S.dovecot.wait_for_log("Verifying a dummy hash of cost", before + 1)
            line = S.dovecot.log_lines("Verifying a dummy hash of cost")[-1]
            return int(line.split("of cost ")[1].split()[0])

        # doveadm pw -r 4 (long@) and the guide's cost 10 (deepwood@)
        self.assertEqual(dummy_cost_after("long@nahida.net", P72), 4)
        self.assertEqual(dummy_cost_after(USERS[1], PASSWORD), 10)


class WritePrivilegeTest(unittest.TestCase):
    """Written after the tests of logins: it reloads Dovecot."""

    def test_self_check_warns_when_the_account_can_write(self):
        S.db.sql("GRANT UPDATE ON mail_server.users TO 'mail_user'@'127.0.0.1';")
        try:
            S.dovecot.reload()

            def warned():
                auth(S.dovecot, USERS[0], PASSWORD)
                return S.dovecot.log_lines("can change data (UPDATE)")
            proc.wait_for(warned, 30, interval=0.5, what="the self-check's warning")
        finally:
            S.db.sql("REVOKE UPDATE ON mail_server.users FROM 'mail_user'@'127.0.0.1';")


@unittest.skipIf(dovecot.is_24(), "2.3 settings file only: on 2.4 the settings are "
                 "in Dovecot's configuration (test_settings24)")
class ConfigFileTest(unittest.TestCase):
    """Written last: it reloads Dovecot with a configuration file the
    module refuses, then with one it warns about."""

    def test_a_config_file_others_can_write_is_refused(self):
        """Whoever can write the file chooses the queries."""
        os.chmod(S.dovecot.module_config, 0o620)
        try:
            S.dovecot.reload()

            def refused():
                try:
                    auth(S.dovecot, USERS[0], PASSWORD)
                except OSError:
                    pass
                return S.dovecot.log_lines("is writable by its group: "
                                           "whoever can write it chooses the queries")
            proc.wait_for(refused, 30, interval=0.5, what="the refusal after a reload")
        finally:
            os.chmod(S.dovecot.module_config, 0o600)
        S.dovecot.reload()
        proc.wait_for(lambda: login_works(S), 30, interval=0.5,
                      what="logins after the reload")

    def test_world_readable_config_file_is_warned_about(self):
        os.chmod(S.dovecot.module_config, 0o644)
        try:
            S.dovecot.reload()
            # the new auth process starts with the first request

            def warned():
                auth(S.dovecot, USERS[0], PASSWORD)
                return S.dovecot.log_lines("is readable by every user")
            proc.wait_for(warned, 30, interval=0.5, what="the warning after a reload")
        finally:
            os.chmod(S.dovecot.module_config, 0o600)
        time.sleep(0.5)
        proc.wait_for(lambda: login_works(S), 30, interval=0.5,
                      what="logins after the reload")
        log = S.dovecot.log()
        self.assertNotIn(PASSWORD, log)
        self.assertNotIn(SAMPLE_HASH[7:], log)
        self.assertNotIn(S.db_password, log)
