"""What the module refuses at start-up, and says why: a configuration
file with a mistake (file:line: reason), Dovecot's auth cache set to
check bcrypt hashes in the auth master or to answer unknown users at once,
passdb chains that don't apply a deny list, and on 2.4 allow_weak_schemes
= yes without Dovecot's auth_allow_weak_schemes = yes. Also how the
module leaves: its connections say goodbye, so MariaDB counts no aborted
clients."""

import os
import time
import unittest

from fixture import PASSWORD, SAMPLE_HASH, USERS, Servers, wait_for_first_login
from lib import dovecot, proc
from lib.authclient import auth, is_tempfail


def login_refused(servers):
    """The auth process stops at start-up: the client is cut off (or, if
    it came back, refused)."""
    try:
        return auth(servers.dovecot, USERS[0], PASSWORD)[0] != "OK"
    except OSError:
        return True


def wait_for_fatal(servers, text):
    """The auth process starts with the first connection and stops with
    a fatal error containing text; a refused login starts it again (a
    client that came too early may have found no auth process yet)."""
    def refused_with_text():
        return login_refused(servers) and servers.dovecot.log_lines(text)
    proc.wait_for(refused_with_text, 30, interval=0.5, what="the fatal error")


def start(name, **kwargs):
    servers = Servers(name, **kwargs)
    servers.start()
    return servers


class StartupTest(unittest.TestCase):
    @unittest.skipIf(dovecot.is_24(), "2.3 settings file only: on 2.4 doveconf refuses "
                     "a bad value at Dovecot's start (test_settings24)")
    def test_bad_setting_stops_auth_with_file_and_line(self):
        s = start("badconf", module_extra="pool_size = lots\n")
        try:
            wait_for_fatal(s, "Fatal: mariadb: %s:" % s.dovecot.module_config)
            line = s.dovecot.log_lines("Fatal: mariadb:")[0]
            self.assertRegex(line, r"dovecot-mariadb\.conf\.ext:\d+: pool_size: "
                             r"invalid value 'lots': expected a number")
        finally:
            s.stop()

    def test_auth_cache_must_verify_in_workers(self):
        s = start("authcache", dovecot_extra="auth_cache_size = 1M\n"
                  "auth_cache_negative_ttl = 0\n")
        try:
            wait_for_fatal(s, "needs auth_cache_verify_password_with_worker = yes")
        finally:
            s.stop()

    def test_auth_cache_must_not_answer_unknown_users_at_once(self):
        """Dovecot's negative cache would answer an unknown user in
        microseconds and a wrong password after a bcrypt check."""
        cache = ("auth_cache_size = 1M\n"
                 "auth_cache_verify_password_with_worker = yes\n")
        s = start("negcache", dovecot_extra=cache)
        try:
            wait_for_fatal(s, "auth_cache_negative_ttl = 3600 answers unknown users from "
                              "Dovecot's auth cache at once")
        finally:
            s.stop()
        # the admin who turns the dummy check off accepts it
        s = start("negcache-nodummy", dovecot_extra=cache,
                  module_extra="unknown_user_cost = 0\n")
        try:
            wait_for_first_login(s)
        finally:
            s.stop()

    @unittest.skipUnless(dovecot.is_24(), "Dovecot 2.3 has no weak schemes of its own "
                         "(no auth_allow_weak_schemes)")
    def test_weak_schemes_need_dovecots_consent_on_24(self):
        """The tests' 2.4 configuration adds auth_allow_weak_schemes = yes
        with allow_weak_schemes = yes; a later no takes it back."""
        s = start("weak24", module_extra="allow_weak_schemes = yes\n",
                  dovecot_extra="auth_allow_weak_schemes = no\n")
        try:
            wait_for_fatal(s, "allow_weak_schemes = yes needs Dovecot's "
                              "auth_allow_weak_schemes = yes too")
        finally:
            s.stop()

    def test_auth_cache_works_and_its_delay_is_warned_about(self):
        s = start("authcache-ok", dovecot_extra="auth_cache_size = 1M\n"
                  "auth_cache_negative_ttl = 0\n"
                  "auth_cache_verify_password_with_worker = yes\n")
        try:
            s.db.sql("INSERT INTO users (local, domain, password_hash, display_name) "
                     "VALUES ('locked', 'nahida.net', '!%s', 'Locked');" % SAMPLE_HASH,
                     database="mail_server")
            wait_for_first_login(s)
            # served from Dovecot's cache the second time, still right
            self.assertEqual(auth(s.dovecot, USERS[0], PASSWORD)[0], "OK")
            self.assertEqual(auth(s.dovecot, USERS[0], "wrong")[0], "FAIL")
            # a locked account stays a failed login, also from the cache
            # (where its '!' hash would be an error, a temporary failure)
            for _ in range(3):
                result, fields = auth(s.dovecot, "locked@nahida.net", PASSWORD)
                self.assertEqual((result, is_tempfail(fields)), ("FAIL", False), fields)
            s.dovecot.wait_for_log("takes effect for a cached user only after "
                                   "auth_cache_ttl = 3600 s")
        finally:
            s.stop()

    def test_a_fixed_unknown_user_cost_that_differs_is_warned_about(self):
        """The guide's hashes have cost 10: a dummy check of cost 4 answers
        unknown users faster than wrong passwords."""
        s = start("fixedcost", module_extra="unknown_user_cost = 4\n")
        try:
            wait_for_first_login(s)
            warning = ("Stored bcrypt hash has cost 10, but unknown_user_cost "
                       "= 4: unknown users are answered faster")
            s.dovecot.wait_for_log(warning)
            for _ in range(3):
                self.assertEqual(auth(s.dovecot, USERS[1], "wrong")[0], "FAIL")
            # at most once an hour, not at every login
            self.assertEqual(len(s.dovecot.log_lines(warning)), 1)
        finally:
            s.stop()


def deny_passdb(path):
    """A passwd-file deny list (one user per line) as a passdb block."""
    return ("passdb {\n  driver = passwd-file\n"
            "  args = username_format=%%u %s\n  deny = yes\n}\n" % path)


def write_deny_list(servers):
    path = os.path.join(servers.dir, "deny-users")
    with open(path, "w") as f:
        f.write(USERS[0] + "\n")
    os.chmod(path, 0o644)
    return path


class DenyPassdbTest(unittest.TestCase):
    """A deny list in a passdb after this one is consulted only when this
    passdb goes on after a success (result_success = continue-ok)."""

    def test_a_deny_passdb_after_one_that_returns_is_refused(self):
        s = Servers("deny-returnok")
        s.dovecot.dovecot_extra += deny_passdb(write_deny_list(s))
        s.start()
        try:
            wait_for_fatal(s, "the deny passdb after this one is never asked about users "
                              "this one accepts (result_success = return-ok)")
        finally:
            s.stop()

    def check_denied(self, s):
        """USERS[0], in the deny list, is refused with either password;
        USERS[1] logs in with the right one only."""
        proc.wait_for(lambda: auth(s.dovecot, USERS[1], PASSWORD)[0] == "OK", 30,
                      what="a login of a user not in the deny list")
        for password in (PASSWORD, "wrong"):
            result, fields = auth(s.dovecot, USERS[0], password)
            self.assertEqual((result, is_tempfail(fields)),
                             ("FAIL", False), fields)
        s.dovecot.wait_for_log("User found from deny passdb")
        self.assertEqual(auth(s.dovecot, USERS[1], "wrong")[0], "FAIL")

    def test_a_deny_passdb_first_denies_in_both_modes(self):
        """The worker checks the password against the passdb whose id the
        master sent (PASSV), not against the first one (Dovecot 2.3's
        PASSW): a deny passdb first works with blocking = no too."""
        for mode in ("no", "yes"):
            with self.subTest(blocking=mode):
                s = Servers("deny-first-" + mode,
                            module_extra="blocking = %s\n" % mode)
                s.dovecot.passdbs_before = deny_passdb(write_deny_list(s))
                s.start()
                try:
                    self.check_denied(s)
                    self.assertEqual(s.dovecot.log_lines("Fatal"), [])
                finally:
                    s.stop()

    def test_the_advised_configuration_denies_in_both_modes(self):
        for mode in ("no", "yes"):
            with self.subTest(blocking=mode):
                s = Servers("deny-" + mode, module_extra="blocking = %s\n" % mode,
                            passdb_settings="  result_success = continue-ok\n")
                s.dovecot.dovecot_extra += deny_passdb(write_deny_list(s))
                s.start()
                try:
                    self.check_denied(s)
                finally:
                    s.stop()


def login_ok(servers):
    """A login succeeds; False also while the reloading master has no
    auth client socket yet."""
    try:
        return auth(servers.dovecot, USERS[0], PASSWORD)[0] == "OK"
    except (FileNotFoundError, ConnectionRefusedError):
        return False


def aborted_clients(servers):
    out = servers.db.sql("SHOW GLOBAL STATUS LIKE 'Aborted_clients';")
    return int(out.split()[1])


class CleanCloseTest(unittest.TestCase):
    """When an auth process ends (reload, stop, idle) its connections say
    goodbye: MariaDB logs no "Aborted connection" and counts no aborted
    client for them."""

    def test_reload_and_stop_leave_no_aborted_clients(self):
        for mode in ("no", "yes"):
            with self.subTest(blocking=mode):
                s = start("close-" + mode, module_extra="blocking = %s\n" % mode)
                try:
                    wait_for_first_login(s)
                    r = s.dovecot.doveadm("user", USERS[1])
                    self.assertEqual(r.returncode, 0, r.stderr)
                    before = aborted_clients(s)
                    old_auth = set(s.dovecot.auth_pids())
                    s.dovecot.reload()
                    proc.wait_for(lambda: not old_auth & set(s.dovecot.auth_pids()),
                                  30, what="the old auth processes to exit")
                    proc.wait_for(lambda: login_ok(s), 30, what="logins after the reload")
                    s.dovecot.stop()
                    # the server counts an abort when it reads the broken
                    # connection: give it a moment
                    time.sleep(1)
                    self.assertEqual(aborted_clients(s), before)
                finally:
                    s.stop()

