"""A private MariaDB server for the tests and the local demo stack.

Everything belongs to one base directory, so that several servers can run
side by side and removing the directory removes every trace:

    basedir/data/        the data directory (kept across stop() and start())
    basedir/mysqld.sock  the UNIX socket
    basedir/mysqld.pid   the PID file
    basedir/mysqld.log   the error log
    basedir/tmp/         temporary files (not the shared /tmp: a server
                         that starts deletes every #sql* file in its
                         tmpdir, other servers' temporary tables too)

The server listens on 127.0.0.1:port and on the socket, and reads no option
file (--no-defaults): nothing in /etc/mysql changes it, and it never touches
the system's own server. Started as root, it runs as the system user mysql,
which then owns basedir; the directories above basedir must let mysql
through. A socket path is limited to about 100 bytes: keep basedir short.

Administration uses unix_socket authentication, the default of
mariadb-install-db: the MariaDB account named like the operating-system user
running this code (root, or the login name of a non-root user) logs in over
the socket without a password. There is no administrator password to keep,
and no administrator login over TCP.

The server resolves no host names (--skip-name-resolve): a TCP client from
127.0.0.1 is the account 'user'@'127.0.0.1', as sql/03-grants.sql expects.

For fault tests there are a few more tools: extra server options (a binary
log and a server id, binary_log_options()), replication from another
server (replicate_from()), the connections an account holds and killing
them (connection_ids(), kill_connections()), and client sessions kept open
across statements (session(), e.g. to hold LOCK TABLES or to occupy
connection slots).

Only the Python standard library is used; the programs come from the
mariadb-server and mariadb-client packages.
"""

import ctypes
import glob
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import subprocess
import time

# sql/03-grants.sql holds this token where the mail_user password goes.
PASSWORD_TOKEN = "@MAIL_USER_PASSWORD@"
# ... and this one where the password of mail_admin (the admin commands'
# account) goes.
ADMIN_PASSWORD_TOKEN = "@MAIL_ADMIN_PASSWORD@"

# Server options shared by mariadb-install-db (which passes them to its
# bootstrap server) and mariadbd, chosen to start fast and stay small: a
# 32 MiB buffer pool and an 8 MiB redo log instead of 128 MiB and 96 MiB, no
# binary log, and utf8mb4 as the default character set, as Debian's own
# configuration (skipped by --no-defaults) has it.
SERVER_OPTIONS = (
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=8M",
    "--skip-log-bin",
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
)

START_TIMEOUT = 30.0  # seconds for a started server to answer
STOP_TIMEOUT = 30.0   # seconds from SIGTERM to SIGKILL
KILL_TIMEOUT = 10.0   # seconds for a SIGKILLed server to disappear
CLIENT_TIMEOUT = 60.0  # seconds for one run of mariadb or mariadb-install-db
POLL_INTERVAL = 0.05  # seconds between two checks while waiting
LOG_TAIL_LINES = 30   # lines of a log quoted in an error


class MariaDBError(RuntimeError):
    """The server or a MariaDB program failed; the message says why."""


def _program(name):
    """Return the path of a MariaDB program (sbin is often not in PATH)."""
    path = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/sbin"))
    found = shutil.which(name, path=path)
    if found is None:
        raise MariaDBError(f"{name} not found: install mariadb-server and "
                           "mariadb-client")
    return found


def _tail(lines):
    return "\n".join(lines[-LOG_TAIL_LINES:])


class MariaDB:
    """One private MariaDB server (see the module documentation).

    Attributes: basedir, datadir, socket, pid_file, log_file; host
    ("127.0.0.1") and port for TCP clients; user_password, the mail_user
    password that load_schema() sets; mail_admin_password, mail_admin's;
    admin_user, the account that sql() uses unless told otherwise.
    """

    def __init__(self, basedir, port, user_password="mail-user-test-password",
                 options=(), mail_admin_password="mail-admin-test-password"):
        self.basedir = os.path.abspath(basedir)
        self.datadir = os.path.join(self.basedir, "data")
        self.tmpdir = os.path.join(self.basedir, "tmp")
        self.socket = os.path.join(self.basedir, "mysqld.sock")
        self.pid_file = os.path.join(self.basedir, "mysqld.pid")
        self.log_file = os.path.join(self.basedir, "mysqld.log")
        self.host = "127.0.0.1"
        self.port = port
        self.user_password = user_password
        self.mail_admin_password = mail_admin_password
        self.admin_user = pwd.getpwuid(os.geteuid()).pw_name
        # Extra mariadbd options, given after SERVER_OPTIONS so that they
        # win (e.g. binary_log_options()): not used by mariadb-install-db.
        self.options = tuple(options)
        # a server that copies its data first (a Galera node) takes longer
        self.start_timeout = START_TIMEOUT
        # The server process if this object started it, kept to reap it:
        # otherwise it would linger as a zombie after stop() or kill().
        self._proc = None

    def start(self):
        """Start the server, creating the data directory on first use.

        Returns once the server answers queries, at once if the server of
        this basedir is running already. Raises MariaDBError, quoting the
        error log, if the server exits or does not answer within
        start_timeout seconds (START_TIMEOUT unless set; it is killed
        then).
        """
        if self.is_running():
            return
        os.makedirs(self.basedir, exist_ok=True)
        owner = None
        run_as = []
        if os.geteuid() == 0:
            try:
                mysql = pwd.getpwnam("mysql")
            except KeyError:
                raise MariaDBError("started as root, but there is no system "
                                   "user mysql to run the server as") from None
            owner = (mysql.pw_uid, mysql.pw_gid)
            os.chown(self.basedir, *owner)
            run_as = ["--user=mysql"]
        os.makedirs(self.tmpdir, exist_ok=True)
        if owner is not None:
            os.chown(self.tmpdir, *owner)
        if not os.path.isdir(self.datadir):
            self._install(run_as)

        command = [_program("mariadbd"), "--no-defaults", *run_as,
                   f"--datadir={self.datadir}",
                   f"--tmpdir={self.tmpdir}",
                   f"--socket={self.socket}",
                   f"--pid-file={self.pid_file}",
                   f"--log-error={self.log_file}",
                   f"--bind-address={self.host}",
                   f"--port={self.port}",
                   "--skip-networking=0",
                   *SERVER_OPTIONS, *self.options]
        # Whatever the server writes before it opens its error log (about a
        # bad option, say) goes to the same file.
        with open(self.log_file, "ab") as log:
            if owner is not None:
                os.chown(self.log_file, *owner)
            # A session of its own, so that a Ctrl-C meant for the test
            # runner does not reach the server: it is stopped explicitly.
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)

        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                raise MariaDBError(f"mariadbd exited with status "
                                   f"{self._proc.returncode}:\n"
                                   f"{self._log_tail()}")
            try:
                self.sql("SELECT 1")
                return
            except MariaDBError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise MariaDBError(f"mariadbd did not answer within "
                                       f"{self.start_timeout:.0f} s:\n"
                                       f"{self._log_tail()}") from None
            time.sleep(POLL_INTERVAL)

    def stop(self):
        """Shut the server down: SIGTERM, and SIGKILL if it still runs
        after STOP_TIMEOUT seconds. The process is found through the PID
        file (another process may have started it), never by name. Does
        nothing if the server is not running."""
        pid = self._pid()
        if pid is None:
            return
        self._signal(pid, signal.SIGTERM)
        if not self._wait_gone(pid, STOP_TIMEOUT):
            self.kill()

    def kill(self):
        """Kill the server with SIGKILL, as in a crash, and wait until it
        is gone; the next start() runs InnoDB's crash recovery. Does nothing
        if the server is not running."""
        pid = self._pid()
        if pid is None:
            return
        self._signal(pid, signal.SIGKILL)
        if not self._wait_gone(pid, KILL_TIMEOUT):
            raise MariaDBError(f"mariadbd (pid {pid}) still exists "
                               f"{KILL_TIMEOUT:.0f} s after SIGKILL")

    def is_running(self):
        """Whether the server of this basedir is running."""
        return self._pid() is not None

    def sql(self, statements, database=None, user=None, password=None,
            column_names=False):
        """Run SQL with the mariadb client over the UNIX socket.

        statements is a script: one or more statements, DELIMITER allowed.
        user is the MariaDB account, by default admin_user, which needs no
        password; password is for any other account. Returns the client's
        standard output: a line per row, columns separated by tabs, no
        header unless column_names, special characters escaped (--batch).
        Raises MariaDBError with the client's error message if it fails.
        """
        command = [_program("mariadb"), "--no-defaults",
                   "--protocol=socket", f"--socket={self.socket}",
                   f"--user={user or self.admin_user}",
                   "--default-character-set=utf8mb4",
                   # no TLS over the socket: the 11.4+ client asks for
                   # it by default and then refuses a server started
                   # without TLS ("SSL is required, but the server does
                   # not support it"), as the 10.11 client never did
                   "--skip-ssl",
                   "--batch"]
        if not column_names:
            command.append("--skip-column-names")
        if database is not None:
            command.append(f"--database={database}")
        # The password goes through the environment: on the command line
        # every local user could read it.
        env = dict(os.environ)
        env.pop("MYSQL_PWD", None)
        if password is not None:
            env["MYSQL_PWD"] = password
        result = subprocess.run(command, input=statements, env=env,
                                capture_output=True, encoding="utf-8",
                                errors="replace", timeout=CLIENT_TIMEOUT)
        if result.returncode != 0:
            raise MariaDBError(f"mariadb exited with status "
                               f"{result.returncode}: "
                               f"{result.stderr.strip()}")
        return result.stdout

    def load_schema(self, sql_dir, mail_user_password=None, tokens=None,
                    mail_admin_password=None):
        """Run the numbered scripts of sql_dir (01-schema.sql to
        04-sample-data.sql) in order, as an installer does: with the
        password tokens replaced by mail_user_password and
        mail_admin_password, or by user_password and mail_admin_password
        if they are None, and each other token of tokens (e.g.
        {"@MAIL_REHASH_PASSWORD@": password}) by its value. Afterwards these
        attributes hold the accounts' passwords. Can be run again: the
        scripts are re-runnable."""
        if mail_user_password is not None:
            self.user_password = mail_user_password
        if mail_admin_password is not None:
            self.mail_admin_password = mail_admin_password
        replace = dict(tokens or {})
        replace[PASSWORD_TOKEN] = self.user_password
        replace[ADMIN_PASSWORD_TOKEN] = self.mail_admin_password
        scripts = sorted(glob.glob(os.path.join(sql_dir, "[0-9][0-9]-*.sql")))
        if not scripts:
            raise MariaDBError(f"{sql_dir}: no numbered .sql scripts")
        for path in scripts:
            with open(path, encoding="utf-8") as f:
                script = f.read()
            for token, value in replace.items():
                # the tokens stand inside '...' string literals
                script = script.replace(token, _quote(value))
            try:
                self.sql(script)
            except MariaDBError as e:
                raise MariaDBError(f"{path}: {e}") from None

    def connection_ids(self, user):
        """The processlist ids of the connections the account user holds
        (any host), in ascending order."""
        out = self.sql("SELECT id FROM information_schema.processlist "
                       "WHERE user = '%s' ORDER BY id;" % _quote(user))
        return [int(line) for line in out.split()]

    def kill_connections(self, user, query_only=False):
        """KILL every connection the account user holds, as a server does
        that drops its clients (the client sees error 2013 or 2006 at its
        next read); with query_only, KILL QUERY instead (the statement
        running now fails with error 1317, the connection stays). Returns
        the ids that were killed; one that ended meanwhile is skipped."""
        killed = []
        for cid in self.connection_ids(user):
            try:
                self.sql("KILL %s%d;" % ("QUERY " if query_only else "", cid))
            except MariaDBError as e:
                if "1094" not in str(e):  # Unknown thread id: it has gone
                    raise
                continue
            killed.append(cid)
        return killed

    def session(self, user=None, password=None, tcp=False, database=None):
        """A client session that stays open until closed (see Session):
        over the UNIX socket as admin_user by default, over TCP to
        127.0.0.1:port with tcp=True (as the module connects). Raises
        MariaDBError if the server refuses the connection."""
        return Session(self, user=user, password=password, tcp=tcp,
                       database=database)

    def replicate_from(self, primary, timeout=START_TIMEOUT):
        """Make this running server a replica of the running primary.

        Both need binary_log_options() with different server ids, and the
        primary's binary log must hold everything since its data directory
        was made (start it with the options from the start): replication
        begins at the primary's first binary log (MASTER_USE_GTID =
        slave_pos with an empty position). Creates a replication account on
        the primary and waits until the replica's threads run."""
        password = secrets.token_hex(12)
        primary.sql("CREATE OR REPLACE USER 'replication'@'%s' IDENTIFIED BY "
                    "'%s';\nGRANT REPLICATION SLAVE ON *.* TO "
                    "'replication'@'%s';" % (self.host, password, self.host))
        self.sql("STOP SLAVE;\nCHANGE MASTER TO MASTER_HOST = '%s', "
                 "MASTER_PORT = %d, MASTER_USER = 'replication', "
                 "MASTER_PASSWORD = '%s', MASTER_CONNECT_RETRY = 1, "
                 "MASTER_USE_GTID = slave_pos;\nSTART SLAVE;"
                 % (primary.host, primary.port, password))
        deadline = time.monotonic() + timeout
        while True:
            status = self.replica_status()
            if (status.get("Slave_IO_Running") == "Yes" and
                    status.get("Slave_SQL_Running") == "Yes"):
                return
            if time.monotonic() > deadline:
                raise MariaDBError("replication did not start within "
                                   "%.0f s: %s" % (timeout, status))
            time.sleep(POLL_INTERVAL)

    def replica_status(self):
        """SHOW SLAVE STATUS as a dict (empty if this is no replica)."""
        lines = self.sql("SHOW SLAVE STATUS;", column_names=True).splitlines()
        if len(lines) < 2:
            return {}
        return dict(zip(lines[0].split("\t"), lines[1].split("\t")))

    def wait_caught_up(self, primary, timeout=START_TIMEOUT):
        """Wait until this replica has applied everything the primary's
        binary log holds now (compared by GTID position)."""
        target = primary.sql("SELECT @@gtid_binlog_pos;").strip()
        deadline = time.monotonic() + timeout
        while True:
            done = self.sql("SELECT @@gtid_slave_pos;").strip()
            if done == target:
                return
            if time.monotonic() > deadline:
                raise MariaDBError("the replica is at GTID %r, the primary "
                                   "at %r after %.0f s: %s" % (
                                       done, target, timeout,
                                       self.replica_status()))
            time.sleep(POLL_INTERVAL)

    def _install(self, run_as):
        """Create the data directory with mariadb-install-db.

        It is built under another name and renamed when complete, so that
        an interrupted installation is redone by the next start() rather
        than leaving a data directory the server cannot use.
        """
        staging = self.datadir + ".new"
        shutil.rmtree(staging, ignore_errors=True)
        command = [_program("mariadb-install-db"), "--no-defaults", *run_as,
                   f"--datadir={staging}",
                   f"--tmpdir={self.tmpdir}",
                   f"--auth-root-socket-user={self.admin_user}",
                   "--skip-test-db",
                   *SERVER_OPTIONS]
        result = subprocess.run(command, stdin=subprocess.DEVNULL,
                                capture_output=True, encoding="utf-8",
                                errors="replace", timeout=CLIENT_TIMEOUT)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).splitlines()
            raise MariaDBError(f"mariadb-install-db exited with status "
                               f"{result.returncode}:\n{_tail(output)}")
        os.rename(staging, self.datadir)

    def _pid(self):
        """The PID of this basedir's server, or None if it is not running.

        A PID file left behind by a killed server, or one that names a
        process other than this server, is ignored.
        """
        if self._proc is not None and self._is_ours(self._proc.pid):
            return self._proc.pid
        try:
            with open(self.pid_file) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            return None
        return pid if self._is_ours(pid) else None

    def _is_ours(self, pid):
        """Whether pid is a live mariadbd of this basedir.

        Decided by its command line, which names our PID file, so that a
        reused PID is never signalled. A zombie has an empty command line
        and counts as gone; if it is our own child, it is reaped here.
        """
        if self._proc is not None and self._proc.pid == pid:
            self._proc.poll()
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                arguments = f.read().split(b"\0")
        except OSError:
            return False
        return os.fsencode(f"--pid-file={self.pid_file}") in arguments

    @staticmethod
    def _signal(pid, signum):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass  # it has just exited

    def _wait_gone(self, pid, timeout):
        """Wait until pid has exited; False if it still runs after timeout
        seconds."""
        deadline = time.monotonic() + timeout
        while self._is_ours(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_INTERVAL)
        return True

    def _log_tail(self):
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as f:
                return _tail(f.read().splitlines())
        except OSError as e:
            return f"(no error log: {e})"


def client_library_version():
    """The version of libmariadb (Connector/C) that the module links with,
    as (major, minor, patch): libmariadb.so.3's mysql_get_client_info()."""
    lib = ctypes.CDLL("libmariadb.so.3")
    lib.mysql_get_client_info.restype = ctypes.c_char_p
    return tuple(int(part) for part in
                 lib.mysql_get_client_info().decode().split(".")[:3])


def client_checks_loopback_names():
    """Whether libmariadb checks the name in the server's certificate on a
    connection to 127.0.0.1 or ::1. Connector/C 3.4 (from 3.4.2, CONC-712)
    does not: it checks a loopback connection's certificate only against
    the CA; 3.3 checks the address too."""
    return client_library_version() < (3, 4, 2)


def binary_log_options(server_id):
    """Server options (for MariaDB(options=...)) for a binary log and the
    server id that replication needs; every server of a replication set
    needs a different id."""
    return ("--log-bin=mysqld-bin", "--server-id=%d" % server_id)


# the client's report that its connection is gone (server has gone away,
# lost connection)
_LOST_RE = re.compile(rb"^ERROR (2006|2013) .*$", re.M)


def _quote(value):
    """value as the inside of a '...' SQL string literal."""
    return value.replace("\\", "\\\\").replace("'", "''")


class Session:
    """One client session kept open: a mariadb client fed through a pipe.

    Needed where a statement's effect lasts only as long as its session
    (LOCK TABLES, an open transaction) or where the connection itself is
    the point (occupying max_connections). Attribute id is the session's
    processlist id. query() runs statements and returns their output as
    sql() does; close() ends the session (also by leaving a with block).
    A statement that waits (for a lock) makes query() wait with it, up to
    its timeout."""

    def __init__(self, db, user=None, password=None, tcp=False,
                 database=None):
        command = [_program("mariadb"), "--no-defaults",
                   f"--user={user or db.admin_user}",
                   "--default-character-set=utf8mb4",
                   "--batch", "--skip-column-names", "--unbuffered",
                   # a killed session stays dead
                   "--skip-reconnect",
                   # carry on after an error: query() reports it
                   "--force"]
        if tcp:
            command += ["--protocol=tcp", f"--host={db.host}",
                        f"--port={db.port}"]
        else:
            command += ["--protocol=socket", f"--socket={db.socket}"]
        if database is not None:
            command.append(f"--database={database}")
        env = dict(os.environ)
        env.pop("MYSQL_PWD", None)
        if password is not None:
            env["MYSQL_PWD"] = password
        # errors go to the same pipe, in order with the results
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env)
        self._buffer = b""
        self._markers = 0
        try:
            self.id = int(self.query("SELECT CONNECTION_ID();"))
        except (MariaDBError, ValueError) as e:
            self.close()
            raise MariaDBError(f"no session: {e}") from None

    def query(self, statements, timeout=CLIENT_TIMEOUT):
        """Run statements in this session; return their output (a line
        per row, tab-separated). Raises MariaDBError if one failed, if the
        client exited (then the session is over), or after timeout
        seconds."""
        self._markers += 1
        marker = b"-- session marker %d --" % self._markers
        script = statements.rstrip().encode() + b"\nSELECT '" + marker + b"';\n"
        try:
            self._proc.stdin.write(script)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the client has exited: its last words are read below
        deadline = time.monotonic() + timeout
        fd = self._proc.stdout.fileno()
        while marker + b"\n" not in self._buffer:
            lost = _LOST_RE.search(self._buffer)
            if lost:
                # the client does not reconnect: every later statement
                # fails alike, the marker never comes
                self._buffer = b""
                raise MariaDBError("session lost: " +
                                   lost.group(0).decode(errors="replace"))
            left = deadline - time.monotonic()
            if left <= 0:
                raise MariaDBError(f"no answer within {timeout:.0f} s to: "
                                   f"{statements.strip()}")
            if not select.select([fd], [], [], left)[0]:
                continue
            data = os.read(fd, 65536)
            if not data:
                self._proc.wait()
                raise MariaDBError("the mariadb client exited with status "
                                   f"{self._proc.returncode}: "
                                   f"{self._buffer.decode(errors='replace').strip()}")
            self._buffer += data
        output, _, self._buffer = self._buffer.partition(marker + b"\n")
        text = output.decode("utf-8", errors="replace")
        errors = [line for line in text.splitlines() if line.startswith("ERROR ")]
        if errors:
            raise MariaDBError("; ".join(errors))
        return text

    def close(self):
        """End the session (the client quits, the server ends the
        connection and releases its locks)."""
        try:
            self._proc.stdin.close()
        except OSError:
            pass  # the client had exited: the pipe was broken
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            # stuck in a statement that waits: cut it off
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
