"""A private rspamd for the tests and the local demo stack.

Debian's configuration in /etc/rspamd is used as it is, read-only; what
rspamd's own variables point at is moved into one directory of its own:

    basedir/etc/          LOCAL_CONFDIR: local.d/ and override.d/, rewritten
                          at every start
    basedir/db/           DBDIR: rspamd's caches (hyperscan databases,
                          symbol cache, control socket), kept across starts
    basedir/run/          RUNDIR: rspamd.pid
    basedir/dkim/         the DKIM keys: DOMAIN.SELECTOR.key (private, mode
                          0640 root:_rspamd) and DOMAIN.SELECTOR.txt (the DNS
                          record to publish), made by rspamadm dkim_keygen
    basedir/rspamd.log    LOGDIR's log file

The files in local.d/ are the real-server examples of doc/rspamd/local.d,
with their paths and addresses replaced by the stack's (DOC_REPLACEMENTS),
plus what only a private instance on 127.0.0.1 needs (STACK_FILES): the
proxy worker scans by itself (self_scan) and the normal and controller
workers are off, so that the one port is the milter; DNS goes to a port on
the loopback where no DNS server listens, so that nothing (RBLs, SPF, the
map updates from rspamd.com) leaves this machine; no fuzzy hash servers;
spam headers also for mail from local addresses, which every client of the
stack is.

The server is started as root with "rspamd -c /etc/rspamd/rspamd.conf
--var=LOCAL_CONFDIR=... -u _rspamd -g _rspamd" (its workers run as the
system user _rspamd of the rspamd package) and stopped by the PID in
run/rspamd.pid, never by name. Nothing under /etc is written.

The first start in a new directory compiles rspamd's hyperscan databases
(about 30 s of CPU, most of it the list of top-level domains for URL
detection) before the server answers; later starts read them from db/.
"""

import os
import pwd
import re
import shutil
import socket
import subprocess

from . import proc

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_LOCAL_D = os.path.join(TOP, "doc", "rspamd", "local.d")
SYSTEM_CONFIG = "/etc/rspamd/rspamd.conf"

# The guide's selector (rspamadm dkim_keygen ... -s kawaii2309)
DEFAULT_SELECTOR = "kawaii2309"
DKIM_BITS = 2048

# In the doc files: the real server's values that the stack replaces.
DOC_PROXY_SOCKET = 'bind_socket = "127.0.0.1:11332";'
DOC_CLAMD_SERVER = 'servers = "/run/clamav/clamd.ctl";'
DOC_DKIM_PATH = 'path = "/var/lib/rspamd/dkim/$domain.$selector.key";'
DOC_DKIM_SELECTOR = 'selector = "kawaii2309";'

# What only the private instance needs, by file; appended to the doc file
# of the same name where there is one.
STACK_FILES = {
    "local.d/worker-proxy.inc": """
# stack: scan in the proxy itself, the normal worker is off (override.d)
upstream "local" {
  default = yes;
  self_scan = yes;
}
""",
    "override.d/worker-normal.inc": "enabled = false;\n",
    "override.d/worker-controller.inc": "enabled = false;\n",
    "local.d/fuzzy_check.conf": """\
# stack: no queries to rspamd.com's fuzzy hash servers
enabled = false;
""",
    "local.d/options.inc": """
# stack: DNS queries go to a UDP port on the loopback where nothing listens
# (rspamd's TCP port): every lookup fails at once and nothing is sent to
# another host. Mail of the stack has no DNS to check anyway.
dns {
  nameserver = ["127.0.0.1:@PORT@"];
  timeout = 0.5s;
  retransmits = 1;
}
""",
    "local.d/milter_headers.conf": """
# stack: every client is on 127.0.0.1, a local address; still add headers
skip_local = false;
""",
    "local.d/logging.inc": 'level = "info";\n',
}

START_TIMEOUT = 300.0  # the first start compiles hyperscan databases
COMMAND_TIMEOUT = 60.0


class RspamdError(RuntimeError):
    """rspamd or rspamadm failed; the message says why."""


def _program(name):
    found = shutil.which(name)
    if found is None:
        raise RspamdError("%s not found: install rspamd" % name)
    return found


def _rspamd_ids():
    try:
        user = pwd.getpwnam("_rspamd")
    except KeyError:
        raise RspamdError("there is no system user _rspamd: install rspamd") from None
    return user.pw_uid, user.pw_gid


def check_domain(domain):
    """A domain name from the database becomes part of a file name: allow
    only what a host name may hold."""
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+",
                        domain) or len(domain) > 253:
        raise RspamdError("not a domain name: %r" % domain)
    return domain


class Rspamd(proc.Daemon):
    """One private rspamd (see the module documentation).

    port: the proxy worker's milter port (default: a free one);
    clamd_address: host:port of the clamd that antivirus asks;
    selector: the DKIM selector of every key.
    """

    def __init__(self, basedir, clamd_address, port=None, selector=DEFAULT_SELECTOR):
        self.dir = os.path.abspath(basedir)
        self.port = port or proc.free_port()
        self.clamd_address = clamd_address
        self.selector = selector
        self.etc = os.path.join(self.dir, "etc")
        self.db_dir = os.path.join(self.dir, "db")
        self.run_dir = os.path.join(self.dir, "run")
        self.dkim_dir = os.path.join(self.dir, "dkim")
        self.log_path = os.path.join(self.dir, "rspamd.log")
        self.pid_file = os.path.join(self.run_dir, "rspamd.pid")

    def milter(self):
        """The value for Postfix's smtpd_milters."""
        return "inet:127.0.0.1:%d" % self.port

    def variables(self):
        """rspamd's --var options for this instance."""
        return ["--var=LOCAL_CONFDIR=" + self.etc, "--var=DBDIR=" + self.db_dir,
                "--var=RUNDIR=" + self.run_dir, "--var=LOGDIR=" + self.dir]

    # --- configuration ---

    def config_files(self):
        """relative path -> text of every file in etc/."""
        replacements = {
            DOC_PROXY_SOCKET: 'bind_socket = "127.0.0.1:%d";' % self.port,
            DOC_CLAMD_SERVER: 'servers = "%s";' % self.clamd_address,
            DOC_DKIM_PATH: 'path = "%s/$domain.$selector.key";' % self.dkim_dir,
            DOC_DKIM_SELECTOR: 'selector = "%s";' % self.selector,
        }
        files = {}
        for name in sorted(os.listdir(DOC_LOCAL_D)):
            with open(os.path.join(DOC_LOCAL_D, name), encoding="utf-8") as f:
                text = f.read()
            files["local.d/" + name] = ("# written by tests/lib/rspamd.py from "
                                        "doc/rspamd/local.d/%s\n" % name + text)
        for old, new in replacements.items():
            hits = [name for name, text in files.items() if old in text]
            if len(hits) != 1:
                raise RspamdError("doc/rspamd/local.d: %r should be in exactly one "
                                  "file, is in %s" % (old, hits or "none"))
            files[hits[0]] = files[hits[0]].replace(old, new)
        for name, text in STACK_FILES.items():
            files[name] = files.get(name, "") + text.replace("@PORT@", str(self.port))
        return files

    def prepare(self):
        uid, gid = _rspamd_ids()
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        for d in (self.db_dir, self.run_dir):
            os.makedirs(d, exist_ok=True)
            os.chown(d, uid, gid)
        self.prepare_dkim_dir()
        for sub in ("local.d", "override.d"):
            d = os.path.join(self.etc, sub)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        for name, text in self.config_files().items():
            with open(os.path.join(self.etc, name), "w", encoding="utf-8") as f:
                f.write(text)

    # --- DKIM keys ---

    def key_path(self, domain):
        return os.path.join(self.dkim_dir, "%s.%s.key" % (domain, self.selector))

    def record_path(self, domain):
        return os.path.join(self.dkim_dir, "%s.%s.txt" % (domain, self.selector))

    def make_dkim_keys(self, domains):
        """Make a key for every domain that has none yet (rspamadm
        dkim_keygen, as the guide does) and return {domain: DNS record in
        zone-file form} for all of them."""
        self.prepare_dkim_dir()
        _, gid = _rspamd_ids()
        records = {}
        for domain in domains:
            domain = check_domain(domain.strip().lower())
            key, record = self.key_path(domain), self.record_path(domain)
            if not (os.path.exists(key) and os.path.exists(record)):
                tmp = key + ".new"
                if os.path.exists(tmp):
                    os.unlink(tmp)
                r = subprocess.run(
                    [_program("rspamadm"), "dkim_keygen", "-b", str(DKIM_BITS),
                     "-d", domain, "-s", self.selector, "-k", tmp],
                    capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
                if r.returncode != 0 or not r.stdout.startswith(self.selector + "._domainkey "):
                    raise RspamdError("rspamadm dkim_keygen for %s failed: %s" % (
                        domain, (r.stdout + r.stderr).strip()))
                # rspamadm names the record relative to the zone: make it
                # absolute, so that it can be pasted into any zone file
                text = r.stdout.replace(self.selector + "._domainkey ",
                                        "%s._domainkey.%s. " % (self.selector, domain), 1)
                with open(record + ".new", "w") as f:
                    f.write(text.rstrip() + "\n")
                os.chown(tmp, 0, gid)
                os.chmod(tmp, 0o640)
                os.rename(tmp, key)
                os.rename(record + ".new", record)
            with open(record) as f:
                records[domain] = f.read()
        return records

    def prepare_dkim_dir(self):
        _, gid = _rspamd_ids()
        os.makedirs(self.dkim_dir, exist_ok=True)
        os.chown(self.dkim_dir, 0, gid)
        os.chmod(self.dkim_dir, 0o750)

    def dkim_records(self):
        """{domain: DNS record} of every key made so far."""
        records = {}
        suffix = ".%s.txt" % self.selector
        for name in sorted(os.listdir(self.dkim_dir)) if os.path.isdir(self.dkim_dir) else []:
            if name.endswith(suffix):
                with open(os.path.join(self.dkim_dir, name)) as f:
                    records[name[:-len(suffix)]] = f.read()
        return records

    # --- the server ---

    def start(self, timeout=START_TIMEOUT):
        """Start rspamd; returns once the milter port accepts connections.
        At once if it runs already."""
        if self.is_running():
            return
        self.prepare()
        startup_log = os.path.join(self.dir, "startup.log")
        # not a pipe: the daemon keeps its stdout open, a pipe would never close
        with open(startup_log, "w") as out:
            r = subprocess.run(
                [_program("rspamd"), "-c", SYSTEM_CONFIG, *self.variables(),
                 "-u", "_rspamd", "-g", "_rspamd"],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, timeout=timeout)
        if r.returncode != 0:
            with open(startup_log, errors="replace") as f:
                raise RspamdError("rspamd failed to start (status %d): %s\n%s" % (
                    r.returncode, f.read().strip(), self.log_tail()))
        try:
            proc.wait_for(lambda: self.is_running() and self._accepts(), timeout,
                          interval=0.1, what="rspamd's milter port")
        except TimeoutError:
            raise RspamdError("rspamd does not listen on 127.0.0.1:%d:\n%s" % (
                self.port, self.log_tail())) from None

    def _accepts(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
        except OSError:
            return False
        return True

    def _is_ours(self, pid):
        """A live rspamd started in our directory (its process title hides
        the command line). Stopping this PID, the main process, stops its
        workers."""
        return proc.runs(pid, "rspamd", cwd=self.dir)
