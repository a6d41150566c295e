"""Helpers shared by the private test servers: free ports, PID files, waiting.

Servers are always stopped by the PID they wrote, never by process name."""

import os
import signal
import socket
import time


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_pid(path):
    """Return the PID in a PID file, or None if there is none."""
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours still answers kill(0)
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate() until it returns a true value; raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def stop_pid(pid, timeout=20.0):
    """SIGTERM the process, wait, SIGKILL it if it does not go away."""
    if pid is None or not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        wait_for(lambda: not pid_alive(pid), timeout, what="pid %d to exit" % pid)
    except TimeoutError:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_for(lambda: not pid_alive(pid), 10, what="pid %d to die" % pid)


def child_pids(pid):
    """PIDs whose parent is pid (from /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(entry))
    return children


def runs(pid, program, cwd=None, arg=None):
    """Whether pid is a live process of program (the basename of its
    executable), with cwd as its working directory and arg among its
    arguments where these are given: so that a PID from a PID file that
    another process has reused is never taken for a server of ours."""
    if not pid_alive(pid):
        return False
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
        if cwd is not None and os.readlink("/proc/%d/cwd" % pid) != cwd:
            return False
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return os.path.basename(exe) == program and (arg is None or arg.encode() in argv)


class Daemon:
    """What the private servers share: the PID file they write (pid_file)
    finds the running server, never its name, and it logs to one file
    (log_path). _is_ours(pid) says whether a live PID is this instance's
    server; by default any live process is."""

    pid_file = None
    log_path = None

    def pid(self):
        """The PID of this instance's server, or None if it is not running."""
        pid = read_pid(self.pid_file)
        return pid if pid is not None and self._is_ours(pid) else None

    def is_running(self):
        return self.pid() is not None

    def _is_ours(self, pid):
        return pid_alive(pid)

    def stop(self):
        """SIGTERM by the PID, SIGKILL if it still runs after a while (a
        master process stops its children). Nothing if it is not running."""
        stop_pid(self.pid())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=30):
        return "\n".join(self.log().splitlines()[-lines:])
