"""The tests and the local stack against the other Dovecot, in a Debian root.

    tests/run --dovecot 2.4 [module...]       on Debian 12: Dovecot 2.4
    tests/local-stack --dovecot 2.4 up        in a Debian 13 root

Debian 12 has Dovecot 2.3 and Debian 13 has 2.4. Where the installed
Dovecot is the one asked for, the commands run natively. Otherwise they run
in a root of the Debian release that has it (tests/lib/debroot.py:
debootstrap, then every package of tests/install-deps; built once, a few
minutes, and cached in /var/cache/mariadb-auth-tests), on a copy of the
checkout (its tracked and new files, no build products: those of the host
are for the host's Dovecot), exactly as on that Debian: tests/run builds
the module against the root's dovecot-dev, runs the unit tests under
valgrind and the integration suite, and ends with "N passed, M failed".

tests/run: an overlay on the cached root, dropped at the end, with a
network of its own (only lo): the servers of the tests listen on the
root's 127.0.0.1 and never meet the host's. The copy is in
/usr/local/src/dovecot-mariadb-auth.

tests/local-stack: the stack stays up after "up" returns, so a process of
its own (keep(), detached) holds the root's session until "down"; its
network is the host's, so that mail clients on the host reach the stack's
ports (127.0.0.1:10143, ...). The stack's directory (default
/var/tmp/mariadb-auth-stack-2.4) is the same path on the host and in the
root, and holds the copy of the checkout (src/, built there) and
root-session.json, which says how to reach the session. Every command
of such a stack runs in the root (up, status, down, dkim-verify,
doveadm); down stops the servers, then the session."""

import json
import os
import signal
import subprocess
import sys
import time

from . import debroot, proc

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the Debian release of each Dovecot
SUITES = {"2.3": "bookworm", "2.4": "trixie"}
SOURCE = "/usr/local/src/dovecot-mariadb-auth"
SESSION_FILE = "root-session.json"
# what the tests read from the environment, passed on into the root
PASSED_ENV = ("KEEP_TEST_DIRS", "REALSERVER_SUITE")


def installed_version():
    """The installed Dovecot as "2.3" or "2.4"; without one, that of this
    Debian release (what tests/install-deps installs), or None."""
    try:
        out = subprocess.run(["dovecot", "--version"], capture_output=True,
                             text=True).stdout
        if out:
            return ".".join(out.split(".")[:2])
    except FileNotFoundError:
        pass
    try:
        with open("/etc/os-release") as f:
            release = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except OSError:
        return None
    codename = release.get("VERSION_CODENAME", "").strip('"')
    return next((v for v, suite in SUITES.items() if suite == codename), None)


def is_native(version):
    """Whether the installed Dovecot is version ("2.3", "2.4")."""
    if version not in SUITES:
        raise ValueError("--dovecot is one of %s" % ", ".join(sorted(SUITES)))
    return installed_version() == version


def packages():
    """tests/install-deps's packages: the root has what a host has."""
    return subprocess.run([os.path.join(TOP, "tests", "install-deps"), "--list"],
                          capture_output=True, text=True, check=True).stdout.split()


def root(version):
    """The cached Debian root with Dovecot version (built when missing)."""
    r = debroot.Root(SUITES[version], packages=packages())
    start = time.monotonic()
    r.ensure()
    print("dovecot %s: the Debian %s root is ready (%.0f s)"
          % (version, r.suite, time.monotonic() - start), flush=True)
    return r


def checkout_files():
    """The checkout's tracked and new files (not the ignored build
    products); every file without git (an unpacked release)."""
    r = subprocess.run(["git", "-C", TOP, "ls-files", "-co", "--exclude-standard", "-z"],
                       capture_output=True)
    if r.returncode == 0:
        return [name for name in r.stdout.decode().split("\0")
                if name and os.path.lexists(os.path.join(TOP, name))]
    return [os.path.relpath(os.path.join(d, f), TOP)
            for d, _, files in os.walk(TOP) for f in files]


def copy_checkout(session, dest):
    """Copy the checkout to dest in the root, keeping the files' times, so
    that make rebuilds what changed since an earlier copy."""
    session.copy_in(TOP, dest, checkout_files())


def environment(version):
    env = {"MARIADB_AUTH_ROOT": SUITES[version], "DEBIAN_FRONTEND": "noninteractive"}
    env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
    return env


def run_tests(version, args):
    """tests/run args with Dovecot version: here if it is installed, else in
    the root; its exit status."""
    if is_native(version):
        os.execv(os.path.join(TOP, "tests", "run"), ["tests/run", *args])
    r = root(version)
    with r.session(hostname="mariadb-auth-tests", env=environment(version)) as s:
        copy_checkout(s, SOURCE)
        print("dovecot %s: tests/run %s in the Debian %s root, in %s" % (
            version, " ".join(args), r.suite, SOURCE), flush=True)
        return s.popen(["tests/run", *args], cwd=SOURCE).wait()


# --- the local stack in a root: a session that outlives the command ---

def session_file(directory):
    return os.path.join(directory, SESSION_FILE)


def stack_session(directory):
    """The running session of the stack in directory, or None."""
    try:
        with open(session_file(directory)) as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    try:
        with open("/proc/%d/cmdline" % info["keeper"], "rb") as f:
            argv = f.read().split(b"\0")
    except (OSError, KeyError, TypeError):
        return None
    # the keeper, not a process that reused its PID
    if b"lib.dovecotroot" not in argv or directory.encode() not in argv:
        return None
    return info


def keep(version, directory):
    """The keeper (started detached by stack()): hold a session of the root
    until SIGTERM, with directory bound to the same path, and say how to
    reach it in directory/root-session.json."""
    stop = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    r = debroot.Root(SUITES[version], packages=packages())
    with r.session(network="host", binds={directory: directory},
                   env=environment(version)) as s:
        info = {"keeper": os.getpid(), "version": version, "session": s.handle()}
        tmp = session_file(directory) + ".new"
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.rename(tmp, session_file(directory))
        while not stop and s.unshare.poll() is None:
            time.sleep(0.5)
    os.unlink(session_file(directory))


def start_keeper(version, directory):
    log = open(os.path.join(directory, "root-session.log"), "a")
    subprocess.Popen([sys.executable, "-m", "lib.dovecotroot", "keep", version, directory],
                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                     start_new_session=True, cwd=os.path.join(TOP, "tests"))
    log.close()
    return proc.wait_for(lambda: stack_session(directory), 120,
                         what="the Debian %s root's session" % SUITES[version])


def stop_keeper(info, directory):
    pid = info["keeper"]
    os.kill(pid, signal.SIGTERM)
    proc.wait_for(lambda: not proc.pid_alive(pid), 60, what="the root's session to end")


def stack(version, command, argv, directory, env):
    """tests/local-stack argv (command is argv's command) for the stack of
    directory in the root of version, with env; its exit status."""
    info = stack_session(directory)
    started = info is None
    if info is None:
        if command != "up":
            if command == "status":
                print("no Dovecot %s root session for %s: the stack is down"
                      % (version, directory))
                return 3
            print("local-stack: no Dovecot %s root session for %s: nothing runs there"
                  % (version, directory))
            return 0 if command == "down" else 1
        root(version)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        info = start_keeper(version, directory)
    elif info["version"] != version:
        print("local-stack: %s runs with Dovecot %s" % (directory, info["version"]),
              file=sys.stderr)
        return 1
    s = debroot.Session.attach(info["session"])
    source = os.path.join(directory, "src")
    if command == "up":
        # the checkout as it is now, built for the root's Dovecot (up
        # builds it only if it was never built)
        copy_checkout(s, source)
        if os.path.exists(os.path.join(source, "Makefile")):
            made = s.popen(["make", "-j%d" % (os.cpu_count() or 1)], cwd=source,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL).wait()
            if made != 0:
                if started:
                    stop_keeper(info, directory)
                return made
    # stdin: dkim-verify reads the message
    status = s.popen(["tests/local-stack", *argv], cwd=source, env=env,
                     stdin=sys.stdin if command == "dkim-verify" else subprocess.DEVNULL).wait()
    if command == "down" or (started and status != 0):
        stop_keeper(info, directory)
    return status


if __name__ == "__main__":
    # python3 -m lib.dovecotroot (in tests/): "run VERSION ARGS..." for
    # tests/run, "keep VERSION DIRECTORY" for the keeper
    if sys.argv[1] == "run":
        if sys.argv[2] not in SUITES:
            sys.exit("--dovecot is one of %s" % ", ".join(sorted(SUITES)))
        sys.exit(run_tests(sys.argv[2], sys.argv[3:]))
    if sys.argv[1] == "keep":
        keep(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit("usage: dovecotroot.py run VERSION [ARGS...] | keep VERSION DIRECTORY")
