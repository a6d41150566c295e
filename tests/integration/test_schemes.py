"""Accounts from other systems: stored passwords of every scheme Dovecot
knows, bare crypt strings from mkpasswd, low-cost bcrypt.

Issue "every Dovecot password scheme in, bcrypt out": each hash, made by
doveadm pw -s SCHEME (every scheme of doveadm pw -l) or mkpasswd -m
sha-512|yescrypt|md5crypt, logs in with the right password and fails with
a wrong one, with blocking = no (checked in an auth-worker sent by the
master) and blocking = yes (in the worker's own lookup). Weak schemes only
with allow_weak_schemes = yes: otherwise the account is treated as locked
(a password mismatch after the dummy check, and an error naming the
scheme). A stored password that can't be right is a temporary failure
with a log line, never a wrong password."""

import functools
import unittest

from fixture import PASSWORD, Servers, wait_for_first_login
from lib.authclient import auth, is_tempfail
from lib.load import parallel
from lib.users import (add_users, doveadm_hash, dovecot_schemes, mkpasswd_hash,
                       stored_password)

DOMAIN = "nahida.net"
# differs from PASSWORD in its first 8 characters: DES-CRYPT and
# PLAIN-TRUNC compare only those
WRONG = "Test1234x"
# what the issue calls weak: plaintext, unsalted, MD5-based, DES
WEAK = {"PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC", "MD5", "MD5-CRYPT",
        "SMD5", "PLAIN-MD4", "PLAIN-MD5", "LDAP-MD5", "HMAC-MD5", "CRAM-MD5",
        "DIGEST-MD5", "SHA", "SHA1", "SHA256", "SHA512", "DES-CRYPT", "OTP"}

SERVERS = {}
USERS = {}      # address -> (how it was made, weak)
BROKEN = []     # local parts of the users of broken_users()


def make_users():
    """One user per scheme and tool, all with PASSWORD."""
    users = {}
    for scheme in dovecot_schemes():
        address = "s-%s@%s" % (scheme.lower(), DOMAIN)
        users[address] = (doveadm_hash(scheme, PASSWORD, address),
                          "doveadm pw -s " + scheme, scheme in WEAK)
    for method, weak in (("sha-512", False), ("yescrypt", False),
                         ("md5crypt", True)):
        address = "m-%s@%s" % (method, DOMAIN)
        users[address] = (mkpasswd_hash(method, PASSWORD),
                          "mkpasswd -m " + method, weak)
    # low-cost bcrypt, bare and with doveadm pw's prefix
    address = "b-cost4@" + DOMAIN
    users[address] = (doveadm_hash("BLF-CRYPT", PASSWORD, address,
                                             rounds=4)[len("{BLF-CRYPT}"):],
                      "bare bcrypt cost 4", False)
    return users


# stored passwords that can't be right: a temporary failure, never a
# wrong password
def broken_users():
    sha512 = mkpasswd_hash("sha-512", PASSWORD)
    argon = doveadm_hash("ARGON2ID", PASSWORD, "x@" + DOMAIN)
    bcrypt = doveadm_hash("BLF-CRYPT", PASSWORD, "x@" + DOMAIN,
                                    rounds=4)
    ssha = doveadm_hash("SSHA512", PASSWORD, "x@" + DOMAIN)
    pbkdf2 = doveadm_hash("PBKDF2", PASSWORD, "x@" + DOMAIN)
    return {
        "x-sha512-truncated": sha512[:-5],
        "x-sha512-prefixed-truncated": "{SHA512-CRYPT}" + sha512[:-5],
        "x-sha512-extra": sha512 + "AAAA",
        "x-argon2-truncated": argon[:-9],
        "x-bcrypt-truncated": bcrypt[:-1],
        "x-ssha512-not-base64": ssha[:-3] + "!!!",
        "x-pbkdf2-truncated": pbkdf2[:-2],
        "x-unknown-scheme": "{NO-SUCH-SCHEME}abc",
        "x-plaintext": PASSWORD,
        "x-wrong-prefix": "{SHA256-CRYPT}" + sha512,
    }


def auth_all(s, logins):
    """AUTH PLAIN for each (user, password) at the same time: Dovecot
    answers failures from a 0.5 s timer, one by one they would take
    minutes. Returns (result, fields) for each, in order."""
    return parallel(*[functools.partial(auth, s.dovecot, *login)
                      for login in logins])


def setUpModule():
    users = make_users()
    broken = broken_users()
    BROKEN.extend(sorted(broken))
    USERS.update({a: (how, weak) for a, (_, how, weak) in users.items()})
    # three auth processes on one machine: the servers start one by one
    for name, extra in (("open", "allow_weak_schemes = yes\n"),
                        ("blocking", "allow_weak_schemes = yes\nblocking = yes\n"),
                        ("strict", "")):
        s = Servers("schemes-" + name, module_extra=extra).start()
        SERVERS[name] = s
        stored = {address: value for address, (value, _, _) in users.items()}
        stored.update({"%s@%s" % (local, DOMAIN): value
                       for local, value in broken.items()})
        add_users(s.db, stored)
        wait_for_first_login(s)


def tearDownModule():
    for s in SERVERS.values():
        s.stop()


class EverySchemeTest(unittest.TestCase):
    def test_the_tools_cover_the_issue_s_list(self):
        schemes = dovecot_schemes()
        for scheme in ("BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "SSHA512",
                       "SSHA256", "ARGON2I", "ARGON2ID", "PBKDF2", "MD5-CRYPT",
                       "PLAIN", "CLEAR", "MD5", "SHA1", "PLAIN-MD5",
                       "DES-CRYPT"):
            self.assertIn(scheme, schemes)
        self.assertGreaterEqual(len(USERS), len(schemes) + 4)

    def check_logins(self, s, allowed):
        """Right and wrong password of every user; weak schemes log in
        only if allowed."""
        users = sorted(USERS.items())
        right = auth_all(s, [(address, PASSWORD) for address, _ in users])
        wrong = auth_all(s, [(address, WRONG) for address, _ in users])
        for (address, (how, weak)), r, w in zip(users, right, wrong):
            with self.subTest(how=how):
                if weak and not allowed:
                    self.assertEqual((r[0], is_tempfail(r[1])),
                                     ("FAIL", False), r[1])
                else:
                    self.assertEqual(r[0], "OK", r[1])
                self.assertEqual((w[0], is_tempfail(w[1])), ("FAIL", False),
                                 w[1])

    def test_every_scheme_blocking_no(self):
        self.check_logins(SERVERS["open"], allowed=True)

    def test_every_scheme_blocking_yes(self):
        self.check_logins(SERVERS["blocking"], allowed=True)
        # the lookups and checks ran in workers
        SERVERS["blocking"].dovecot.wait_for_log("Handling PASSV request")

    def weak_lines(self, s, address, text):
        return [line for line in s.dovecot.log_lines(text)
                if "(%s," % address in line]

    def test_weak_schemes_are_refused_unless_allowed(self):
        s = SERVERS["strict"]
        self.check_logins(s, allowed=False)
        for address, (how, weak) in USERS.items():
            if weak:
                with self.subTest(how=how):
                    self.assertTrue(self.weak_lines(
                        s, address, "Stored password has the weak scheme "), how)
        self.assertTrue(s.dovecot.log_lines(", refused: the account is treated "
                                            "as locked (allow_weak_schemes = no)"))

    def test_the_weak_schemes_allowed_are_named_once_per_user(self):
        s = SERVERS["open"]
        s.dovecot.wait_for_log("allow_weak_schemes = yes: stored passwords of "
                               "weak schemes")
        auth_all(s, [(address, PASSWORD) for address in USERS] * 2)
        for address, (how, weak) in USERS.items():
            with self.subTest(how=how):
                lines = self.weak_lines(s, address,
                                        "Stored password has the weak scheme ")
                self.assertEqual(len(lines), 1 if weak else 0, lines)
        count = sum(1 for _, weak in USERS.values() if weak)
        self.assertTrue(s.dovecot.log_lines("(%d users with a weak scheme seen "
                                            "since start-up)" % count))

    def test_broken_stored_passwords_are_temporary_failures(self):
        for name in ("open", "blocking"):
            s = SERVERS[name]
            logins = [("%s@%s" % (local, DOMAIN), password)
                      for local in BROKEN for password in (PASSWORD, WRONG)]
            for (address, password), (result, fields) in zip(
                    logins, auth_all(s, logins)):
                with self.subTest(mode=name, user=address, password=password):
                    self.assertEqual(result, "FAIL", fields)
                    self.assertTrue(is_tempfail(fields), fields)
            for local in BROKEN:
                with self.subTest(mode=name, user=local):
                    self.assertTrue([line for line in s.dovecot.log_lines(
                        "Stored password is not usable") if
                        "(%s@%s," % (local, DOMAIN) in line], local)
            self.assertTrue(s.dovecot.log_lines("Stored password is not usable"))


class LogTest(unittest.TestCase):
    def test_log_has_no_password_or_hash(self):
        for s in SERVERS.values():
            log = s.dovecot.log()
            self.assertNotIn(PASSWORD, log)
            for address in USERS:
                stored = stored_password(s.db, address)
                tail = stored.rsplit("$", 1)[-1].rsplit("}", 1)[-1]
                if len(tail) >= 8:
                    self.assertNotIn(tail, log, address)
