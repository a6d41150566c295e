"""The whole mail path: Postfix SMTP AUTH through Dovecot, the Postfix maps
of sql/postfix, LMTP delivery into the userdb's homes, IMAP.

Covers issue "The whole mail path": submission with STARTTLS and AUTH
PLAIN/LOGIN (smtplib, swaks), no open relay on either port, senders limited
to the addresses they own, delivery to a user and through an alias and its
retrieval over IMAP, unknown recipients refused at RCPT, postmap -q for
every map, the example configurations of doc/ and a database outage as
temporary failures in SMTP."""

import base64
import email
import glob
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import unittest
import uuid

from fixture import PASSWORD, TOP, Servers, wait_for_first_login
from lib import proc
from lib.dovecot import copy_package_config, is_24, make_certificate
from lib.mailclient import IMAP4, tls_context

DEEPWOOD = "deepwood@nahida.net"
DREAMS = "1000dreams@nahida.net"
ALIAS = "alias@nahida.net"
DOC = os.path.join(TOP, "doc")
DOC_MAPS = "/etc/postfix/virtual.d"
DELIVERY_TIMEOUT = 30

S = None


def setUpModule():
    global S
    S = Servers("mail", postfix=True).start()
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


def smtp(port):
    """An SMTP connection to 127.0.0.1:port after EHLO."""
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.example")
    return s


def submission(user=None, password=PASSWORD, mechanism="PLAIN"):
    """A submission connection after STARTTLS and EHLO; logged in as user
    (with mechanism) unless user is None."""
    s = smtp(S.postfix.submission_port)
    s.starttls(context=tls_context(S.dovecot.cert))
    s.ehlo("client.example")
    if user is not None:
        login(s, user, password, mechanism)
    return s


def login(s, user, password, mechanism):
    """AUTH with exactly this mechanism (smtplib.login() picks its own);
    raises SMTPAuthenticationError unless the answer is 235."""
    s.user, s.password = user, password
    if mechanism == "PLAIN":
        code, text = s.auth("PLAIN", s.auth_plain)
    else:
        code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, text)


def envelope(s, sender, recipient):
    """MAIL FROM and RCPT TO; returns the RCPT reply (code, text). Postfix
    delays every rejection to RCPT (smtpd_delay_reject), so a refused
    client or sender shows up there."""
    code, text = s.mail(sender)
    if code != 250:
        return code, text
    return s.rcpt(recipient)


def quit(s):
    try:
        s.quit()
    except (smtplib.SMTPException, OSError):
        s.close()


def message(sender, recipient, token):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: test %s\r\n"
            "Message-ID: <%s@client.example>\r\n\r\nbody %s\r\n"
            % (sender, recipient, token, token, token))


def home(user):
    local, domain = user.split("@")
    return os.path.join(S.dovecot.vmail, domain, local)


def delivered_files(user, token):
    """The files in user's Maildir that contain token."""
    found = []
    for path in glob.glob(os.path.join(home(user), "Maildir", "*", "*")):
        try:
            with open(path, "rb") as f:
                if token.encode() in f.read():
                    found.append(path)
        except OSError:
            pass  # moved from new/ to cur/ meanwhile
    return found


def wait_delivered(user, token):
    try:
        return proc.wait_for(lambda: delivered_files(user, token),
                             DELIVERY_TIMEOUT, interval=0.1,
                             what="delivery to %s" % user)
    except TimeoutError:
        raise AssertionError("not delivered to %s:\n%s\n%s" % (
            user, S.postfix.log_tail(), S.dovecot.log_tail())) from None


def wait_log(log, pattern, timeout=5):
    """Wait until the text log() returns matches pattern: Postfix and
    Dovecot write their logs through a log process, a moment later."""
    regex = re.compile(pattern)
    try:
        return proc.wait_for(lambda: regex.search(log()), timeout, interval=0.05,
                             what="%r in the log" % pattern)
    except TimeoutError:
        raise AssertionError("%r not in the log:\n%s" % (
            pattern, "\n".join(log().splitlines()[-20:]))) from None


def imap_messages(user, token):
    """Log in over IMAP as user and return the INBOX messages whose subject
    contains token, as email.message.Message objects."""
    c = IMAP4("127.0.0.1", S.dovecot.imap_port, timeout=30)
    try:
        c.starttls(ssl_context=tls_context(S.dovecot.cert))
        c.login(user, PASSWORD)
        c.select("INBOX", readonly=True)
        typ, data = c.search(None, "SUBJECT", token)
        messages = []
        for num in data[0].split():
            typ, parts = c.fetch(num, "(RFC822)")
            messages.append(email.message_from_bytes(parts[0][1]))
        return messages
    finally:
        c.logout()


class DeliveryTest(unittest.TestCase):
    def test_mail_to_the_alias_arrives_for_deepwood_over_lmtp_and_imap(self):
        token = uuid.uuid4().hex
        s = smtp(S.postfix.smtp_port)
        try:
            s.sendmail("someone@example.org", [ALIAS],
                       message("someone@example.org", ALIAS, token))
        finally:
            quit(s)
        files = wait_delivered(DEEPWOOD, token)
        # stored by LMTP in the userdb's home, as the userdb's uid and gid
        for path in files:
            st = os.stat(path)
            self.assertEqual((st.st_uid, st.st_gid), (8, 8), path)
        messages = imap_messages(DEEPWOOD, token)
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages[0]["Delivered-To"], DEEPWOOD)
        self.assertEqual(messages[0]["Return-Path"], "<someone@example.org>")
        self.assertEqual(imap_messages(DREAMS, token), [])
        wait_log(S.postfix.log, re.escape("orig_to=<%s>" % ALIAS))

    def test_mail_to_1000dreams_submitted_by_deepwood_arrives(self):
        token = uuid.uuid4().hex
        s = submission(DEEPWOOD)
        try:
            s.sendmail(DEEPWOOD, [DREAMS], message(DEEPWOOD, DREAMS, token))
        finally:
            quit(s)
        wait_delivered(DREAMS, token)
        messages = imap_messages(DREAMS, token)
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages[0]["Delivered-To"], DREAMS)
        self.assertEqual(imap_messages(DEEPWOOD, token), [])

    def test_recipient_in_other_case_lands_in_the_same_mailbox(self):
        token = uuid.uuid4().hex
        s = smtp(S.postfix.smtp_port)
        try:
            s.sendmail("someone@example.org", ["DeepWood@Nahida.NET"],
                       message("someone@example.org", "DeepWood@Nahida.NET", token))
        finally:
            quit(s)
        wait_delivered(DEEPWOOD, token)
        self.assertEqual(len(imap_messages(DEEPWOOD, token)), 1)
        self.assertEqual(os.listdir(os.path.join(S.dovecot.vmail, "nahida.net")).count(
            "DeepWood"), 0)

    def test_unknown_address_at_a_hosted_domain_is_refused_at_rcpt(self):
        s = smtp(S.postfix.smtp_port)
        try:
            code, text = envelope(s, "someone@example.org", "nobody@nahida.net")
        finally:
            quit(s)
        self.assertEqual(code, 550, text)
        self.assertIn(b"5.1.1", text)
        # a logged-in sender gets the same answer
        s = submission(DEEPWOOD)
        try:
            code, text = envelope(s, DEEPWOOD, "nobody@nahida.net")
        finally:
            quit(s)
        self.assertEqual(code, 550, text)


def doc_lines(name):
    """The lines of doc/postfix/NAME without comments and empty lines, as
    doc/postfix/README.md gives them to postconf."""
    with open(os.path.join(DOC, "postfix", name)) as f:
        return [line for line in f.read().splitlines()
                if line and not line.startswith("#")]


def dovecot_doc_config(etc):
    """Debian's default Dovecot configuration as its packages ship it, with
    doc/dovecot added as doc/dovecot/README.md says, all paths moved into
    etc: (etc, doveconf -n's CompletedProcess)."""
    copy_package_config(etc)
    for name in ("auth-mariadb.conf.ext", "99-mariadb-postfix.conf"):
        shutil.copy(os.path.join(DOC, "dovecot", name), os.path.join(etc, "conf.d"))
    shutil.copy(os.path.join(DOC, "dovecot", "dovecot-mariadb.conf.ext"), etc)
    auth_conf = os.path.join(etc, "conf.d", "10-auth.conf")
    with open(auth_conf) as f:
        text = f.read()
    if "\n!include auth-system.conf.ext" not in text:
        raise AssertionError("Debian's 10-auth.conf has no !include auth-system.conf.ext")
    with open(auth_conf, "w") as f:
        f.write(text.replace("\n!include auth-system.conf.ext",
                             "\n!include auth-mariadb.conf.ext"))
    for path in glob.glob(os.path.join(etc, "**", "*.conf*"), recursive=True):
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("/etc/dovecot/", etc + "/"))
    os.makedirs(os.path.join(etc, "private"), exist_ok=True)
    cert, key = make_certificate(os.path.join(etc, "private"))
    os.rename(cert, os.path.join(etc, "private", "dovecot.pem"))
    os.rename(key, os.path.join(etc, "private", "dovecot.key"))
    return etc, subprocess.run(["doveconf", "-n", "-c", os.path.join(etc, "dovecot.conf")],
                               capture_output=True, text=True)


class DocsTest(unittest.TestCase):
    """The example configurations of doc/ are valid, and the mail path they
    describe is the one these tests run."""

    # the settings that make the mail path; the stack differs from doc/ in
    # paths and ports, and in smtpd_relay_restrictions (no permit_mynetworks)
    SAME_SETTINGS = (
        "smtpd_tls_security_level", "smtpd_tls_auth_only", "smtpd_sasl_type",
        "smtpd_sasl_path", "smtpd_sasl_auth_enable", "virtual_transport",
        "virtual_alias_domains", "mua_client_restrictions",
        "mua_sender_restrictions", "mua_relay_restrictions")

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mariadb-auth-doc-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def postfix_doc_config(self):
        """A Postfix config directory: Debian's defaults (as the postfix
        package ships them) with doc/postfix set as doc/postfix/README.md
        does (postconf -e, postconf -M), and the maps of sql/postfix
        installed as sql/postfix/README says (into the copy: postconf opens
        them to check their settings)."""
        d = os.path.join(self.tmp, "postfix")
        maps = os.path.join(d, "virtual.d")
        os.makedirs(maps, exist_ok=True)
        for name in ("domains", "mailboxes", "aliases", "sender-login"):
            shutil.copy(S.postfix.map_file(name), maps)
        shutil.copy("/usr/share/postfix/main.cf.debian", os.path.join(d, "main.cf"))
        shutil.copy("/usr/share/postfix/master.cf.dist", os.path.join(d, "master.cf"))
        settings = [line.replace(DOC_MAPS, maps) for line in doc_lines("main.cf")]
        self.postconf(d, "-e", *settings)
        self.postconf(d, "-M", "submission/inet=" + " ".join(doc_lines("master.cf")))
        return d, maps

    def test_postfix_main_cf_is_one_setting_per_line(self):
        # doc/postfix/README.md gives each line to postconf -e on its own
        for line in doc_lines("main.cf"):
            with self.subTest(line=line):
                self.assertRegex(line, r"^[a-z0-9_]+ =( \S.*)?$")

    def postconf(self, config_dir, *args):
        r = subprocess.run(["postconf", "-c", config_dir, *args],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", "postconf warns")
        return r.stdout

    def test_postfix_examples_are_valid_and_match_the_tested_stack(self):
        doc, maps = self.postfix_doc_config()
        self.postconf(doc, "-n")
        for name in self.SAME_SETTINGS:
            with self.subTest(setting=name):
                self.assertEqual(self.postconf(doc, "-h", name),
                                 self.postconf(S.postfix.config_dir, "-h", name))
        # the maps are the files of sql/postfix, through proxymap
        for name, parameter in (("domains", "virtual_mailbox_domains"),
                                ("mailboxes", "virtual_mailbox_maps"),
                                ("aliases", "virtual_alias_maps"),
                                ("sender-login", "smtpd_sender_login_maps")):
            self.assertEqual(self.postconf(doc, "-h", parameter).strip(),
                             "proxy:mysql:%s/%s.cf" % (maps, name))

        # the submission service: same -o settings in doc/ and in the stack
        def overrides(config_dir, service):
            out = self.postconf(config_dir, "-P", service + "/inet")
            return sorted(line.split("/", 2)[2] for line in out.splitlines())
        stack = overrides(S.postfix.config_dir,
                          "127.0.0.1:%d" % S.postfix.submission_port)
        self.assertIn("smtpd_tls_security_level = encrypt", stack)
        self.assertEqual(overrides(doc, "submission"), stack)

    @unittest.skipIf(is_24(), "Dovecot 2.3's examples (doc/dovecot); doc/dovecot/24 has "
                     "only auth-mariadb.conf.ext so far, test_settings24 checks "
                     "the minimal 2.4 configuration")
    def test_dovecot_examples_are_valid(self):
        etc, r = dovecot_doc_config(os.path.join(self.tmp, "dovecot"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", "doveconf warns")
        conf = r.stdout
        self.assertIn("driver = mariadb", conf)
        self.assertNotIn("driver = pam", conf)
        self.assertIn("args = %s/dovecot-mariadb.conf.ext" % etc, conf)
        self.assertIn("unix_listener /var/spool/postfix/private/auth {", conf)
        self.assertIn("unix_listener /var/spool/postfix/private/dovecot-lmtp {", conf)
        self.assertIn("ssl = required", conf)

    @unittest.skipIf(is_24(), "Dovecot 2.3's examples (doc/dovecot); doc/dovecot/24 has "
                     "only auth-mariadb.conf.ext so far, test_settings24 checks "
                     "the minimal 2.4 configuration")
    def test_dovecot_examples_check_ignores_the_hosts_etc(self):
        # /etc/dovecot as the README's real-server steps leave it, seen
        # only by a child in a mount namespace of its own: the check above
        # must give the same configuration (it failed here when it copied
        # /etc/dovecot)
        changed = os.path.join(self.tmp, "etc-dovecot")
        shutil.copytree("/etc/dovecot", changed, symlinks=True)
        auth_conf = os.path.join(changed, "conf.d", "10-auth.conf")
        with open(auth_conf) as f:
            text = f.read()
        with open(auth_conf, "w") as f:
            f.write(text.replace("\n!include auth-system.conf.ext",
                                 "\n!include auth-mariadb.conf.ext"))
        with open(os.path.join(changed, "conf.d", "99-local.conf"), "w") as f:
            f.write("auth_mechanisms = plain login cram-md5\n")

        def in_child():
            proc.unshare_mounts()
            subprocess.run(["mount", "--bind", changed, "/etc/dovecot"], check=True)
            with open("/etc/dovecot/conf.d/10-auth.conf") as f:
                assert "\n!include auth-mariadb.conf.ext" in f.read()
            etc, r = dovecot_doc_config(os.path.join(self.tmp, "dovecot-child"))
            return etc, r.returncode, r.stdout, r.stderr
        etc, returncode, out, err = proc.call_in_child(in_child)
        self.assertEqual((returncode, err), (0, ""))
        _, r = dovecot_doc_config(os.path.join(self.tmp, "dovecot-parent"))
        self.assertEqual(out.replace(etc, "ETC"),
                         r.stdout.replace(os.path.join(self.tmp, "dovecot-parent"), "ETC"))
        self.assertNotIn("cram-md5", out)

    def test_stack_dovecot_listeners_are_the_documented_ones(self):
        with open(os.path.join(DOC, "dovecot", "99-mariadb-postfix.conf")) as f:
            doc = " ".join(f.read().split())
        for listener in (S.postfix.dovecot_auth_listener(),
                         S.postfix.dovecot_lmtp_listener()):
            # the block without its comment line, at the documented path
            block = listener.split("\n", 1)[1].replace(
                S.postfix.queue_dir, "/var/spool/postfix")
            self.assertIn(" ".join(block.split()), doc)


class MapsTest(unittest.TestCase):
    FOUND = (
        ("domains", "nahida.net", "nahida.net"),
        ("mailboxes", DEEPWOOD, "nahida.net/deepwood/"),
        ("mailboxes", DREAMS, "nahida.net/1000dreams/"),
        ("aliases", ALIAS, DEEPWOOD),
        ("sender-login", DEEPWOOD, DEEPWOOD),
        ("sender-login", DREAMS, DREAMS),
        ("sender-login", ALIAS, DEEPWOOD),
    )
    NOT_FOUND = (
        ("domains", "example.org"),
        ("domains", DEEPWOOD),
        ("mailboxes", "nobody@nahida.net"),
        ("mailboxes", "deepwood@example.org"),
        ("mailboxes", "nahida.net"),
        ("aliases", DEEPWOOD),
        ("aliases", "@nahida.net"),
        ("sender-login", "nobody@nahida.net"),
        ("sender-login", "someone@example.org"),
    )

    def test_postmap_answers_every_map(self):
        for proxy in (False, True):
            for name, key, value in self.FOUND:
                with self.subTest(map=name, key=key, proxy=proxy):
                    r = S.postfix.postmap_query(name, key, proxy=proxy)
                    self.assertEqual((r.returncode, r.stdout, r.stderr),
                                     (0, value + "\n", ""))

    def test_postmap_finds_nothing_for_other_keys(self):
        for proxy in (False, True):
            for name, key in self.NOT_FOUND:
                with self.subTest(map=name, key=key, proxy=proxy):
                    r = S.postfix.postmap_query(name, key, proxy=proxy)
                    self.assertEqual((r.returncode, r.stdout, r.stderr), (1, "", ""))

    def test_map_files_are_filled_in_and_not_world_readable(self):
        postfix_gid = int(subprocess.run(["getent", "group", "postfix"], capture_output=True,
                                         text=True).stdout.split(":")[2])
        for name in ("domains", "mailboxes", "aliases", "sender-login"):
            path = S.postfix.map_file(name)
            st = os.stat(path)
            self.assertEqual((st.st_mode & 0o777, st.st_uid, st.st_gid),
                             (0o640, 0, postfix_gid), path)
            with open(path) as f:
                text = f.read()
            self.assertNotIn("@MAIL_USER_PASSWORD@", text)
            self.assertNotIn("@DB_HOSTS@", text)


class RelayTest(unittest.TestCase):
    def test_smtp_port_refuses_to_relay_for_unauthenticated_clients(self):
        for tls in (False, True):
            for sender in ("someone@example.org", DEEPWOOD):
                with self.subTest(tls=tls, sender=sender):
                    s = smtp(S.postfix.smtp_port)
                    try:
                        if tls:
                            s.starttls(context=tls_context(S.dovecot.cert))
                            s.ehlo("client.example")
                        code, text = envelope(s, sender, "victim@example.com")
                    finally:
                        quit(s)
                    self.assertEqual(code, 554, text)
                    self.assertIn(b"Relay access denied", text)

    def test_submission_port_refuses_unauthenticated_clients(self):
        for recipient in ("victim@example.com", DREAMS):
            with self.subTest(recipient=recipient):
                s = submission()
                try:
                    code, text = envelope(s, "someone@example.org", recipient)
                finally:
                    quit(s)
                self.assertEqual(code, 554, text)
                self.assertIn(b"Access denied", text)

    def test_authenticated_client_passes_the_relay_check(self):
        # the counterpart of the refusals above: with a login the relay
        # restrictions let the recipient through, and only the stack's
        # default_transport (error:, nothing leaves this machine) refuses it
        s = submission(DEEPWOOD)
        try:
            code, text = envelope(s, DEEPWOOD, "friend@example.com")
        finally:
            quit(s)
        self.assertEqual(code, 550, text)
        self.assertIn(b"does not send mail to other hosts", text)


class SenderTest(unittest.TestCase):
    def assertSender(self, user, sender, expected):
        s = submission(user)
        try:
            code, text = envelope(s, sender, DREAMS)
        finally:
            quit(s)
        self.assertEqual(code, expected, text)
        return text

    def test_1000dreams_cannot_send_as_deepwood(self):
        text = self.assertSender(DREAMS, DEEPWOOD, 553)
        self.assertIn(b"not owned by user %s" % DREAMS.encode(), text)

    def test_1000dreams_cannot_send_as_the_alias_of_deepwood(self):
        self.assertSender(DREAMS, ALIAS, 553)

    def test_deepwood_can_send_as_alias_and_as_self(self):
        self.assertSender(DEEPWOOD, ALIAS, 250)
        self.assertSender(DEEPWOOD, DEEPWOOD, 250)
        self.assertSender(DREAMS, DREAMS, 250)

    def test_addresses_nobody_owns_are_refused(self):
        for sender in ("nobody@nahida.net", "someone@example.org"):
            with self.subTest(sender=sender):
                self.assertSender(DEEPWOOD, sender, 553)

    def test_login_in_other_case_owns_the_same_addresses(self):
        # Dovecot answers with the canonical name, which Postfix compares
        s = submission("DeepWood@NAHIDA.net")
        try:
            self.assertEqual(envelope(s, ALIAS, DREAMS)[0], 250)
        finally:
            quit(s)


class SubmissionTest(unittest.TestCase):
    def test_ehlo_before_starttls_offers_starttls_but_no_auth(self):
        s = smtp(S.postfix.submission_port)
        try:
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"), s.esmtp_features)
        finally:
            quit(s)

    def test_auth_before_starttls_is_refused(self):
        creds = base64.b64encode(("\0%s\0%s" % (DEEPWOOD, PASSWORD)).encode()).decode()
        s = smtp(S.postfix.submission_port)
        try:
            code, text = s.docmd("AUTH", "PLAIN " + creds)
        finally:
            quit(s)
        self.assertEqual(code, 530, text)

    def test_auth_plain_and_login_succeed_after_starttls(self):
        for mechanism in ("PLAIN", "LOGIN"):
            for user in (DEEPWOOD, DREAMS):
                with self.subTest(mechanism=mechanism, user=user):
                    s = submission()
                    try:
                        self.assertEqual(sorted(s.esmtp_features["auth"].split()),
                                         ["LOGIN", "PLAIN"])
                        login(s, user, PASSWORD, mechanism)
                    finally:
                        quit(s)
        # Postfix asked Dovecot (the log has auth_debug)
        for mechanism in ("PLAIN", "LOGIN"):
            wait_log(S.dovecot.log, r"client in: AUTH\t\d+\t%s\tservice=smtp\t" % mechanism)

    def test_wrong_password_or_unknown_user_fails_with_535(self):
        for mechanism in ("PLAIN", "LOGIN"):
            for user, password in ((DEEPWOOD, "test1235"), (DEEPWOOD, ""),
                                   ("nobody@nahida.net", PASSWORD),
                                   ("deepwood@example.org", PASSWORD),
                                   ("deepwood", PASSWORD)):
                with self.subTest(mechanism=mechanism, user=user, password=password):
                    s = submission()
                    try:
                        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                            login(s, user, password, mechanism)
                    finally:
                        quit(s)
                    self.assertEqual(cm.exception.smtp_code, 535, cm.exception.smtp_error)

    def test_smtp_port_offers_no_auth_even_with_tls(self):
        s = smtp(S.postfix.smtp_port)
        try:
            s.starttls(context=tls_context(S.dovecot.cert))
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("auth"), s.esmtp_features)
        finally:
            quit(s)

    def test_swaks_submits_with_auth_login(self):
        token = uuid.uuid4().hex
        r = subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port", str(S.postfix.submission_port),
             "--tls", "--auth", "LOGIN", "--auth-user", DREAMS, "--auth-password", PASSWORD,
             "--from", DREAMS, "--to", ALIAS, "--header", "Subject: swaks %s" % token,
             "--timeout", "30"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("235 2.7.0 Authentication successful", r.stdout)
        wait_delivered(DEEPWOOD, token)


class DatabaseOutageTest(unittest.TestCase):
    """Written last (run.py keeps that order): Postfix's mysql maps mark a
    failed server dead for retry_interval (60 s), so nothing may need them
    after."""

    def test_database_down_is_a_temporary_failure_in_smtp(self):
        S.db.stop()
        try:
            # an unknown recipient is 550 and bounces: a failed lookup must
            # be 451, so that the sending server tries again later
            s = smtp(S.postfix.smtp_port)
            try:
                code, text = envelope(s, "someone@example.org", DEEPWOOD)
            finally:
                quit(s)
            self.assertEqual(code, 451, text)
            self.assertIn(b"4.3.0", text)

            # Dovecot answers SMTP AUTH with a temporary failure. Postfix
            # 3.7 reports every Dovecot FAIL as 535, code=temp_fail or not
            # (xsasl_dovecot_server.c); only a lost auth socket gives 454.
            start = len(S.dovecot.log())
            s = submission()
            try:
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    login(s, DEEPWOOD, PASSWORD, "PLAIN")
            finally:
                quit(s)
            self.assertIn(cm.exception.smtp_code, (454, 535), cm.exception.smtp_error)
            wait_log(lambda: S.dovecot.log()[start:],
                     r"client passdb out: FAIL\t\d+\t.*code=temp_fail")
            self.assertNotIn("Password mismatch", S.dovecot.log()[start:])
        finally:
            S.db.start()
