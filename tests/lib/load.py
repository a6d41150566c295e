"""Load for the integration tests: a generator of mixed, pipelined requests
to a Dovecot's auth sockets (Load), running things at once (parallel),
timing them (timed), and printing what a test measured (report)."""

import base64
import random
import socket
import threading
import time

from .authclient import is_tempfail


def timed(function, *args):
    """(function(*args), the seconds it took)."""
    start = time.monotonic()
    result = function(*args)
    return result, time.monotonic() - start


def parallel(*functions):
    """Call the functions at once, each in a thread; return their results."""
    results = [None] * len(functions)
    errors = []

    def call(i):
        try:
            results[i] = functions[i]()
        except BaseException as e:
            errors.append(e)
    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(functions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def _reply_fields(parts):
    fields = {}
    for p in parts:
        key, _, value = p.partition("=")
        fields[key] = value
    return fields


class Load:
    """Mixed requests from several connections at once, each keeping up
    to `window` requests in flight (pipelined, told apart by their ids):
    Dovecot answers failed logins on a 0.5 s timer, so one request at a
    time per connection would measure that timer, not the module.

    Of every four connections three send logins to auth-client (kinds
    drawn from login_kinds: "good" password, "wrong" password, "unknown"
    user) and one sends userdb lookups to auth-userdb (three known users
    to one unknown). users: (local part, password) in nahida.net. Every
    answer is judged: right, a temporary failure, or wrong (anything else,
    e.g. "unknown user" for a known one). A connection that Dovecot closes
    (a reload) is reopened; what it had in flight counts as cut off.

    run(count) sends count requests in all and returns when every answer
    is in; start() and stop() run it in the background until stopped.
    Results: counts (ok, temp, wrong, cut), wrong_answers (the first
    few), max_temp_latency (seconds from request to a temporary failure),
    with record=True also successes (sorted monotonic times of right
    answers to good logins and known userdb lookups) and latencies
    (seconds from request to answer, of every answer); duration
    (seconds)."""

    USERDB_KINDS = ("userdb", "userdb", "userdb", "userdb_unknown")

    def __init__(self, dovecot, users, connections=8, window=8,
                 login_kinds=("good", "good", "wrong", "unknown"),
                 record=False, seed=0):
        self.dovecot = dovecot
        self.users = users
        self.connections = connections
        self.window = window
        self.login_kinds = login_kinds
        self.record = record
        self.seed = seed
        self.lock = threading.Lock()
        self.counts = {"ok": 0, "temp": 0, "wrong": 0, "cut": 0}
        self.wrong_answers = []
        self.max_temp_latency = 0.0
        self.successes = []
        self.latencies = []
        self.duration = 0.0
        self.errors = []
        self._stop = threading.Event()
        self._threads = []
        self._started = 0.0

    @property
    def requests(self):
        return sum(self.counts.values())

    def _login(self, rnd, rid):
        local, password = self.users[rnd.randrange(len(self.users))]
        kind = rnd.choice(self.login_kinds)
        if kind == "wrong":
            password += "-wrong"
        elif kind == "unknown":
            local = "nobody-" + local
        user = "%s@nahida.net" % local
        resp = base64.b64encode(b"\0%s\0%s" % (user.encode(), password.encode()))
        line = (b"AUTH\t%d\tPLAIN\tservice=imap\tlip=127.0.0.1\t"
                b"rip=127.0.0.1\tsecured\tno-penalty\tresp=%s\n" % (rid, resp))
        return line, kind, user

    def _userdb(self, rnd, rid):
        local, _ = self.users[rnd.randrange(len(self.users))]
        kind = rnd.choice(self.USERDB_KINDS)
        if kind == "userdb_unknown":
            local = "nobody-" + local
        user = "%s@nahida.net" % local
        return b"USER\t%d\t%s\tservice=lmtp\n" % (rid, user.encode()), kind, user

    @staticmethod
    def judge(kind, user, parts):
        """"ok", "temp" or "wrong" for the reply (split at tabs)."""
        result = parts[0]
        if kind.startswith("userdb"):
            if result == "FAIL":
                return "temp"
            if kind == "userdb":
                home = _reply_fields(parts[3:]).get("home", "")
                ok = (result == "USER" and parts[2] == user and
                      home.endswith("/nahida.net/" + user.split("@")[0]))
            else:
                ok = result == "NOTFOUND"
            return "ok" if ok else "wrong"
        fields = _reply_fields(parts[2:])
        if result == "FAIL" and is_tempfail(fields):
            return "temp"
        if kind == "good":
            ok = result == "OK" and fields.get("user") == user
        else:
            ok = result == "FAIL"
        return "ok" if ok else "wrong"

    def _connect(self, userdb):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(60)
        try:
            if userdb:
                sock.connect(self.dovecot.auth_userdb_socket)
                sock.sendall(b"VERSION\t1\t0\n")
                f = sock.makefile("rb")
                f.readline()  # VERSION
                f.readline()  # SPID
            else:
                sock.connect(self.dovecot.auth_client_socket)
                sock.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % threading.get_native_id())
                f = sock.makefile("rb")
                while f.readline().rstrip(b"\n") not in (b"DONE", b""):
                    pass
        except OSError:
            sock.close()
            raise
        return sock, f

    def _connect_retrying(self, userdb):
        # the sockets go away for a moment while Dovecot reloads
        deadline = time.monotonic() + 10
        while True:
            try:
                return self._connect(userdb)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _worker(self, n, quota):
        rnd = random.Random("%s-%d" % (self.seed, n))
        userdb = n % 4 == 3
        make = self._userdb if userdb else self._login
        pending = {}
        rid = sent = 0
        counts = {"ok": 0, "temp": 0, "wrong": 0, "cut": 0}
        max_temp = 0.0
        successes, latencies, wrong_answers = [], [], []
        sock = f = None
        try:
            sock, f = self._connect_retrying(userdb)
            while True:
                batch = []
                while (len(pending) < self.window and sent < quota and
                       not self._stop.is_set()):
                    rid += 1
                    line, kind, user = make(rnd, rid)
                    pending[rid] = (kind, user, time.monotonic())
                    batch.append(line)
                    sent += 1
                if batch:
                    try:
                        sock.sendall(b"".join(batch))
                    except OSError:
                        pass  # read as end of file below
                if not pending:
                    break
                try:
                    line = f.readline()
                except ConnectionResetError:
                    line = b""
                if not line:
                    counts["cut"] += len(pending)
                    pending.clear()
                    f.close()
                    sock.close()
                    sock, f = self._connect_retrying(userdb)
                    continue
                parts = line.decode("utf-8", "replace").rstrip("\n").split("\t")
                try:
                    kind, user, sent_at = pending.pop(int(parts[1]))
                except (IndexError, ValueError, KeyError):
                    counts["wrong"] += 1
                    wrong_answers.append(("?", "?", parts))
                    continue
                verdict = self.judge(kind, user, parts)
                counts[verdict] += 1
                now = time.monotonic()
                if self.record:
                    latencies.append(now - sent_at)
                if verdict == "ok":
                    if self.record and kind in ("good", "userdb"):
                        successes.append(now)
                elif verdict == "temp":
                    max_temp = max(max_temp, now - sent_at)
                elif len(wrong_answers) < 20:
                    wrong_answers.append((kind, user, parts))
        except Exception as e:  # reported by stop()
            self.errors.append("connection %d: %r" % (n, e))
        finally:
            if f is not None:
                f.close()
                sock.close()
            with self.lock:
                for key, value in counts.items():
                    self.counts[key] += value
                self.max_temp_latency = max(self.max_temp_latency, max_temp)
                self.successes.extend(successes)
                self.latencies.extend(latencies)
                self.wrong_answers.extend(wrong_answers)

    def start(self, count=None):
        per = [(count or 1 << 62) // self.connections] * self.connections
        if count is not None:
            per[0] += count - sum(per)
        self._started = time.monotonic()
        # daemon threads: an interrupted test run exits without them
        self._threads = [threading.Thread(target=self._worker, args=(n, per[n]),
                                          daemon=True)
                         for n in range(self.connections)]
        for t in self._threads:
            t.start()
        return self

    def stop(self, wait_only=False):
        if not wait_only:
            self._stop.set()
        for t in self._threads:
            t.join()
        self.duration = time.monotonic() - self._started
        self.successes.sort()
        if self.errors:
            raise AssertionError("load generator failed: %s" % self.errors)
        return self

    def run(self, count):
        return self.start(count).stop(wait_only=True)

    def longest_gap(self, since, until):
        """The longest time between right answers within [since, until]."""
        times = [since] + [t for t in self.successes if since <= t <= until] + [until]
        return max(b - a for a, b in zip(times, times[1:]))

    def summary(self):
        return ("%d requests in %.1f s (%.0f/s): %d right, %d temporary "
                "failures, %d wrong, %d cut off" % (
                    self.requests, self.duration,
                    self.requests / max(self.duration, 1e-9), self.counts["ok"],
                    self.counts["temp"], self.counts["wrong"], self.counts["cut"]))


def report(test, text):
    """Print a test's figures in the test runner's output, after its name."""
    print("\n    [%s] %s" % (test.id().rsplit(".", 1)[-1], text), end=" ... ",
          flush=True)
