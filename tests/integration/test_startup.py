"""What the module refuses at start-up, and says why: a configuration
file with a mistake (file:line: reason), and Dovecot's auth cache set to
check bcrypt hashes in the auth master."""

import unittest

from fixture import PASSWORD, USERS, Servers, auth, wait_for_first_login
from lib import proc


def login_refused(servers):
    """The auth process stops at start-up: the client is cut off (or, if
    it came back, refused)."""
    try:
        return auth(servers, USERS[0], PASSWORD)[0] != "OK"
    except OSError:
        return True


def start(name, **kwargs):
    servers = Servers(name, **kwargs)
    servers.start()
    return servers


class StartupTest(unittest.TestCase):
    def test_bad_setting_stops_auth_with_file_and_line(self):
        s = start("badconf", module_extra="pool_size = lots\n")
        try:
            self.assertTrue(login_refused(s))
            proc.wait_for(lambda: s.dovecot.log_lines(
                "Fatal: mariadb: %s:" % s.dovecot.module_config), 20,
                what="the fatal error")
            line = s.dovecot.log_lines("Fatal: mariadb:")[0]
            self.assertRegex(line, r"dovecot-mariadb\.conf\.ext:\d+: pool_size: "
                             r"invalid value 'lots': expected a number")
        finally:
            s.stop()

    def test_auth_cache_must_verify_in_workers(self):
        s = start("authcache", dovecot_extra="auth_cache_size = 1M\n")
        try:
            self.assertTrue(login_refused(s))
            proc.wait_for(lambda: s.dovecot.log_lines(
                "needs auth_cache_verify_password_with_worker = yes"), 20,
                what="the fatal error")
        finally:
            s.stop()
        s = start("authcache-ok", dovecot_extra="auth_cache_size = 1M\n"
                  "auth_cache_verify_password_with_worker = yes\n")
        try:
            wait_for_first_login(s)
            # served from Dovecot's cache the second time, still right
            self.assertEqual(auth(s, USERS[0], PASSWORD)[0], "OK")
            self.assertEqual(auth(s, USERS[0], "wrong")[0], "FAIL")
        finally:
            s.stop()
