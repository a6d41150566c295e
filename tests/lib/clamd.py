"""A private ClamAV daemon (clamd) for the tests and the local demo stack.

Everything lives in one directory of its own:

    basedir/clamd.conf   the configuration, rewritten at every start
    basedir/db/          DatabaseDirectory: the stack's own signatures
    basedir/clamd.pid    the PID file (written as root, before clamd
                         becomes the system user clamav)
    basedir/clamd.log    the log

clamd listens on 127.0.0.1:port (TCP, the INSTREAM protocol rspamd's
antivirus module speaks). It is started with "clamd -c basedir/clamd.conf"
and stopped by the PID in its PID file, never by name; nothing under /etc
is read or written (Debian's /etc/clamav/clamd.conf is not used).

No freshclam: this machine cannot download ClamAV's signature databases,
and the tests need a scanner that finds one known thing, not every virus.
The database is one signature of our own, LOCAL_SIGNATURES: the EICAR
anti-virus test string anywhere in a scanned file or in any part of a
message (clamd decodes MIME itself, ScanMail). ClamAV reports it as
"Local.Test.EICAR.UNOFFICIAL" (UNOFFICIAL: not from ClamAV's own signed
databases). A real server runs freshclam instead (doc/rspamd/README.md).
"""

import os
import pwd
import shutil
import socket
import subprocess

from . import proc

# The EICAR test file (https://www.eicar.org): 68 printable characters that
# every virus scanner reports. Kept in two halves so that this file is not
# itself reported by a scanner that reads the checkout.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

# ClamAV's extended signature format (.ndb): name, target type (0 = any
# file), offset (* = anywhere), the bytes in hex.
SIGNATURE_NAME = "Local.Test.EICAR"
LOCAL_SIGNATURES = "%s:0:*:%s\n" % (SIGNATURE_NAME, EICAR.encode().hex())

CONFIG_TEMPLATE = """\
# clamd.conf written by tests/lib/clamd.py: rewritten at every start.
TCPSocket {port}
TCPAddr 127.0.0.1
User clamav
DatabaseDirectory {db_dir}
PidFile {pid_file}
LogFile {log_file}
LogTime yes
Foreground false
ScanMail true
# the database never changes while clamd runs
SelfCheck 0
MaxThreads 4
"""

START_TIMEOUT = 60.0


class ClamdError(RuntimeError):
    """clamd failed to start; the message says why."""


class Clamd(proc.Daemon):
    def __init__(self, basedir, port=None):
        self.dir = os.path.abspath(basedir)
        self.port = port or proc.free_port()
        self.config = os.path.join(self.dir, "clamd.conf")
        self.db_dir = os.path.join(self.dir, "db")
        self.pid_file = os.path.join(self.dir, "clamd.pid")
        self.log_path = os.path.join(self.dir, "clamd.log")

    def address(self):
        """host:port, as rspamd's antivirus module names a server."""
        return "127.0.0.1:%d" % self.port

    def prepare(self):
        try:
            clamav = pwd.getpwnam("clamav")
        except KeyError:
            raise ClamdError("there is no system user clamav: install "
                             "clamav-daemon") from None
        for d in (self.dir, self.db_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        with open(os.path.join(self.db_dir, "local-test.ndb"), "w") as f:
            f.write(LOCAL_SIGNATURES)
        with open(self.config, "w") as f:
            f.write(CONFIG_TEMPLATE.format(
                port=self.port, db_dir=self.db_dir, pid_file=self.pid_file,
                log_file=self.log_path))
        # clamd opens its log after it has become clamav
        if not os.path.exists(self.log_path):
            open(self.log_path, "a").close()
        os.chown(self.log_path, clamav.pw_uid, clamav.pw_gid)

    def start(self, timeout=START_TIMEOUT):
        """Start clamd; returns once it answers PING. At once if it runs."""
        if self.is_running():
            return
        self.prepare()
        clamd = shutil.which("clamd", path=os.pathsep.join(
            (os.environ.get("PATH", ""), "/usr/sbin", "/sbin")))
        if clamd is None:
            raise ClamdError("clamd not found: install clamav-daemon")
        r = subprocess.run([clamd, "-c", self.config], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise ClamdError("clamd failed to start (status %d): %s\n%s" % (
                r.returncode, (r.stdout + r.stderr).strip(), self.log_tail()))
        try:
            proc.wait_for(lambda: self.is_running() and self.ping(), timeout,
                          interval=0.1, what="clamd to answer PING")
        except TimeoutError:
            raise ClamdError("clamd does not answer:\n%s" % self.log_tail()) from None

    def _is_ours(self, pid):
        """A live clamd started with our configuration file."""
        return proc.runs(pid, "clamd", arg=self.config)

    def command(self, command, data=None, timeout=10):
        """Send one clamd command in its z-form (NUL-terminated) and return
        the answer; with data, the command is INSTREAM and data is sent in
        one chunk (length, bytes) followed by the end chunk."""
        with socket.create_connection(("127.0.0.1", self.port), timeout) as s:
            s.sendall(b"z" + command.encode() + b"\0")
            if data is not None:
                s.sendall(len(data).to_bytes(4, "big") + data + bytes(4))
            answer = b""
            while not answer.endswith(b"\0"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        return answer.rstrip(b"\0").decode(errors="replace")

    def ping(self):
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False
