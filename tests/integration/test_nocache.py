"""login_cache = no: every login's password is checked by an auth-worker."""

import unittest

from fixture import PASSWORD, USERS, Servers
from lib import proc
from lib.authclient import AuthClient

S = None


def setUpModule():
    global S
    S = Servers("nocache", module_extra="login_cache = no\n").start()
    proc.wait_for(lambda: auth(USERS[0], PASSWORD)[0] == "OK", 30,
                  what="the first successful login")


def tearDownModule():
    S.stop()


def auth(user, password):
    c = AuthClient(S.dovecot.auth_client_socket)
    try:
        return c.plain(user, password)
    finally:
        c.close()


class NoCacheTest(unittest.TestCase):
    def test_every_login_is_verified_by_a_worker(self):
        before = S.dovecot.log().count("Verifying the password in a worker")
        for _ in range(5):
            self.assertEqual(auth(USERS[1], PASSWORD)[0], "OK")
        self.assertEqual(auth(USERS[1], "wrong")[0], "FAIL")
        S.dovecot.wait_for_log("Verifying the password in a worker", before + 6)
        self.assertEqual(S.dovecot.log_lines("Verified-login cache hit"), [])
