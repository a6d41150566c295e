"""Helpers shared by the private test servers: free ports, PID files, waiting.

Servers are always stopped by the PID they wrote, never by process name."""

import ctypes
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import time
import traceback


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


def tcp_peers(pid):
    """{socket inode: remote port} of the TCP connections pid holds."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    peers = {}
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[9] in inodes:
                        peers[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
        except OSError:
            pass
    return peers


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


def nice(pid):
    """The nice value of a process (from /proc), None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(") ", 1)[1].split()[16])
    except (OSError, IndexError, ValueError):
        return None


def sched_slice(pid):
    """The time slice of a process in ns (se.slice in /proc/PID/sched,
    kernels with the EEVDF scheduler, 6.6 and later), None if the kernel
    does not show it or the process is gone."""
    try:
        with open("/proc/%d/sched" % pid) as f:
            for line in f:
                if line.startswith("se.slice "):
                    return int(line.split(":")[1])
    except (OSError, ValueError):
        pass
    return None


def custom_slice_supported():
    """Whether this kernel honours a time slice asked for with
    sched_setattr() (sched_runtime of SCHED_OTHER, Linux 6.12 and later):
    tried in a child process, which then shows it in se.slice. x86_64
    only (the system call's number); elsewhere False."""
    if os.uname().machine != "x86_64" or ctypes.sizeof(ctypes.c_void_p) != 8:
        return False
    asked = 20 * 1000 * 1000
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            # struct sched_attr, first version (48 bytes): size, policy,
            # flags, nice, priority, runtime at offset 24, deadline, period
            attr = ctypes.create_string_buffer(48)
            ctypes.c_uint32.from_buffer(attr, 0).value = 48
            # the nice value as it is: raising it would need a privilege
            ctypes.c_int32.from_buffer(attr, 16).value = os.getpriority(os.PRIO_PROCESS, 0)
            ctypes.c_uint64.from_buffer(attr, 24).value = asked
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syscall(314, 0, attr, 0) == 0:  # SYS_sched_setattr
                ok = sched_slice(os.getpid()) == asked
        finally:
            os._exit(0 if ok else 1)
    return os.waitpid(pid, 0)[1] == 0


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


def call_in_child(func, timeout=120):
    """Run func() in a forked child of this process and return its result,
    or raise the exception it raised (both must pickle). For code that must
    change the process itself, e.g. join or make namespaces."""
    reader, writer = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(reader)
            try:
                data = pickle.dumps((True, func()))
            except BaseException as e:
                code = 1
                try:
                    data = pickle.dumps((False, e))
                except Exception:
                    data = pickle.dumps((False, RuntimeError(traceback.format_exc())))
            with os.fdopen(writer, "wb") as f:
                f.write(data)
        finally:
            os._exit(code)
    os.close(writer)
    try:
        chunks = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([reader], [], [], left)[0]:
                raise TimeoutError("the child took longer than %.0f s" % timeout)
            data = os.read(reader, 1 << 16)
            if not data:
                break
            chunks.append(data)
        if not chunks:
            raise RuntimeError("the child died without an answer")
        ok, value = pickle.loads(b"".join(chunks))
        if ok:
            return value
        raise value
    finally:
        os.close(reader)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


_libc = None

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000


def _libc_call(name, *args):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (name, os.strerror(err)))


def setns(path, nstype):
    """Move the calling thread into the namespace of path
    (/proc/PID/ns/net)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        _libc_call("setns", fd, nstype)
    finally:
        os.close(fd)


def unshare_mounts():
    """Give the calling process a mount namespace of its own in which no
    mount reaches the host's (for a child: see call_in_child)."""
    _libc_call("unshare", CLONE_NEWNS)
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
