"""TLS to the database (issue 11), in both modes.

A CA of the test's own (lib/tlsca.py) signs the MariaDB's certificate
(for 127.0.0.1) and a client certificate for Dovecot; another CA stands
for the wrong one. Accounts: mail_user REQUIRE SSL; mail_plain with no
requirement, for the refusals: a module that fell back to a connection
without TLS, or did not check the certificate, would log in with it, so
every refusal shows that it didn't; mail_x509 REQUIRE SUBJECT of the
client certificate and ISSUER of the CA.

- tls = yes with the right CA logs in, and the server sees every one of
  the module's connections encrypted (Ssl_cipher, from
  performance_schema, of each connection of the account);
- a wrong CA, a server certificate for another name, and a server
  without TLS are each refused: a temporary failure, and a log line that
  names the host, error 2026 and what tls = yes means. Connector/C 3.4
  (Debian 13) does not check the name on a loopback address (CONC-712):
  there the certificate for another name logs in, over TLS;
- a client certificate logs in to the REQUIRE X509 account, and without
  it that account is refused;
- tls_verify = no logs a warning at start-up, once (not per auth-worker).

Each Dovecot runs only during its test (one mode after the other), so the
connections the server sees are that Dovecot's."""

import contextlib
import os
import shutil
import unittest

from fixture import PASSWORD, USERS, Servers
from lib import mariadb, proc
from lib.authclient import auth, is_tempfail
from lib.tlsca import CA

MODES = ("no", "yes")
CLIENT_SUBJECT = "dovecot-auth"
# refused connections: the error, and the words the module adds to it
TLS_REFUSAL = "(tls = yes: only over TLS"

S = None
CERTS = {}
TLS_OPTIONS = ()


def setUpModule():
    global S, TLS_OPTIONS
    S = Servers("tls")
    ca = CA(os.path.join(S.dir, "ca"), "Test CA")
    other = CA(os.path.join(S.dir, "other-ca"), "Other CA")
    CERTS["ca"] = ca.cert
    CERTS["other-ca"] = other.cert
    CERTS["server"] = ca.issue("db", addresses=["127.0.0.1"], names=["localhost"],
                               owner="mysql")
    CERTS["other-name"] = ca.issue("other.test", names=["other.test"], owner="mysql")
    # the auth master (user dovecot) reads it with blocking = no
    CERTS["client"] = ca.issue(CLIENT_SUBJECT, client=True, owner="dovecot")
    for d in (os.path.join(S.dir, "ca"), os.path.join(S.dir, "other-ca")):
        os.chmod(d, 0o755)
    # the server reads its certificate from a copy, so that a test can
    # put another one there (FLUSH SSL)
    CERTS["current"] = (os.path.join(S.dir, "ca", "current.pem"),
                        os.path.join(S.dir, "ca", "current-key.pem"))
    set_server_cert(CERTS["server"], flush=False)
    TLS_OPTIONS = ("--ssl-ca=%s" % ca.cert,
                   "--ssl-cert=%s" % CERTS["current"][0],
                   "--ssl-key=%s" % CERTS["current"][1],
                   # Ssl_cipher per connection
                   "--performance-schema=ON")
    S.db.options = TLS_OPTIONS
    S.start()
    S.db.sql("""
        ALTER USER 'mail_user'@'127.0.0.1' REQUIRE SSL;
        CREATE USER 'mail_plain'@'127.0.0.1' IDENTIFIED BY '{pw}';
        CREATE USER 'mail_x509'@'127.0.0.1' IDENTIFIED BY '{pw}'
            REQUIRE SUBJECT '/CN={subject}' AND ISSUER '/CN=Test CA';
        GRANT SELECT ON mail_server.users TO 'mail_plain'@'127.0.0.1',
            'mail_x509'@'127.0.0.1';
        GRANT SELECT ON mail_server.domains TO 'mail_plain'@'127.0.0.1',
            'mail_x509'@'127.0.0.1';
        """.format(pw=S.db_password, subject=CLIENT_SUBJECT))


def tearDownModule():
    S.stop()


@contextlib.contextmanager
def dovecot(name, mode, module_extra, db_user="mail_user"):
    """A Dovecot for one test: started, yielded, stopped."""
    d = S.add_dovecot("dovecot-%s-%s" % (name, mode), db_user=db_user,
                      module_extra="blocking = %s\n%s" % (mode, module_extra))
    try:
        d.start()
        yield d
    finally:
        d.stop()


def tls(ca=None, cert=None):
    text = "tls = yes\ntls_ca = %s\n" % (ca or CERTS["ca"])
    if cert:
        text += "tls_cert = %s\ntls_key = %s\n" % cert
    return text


def login(d):
    return auth(d, USERS[0], PASSWORD)


def wait_ok(d):
    return proc.wait_for(lambda: (lambda r: r if r[0] == "OK" else None)(login(d)),
                         20, what="a successful login")


def ciphers(account):
    """Ssl_cipher of each connection of account the server has now."""
    out = S.db.sql(
        "SELECT p.ID, s.VARIABLE_VALUE FROM information_schema.PROCESSLIST p "
        "JOIN performance_schema.threads t ON t.PROCESSLIST_ID = p.ID "
        "LEFT JOIN performance_schema.status_by_thread s "
        "ON s.THREAD_ID = t.THREAD_ID AND s.VARIABLE_NAME = 'Ssl_cipher' "
        "WHERE p.USER = '%s';" % account)
    return [line.split("\t")[1] if "\t" in line else ""
            for line in out.splitlines()]


def set_server_cert(cert, flush=True):
    """Give the server another certificate (FLUSH SSL makes it read its
    files again); connections made before keep theirs."""
    for source, target in zip(cert, CERTS["current"]):
        shutil.copy2(source, target)
        shutil.copystat(source, target)
        st = os.stat(source)
        os.chown(target, st.st_uid, st.st_gid)
    if flush:
        S.db.sql("FLUSH SSL;")


class TLSTest(unittest.TestCase):
    def assert_refused(self, d, reason):
        result, fields = login(d)
        self.assertEqual(result, "FAIL", fields)
        self.assertTrue(is_tempfail(fields), fields)
        d.wait_for_log(TLS_REFUSAL)
        line = d.log_lines(TLS_REFUSAL)[0]
        self.assertIn("127.0.0.1:%d: 2026: " % S.db.port, line)
        self.assertIn(reason, line)

    def test_right_ca_logs_in_encrypted(self):
        for mode in MODES:
            with self.subTest(blocking=mode), dovecot("ca", mode, tls()) as d:
                self.assertEqual(wait_ok(d)[1].get("user"), USERS[0])
                seen = ciphers("mail_user")
                self.assertGreater(len(seen), 0)
                self.assertNotIn("", seen, seen)

    def test_client_certificate(self):
        for mode in MODES:
            with self.subTest(blocking=mode):
                with dovecot("x509", mode, tls(cert=CERTS["client"]),
                             db_user="mail_x509") as d:
                    wait_ok(d)
                    seen = ciphers("mail_x509")
                    self.assertGreater(len(seen), 0)
                    self.assertNotIn("", seen, seen)
                # the account wants the certificate
                with dovecot("nox509", mode, tls(), db_user="mail_x509") as d:
                    result, fields = login(d)
                    self.assertTrue(result == "FAIL" and is_tempfail(fields), fields)
                    d.wait_for_log("127.0.0.1:%d: 1045: " % S.db.port)

    def test_wrong_ca_is_refused(self):
        for mode in MODES:
            with self.subTest(blocking=mode), dovecot(
                    "wrongca", mode, tls(ca=CERTS["other-ca"]), db_user="mail_plain") as d:
                self.assert_refused(d, "signed by %s and valid for 127.0.0.1"
                                    % CERTS["other-ca"])

    def test_certificate_for_another_name_is_refused(self):
        for mode in MODES:
            with self.subTest(blocking=mode):
                # the same settings work with the right certificate
                with dovecot("rightname", mode, tls(), db_user="mail_plain") as d:
                    wait_ok(d)
                set_server_cert(CERTS["other-name"])
                try:
                    with dovecot("othername", mode, tls(),
                                 db_user="mail_plain") as d:
                        if mariadb.client_checks_loopback_names():
                            self.assert_refused(d, "valid for 127.0.0.1")
                        else:
                            # Connector/C 3.4 checks only the CA on a
                            # loopback address (doc/configuration.md)
                            self.assertEqual(wait_ok(d)[1].get("user"),
                                             USERS[0])
                            seen = ciphers("mail_plain")
                            self.assertGreater(len(seen), 0)
                            self.assertNotIn("", seen, seen)
                finally:
                    set_server_cert(CERTS["server"])

    def test_server_without_tls_is_refused(self):
        S.db.stop()
        S.db.options = ("--skip-ssl",)
        try:
            S.db.start()
            for mode in MODES:
                with self.subTest(blocking=mode), dovecot(
                        "notls", mode, tls(), db_user="mail_plain") as d:
                    self.assert_refused(d, "")
        finally:
            S.db.stop()
            S.db.options = TLS_OPTIONS
            S.db.start()

    def test_tls_verify_no_is_a_warning(self):
        for mode in MODES:
            with self.subTest(blocking=mode), dovecot(
                    "noverify", mode, "tls = yes\ntls_verify = no\n") as d:
                wait_ok(d)
                d.wait_for_log("tls_verify = no: the database server's "
                               "certificate is not checked")
                self.assertEqual(len(d.log_lines("tls_verify = no")), 1,
                                 d.log_lines("tls_verify = no"))
                self.assertNotIn("", ciphers("mail_user"))
