"""The rest of the guide's mail server: rspamd and ClamAV as Postfix's
milter, DKIM signatures, and the guide's Postfix identity and TLS floor.

Covers issue 13: submitted mail arrives with a DKIM-Signature for its
domain and the guide's selector that an independent verifier
(python3-dkim, keys from the stack's own records, no DNS) accepts; mail
from other servers is not signed and carries rspamd's spam headers; the
EICAR test string and GTUBE are refused with 5xx on port 25 and on the
submission port and nothing is delivered; with rspamd or clamd down, mail is
refused with 4xx (the failure policy); TLS below 1.2 is refused on every
port while TLS 1.2 and 1.3 work; the banner and HELO name are the guide's;
the example configurations of doc/rspamd pass rspamadm configtest on top
of Debian's defaults, and doc/postfix/main.cf has the stack's settings.

All servers start once for the module: MariaDB, Dovecot, Postfix, clamd
and rspamd (whose first start compiles its hyperscan databases)."""

import base64
import glob
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
import uuid
import warnings

from fixture import PASSWORD, SAMPLE_HASH, TOP, Servers
from lib import dkimcheck, proc
from lib.clamd import EICAR, SIGNATURE_NAME
from lib.mailclient import tls_context

DEEPWOOD = "deepwood@nahida.net"
DREAMS = "1000dreams@nahida.net"
ALIAS = "alias@nahida.net"
OUTSIDER = "someone@example.org"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SELECTOR = "kawaii2309"
DOC = os.path.join(TOP, "doc")
DELIVERY_TIMEOUT = 30

S = None


def setUpModule():
    global S
    S = Servers("filter", postfix=True, filters=True).start()


def tearDownModule():
    S.stop()


# --- clients ---

def quit(s):
    try:
        s.quit()
    except (smtplib.SMTPException, OSError):
        s.close()


def message(sender, recipient, token, body="hello", extra_headers=""):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: filter %s\r\n"
            "Message-ID: <%s@client.example>\r\n%s\r\n%s\r\n"
            % (sender, recipient, token, token, extra_headers, body))


def with_attachment(sender, recipient, token, data):
    """A multipart message with data as a base64 attachment."""
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: filter %s\r\n"
            "Message-ID: <%s@client.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n"
            "--b\r\nContent-Type: application/octet-stream; name=test.com\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n"
            % (sender, recipient, token, token,
               base64.encodebytes(data.encode()).decode()))


def send(port, sender, recipient, text, login=None):
    """Send one message on port (25: as another server, no AUTH; the
    submission port: STARTTLS and AUTH as login). Returns (code, reply) of
    the end of DATA, or of the first command that was refused."""
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    try:
        s.ehlo("client.example")
        if login is not None:
            s.starttls(context=tls_context(S.dovecot.cert))
            s.ehlo("client.example")
            s.login(login, PASSWORD)
        for command, argument in (("mail", sender), ("rcpt", recipient)):
            code, reply = getattr(s, command)(argument)
            if code >= 400:
                return code, reply
        return s.data(text)
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, e.smtp_error
    finally:
        quit(s)


def inbound(sender, recipient, text):
    return send(S.postfix.smtp_port, sender, recipient, text)


def submit(sender, recipient, text, login=DEEPWOOD):
    return send(S.postfix.submission_port, sender, recipient, text, login=login)


def delivered(user, token):
    """The messages (bytes, as stored) in user's Maildir that contain token."""
    local, domain = user.split("@")
    found = []
    for path in glob.glob(os.path.join(S.dovecot.vmail, domain, local, "Maildir", "*", "*")):
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue  # moved from new/ to cur/ meanwhile
        if token.encode() in data:
            found.append(data)
    return found


def wait_delivered(user, token):
    try:
        return proc.wait_for(lambda: delivered(user, token), DELIVERY_TIMEOUT,
                             interval=0.1, what="delivery to %s" % user)
    except TimeoutError:
        raise AssertionError("not delivered to %s:\n%s\n%s" % (
            user, S.postfix.log_tail(), S.rspamd.log_tail())) from None


def headers(data):
    """The header section of a stored message, as text."""
    return data.split(b"\r\n\r\n" if b"\r\n\r\n" in data else b"\n\n", 1)[0].decode()


def header_names(data):
    return [line.split(":", 1)[0].lower() for line in headers(data).splitlines()
            if line and not line[0].isspace()]


def assert_nothing_delivered(test, user, tokens):
    """Refused messages never reach the queue; to be sure that none is
    delivered late, send a clean message after them and wait for it."""
    marker = uuid.uuid4().hex
    test.assertEqual(inbound(OUTSIDER, user, message(OUTSIDER, user, marker))[0], 250)
    wait_delivered(user, marker)
    for token in tokens:
        test.assertEqual(delivered(user, token), [], token)


class DkimTest(unittest.TestCase):
    def test_every_domain_of_the_database_has_a_2048_bit_key_and_a_record(self):
        domains = S.db.sql("SELECT domain FROM domains", database="mail_server").split()
        self.assertIn("nahida.net", domains)
        self.assertEqual(sorted(S.dkim_records), sorted(domains))
        for domain in domains:
            with self.subTest(domain=domain):
                key = S.rspamd.key_path(domain)
                st = os.stat(key)
                self.assertEqual((st.st_mode & 0o777, st.st_uid), (0o640, 0))
                self.assertEqual(st.st_gid, os.stat(S.rspamd.dkim_dir).st_gid)
                text = subprocess.run(["openssl", "pkey", "-in", key, "-noout", "-text"],
                                      capture_output=True, text=True, check=True).stdout
                self.assertTrue(text.startswith("Private-Key: (2048 bit"), text[:40])
                # the zone-file form, and the public key of that private key
                record = S.dkim_records[domain]
                self.assertTrue(record.startswith(
                    '%s._domainkey.%s. IN TXT ( "v=DKIM1; k=rsa; "' % (SELECTOR, domain)),
                    record)
                name, value = dkimcheck.parse_record(record)
                self.assertEqual(name, "%s._domainkey.%s" % (SELECTOR, domain))
                public = subprocess.run(["openssl", "pkey", "-in", key, "-pubout",
                                         "-outform", "DER"], capture_output=True,
                                        check=True).stdout
                self.assertEqual(value, "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode())

    def test_submitted_mail_is_signed_and_the_signature_verifies(self):
        token = uuid.uuid4().hex
        # the alias: an address deepwood owns in the database
        self.assertEqual(submit(ALIAS, DREAMS, message(ALIAS, DREAMS, token))[0], 250)
        data = wait_delivered(DREAMS, token)[0]
        ok, signatures = dkimcheck.verify(data, S.dkim_records.values())
        self.assertEqual(signatures, [{"d": "nahida.net", "s": SELECTOR}], headers(data))
        self.assertTrue(ok, headers(data))
        # the same verifier refuses the message once it is changed
        changed = data.replace(b"\nhello", b"\nHello")
        self.assertNotEqual(changed, data)
        self.assertFalse(dkimcheck.verify(changed, S.dkim_records.values())[0])

    def test_mail_from_other_servers_is_not_signed_and_gets_spam_headers(self):
        # also when it claims to come from a hosted domain
        for sender in (OUTSIDER, DEEPWOOD):
            with self.subTest(sender=sender):
                token = uuid.uuid4().hex
                self.assertEqual(inbound(sender, DREAMS, message(sender, DREAMS, token))[0], 250)
                data = wait_delivered(DREAMS, token)[0]
                names = header_names(data)
                self.assertNotIn("dkim-signature", names)
                self.assertIn("x-spamd-result", names)
                self.assertIn("X-Spam-Status: No, score=", headers(data))

    def test_submitted_mail_gets_no_spam_headers(self):
        token = uuid.uuid4().hex
        self.assertEqual(submit(DEEPWOOD, DREAMS, message(DEEPWOOD, DREAMS, token))[0], 250)
        names = header_names(wait_delivered(DREAMS, token)[0])
        self.assertIn("dkim-signature", names)
        self.assertNotIn("x-spamd-result", names)

    def test_a_domain_added_to_the_database_is_signed_once_it_has_a_key(self):
        user = "newcomer@example.net"
        S.db.sql("INSERT INTO domains (domain) VALUES ('example.net');"
                 "INSERT INTO users (local, domain, password_hash, display_name) "
                 "VALUES ('newcomer', 'example.net', '%s', 'test');" % SAMPLE_HASH,
                 database="mail_server")
        try:
            # no key yet: delivered unsigned, and rspamd's log says why
            token = uuid.uuid4().hex
            self.assertEqual(submit(user, DREAMS, message(user, DREAMS, token), login=user)[0], 250)
            self.assertNotIn("dkim-signature", header_names(wait_delivered(DREAMS, token)[0]))
            self.assertIn("cannot load dkim key %s" % S.rspamd.key_path("example.net"),
                          S.rspamd.log())
            # what "up" does: a key for every domain of the database; rspamd
            # reads it without a restart
            domains = S.db.sql("SELECT domain FROM domains", database="mail_server").split()
            records = S.rspamd.make_dkim_keys(domains)
            self.assertEqual(sorted(records), ["example.net", "nahida.net"])
            self.assertEqual(records["nahida.net"], S.dkim_records["nahida.net"])
            token = uuid.uuid4().hex
            self.assertEqual(submit(user, DREAMS, message(user, DREAMS, token), login=user)[0], 250)
            data = wait_delivered(DREAMS, token)[0]
            self.assertEqual(dkimcheck.verify(data, records.values()),
                             (True, [{"d": "example.net", "s": SELECTOR}]))
        finally:
            S.db.sql("DELETE FROM users WHERE domain = 'example.net';"
                     "DELETE FROM domains WHERE domain = 'example.net';", database="mail_server")
            for path in (S.rspamd.key_path("example.net"), S.rspamd.record_path("example.net")):
                if os.path.exists(path):
                    os.unlink(path)

    def test_a_key_alone_does_not_sign_a_domain_the_login_does_not_own(self):
        # a key for example.org exists, but the envelope sender (checked in
        # the database by Postfix) is in nahida.net: From: example.org is
        # not signed
        S.rspamd.make_dkim_keys(["example.org"])
        try:
            token = uuid.uuid4().hex
            text = message(DEEPWOOD, DREAMS, token).replace(
                "From: <%s>" % DEEPWOOD, "From: <%s>" % OUTSIDER)
            self.assertEqual(submit(DEEPWOOD, DREAMS, text)[0], 250)
            self.assertNotIn("dkim-signature", header_names(wait_delivered(DREAMS, token)[0]))
            # nor with the empty envelope sender, which has no owner
            token = uuid.uuid4().hex
            text = message(OUTSIDER, DREAMS, token)
            self.assertEqual(submit("", DREAMS, text)[0], 250)
            self.assertNotIn("dkim-signature", header_names(wait_delivered(DREAMS, token)[0]))
            # and Postfix refuses the envelope sender example.org to deepwood
            code, reply = submit(OUTSIDER, DREAMS, message(OUTSIDER, DREAMS, token))
            self.assertEqual(code, 553, reply)
        finally:
            for path in (S.rspamd.key_path("example.org"), S.rspamd.record_path("example.org")):
                os.unlink(path)


class VirusAndSpamTest(unittest.TestCase):
    def assertRefused(self, result, code, text):
        self.assertEqual(result[0], code, result)
        self.assertIn(text.encode(), result[1])

    def test_eicar_is_refused_with_5xx_on_both_ports_and_not_delivered(self):
        tokens = []
        for name, build in (("inline", message), ("attachment", with_attachment)):
            for port in ("smtp", "submission"):
                with self.subTest(kind=name, port=port):
                    token = uuid.uuid4().hex
                    tokens.append(token)
                    if port == "smtp":
                        text = build(OUTSIDER, DREAMS, token, EICAR)
                        result = inbound(OUTSIDER, DREAMS, text)
                    else:
                        text = build(DEEPWOOD, DREAMS, token, EICAR)
                        result = submit(DEEPWOOD, DREAMS, text)
                    self.assertRefused(result, 554, "virus found")
                    self.assertIn(SIGNATURE_NAME.encode(), result[1])
        # clamd found it (rspamd asked it; nothing else knows this signature)
        self.assertIn(SIGNATURE_NAME + ".UNOFFICIAL FOUND", S.clamd.log())
        assert_nothing_delivered(self, DREAMS, tokens)

    def test_gtube_is_refused_with_5xx_on_both_ports_and_not_delivered(self):
        tokens = [uuid.uuid4().hex, uuid.uuid4().hex]
        self.assertRefused(inbound(OUTSIDER, DREAMS, message(OUTSIDER, DREAMS, tokens[0], GTUBE)),
                           554, "5.7.1")
        self.assertRefused(submit(DEEPWOOD, DREAMS, message(DEEPWOOD, DREAMS, tokens[1], GTUBE)),
                           554, "5.7.1")
        assert_nothing_delivered(self, DREAMS, tokens)

    def test_clean_mail_passes_clamd(self):
        token = uuid.uuid4().hex
        self.assertEqual(inbound(OUTSIDER, DREAMS, with_attachment(
            OUTSIDER, DREAMS, token, "not a virus"))[0], 250)
        wait_delivered(DREAMS, token)


def tls11_context():
    """A client that offers TLS 1.1 only, with the ciphers it needs
    (OpenSSL's security level 0 allows them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def versioned_context(version):
    ctx = tls_context(S.dovecot.cert)
    ctx.minimum_version = ctx.maximum_version = version
    return ctx


def starttls_version(service, ctx):
    """STARTTLS on service ("submission", "smtp" or "imap") with ctx;
    returns the TLS version, or raises ssl.SSLError if the server refuses."""
    if service == "imap":
        sock = socket.create_connection(("127.0.0.1", S.dovecot.imap_port), 30)
        try:
            f = sock.makefile("rb")
            f.readline()  # greeting
            sock.sendall(b"a STARTTLS\r\n")
            reply = f.readline()
            if not reply.startswith(b"a OK"):
                raise AssertionError(reply)
            with ctx.wrap_socket(sock, server_hostname="localhost") as t:
                return t.version()
        finally:
            sock.close()
    port = S.postfix.smtp_port if service == "smtp" else S.postfix.submission_port
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        s.ehlo("client.example")
        s.starttls(context=ctx)
        return s.sock.version()
    finally:
        s.close()


class TlsAndIdentityTest(unittest.TestCase):
    SERVICES = ("submission", "smtp", "imap")

    def test_a_tls_1_1_client_is_refused_on_every_port(self):
        for service in self.SERVICES:
            with self.subTest(service=service):
                with self.assertRaises(ssl.SSLError):
                    starttls_version(service, tls11_context())

    def test_the_tls_1_1_client_works_where_tls_1_1_is_allowed(self):
        # the control: this machine's OpenSSL does speak TLS 1.1, so the
        # refusals above come from the servers' settings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(S.dovecot.cert, S.dovecot.key)
        listener = socket.create_server(("127.0.0.1", 0))
        versions = []

        def serve():
            conn, _ = listener.accept()
            try:
                with ctx.wrap_socket(conn, server_side=True) as t:
                    versions.append(t.version())
            except (ssl.SSLError, OSError) as e:
                versions.append(repr(e))
        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname(), 10) as sock:
                with tls11_context().wrap_socket(sock) as t:
                    self.assertEqual(t.version(), "TLSv1.1")
        finally:
            thread.join(10)
            listener.close()
        self.assertEqual(versions, ["TLSv1.1"])

    def test_tls_1_2_and_1_3_work_on_every_port(self):
        for service in self.SERVICES:
            for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                  (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
                with self.subTest(service=service, version=name):
                    self.assertEqual(starttls_version(service, versioned_context(version)),
                                     name)

    def test_the_banner_starts_with_the_host_name(self):
        for port in (S.postfix.smtp_port, S.postfix.submission_port):
            with self.subTest(port=port):
                s = smtplib.SMTP(timeout=30)
                try:
                    code, banner = s.connect("127.0.0.1", port)
                finally:
                    s.close()
                self.assertEqual((code, banner), (220, b"smtp.nahida.net ESMTP - nahidaSMTP"))

    def test_the_helo_name_is_the_domain(self):
        r = S.postfix.postconf("-x", "-h", "smtp_helo_name", "myhostname", "mydomain")
        self.assertEqual(r.stdout.split(), ["nahida.net", "smtp.nahida.net", "nahida.net"])

    def test_received_header_names_the_host_and_mail_name(self):
        token = uuid.uuid4().hex
        self.assertEqual(inbound(OUTSIDER, DREAMS, message(OUTSIDER, DREAMS, token))[0], 250)
        self.assertIn("by smtp.nahida.net (nahidaSMTP) with ESMTP",
                      headers(wait_delivered(DREAMS, token)[0]))


class DocsTest(unittest.TestCase):
    """doc/rspamd/local.d on top of Debian's /etc/rspamd passes rspamadm
    configtest; doc/postfix/main.cf and doc/dovecot have the settings of the
    tested stack."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mariadb-auth-doc-rspamd-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def rspamd_doc_config(self, name, extra=None):
        """A copy of /etc/rspamd (never changed itself) with doc/rspamd's
        local.d files installed as doc/rspamd/README.md says, plus extra
        files {name: text}."""
        etc = os.path.join(self.tmp, name)
        shutil.copytree("/etc/rspamd", etc)
        for f in os.listdir(os.path.join(DOC, "rspamd", "local.d")):
            shutil.copy(os.path.join(DOC, "rspamd", "local.d", f), os.path.join(etc, "local.d"))
        for f, text in (extra or {}).items():
            with open(os.path.join(etc, "local.d", f), "w") as out:
                out.write(text)
        return etc

    def rspamadm(self, etc, *args):
        db = os.path.join(self.tmp, "db")
        os.makedirs(db, exist_ok=True)
        return subprocess.run(["rspamadm", "--var=CONFDIR=" + etc, "--var=LOCAL_CONFDIR=" + etc,
                               "--var=DBDIR=" + db, *args, "-c", os.path.join(etc, "rspamd.conf")],
                              capture_output=True, text=True, timeout=300)

    def test_rspamd_examples_pass_configtest_on_debian_defaults(self):
        etc = self.rspamd_doc_config("rspamd")
        r = self.rspamadm(etc, "configtest")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("syntax OK", r.stdout)
        # the doc's values are the ones rspamd reads
        dump = self.rspamadm(etc, "configdump", "dkim_signing").stdout
        for line in ('selector = "kawaii2309";', "sign_local = false;",
                     "allow_hdrfrom_mismatch = false;", "use_esld = false;"):
            self.assertIn(line, dump)
        dump = self.rspamadm(etc, "configdump", "worker").stdout
        self.assertIn('bind_socket = "127.0.0.1:11332";', dump)

    def test_rspamd_configtest_finds_a_broken_file(self):
        # the check above can fail: a doc file with an error does not pass
        etc = self.rspamd_doc_config("broken", {"antivirus.conf": "clamav {\n  type = \n"})
        r = self.rspamadm(etc, "configtest")
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_postfix_example_has_the_stacks_milter_identity_and_tls_settings(self):
        d = os.path.join(self.tmp, "postfix")
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(DOC, "postfix", "main.cf"), d)
        names = ("non_smtpd_milters", "milter_protocol", "milter_mail_macros",
                 "milter_default_action", "myhostname", "mydomain", "mail_name",
                 "smtpd_banner", "smtp_helo_name", "smtp_tls_security_level",
                 "smtpd_tls_protocols", "smtpd_tls_mandatory_protocols",
                 "smtp_tls_protocols", "smtp_tls_mandatory_protocols",
                 "tls_preempt_cipherlist", "tls_ssl_options")
        doc = subprocess.run(["postconf", "-c", d, "-h", *names], capture_output=True,
                             text=True, check=True).stdout.splitlines()
        stack = S.postfix.postconf("-h", *names).stdout.splitlines()
        self.assertEqual(dict(zip(names, doc)), dict(zip(names, stack)))
        self.assertEqual(dict(zip(names, doc))["milter_default_action"], "tempfail")
        # the same milter, on rspamd's default port instead of the stack's
        milters = [subprocess.run(["postconf", "-c", d, "-h", "smtpd_milters"],
                                  capture_output=True, text=True, check=True).stdout.strip(),
                   S.postfix.postconf("-h", "smtpd_milters").stdout.strip()]
        self.assertEqual(milters, ["inet:127.0.0.1:11332", S.rspamd.milter()])

    def test_dovecot_example_and_stack_refuse_tls_below_1_2(self):
        with open(os.path.join(DOC, "dovecot", "99-mariadb-postfix.conf")) as f:
            self.assertIn("\nssl_min_protocol = TLSv1.2\n", f.read())
        r = S.dovecot.doveadm("config", "-h", "ssl_min_protocol")
        self.assertEqual(r.stdout.strip(), "TLSv1.2", r.stderr)


def both_ports(token_prefix):
    """A clean message on each port; returns (tokens, results)."""
    tokens = [token_prefix + uuid.uuid4().hex, token_prefix + uuid.uuid4().hex]
    return tokens, [inbound(OUTSIDER, DREAMS, message(OUTSIDER, DREAMS, tokens[0])),
                    submit(DEEPWOOD, DREAMS, message(DEEPWOOD, DREAMS, tokens[1]))]


class FailurePolicyTest(unittest.TestCase):
    """Written last (run.py keeps that order): stops and restarts servers."""

    def assertTempfail(self, result, text=""):
        self.assertTrue(400 <= result[0] < 500, result)
        self.assertIn(text.encode(), result[1])

    def test_rspamd_down_is_a_temporary_failure_on_both_ports(self):
        S.rspamd.stop()
        try:
            tokens, results = both_ports("nofilter")
            # smtpd answers 451 on port 25 and 454 to STARTTLS on the
            # submission port, the first commands after it failed to
            # connect to the milter
            for result in results:
                self.assertTempfail(result)
            self.assertIn("connect to Milter service %s: Connection refused"
                          % S.rspamd.milter(), S.postfix.log())
        finally:
            S.rspamd.start()
        assert_nothing_delivered(self, DREAMS, tokens)

    def test_clamd_down_is_a_temporary_failure_on_both_ports(self):
        S.clamd.stop()
        try:
            tokens, results = both_ports("noclamd")
            for result in results:
                self.assertTempfail(result, "Virus scanner unavailable")
        finally:
            S.clamd.start()
        assert_nothing_delivered(self, DREAMS, tokens)
