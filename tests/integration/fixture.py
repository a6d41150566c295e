"""The servers an integration test module needs, started once per module.

A test module calls start() in setUpModule() and stop() in tearDownModule();
stop() also runs at exit, so a failed or interrupted test still cleans up."""

import atexit
import os
import secrets
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests"))

from lib import proc  # noqa: E402
from lib.authclient import auth  # noqa: E402
from lib.clamd import Clamd  # noqa: E402
from lib.dovecot import Dovecot  # noqa: E402
from lib.load import parallel  # noqa: E402
from lib.mariadb import MariaDB, binary_log_options  # noqa: E402
from lib.postfix import Postfix  # noqa: E402
from lib.rspamd import Rspamd  # noqa: E402

SQL_DIR = os.path.join(TOP, "sql")
POSTFIX_MAP_DIR = os.path.join(SQL_DIR, "postfix")
MODULE_SO = os.environ.get(
    "MODULE_SO", os.path.join(TOP, "plugin", ".libs", "libauthdb_mariadb.so"))
# the admin commands (doveadm mariadb ...)
DOVEADM_PLUGIN_SO = os.environ.get(
    "DOVEADM_PLUGIN_SO",
    os.path.join(TOP, "plugin", ".libs", "lib90_doveadm_mariadb_plugin.so"))

# the guide's sample users: both have password test1234
USERS = ["1000dreams@nahida.net", "deepwood@nahida.net"]
PASSWORD = "test1234"
SAMPLE_HASH = "$2y$10$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tnG"


class Servers:
    """MariaDB with sql/ loaded and Dovecot with the module; with
    postfix=True also a Postfix (lib/postfix.py) that asks Dovecot about
    SMTP AUTH, reads its maps from the MariaDB and delivers through
    Dovecot's LMTP (self.postfix, otherwise None). With filters=True (and
    postfix=True) also clamd and rspamd, Postfix's milter, with a DKIM key
    for every domain of the database (self.clamd, self.rspamd,
    self.dkim_records). schema_tokens: more placeholders of sql/ to
    substitute (MariaDB.load_schema()), e.g. the rehash account's. doveadm
    (self.dovecot.doveadm()) has the admin commands, with the file for the
    database account mail_admin (password self.admin_password;
    admin_extra: more lines for the file)."""

    def __init__(self, name, module_extra="", dovecot_extra="", auth_listeners="",
                 protocols="imap lmtp", postfix=False, passdb_settings="",
                 passdbs_before="", filters=False, schema_tokens=None,
                 admin_extra=""):
        self.dir = tempfile.mkdtemp(prefix="mariadb-auth-%s-" % name)
        os.chmod(self.dir, 0o755)
        self.db_password = secrets.token_hex(12)
        self.admin_password = secrets.token_hex(12)
        self.db = MariaDB(os.path.join(self.dir, "mariadb"), proc.free_port())
        self.schema_tokens = schema_tokens
        dovecot_dir = os.path.join(self.dir, "dovecot")
        self.postfix = None
        self.clamd = self.rspamd = None
        self.dkim_records = {}
        if filters:
            self.clamd = Clamd(os.path.join(self.dir, "clamd"))
            self.rspamd = Rspamd(os.path.join(self.dir, "rspamd"), self.clamd.address())
        lmtp_listeners = ""
        if postfix:
            self.postfix = Postfix(
                os.path.join(self.dir, "postfix"), POSTFIX_MAP_DIR,
                db_hosts="inet:127.0.0.1:%d" % self.db.port,
                db_password=self.db_password,
                cert=os.path.join(dovecot_dir, "cert.pem"),
                key=os.path.join(dovecot_dir, "key.pem"),
                milter=self.rspamd.milter() if self.rspamd else None)
            auth_listeners += self.postfix.dovecot_auth_listener()
            lmtp_listeners = self.postfix.dovecot_lmtp_listener()
        self.dovecot = Dovecot(
            dovecot_dir, MODULE_SO,
            db_hosts="127.0.0.1:%d" % self.db.port,
            db_password=self.db_password, module_extra=module_extra,
            dovecot_extra=dovecot_extra, auth_listeners=auth_listeners,
            lmtp_listeners=lmtp_listeners, protocols=protocols,
            passdb_settings=passdb_settings, passdbs_before=passdbs_before,
            doveadm_plugin_so=DOVEADM_PLUGIN_SO, admin_password=self.admin_password,
            admin_extra=admin_extra)
        # what add_replica() and add_dovecot() add
        self.replica = None
        self.more_dovecots = []
        self.stopped = False
        atexit.register(self.stop)

    def add_replica(self):
        """Before start(), and before add_dovecot(): a second MariaDB
        (self.replica, read-only) that follows self.db, the primary, by
        replication (binary logs, GTID); the Dovecots' hosts are "primary
        replica". start() starts both, makes the replica follow and waits
        until it has applied what sql/ wrote to the primary."""
        self.db.options += binary_log_options(1)
        self.replica = MariaDB(os.path.join(self.dir, "replica"), proc.free_port(),
                               user_password=self.db_password,
                               options=binary_log_options(2) + ("--read-only",))
        self.dovecot.db_hosts += " 127.0.0.1:%d" % self.replica.port
        return self.replica

    def add_dovecot(self, name, **settings):
        """One more Dovecot with the module, in self.dir/name, on the same
        databases unless settings (lib/dovecot.py Dovecot's arguments, e.g.
        module_extra or db_hosts) say otherwise. stop() stops it; start()
        starts it if it is added before, else the caller does."""
        settings.setdefault("db_hosts", self.dovecot.db_hosts)
        settings.setdefault("doveadm_plugin_so", DOVEADM_PLUGIN_SO)
        settings.setdefault("admin_password", self.admin_password)
        d = Dovecot(os.path.join(self.dir, name), MODULE_SO,
                    db_password=self.db_password, **settings)
        self.more_dovecots.append(d)
        return d

    def start(self):
        try:
            if self.replica:
                parallel(self.db.start, self.replica.start)
                self.replica.replicate_from(self.db)
            else:
                self.db.start()
            self.db.load_schema(SQL_DIR, self.db_password,
                                tokens=self.schema_tokens,
                                mail_admin_password=self.admin_password)
            if self.rspamd:
                self.dkim_records = self.rspamd.make_dkim_keys(
                    self.db.sql("SELECT domain FROM domains", database="mail_server").split())
                self.clamd.start()
                self.rspamd.start()
            if self.postfix:
                # Dovecot puts its sockets for Postfix into Postfix's
                # private/, and Postfix reads Dovecot's certificate
                self.postfix.prepare()
            self.dovecot.start()
            if self.postfix:
                self.postfix.start()
            for d in self.more_dovecots:
                d.start()
            if self.replica:
                self.replica.wait_caught_up(self.db)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        stop_all(self.more_dovecots + [self.postfix, self.dovecot, self.rspamd,
                                       self.clamd, self.replica, self.db],
                 self.dir)


def stop_all(servers, directory=None):
    """Stop each server (None is skipped; one that fails to stop is
    reported and the others are still stopped), then remove directory if
    given, unless KEEP_TEST_DIRS asks to keep it."""
    for server in servers:
        if server is None:
            continue
        try:
            server.stop()
        except Exception as e:  # keep cleaning up
            print("cleanup: %s" % e, file=sys.stderr)
    if directory is None:
        return
    if os.environ.get("KEEP_TEST_DIRS"):
        print("kept %s" % directory, file=sys.stderr)
    else:
        shutil.rmtree(directory, ignore_errors=True)


def wait_for_first_login(servers):
    """The first request also starts an auth-worker and a connection."""
    proc.wait_for(lambda: auth(servers.dovecot, USERS[0], PASSWORD)[0] == "OK", 30,
                  what="the first successful login")
