"""The README's "Install on a real server", followed step by step on a fresh
Debian (issue 15).

A minbase Debian root made by debootstrap (tests/lib/debroot.py, cached in
/var/cache/mariadb-auth-tests between runs) gets the source tree, as an
admin's checkout, and a root shell runs the steps that the README and the
documents it names mark as "sh real-server" blocks (tests/lib/docsteps.py),
unchanged and in their order: packages with apt-get, the module built and
`make install`ed, the sql/ scripts, the files of doc/ on Debian's own
defaults, rspamd and ClamAV, the services started with Debian's init
scripts (`service`). One command is not Debian's: freshclam, which would
download ClamAV's signatures from servers the test machines cannot reach,
is a stand-in that installs the local stack's EICAR signature. All of it
twice, since the documents say that every step can be run again. When a
step fails, so does this test, with the step's document, line and command.

Then, as a mail client would: IMAP login over STARTTLS with the
certificate of the steps, submission with AUTH, signed by rspamd with the
steps' DKIM key, delivery through LMTP into the mailbox, mail from another
server through port 25 with rspamd's headers, a virus and relaying
refused; and `doveconf -n`, `postconf -n` and `postfix check` without a
warning.

The root's servers run in network, mount, PID, UTS and IPC namespaces of
their own (they listen on the usual ports 25, 143, 587 and 3306 of their
own loopback); apt reaches deb.debian.org through a forwarder of the
session. Nothing is mounted in the host's namespace and nothing under the
host's /etc changes. The services are stopped with their init scripts,
then the namespace's first process is ended, which ends every process
left in it, also when a test fails.

REALSERVER_SUITE=trixie follows the steps on Debian 13 instead."""

import atexit
import imaplib
import os
import smtplib
import socket
import ssl
import subprocess
import time
import unittest
import uuid

from fixture import PASSWORD, TOP
from lib import checkout, debroot, docsteps
from lib.clamd import EICAR, LOCAL_SIGNATURES
from lib.hostfiles import snapshot
from lib.mailclient import find_message

SUITE = os.environ.get("REALSERVER_SUITE", "bookworm")
# the server's name (the UTS namespace's hostname, as hostname --fqdn
# gives it): the guide's, as doc/postfix/main.cf sets myhostname
HOST = "smtp.nahida.net"
# an address of the root's own besides 127.0.0.1 (a documentation prefix):
# the clients connect to it, so that Postfix does not count them as its
# mynetworks (the loopback, in Debian's main.cf), as for clients elsewhere
ADDRESS = "192.0.2.1"
SOURCE = "/usr/local/src/dovecot-mariadb-auth"
DEEPWOOD = "deepwood@nahida.net"
DREAMS = "1000dreams@nahida.net"
OUTSIDER = "someone@other.example"
ALIAS = "alias@nahida.net"
STEPS_TIMEOUT = 1800
DELIVERY_TIMEOUT = 60
# the documents whose steps the README includes, in their order
DOCUMENTS = ("README.md", "sql/README", "sql/postfix/README", "doc/dovecot/README.md",
             "doc/rspamd/README.md", "doc/postfix/README.md", "README.md")
# freshclam without ClamAV's servers (the test machines reach none but
# Debian's mirror): the signature database of the local stack (EICAR only)
# where freshclam puts its own, and the main and daily databases that
# Debian's init script looks for before it starts clamd, as the
# directories of unpacked databases that clamd accepts
FRESHCLAM = """#!/bin/sh
# test_realserver's freshclam: no download, see the test
set -e
cat > /var/lib/clamav/local.ndb <<'EOF'
%sEOF
mkdir -p /var/lib/clamav/main.inc /var/lib/clamav/daily.inc
chown -R clamav:clamav /var/lib/clamav
""" % LOCAL_SIGNATURES

S = None
VARS = {}
CERT_PEM = None
HOST_BEFORE = None


def setUpModule():
    global S, CERT_PEM, HOST_BEFORE
    if os.environ.get("MARIADB_AUTH_ROOT"):
        # tests/run --dovecot (tests/lib/dovecotroot.py): no Debian root in
        # a Debian root
        raise unittest.SkipTest("in the Debian %s root of tests/run --dovecot: the "
                                "real-server steps run on the host (REALSERVER_SUITE)"
                                % os.environ["MARIADB_AUTH_ROOT"])
    if os.environ.get("MODULE_SO"):
        # the sanitizer run of .ci/run: this test builds its module from
        # the README's steps, another MODULE_SO changes nothing here
        raise unittest.SkipTest("builds the module from the README's steps, not MODULE_SO")
    started = time.monotonic()
    HOST_BEFORE = snapshot()
    root = debroot.Root(SUITE)
    root.ensure()
    print("\nrealserver: %s root ready after %.0f s" % (SUITE, time.monotonic() - started))
    S = root.session(hostname=HOST, apt_cache=True, addresses=[ADDRESS],
                     env={"DEBIAN_FRONTEND": "noninteractive"})
    atexit.register(stop)
    S.start()
    try:
        prepare_root()
        steps = docsteps.steps(os.path.join(TOP, "README.md"), TOP)
        # the documents say every step can be run again (an existing vmail
        # user, a new password written everywhere): the tests below see
        # the server as the second run leaves it
        for run in (1, 2):
            run_steps(steps, run)
        S.allow_services()
        CERT_PEM = S.read_file(VARS["CERT"])
    except BaseException:
        stop()
        raise
    print("realserver: the steps took %.0f s in all" % (time.monotonic() - started))


def tearDownModule():
    stop()


def stop():
    global S
    if S is None:
        return
    session, S = S, None
    try:
        if session.pid:
            # Debian's init scripts stop each by the PID file it wrote
            for service in ("postfix", "rspamd", "clamav-daemon", "clamav-freshclam",
                            "dovecot", "mariadb"):
                session.run(["service", service, "stop"], timeout=120)
            if os.environ.get("KEEP_TEST_DIRS"):
                with open(os.path.join(session.tmp, "syslog.txt"), "w") as f:
                    f.write(session.syslog())
    except Exception as e:  # keep cleaning up
        print("cleanup: %s" % e)
    finally:
        # ends every process left in the namespaces, and their mounts
        session.close()


def prepare_root():
    """What the test adds to a fresh Debian: the checkout, and answers an
    admin would type (apt's "Do you want to continue?"), and a freshclam
    that needs no network (FRESHCLAM, found before Debian's in PATH).
    Maintainer scripts don't start services (policy-rc.d): the steps start
    them with `service`, which does not ask policy-rc.d."""
    S.copy_in(TOP, SOURCE, checkout.files())
    S.write_file("/etc/apt/apt.conf.d/90assume-yes", 'APT::Get::Assume-Yes "true";\n')
    # faster installs, the same server: no fsync per file (the root is
    # thrown away), no manuals, documentation or translations
    S.write_file("/etc/dpkg/dpkg.cfg.d/90test", "force-unsafe-io\n"
                 "path-exclude=/usr/share/man/*\npath-exclude=/usr/share/doc/*\n"
                 "path-exclude=/usr/share/locale/*\n")
    S.write_file("/usr/local/sbin/freshclam", FRESHCLAM, mode=0o755)
    S.block_services()


def run_steps(steps, run):
    script = docsteps.script(steps, show=("HOST", "CERT", "KEY"))
    S.write_file("/root/real-server-steps.sh", script)
    log_path = os.path.join(S.tmp, "steps-%d.log" % run)
    print("realserver: run %d of %d steps from %s" % (
        run, len(steps), ", ".join(sorted({step.path for step in steps}))))
    with open(log_path, "wb") as log:
        p = S.popen(["bash", "/root/real-server-steps.sh"], cwd=SOURCE,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STEPS_TIMEOUT
    current, since, offset, text = None, time.monotonic(), 0, ""
    while True:
        done = p.poll() is not None
        with open(log_path, errors="replace") as f:
            f.seek(offset)
            new = f.read()
            offset = f.tell()
        text += new
        for line in new.splitlines():
            if line.startswith("@@step "):
                if current:
                    print("realserver: %s: %.0f s" % (current, time.monotonic() - since))
                current, since = line[len("@@step "):], time.monotonic()
            elif line.startswith("@@var "):
                name, _, value = line[len("@@var "):].partition("=")
                VARS[name] = value
        if done:
            break
        if time.monotonic() > deadline:
            p.kill()
            p.wait()
            raise TimeoutError("the steps took longer than %d s; at %s" % (STEPS_TIMEOUT, current))
        time.sleep(0.5)
    if p.returncode != 0:
        raise AssertionError(
            "run %d, step %s failed (exit %d); its output:\n%s\n--- syslog of the root:\n%s" % (
                run,
                current, p.returncode, text[text.rfind("@@step"):][-6000:],
                "\n".join(S.syslog().splitlines()[-40:])))
    print("realserver: %s: %.0f s" % (current, time.monotonic() - since))


# -- mail clients, run in the root's network namespace (S.call)

class IMAP(imaplib.IMAP4):
    """IMAP to the server's name (for the certificate check) at ADDRESS."""

    def _create_socket(self, timeout):
        return socket.create_connection((ADDRESS, self.port), timeout)


class SMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        return socket.create_connection((ADDRESS, port), timeout)


def tls(cert_pem):
    # verifies the chain (the self-signed certificate of the steps) and the name
    return ssl.create_default_context(cadata=cert_pem)


def imap_login(cert_pem, user, password):
    c = IMAP(HOST, 143, timeout=30)
    try:
        c.starttls(ssl_context=tls(cert_pem))
        typ, _ = c.login(user, password)
        c.select("INBOX")
        return typ
    finally:
        try:
            c.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def imap_login_refused(cert_pem, user, password):
    c = IMAP(HOST, 143, timeout=30)
    try:
        c.starttls(ssl_context=tls(cert_pem))
        try:
            c.login(user, password)
        except imaplib.IMAP4.error as e:
            return str(e)
        return None
    finally:
        c.logout()


def imap_headers(cert_pem, user, password, token):
    """The header of the message in user's INBOX whose subject has token,
    or None."""
    c = IMAP(HOST, 143, timeout=30)
    try:
        c.starttls(ssl_context=tls(cert_pem))
        c.login(user, password)
        header = find_message(c, token, "BODY.PEEK[HEADER]")
        return header.decode() if header is not None else None
    finally:
        c.logout()


def submit(cert_pem, user, password, sender, recipient, subject):
    """Submission on port 587: STARTTLS, AUTH PLAIN, one message."""
    s = SMTP(HOST, 587, timeout=30)
    try:
        s.ehlo("client.example")
        before_tls = s.has_extn("auth")
        s.starttls(context=tls(cert_pem))
        s.ehlo("client.example")
        s.login(user, password)
        refused = s.sendmail(sender, [recipient],
                             "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nhello\r\n"
                             % (sender, recipient, subject))
        return before_tls, refused
    finally:
        s.quit()


def inbound(sender, recipient, subject=None, body="hello"):
    """Port 25 as another mail server uses it: (code, text) of RCPT, and
    with a subject, once RCPT is accepted, (code, text) of the message's
    end of DATA too."""
    s = SMTP(HOST, 25, timeout=60)
    try:
        s.ehlo("other.example")
        s.mail(sender)
        code, text = s.rcpt(recipient)
        result = [(code, text.decode())]
        if code == 250 and subject:
            try:
                code, text = s.data("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\n%s\r\n"
                                    % (sender, recipient, subject, body))
            except smtplib.SMTPDataError as e:
                code, text = e.smtp_code, e.smtp_error
            result.append((code, text.decode()))
        return result
    finally:
        s.quit()


def wait_for_header(user, token):
    """The header of the message to user with token in its subject, once
    it is there (None after DELIVERY_TIMEOUT)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        header = S.call(imap_headers, CERT_PEM, user, PASSWORD, token)
        if header is not None:
            return header
        time.sleep(0.5)
    return None


class RealServerTest(unittest.TestCase):

    def test_steps_come_from_every_document_in_order(self):
        # a document dropped from the README's includes would go untested
        steps = docsteps.steps(os.path.join(TOP, "README.md"), TOP)
        order = []
        for step in steps:
            if not order or order[-1] != step.path:
                order.append(step.path)
        self.assertEqual(tuple(order), DOCUMENTS)

    def test_the_hosts_files_are_untouched(self):
        # the root's make install, /etc/postfix, /etc/dovecot, vmail, ...
        self.assertEqual(snapshot(), HOST_BEFORE)

    def test_module_is_installed_where_dovecot_loads_it(self):
        so = "/usr/lib/dovecot/modules/auth/libauthdb_mariadb.so"
        self.assertEqual(S.run(["test", "-f", so]).returncode, 0, so)
        r = S.run(["doveadm", "auth", "test", DEEPWOOD, PASSWORD])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("passdb: %s auth succeeded" % DEEPWOOD, r.stdout)

    def test_configuration_has_no_warnings(self):
        for cmd in (["doveconf", "-n"], ["postconf", "-n"], ["postfix", "check"]):
            with self.subTest(cmd=cmd):
                r = S.run(cmd)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr, "")
        conf = S.run(["doveconf", "-n"]).stdout
        # 2.3: passdb { ... driver = mariadb }; 2.4: passdb mariadb { }
        for db in ("passdb", "userdb"):
            self.assertRegex(conf, r"(?m)^%s (mariadb \{|\{\n(  .*\n)*?  driver = mariadb$)" % db)
        self.assertNotRegex(conf, r"(?m)driver = pam|^passdb pam")
        # every setting once: doc/postfix/main.cf was set, not appended
        names = [line.split("=", 1)[0].strip()
                 for line in S.read_file("/etc/postfix/main.cf").splitlines()
                 if line.strip() and not line[0].isspace() and not line.startswith("#")]
        self.assertEqual(sorted(n for n in set(names) if names.count(n) > 1), [])

    def test_imap_login_over_starttls(self):
        self.assertEqual(S.call(imap_login, CERT_PEM, DEEPWOOD, PASSWORD), "OK")
        refused = S.call(imap_login_refused, CERT_PEM, DEEPWOOD, "wrong")
        self.assertIn("AUTHENTICATIONFAILED", refused)
        refused = S.call(imap_login_refused, CERT_PEM, "nobody@nahida.net", PASSWORD)
        self.assertIn("AUTHENTICATIONFAILED", refused)

    def test_submission_with_auth_is_signed_and_delivered_through_lmtp(self):
        subject = "realserver " + uuid.uuid4().hex
        before_tls, refused = S.call(submit, CERT_PEM, DEEPWOOD, PASSWORD,
                                     ALIAS, DREAMS, subject)
        self.assertFalse(before_tls, "AUTH offered before STARTTLS")
        self.assertEqual(refused, {})
        header = wait_for_header(DREAMS, subject)
        self.assertIsNotNone(header, "not delivered")
        # signed by rspamd with the key the rspamd step made for nahida.net
        self.assertRegex(header, r"DKIM-Signature: [^\n]*(\n\s[^\n]*)*\bd=nahida\.net;")
        self.assertIn("s=kawaii2309;", header)
        # stored by LMTP in the userdb's home, as vmail
        r = S.run("stat -c %U /var/vmail/nahida.net/1000dreams/Maildir/new/*")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(set(r.stdout.split()), {"vmail"})

    def test_wrong_sender_is_refused(self):
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            S.call(submit, CERT_PEM, DEEPWOOD, PASSWORD, DREAMS, DEEPWOOD, "not mine")

    def test_port_25_takes_mail_for_hosted_addresses_only(self):
        subject = "inbound " + uuid.uuid4().hex
        result = S.call(inbound, OUTSIDER, ALIAS, subject)
        self.assertEqual([code for code, _ in result], [250, 250], result)
        header = wait_for_header(DEEPWOOD, subject)
        self.assertIsNotNone(header, "not delivered")
        # through rspamd: its headers, no signature
        self.assertIn("X-Spamd-Result:", header)
        self.assertNotIn("DKIM-Signature:", header)
        [(code, text)] = S.call(inbound, OUTSIDER, "nobody@nahida.net")
        self.assertEqual(code, 550, text)
        [(code, text)] = S.call(inbound, OUTSIDER, "someone@example.net")
        self.assertEqual(code, 554, text)
        self.assertIn("Relay access denied", text)

    def test_port_25_refuses_a_virus(self):
        # ClamAV as the rspamd step set it up (with the test's signatures)
        result = S.call(inbound, OUTSIDER, DREAMS, "virus " + uuid.uuid4().hex, EICAR)
        self.assertEqual(result[0][0], 250, result)
        self.assertEqual(result[1][0], 554, result)


if __name__ == "__main__":
    unittest.main()
