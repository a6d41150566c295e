"""Debian roots made by debootstrap, cached between runs, and commands run
inside them in namespaces of their own.

    root = debroot.Root("bookworm")          # or "trixie"; packages=(...)
    root.ensure()                            # debootstrap once, then reuse
    with root.session(hostname="mail.example.org",
                      binds={"/src": "/path/on/the/host"}) as s:
        s.run("apt-get update")              # CompletedProcess, as root
        s.run(["doveconf", "-n"], check=True)
        s.call(some_function, arg)           # host Python in the root's network

Root: a minbase root of one suite (debootstrap --variant=minbase, apt
sources SUITE, SUITE-updates and SUITE-security from deb.debian.org),
optionally with packages installed, kept in CACHE_DIR/NAME/root. A stamp
file written last marks it complete: a root without one (an interrupted
build) or older than max_age_days is built again. The cached root is
never changed by a session.

Session: the root as an overlay (the cache below, a temporary directory
above; dropped at the end) or, for building, the directory itself, with
/proc, /sys, a small /dev (device nodes, a new devpts, /dev/shm, /dev/log)
and bind mounts from the host. Its processes run in new mount, PID, UTS
and IPC namespaces and, by default, a network namespace with only lo: the
root's servers may listen on the usual ports without meeting the host's.
Names in `forward` (default deb.debian.org) resolve inside the root to a
loopback address where a thread of this process forwards each TCP
connection to the real host, so apt-get works in the private network.
Another thread answers DNS on the root's 127.0.0.1:53 (resolv.conf): every
name is unknown (NXDOMAIN), at once, as on a host whose name server knows
none of the names a test might look up.

The first process in the namespaces (the holder, hold() below) is PID 1 of
the new PID namespace: it mounts everything, collects syslog messages from
/dev/log into Session.syslog_path and reaps orphans. When it exits (close(),
or the test process dies and its stdin pipe closes) the kernel kills every
process left in the namespace and the mount namespace goes away with all
its mounts; nothing is ever mounted in the host's namespace.

The root of a session is a mount point, so `unshare --mount --propagation
private` also works inside it (it fails in a plain chroot): the test suite
can run inside a session as it runs on a host."""

import fcntl
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

from . import proc

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_DIR = os.environ.get("DEBROOT_CACHE", "/var/cache/mariadb-auth-tests")
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# the first address for forwarded names, on the root's lo
FORWARD_NET = "127.0.2."
POLICY_RC_D = "/usr/sbin/policy-rc.d"


def log_default(message):
    print(message, flush=True)


class Root:
    """A cached Debian root of one suite, with packages if given."""

    def __init__(self, suite="bookworm", packages=(), cache_dir=CACHE_DIR,
                 mirror=MIRROR, max_age_days=30):
        self.suite = suite
        self.packages = tuple(sorted(packages))
        self.mirror = mirror
        self.max_age = max_age_days * 86400
        name = suite
        if self.packages:
            digest = hashlib.sha256(" ".join(self.packages).encode()).hexdigest()
            name = "%s-%s" % (suite, digest[:12])
        self.cache_dir = cache_dir
        self.dir = os.path.join(cache_dir, name)
        self.path = os.path.join(self.dir, "root")
        self.stamp = os.path.join(self.dir, "stamp")
        self.lock_path = os.path.join(cache_dir, name + ".lock")
        # .deb files kept between sessions (Session(apt_cache=True))
        self.apt_cache = os.path.join(cache_dir, "apt", suite)

    def is_complete(self):
        try:
            with open(self.stamp) as f:
                info = json.load(f)
        except (OSError, ValueError):
            return False
        return (info.get("suite") == self.suite and
                tuple(info.get("packages", ())) == self.packages and
                time.time() - info.get("built", 0) < self.max_age and
                os.path.isfile(os.path.join(self.path, "usr/bin/apt-get")))

    def ensure(self, log=log_default):
        """Build the root unless a complete one is cached; return its path.
        Waits while another process builds it or runs a session on it."""
        os.makedirs(self.cache_dir, mode=0o755, exist_ok=True)
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            if self.is_complete():
                return self.path
            fcntl.flock(lock, fcntl.LOCK_UN)
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.is_complete():
                self._build(log)
        return self.path

    def _build(self, log):
        start = time.monotonic()
        new = os.path.join(self.dir, "root.new")
        for path in (self.stamp, self.path, new):
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.unlink(path)
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        if self.packages:
            # on a copy of the plain root of the suite
            base = Root(self.suite, cache_dir=self.cache_dir, mirror=self.mirror)
            with open(base.lock_path, "a") as lock:
                base.ensure(log)
                fcntl.flock(lock, fcntl.LOCK_SH)
                subprocess.run(["cp", "-a", base.path, new], check=True)
        else:
            self._debootstrap(new, log)
        with Session(writable=new, network="host", apt_cache=True,
                     apt_cache_dir=self.apt_cache, log=log,
                     env={"DEBIAN_FRONTEND": "noninteractive"}) as s:
            s.run("apt-get update -q", check=True, timeout=600)
            if self.packages:
                log("debroot: installing %d packages" % len(self.packages))
                s.block_services()
                # no fsync: without the stamp, an interrupted build is redone
                s.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                       "-o", "Dpkg::Options::=--force-unsafe-io",
                       *self.packages], check=True, timeout=1800)
                s.allow_services()
            s.run("apt-get clean", check=True)
        os.rename(new, self.path)
        with open(self.stamp, "w") as f:
            json.dump({"suite": self.suite, "packages": self.packages,
                       "mirror": self.mirror, "built": time.time()}, f)
        log("debroot: %s ready in %.0f s" % (os.path.basename(self.dir),
                                              time.monotonic() - start))

    def _debootstrap(self, new, log):
        log("debroot: debootstrap %s into %s (a few minutes, once)" % (self.suite, self.dir))
        with open(os.path.join(self.dir, "debootstrap.log"), "w") as out:
            r = subprocess.run(
                ["debootstrap", "--variant=minbase", self.suite, new, self.mirror],
                stdout=out, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("debootstrap %s failed (exit %d), see %s/debootstrap.log"
                               % (self.suite, r.returncode, self.dir))
        with open(os.path.join(new, "etc/apt/sources.list"), "w") as f:
            f.write("deb %s %s main\n" % (self.mirror, self.suite))
            f.write("deb %s %s-updates main\n" % (self.mirror, self.suite))
            f.write("deb %s %s-security main\n" % (SECURITY_MIRROR, self.suite))

    def session(self, **kwargs):
        """A Session on top of the cached root (ensure() it first)."""
        return Session(lower=self.path, lock_path=self.lock_path,
                       apt_cache_dir=self.apt_cache, **kwargs)


class Session:
    """Namespaces around a root; see the module's description.

    lower: a root to put a temporary overlay on; or writable: a root
    directory to change itself (for building). binds: {path in the root:
    host path}, read-write. network: "private" (only lo) or "host".
    forward: names reachable from the private network (TCP, port 80).
    addresses: more addresses for the private network's lo ("192.0.2.1").
    apt_cache: keep downloaded .deb files between sessions.
    env: extra environment for every command."""

    def __init__(self, lower=None, writable=None, hostname=None, binds=None,
                 network="private", forward=("deb.debian.org",), addresses=(),
                 apt_cache=False, env=None, lock_path=None, apt_cache_dir=None, log=log_default):
        if (lower is None) == (writable is None):
            raise ValueError("give lower or writable")
        if network not in ("private", "host"):
            raise ValueError("network is private or host")
        self.lower = lower
        self.writable = writable
        self.hostname = hostname
        self.binds = dict(binds or {})
        self.network = network
        self.forward = tuple(forward) if network == "private" else ()
        self.addresses = list(addresses)
        if self.addresses and network != "private":
            raise ValueError("addresses are for the private network")
        self.env = dict(env or {})
        self.log = log
        self.lock_path = lock_path
        self.apt_cache_dir = apt_cache_dir if apt_cache else None
        self.tmp = None
        self.root = None
        self.unshare = None
        self.pid = None
        self.syslog_path = None
        self._locks = []
        self._listeners = []
        self._closed = False

    # -- life cycle ---------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        if self.lock_path:
            # the cached root must not be rebuilt under a running session
            lock = open(self.lock_path, "a")
            fcntl.flock(lock, fcntl.LOCK_SH)
            self._locks.append(lock)
            if not os.path.isfile(os.path.join(self.lower, "usr/bin/apt-get")):
                raise RuntimeError("%s is not a complete root: ensure() it first" % self.lower)
        if self.apt_cache_dir:
            os.makedirs(os.path.join(self.apt_cache_dir, "partial"), exist_ok=True)
            lock = open(self.apt_cache_dir + ".lock", "a")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._locks.append(lock)
                self.binds["/var/cache/apt/archives"] = self.apt_cache_dir
            except BlockingIOError:
                lock.close()  # in use by another session: download again
        self.tmp = tempfile.mkdtemp(prefix="debroot-", dir="/var/tmp")
        os.chmod(self.tmp, 0o700)
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
        self.syslog_path = os.path.join(self.tmp, "syslog")
        config = {
            "root": self.root, "lower": self.lower, "writable": self.writable,
            "upper": os.path.join(self.tmp, "upper"),
            "work": os.path.join(self.tmp, "work"),
            "binds": self.binds, "hostname": self.hostname,
            "private_network": self.network == "private",
            "addresses": self.addresses,
            "syslog": self.syslog_path,
        }
        config_path = os.path.join(self.tmp, "holder.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        argv = ["unshare", "--mount", "--uts", "--ipc", "--pid", "--fork",
                "--propagation", "private", "--kill-child"]
        if self.network == "private":
            argv.append("--net")
        argv += [sys.executable, "-c",
                 "import sys; sys.path.insert(0, %r); from lib import debroot; "
                 "debroot.hold(sys.argv[1])" % TESTS_DIR, config_path]
        self.unshare = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        line = self.unshare.stdout.readline()
        if not line.startswith("ready"):
            self.unshare.wait(10)
            raise RuntimeError("the namespace holder did not start (exit %s)"
                               % self.unshare.returncode)
        self.pid = self._holder_pid()
        self._write_etc()
        for i, name in enumerate(self.forward):
            self._forward(FORWARD_NET + str(i + 1), name)
        if self.network == "private":
            self._answer_dns()

    def _holder_pid(self):
        with open("/proc/%d/task/%d/children" % (self.unshare.pid, self.unshare.pid)) as f:
            children = f.read().split()
        if len(children) != 1:
            raise RuntimeError("the namespace holder has no PID")
        return int(children[0])

    def _write_etc(self):
        if self.network == "host":
            # the host's resolver and names, as debootstrap copies them
            for path in ("/etc/resolv.conf", "/etc/hosts"):
                with open(path) as f:
                    self.write_file(path, f.read())
        else:
            lines = ["127.0.0.1\tlocalhost"]
            if self.hostname:
                lines.append("127.0.1.1\t%s %s" % (self.hostname,
                                                   self.hostname.split(".")[0]))
            lines.append("::1\tlocalhost ip6-localhost ip6-loopback")
            for i, name in enumerate(self.forward):
                lines.append("%s%d\t%s" % (FORWARD_NET, i + 1, name))
            self.write_file("/etc/hosts", "\n".join(lines) + "\n")
            # the session's name server (_dns_loop): names not in
            # /etc/hosts do not exist, and lookups (rspamd's RBLs, SPF)
            # get that answer at once
            self.write_file("/etc/resolv.conf", "nameserver 127.0.0.1\n")
        if self.hostname:
            self.write_file("/etc/hostname", self.hostname + "\n")

    def handle(self):
        """What another process needs to run commands in this session while
        this one holds it (attach())."""
        return {"pid": self.pid, "root": self.root, "network": self.network,
                "env": self.env}

    @classmethod
    def attach(cls, handle):
        """A session that another process holds, from its handle(): run(),
        popen() and call() work; close() leaves the session alone."""
        session = cls(writable=handle["root"], network=handle["network"],
                      env=handle["env"], forward=())
        session.pid = handle["pid"]
        session.root = handle["root"]
        session._closed = True
        return session

    def close(self):
        """End every process in the namespaces (by the holder's PID) and
        remove the overlay's temporary directory."""
        if self._closed:
            return
        self._closed = True
        for listener in self._listeners:
            listener.close()
        if self.unshare is not None:
            pidns = None
            if self.pid:
                try:
                    pidns = os.readlink("/proc/%d/ns/pid" % self.pid)
                except OSError:
                    pass
            try:
                self.unshare.stdin.close()  # the holder exits on EOF
            except OSError:
                pass
            try:
                self.unshare.wait(30)
            except subprocess.TimeoutExpired:
                self.unshare.kill()
                self.unshare.wait(10)
            if pidns:
                _wait_namespace_empty(pidns)
        for lock in self._locks:
            lock.close()
        if self.tmp and not os.environ.get("KEEP_TEST_DIRS"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            self.log("debroot: kept %s" % self.tmp)

    # -- commands -----------------------------------------------------------

    def command(self, cmd, cwd="/root", env=None):
        """The host's argv that runs cmd (argv list, or a string for sh -c)
        in the root, in the session's namespaces, as root."""
        if isinstance(cmd, str):
            cmd = ["/bin/sh", "-c", cmd]
        environment = {"PATH": PATH, "HOME": "/root", "USER": "root",
                       "LOGNAME": "root", "LANG": "C.UTF-8", "TERM": "dumb"}
        environment.update(self.env)
        environment.update(env or {})
        namespaces = ["-m", "-u", "-i", "-p"]
        if self.network == "private":
            namespaces.append("-n")
        return (["nsenter", "-t", str(self.pid), *namespaces, "--",
                 "chroot", self.root, "/usr/bin/env", "-i", "-C", cwd] +
                ["%s=%s" % kv for kv in sorted(environment.items())] + list(cmd))

    def run(self, cmd, input=None, check=False, timeout=300, cwd="/root", env=None,
            text=True):
        """Run cmd in the root and wait for it: a CompletedProcess with
        stdout and stderr. Output goes through files, not pipes, so that a
        daemon started by cmd that keeps them open does not hold up the
        wait."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            r = subprocess.run(self.command(cmd, cwd, env),
                               input=input.encode() if isinstance(input, str) else input,
                               stdin=None if input is not None else subprocess.DEVNULL,
                               stdout=out, stderr=err, timeout=timeout)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        if text:
            stdout = stdout.decode(errors="replace")
            stderr = stderr.decode(errors="replace")
        r = subprocess.CompletedProcess(r.args, r.returncode, stdout, stderr)
        if check and r.returncode != 0:
            raise RuntimeError("in the root %s: %s: exit %d\n%s%s" % (
                self.lower or self.writable, cmd, r.returncode, r.stdout, r.stderr))
        return r

    def popen(self, cmd, cwd="/root", env=None, **kwargs):
        """Start cmd in the root; the caller waits for it."""
        return subprocess.Popen(self.command(cmd, cwd, env), **kwargs)

    def write_file(self, path, data, mode=None):
        self.run(["sh", "-c", 'cat > "$1"', "sh", path], input=data, check=True)
        if mode is not None:
            self.run(["chmod", "%o" % mode, path], check=True)

    def read_file(self, path):
        return self.run(["cat", path], check=True).stdout

    def copy_in(self, host_dir, root_dir, names):
        """Copy the files names (relative to host_dir) to root_dir."""
        listing = "".join(name + "\0" for name in names)
        archive = subprocess.run(["tar", "--null", "-T", "-", "-cf", "-"], cwd=host_dir,
                                 input=listing.encode(), capture_output=True, check=True)
        self.run(["mkdir", "-p", root_dir], check=True)
        self.run(["tar", "-xf", "-", "-C", root_dir], input=archive.stdout,
                 check=True)

    def block_services(self):
        """Keep maintainer scripts from starting services (invoke-rc.d asks
        policy-rc.d); `service` and /etc/init.d scripts still work."""
        self.write_file(POLICY_RC_D, "#!/bin/sh\nexit 101\n", mode=0o755)

    def allow_services(self):
        self.run(["rm", "-f", POLICY_RC_D], check=True)

    def call(self, func, *args, timeout=120):
        """Run func(*args) in a child of this process that has joined the
        root's network namespace (the host's files, the root's 127.0.0.1);
        return its result or raise its exception. Result and exception must
        pickle."""
        def child():
            proc.setns("/proc/%d/ns/net" % self.pid, proc.CLONE_NEWNET)
            return func(*args)
        return proc.call_in_child(child, timeout)

    def syslog(self):
        """What the root's programs logged to /dev/log so far."""
        try:
            with open(self.syslog_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- forwarding ---------------------------------------------------------

    def _socket_inside(self, make):
        """make() run with this thread in the root's network: a socket
        stays in the network namespace it was made in."""
        back = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            proc.setns("/proc/%d/ns/net" % self.pid, proc.CLONE_NEWNET)
            try:
                sock = make()
            finally:
                proc.setns("/proc/self/fd/%d" % back, proc.CLONE_NEWNET)
        finally:
            os.close(back)
        self._listeners.append(sock)
        return sock

    def _forward(self, address, name):
        listener = self._socket_inside(
            lambda: socket.create_server((address, 80), backlog=16))
        threading.Thread(target=_accept_loop, args=(listener, name),
                         daemon=True).start()

    def _answer_dns(self):
        server = self._socket_inside(lambda: _udp_socket(("127.0.0.1", 53)))
        threading.Thread(target=_dns_loop, args=(server,), daemon=True).start()


# -- DNS: every name that /etc/hosts does not have is unknown

def _udp_socket(address):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(address)
    return s


def _dns_loop(server):
    """Answer every query NXDOMAIN at once, as a name server would for a
    name that does not exist: RBLs list nobody, SPF finds no record, and
    nothing waits for a timeout."""
    while True:
        try:
            query, client = server.recvfrom(4096)
        except OSError:
            return  # closed
        if len(query) < 12:
            continue
        # header: the query's ID, QR and its RD, RA, RCODE 3; the question
        # as asked (QDCOUNT as asked), no answer, authority or additional
        flags = 0x8000 | (query[2] << 8 & 0x0100) | 0x0080 | 3
        reply = query[:2] + flags.to_bytes(2, "big") + query[4:6] + bytes(6)
        end = 12
        while end < len(query) and query[end] != 0:
            end += 1 + query[end]
        reply += query[12:end + 5]
        try:
            server.sendto(reply, client)
        except OSError:
            pass


# -- forwarding: a TCP listener inside the root's network, connections out
#    from the host's

def _accept_loop(listener, name):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return  # closed
        threading.Thread(target=_relay, args=(conn, name), daemon=True).start()


def _relay(conn, name):
    try:
        port = 80
        upstream = socket.create_connection((name, port), timeout=60)
    except OSError:
        conn.close()
        return
    upstream.settimeout(None)

    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    t = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
    t.start()
    pump(conn, upstream)
    t.join()
    conn.close()
    upstream.close()


def _wait_namespace_empty(pidns, timeout=30):
    """Wait until no process of the PID namespace is left (the kernel kills
    them when its first process exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink("/proc/%s/ns/pid" % entry) == pidns:
                        left.append(entry)
                except OSError:
                    pass
        if not left:
            return
        time.sleep(0.1)
    raise RuntimeError("processes %s outlived their namespace" % left)


# -- the holder: PID 1 of the session's namespaces

def _mount(*args):
    subprocess.run(["mount", *args], check=True)


def _make_dev(root):
    dev = os.path.join(root, "dev")
    _mount("-t", "tmpfs", "-o", "mode=755,nosuid,size=16m", "tmpfs", dev)
    for name, major, minor in (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7),
                               ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)):
        path = os.path.join(dev, name)
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        os.chmod(path, 0o666)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("ptmx", "pts/ptmx")):
        os.symlink(target, os.path.join(dev, name))
    os.mkdir(os.path.join(dev, "pts"))
    _mount("-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620,gid=5",
           "devpts", os.path.join(dev, "pts"))
    os.mkdir(os.path.join(dev, "shm"))
    _mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", os.path.join(dev, "shm"))


def hold(config_path):
    """PID 1 of a session: set up the root, then reap and log until stdin
    closes or SIGTERM arrives."""
    with open(config_path) as f:
        c = json.load(f)
    root = c["root"]
    if c["lower"]:
        os.makedirs(c["upper"])
        os.makedirs(c["work"])
        _mount("-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s"
               % (c["lower"], c["upper"], c["work"]), root)
    else:
        _mount("--bind", c["writable"], root)
    _mount("-t", "proc", "-o", "nosuid,nodev,noexec", "proc", os.path.join(root, "proc"))
    _mount("-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", os.path.join(root, "sys"))
    _make_dev(root)
    for inside, outside in c["binds"].items():
        target = os.path.join(root, inside.lstrip("/"))
        os.makedirs(target, exist_ok=True)
        _mount("--bind", outside, target)
    if c["private_network"]:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        for address in c["addresses"]:
            subprocess.run(["ip", "addr", "add", address, "dev", "lo"], check=True)
    if c["hostname"]:
        socket.sethostname(c["hostname"])
    syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    syslog.bind(os.path.join(root, "dev/log"))
    os.chmod(os.path.join(root, "dev/log"), 0o666)
    log = open(c["syslog"], "ab", buffering=0)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    stdin = sys.stdin.fileno()
    while True:
        readable, _, _ = select.select([stdin, syslog], [], [], 0.2)
        if stdin in readable and not os.read(stdin, 4096):
            sys.exit(0)
        if syslog in readable:
            log.write(time.strftime("%H:%M:%S ").encode() + syslog.recv(65536).rstrip(b"\n\0") + b"\n")
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
