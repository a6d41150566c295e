"""tests/local-stack, the README's first command: up, use, down, up again.

Runs the command as a user would, in a temporary directory and on a free
port base, so that it never meets a stack the user runs on the defaults.
A mail client's view of the result: IMAP login and SMTP submission with the
sample users, a message that arrives DKIM-signed (checked with the printed
dkim-verify command) and is still there after down and up, a virus
refused, a DKIM record printed for every domain of the database, also for
one added between two ups. Nothing under /etc may change."""

import atexit
import os
import random
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import unittest
import uuid

from fixture import PASSWORD, TOP
from lib import proc
from lib.clamd import EICAR
from lib.hostfiles import snapshot
from lib.mailclient import IMAP4, find_message, inbox_subjects, tls_context

STACK = os.path.join(TOP, "tests", "local-stack")
DEEPWOOD = "deepwood@nahida.net"
DREAMS = "1000dreams@nahida.net"
OFFSETS = {"smtp": 25, "imap": 143, "submission": 587, "mariadb": 3306,
           "clamd": 3310, "rspamd": 11332}
SERVERS = 5
RECORD = '%s._domainkey.%s. IN TXT ( "v=DKIM1; k=rsa; "'

DIR = None
PORTS = None
ETC_BEFORE = None
TOKEN = uuid.uuid4().hex


def free_port_base():
    for _ in range(100):
        base = random.randrange(20000, 65535 - max(OFFSETS.values()))
        if all(port_free(base + offset) for offset in OFFSETS.values()):
            return base
    raise RuntimeError("no free port base found")


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stack(command, *args, timeout=400, input=None):
    return subprocess.run([sys.executable, STACK, command, "--dir", DIR, *args],
                          capture_output=True, text=True, timeout=timeout, input=input)


def cleanup():
    if DIR is None:
        return
    try:
        stack("down")
    except Exception as e:  # keep cleaning up
        print("cleanup: %s" % e, file=sys.stderr)
    if os.environ.get("KEEP_TEST_DIRS"):
        print("kept %s" % DIR, file=sys.stderr)
    else:
        shutil.rmtree(DIR, ignore_errors=True)


def setUpModule():
    global DIR, PORTS, ETC_BEFORE
    ETC_BEFORE = snapshot()
    DIR = tempfile.mkdtemp(prefix="mariadb-auth-stack-")
    atexit.register(cleanup)
    base = free_port_base()
    PORTS = {name: base + offset for name, offset in OFFSETS.items()}
    PORTS["base"] = base


def tearDownModule():
    cleanup()
    atexit.unregister(cleanup)


def cert():
    """The certificate the stack's Dovecot and Postfix present."""
    return os.path.join(DIR, "dovecot", "cert.pem")


def imap_subjects(user):
    c = IMAP4("127.0.0.1", PORTS["imap"], timeout=30)
    try:
        c.starttls(ssl_context=tls_context(cert()))
        c.login(user, PASSWORD)
        return inbox_subjects(c)
    finally:
        c.logout()


def has_token(user):
    return any(TOKEN in s for s in imap_subjects(user))


def imap_message(user, token):
    """The message in user's INBOX whose subject has token, as bytes."""
    c = IMAP4("127.0.0.1", PORTS["imap"], timeout=30)
    try:
        c.starttls(ssl_context=tls_context(cert()))
        c.login(user, PASSWORD)
        return find_message(c, token)
    finally:
        c.logout()


def nahida_record():
    """nahida.net's DNS record, as the stack keeps it next to the key."""
    with open(os.path.join(DIR, "rspamd", "dkim", "nahida.net.kawaii2309.txt")) as f:
        return f.read()


def sql(statement):
    r = subprocess.run(["mariadb", "--no-defaults", "--socket=" + os.path.join(
        DIR, "mariadb", "mysqld.sock"), "mail_server", "-e", statement],
        capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)


def pids():
    """The PIDs in the servers' PID files."""
    files = {"mariadb": "mariadb/mysqld.pid", "dovecot": "dovecot/run/master.pid",
             "postfix": "postfix/spool/pid/master.pid", "clamd": "clamd/clamd.pid",
             "rspamd": "rspamd/run/rspamd.pid"}
    return {name: proc.read_pid(os.path.join(DIR, path)) for name, path in files.items()}


class StackTest(unittest.TestCase):
    """The steps run in the order they are written (run.py), each on the
    state the previous one left."""

    def assertUp(self, r):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name in OFFSETS:
            self.assertIn("127.0.0.1:%d" % PORTS[name], r.stdout)
        for log in ("postfix/postfix.log", "dovecot/dovecot.log", "mariadb/mysqld.log",
                    "rspamd/rspamd.log", "clamd/clamd.log"):
            path = os.path.join(DIR, log)
            self.assertIn(path, r.stdout)
            self.assertTrue(os.path.exists(path), path)
        self.assertIn("swaks --server 127.0.0.1:%d --tls" % PORTS["submission"], r.stdout)
        self.assertIn("| %s dkim-verify --dir %s" % (STACK, DIR), r.stdout)
        self.assertIn("%s doveadm --dir %s mariadb user list nahida.net" % (STACK, DIR),
                      r.stdout)
        self.assertIn(RECORD % ("kawaii2309", "nahida.net"), r.stdout)
        for name, pid in pids().items():
            self.assertTrue(pid and proc.pid_alive(pid), name)

    def assertAllDown(self):
        for name, pid in pids().items():
            self.assertFalse(pid and proc.pid_alive(pid), "%s still runs" % name)
        for name in OFFSETS:
            self.assertTrue(port_free(PORTS[name]), "port %d still in use" % PORTS[name])

    def test_1_up_starts_every_server_and_says_how_to_use_it(self):
        r = stack("up", "--port-base", str(PORTS["base"]))
        self.assertUp(r)
        r = stack("status")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count(" running "), SERVERS, r.stdout)

    def test_2_a_mail_client_logs_in_submits_and_reads(self):
        self.assertEqual(imap_subjects(DEEPWOOD), [])  # logs in, empty INBOX
        s = smtplib.SMTP("127.0.0.1", PORTS["submission"], timeout=30)
        try:
            s.starttls(context=tls_context(cert()))
            s.login(DEEPWOOD, PASSWORD)
            s.sendmail("alias@nahida.net", [DREAMS],
                       "From: alias@nahida.net\r\nTo: %s\r\nSubject: stack %s\r\n\r\nhello\r\n"
                       % (DREAMS, TOKEN))
        finally:
            s.quit()
        proc.wait_for(lambda: has_token(DREAMS), 30, interval=0.2,
                      what="the message in 1000dreams' INBOX")
        # signed, and the printed check says so; a changed copy fails it
        data = imap_message(DREAMS, TOKEN)
        r = stack("dkim-verify", input=data.decode())
        self.assertEqual((r.returncode, r.stdout),
                         (0, "DKIM-Signature d=nahida.net s=kawaii2309: ok\nverified\n"),
                         r.stderr)
        r = stack("dkim-verify", input=data.decode().replace("hello", "Hello"))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        # a virus is refused
        s = smtplib.SMTP("127.0.0.1", PORTS["smtp"], timeout=30)
        try:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("someone@example.org", [DREAMS], "Subject: virus\r\n\r\n%s\r\n"
                           % EICAR)
        finally:
            s.quit()
        self.assertEqual(cm.exception.smtp_code, 554)
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            s = smtplib.SMTP("127.0.0.1", PORTS["submission"], timeout=30)
            try:
                s.starttls(context=tls_context(cert()))
                s.login(DEEPWOOD, "wrong")
            finally:
                s.quit()

    def test_2b_the_printed_admin_command_works(self):
        r = stack("doveadm", "mariadb", "user", "list", "nahida.net")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(line.split()[0] for line in r.stdout.splitlines()[1:]),
                         [DREAMS, DEEPWOOD])
        # a user made with it logs in
        r = stack("doveadm", "mariadb", "user", "add", "stack@nahida.net",
                  input=PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(imap_subjects("stack@nahida.net"), [])

    def test_3_up_again_changes_nothing(self):
        before = pids()
        r = stack("up")
        self.assertUp(r)
        self.assertEqual(pids(), before)
        self.assertTrue(has_token(DREAMS))

    def test_4_down_stops_everything_and_keeps_the_data(self):
        r = stack("down")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertAllDown()
        r = stack("status")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count(" stopped "), SERVERS, r.stdout)
        self.assertTrue(os.path.isdir(os.path.join(DIR, "mariadb", "data")))
        r = stack("down")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_5_up_refuses_a_port_in_use_and_starts_nothing(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
            busy.bind(("127.0.0.1", PORTS["submission"]))
            busy.listen()
            r = stack("up")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("port %d" % PORTS["submission"], r.stderr)
        self.assertAllDown()

    def test_6_up_again_continues_with_the_same_data(self):
        first_record = nahida_record()
        r = stack("up")
        self.assertUp(r)
        self.assertTrue(has_token(DREAMS))
        # the same key as before
        self.assertEqual(stack("dkim-verify", input=imap_message(DREAMS, TOKEN).decode())
                         .returncode, 0)
        # a domain added to the database gets a key and a record at the next up
        self.assertNotIn(RECORD % ("kawaii2309", "example.net"), r.stdout)
        sql("INSERT INTO domains (domain) VALUES ('example.net')")
        r = stack("up")
        self.assertUp(r)
        self.assertIn(RECORD % ("kawaii2309", "example.net"), r.stdout)
        # nahida.net keeps its key: the record printed is the first one
        self.assertEqual(nahida_record(), first_record)
        self.assertIn(first_record, r.stdout)
        r = stack("down")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertAllDown()

    def test_7_nothing_under_etc_changed(self):
        self.assertEqual(snapshot(), ETC_BEFORE)
