"""login_cache = no: every login's password is checked by an auth-worker."""

import unittest

from fixture import PASSWORD, Servers, USERS, wait_for_first_login
from lib.authclient import auth

S = None


def setUpModule():
    global S
    S = Servers("nocache", module_extra="login_cache = no\n").start()
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


class NoCacheTest(unittest.TestCase):
    def test_every_login_is_verified_by_a_worker(self):
        before = S.dovecot.log().count("Verifying the password in a worker")
        for _ in range(5):
            self.assertEqual(auth(S.dovecot, USERS[1], PASSWORD)[0], "OK")
        self.assertEqual(auth(S.dovecot, USERS[1], "wrong")[0], "FAIL")
        S.dovecot.wait_for_log("Verifying the password in a worker", before + 6)
        self.assertEqual(S.dovecot.log_lines("Verified-login cache hit"), [])
