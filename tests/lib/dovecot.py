"""A private Dovecot for tests and for the local demo stack, 2.3 or 2.4.

Everything lives under one directory: configuration, base_dir (sockets and
master.pid), logs, mail homes, a self-signed certificate. Dovecot looks for
auth modules in a directory compiled into it, so the server runs in a mount
namespace of its own (unshare -m) in which a copy of that directory with our
module added is bind-mounted over the system one; nothing is installed and
nothing under /etc or /usr is changed. It is stopped by the PID in its
master.pid.

The installed Dovecot's version (dovecot --version) decides the
configuration: the templates below are Dovecot 2.3's, with the module's
settings in its 2.3 settings file (args); on 2.4 lib/dovecotconf.py turns
them into 2.4's settings (mariadb_* keys, passdb mariadb { } and userdb
mariadb { } with fields { }), and the module's settings module goes into a
copy of Dovecot's modules/settings next to modules/auth: doveconf, the
config process and doveadm load it to know the mariadb_* keys, so doveadm
and doveconf run in the same kind of mount namespace (command()).

doveadm runs the same way: doveadm() (and doveadm_argv(), for a caller that
runs the command itself, on a terminal say) bind-mounts a copy of Dovecot's
doveadm module directory with the admin commands' plugin added over the
system one, and the configuration names the admin commands' file
(dovecot-mariadb-admin.conf.ext, written when there is a password for
their database account)."""

import glob
import hashlib
import os
import re
import shutil
import subprocess
import urllib.request

from . import dovecotconf, proc

SYSTEM_MODULE_DIR = "/usr/lib/dovecot/modules"
SYSTEM_AUTH_MODULE_DIR = SYSTEM_MODULE_DIR + "/auth"
SYSTEM_DOVEADM_MODULE_DIR = SYSTEM_MODULE_DIR + "/doveadm"
# Dovecot 2.4's settings modules: the module's own is built next to it
SYSTEM_SETTINGS_MODULE_DIR = SYSTEM_MODULE_DIR + "/settings"
SETTINGS_MODULE = "libauthdb_mariadb_settings.so"
# the mail location of the tests' users (the userdb's mail field on 2.3)
MAIL_LOCATION = "maildir:~/Maildir"

_version = None


def version():
    """The installed Dovecot's version as a tuple, (2, 3, 19, 1) or
    (2, 4, 1): the first word of dovecot --version ("2.4.1-4 (7d8c0e5759)")."""
    global _version
    if _version is None:
        out = subprocess.run(["dovecot", "--version"], capture_output=True,
                             text=True, check=True).stdout
        _version = tuple(int(n) for n in re.findall(r"\d+", out.split()[0].split("-")[0]))
    return _version


def config_version():
    """The version for dovecot_config_version (2.4): "2.4.1"."""
    return ".".join(str(n) for n in version()[:3])


def is_24():
    """Dovecot 2.4 or later: settings instead of the args file."""
    return version() >= (2, 4)


def userdb_mail_fields():
    """The fields by which the userdb gives the tests' mail location."""
    if is_24():
        return dict(dovecotconf.mail_location_24(MAIL_LOCATION))
    return {"mail": MAIL_LOCATION}


# Debian's packages ship their configuration here; their maintainer scripts
# copy it to /etc/dovecot (ucf), where the admin changes it
PACKAGE_CONFIG_DIR = "/usr/share/dovecot"


def copy_package_config(dest):
    """Copy Dovecot's configuration as Debian installs it into /etc/dovecot
    (dovecot.conf, conf.d/, dovecot-*.conf.ext) to dest, from the copies
    that dovecot-core, dovecot-imapd and dovecot-lmtpd ship in
    /usr/share/dovecot, never from /etc/dovecot, which an admin (or the
    README's real-server steps) may have changed. Refuses a file that
    differs from what its package installed (dpkg's md5sums)."""
    sums = {}
    for path in glob.glob("/var/lib/dpkg/info/dovecot-*.md5sums"):
        with open(path) as f:
            for line in f:
                digest, name = line.rstrip("\n").split(None, 1)
                sums["/" + name] = digest
    names = ["dovecot.conf"]
    names += sorted(os.path.basename(p) for p in
                    glob.glob(os.path.join(PACKAGE_CONFIG_DIR, "dovecot-*.conf.ext")))
    names += sorted(os.path.join("conf.d", os.path.basename(p)) for p in
                    glob.glob(os.path.join(PACKAGE_CONFIG_DIR, "conf.d", "*.conf*")))
    os.makedirs(os.path.join(dest, "conf.d"), exist_ok=True)
    for name in names:
        source = os.path.join(PACKAGE_CONFIG_DIR, name)
        with open(source, "rb") as f:
            data = f.read()
        if sums.get(source) != hashlib.md5(data).hexdigest():
            raise RuntimeError("%s is not the file its package installed" % source)
        with open(os.path.join(dest, name), "wb") as f:
            f.write(data)
    return names


def make_certificate(directory, name="localhost"):
    """Write a self-signed certificate and key; return (cert, key) paths."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cert, "-days", "3650",
             "-subj", "/CN=%s" % name,
             "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % name],
            check=True, capture_output=True)
        os.chmod(key, 0o600)
    return cert, key


MODULE_CONFIG_TEMPLATE = """\
# dovecot-mariadb.conf.ext written by tests/lib/dovecot.py
hosts = {hosts}
user = {db_user}
password = {db_password}
dbname = mail_server
connect_timeout = {connect_timeout}
query_timeout = {query_timeout}
home = {vmail}/%d/%n
mail = {mail}
uid = {uid}
gid = {gid}
{extra}"""

# the admin commands' file (plugin/doveadm/doveadm-mariadb-settings.c)
ADMIN_CONFIG_TEMPLATE = """\
# dovecot-mariadb-admin.conf.ext written by tests/lib/dovecot.py
hosts = {hosts}
user = mail_admin
password = {password}
dbname = mail_server
{extra}"""

DOVECOT_CONFIG_TEMPLATE = """\
# dovecot.conf written by tests/lib/dovecot.py
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = {instance}
protocols = {protocols}
listen = 127.0.0.1
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
debug_log_path = {dir}/dovecot.log
auth_debug = yes
auth_verbose = yes
# every failure answered at once (the default delays them by 2 s)
auth_failure_delay = 0
# the module canonicalises names itself; don't lower-case them before
auth_username_format =
auth_mechanisms = plain login
disable_plaintext_auth = yes
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = {mail}
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
# the guide's floor, as Postfix's (doc/dovecot/99-mariadb-postfix.conf)
ssl_min_protocol = TLSv1.2
default_login_user = dovenull
default_internal_user = dovecot

{passdbs_before}passdb {{
  driver = {driver}
  args = {authdb_args}
{passdb_settings}}}
userdb {{
  driver = {driver}
  args = {authdb_args}
{userdb_settings}}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
{lmtp_listeners}}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
  unix_listener auth-client {{
    mode = 0666
  }}
{auth_listeners}}}
# doveadm mariadb's file
plugin {{
  mariadb_admin_config = {admin_config}
}}
# The anvil auth penalty (2..15 s after each failure from one IP) would
# slow the tests down: auth can't open this socket, so penalties are off.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{extra}"""


# Dovecot's built-in sql driver instead of the module (builtin_sql=True),
# for comparisons: the same database, by default queries on the base tables
# (sql_queries). Dovecot 2.3's settings file; on 2.4 lib/dovecotconf.py
# turns it into sql_driver, mysql HOST { } and passdb/userdb sql { query }
SQL_CONFIG_TEMPLATE = """\
# dovecot-sql.conf.ext written by tests/lib/dovecot.py
driver = mysql
connect = {hosts} port={port} dbname=mail_server user={db_user} \\
  password={db_password}
default_pass_scheme = BLF-CRYPT
{queries}"""
SQL_BASE_QUERIES = """\
password_query = SELECT CONCAT(local, '@', domain) AS user, \\
  password_hash AS password FROM users WHERE local = '%n' AND domain = '%d'
user_query = SELECT CONCAT(local, '@', domain) AS user FROM users \\
  WHERE local = '%n' AND domain = '%d'
iterate_query = SELECT CONCAT(local, '@', domain) AS user FROM users
"""
SQL_USERDB_SETTINGS = "  default_fields = home={vmail}/%d/%n uid={uid} gid={gid}\n"


# Dovecot's own binaries aren't instrumented: no leak checking (LSan would
# report Dovecot's allocations), but every memory or undefined-behaviour
# error in the module aborts its process and leaves a report.
SANITIZER_TEMPLATE = """
# ASan reserves terabytes of address space for its shadow memory
default_vsz_limit = 0
import_environment = TZ {variables}
"""


def sanitizer_preload():
    """The ASan runtime that a sanitizer build needs preloaded."""
    return os.environ.get("SANITIZER_PRELOAD",
                          "/usr/lib/x86_64-linux-gnu/libasan.so.8")


def sanitizer_variables():
    """With a sanitizer build (SANITIZER_LOG_DIR): the environment that a
    Dovecot program loading the module needs, {name: value}: the runtime
    preloaded (a sanitized library that dlopen() loads first aborts) and
    every report written into SANITIZER_LOG_DIR. Else {}."""
    sanitizer_dir = os.environ.get("SANITIZER_LOG_DIR")
    if not sanitizer_dir:
        return {}
    return {
        "LD_PRELOAD": sanitizer_preload(),
        "ASAN_OPTIONS": "detect_leaks=0:detect_stack_use_after_return=1:"
                        "abort_on_error=1:log_path=%s/asan" % sanitizer_dir,
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:log_path=%s/ubsan"
                         % sanitizer_dir,
    }


def sanitizer_settings():
    """With a sanitizer build: the settings that give Dovecot's processes
    the sanitizers' runtime (SANITIZER_TEMPLATE, 2.3's syntax); else ""."""
    variables = sanitizer_variables()
    if not variables:
        return ""
    return SANITIZER_TEMPLATE.format(variables=" ".join(
        "%s=%s" % kv for kv in sorted(variables.items())))


def sanitizer_settings_24():
    """sanitizer_settings() in 2.4's syntax, for a test that writes a 2.4
    configuration of its own."""
    items = []
    for key, value in dovecotconf.parse(sanitizer_settings()).items:
        items += [(key, value)] if key is None else dovecotconf.setting_24(key, value, {})
    return dovecotconf.format(dovecotconf.Section("", items=items))


class Dovecot(proc.Daemon):
    def __init__(self, basedir, module_so, db_hosts, db_password,
                 imap_port=None, uid=8, gid=8, protocols="imap lmtp",
                 connect_timeout=3, query_timeout=3, module_extra="",
                 dovecot_extra="", auth_listeners="", lmtp_listeners="",
                 passdb_settings="", passdbs_before="", instance=None,
                 etc_files=None, db_user="mail_user", builtin_sql=False,
                 sql_queries=SQL_BASE_QUERIES,
                 doveadm_plugin_so=None, admin_password=None, admin_extra=""):
        self.dir = os.path.abspath(basedir)
        self.module_so = module_so
        self.db_hosts = db_hosts
        self.db_password = db_password
        # the database account (sql/03-grants.sql's, unless a test makes
        # another)
        self.db_user = db_user
        # Dovecot's passdb/userdb sql instead of the module (the module's
        # settings file is written all the same, and not used); db_hosts
        # must then all have the same port; sql_queries: its queries, the
        # lines of its 2.3 settings file
        self.builtin_sql = builtin_sql
        self.sql_queries = sql_queries
        self.imap_port = imap_port or proc.free_port()
        self.uid = uid
        self.gid = gid
        self.protocols = protocols
        self.connect_timeout = connect_timeout
        self.query_timeout = query_timeout
        self.module_extra = module_extra
        self.dovecot_extra = dovecot_extra
        self.auth_listeners = auth_listeners
        # lines inside the mariadb passdb { } block, and passdb blocks
        # before it
        self.passdb_settings = passdb_settings
        self.passdbs_before = passdbs_before
        # extra unix_listener blocks in service lmtp (e.g. for Postfix)
        self.lmtp_listeners = lmtp_listeners
        self.instance = instance or "test-%d" % self.imap_port
        # {path under /etc: file put over it in Dovecot's mount namespace},
        # e.g. a resolv.conf naming the test's name server
        # (lib/nameserver.py); the host's files stay as they are
        self.etc_files = etc_files or {}
        # the admin commands: their plugin, the password of their database
        # account mail_admin and more lines for their file
        self.doveadm_plugin_so = doveadm_plugin_so
        self.admin_password = admin_password
        self.admin_extra = admin_extra
        # SANITIZER_LOG_DIR: the module was built with ASan+UBSan; preload
        # their runtime into Dovecot's processes and write reports there
        # (dovecot, doveconf and doveadm get it from program_env())
        self.dovecot_extra += sanitizer_settings()
        self.config = os.path.join(self.dir, "dovecot.conf")
        # the module's 2.3 settings file (on 2.4 its settings are in
        # dovecot.conf and this file is not written)
        self.module_config = os.path.join(self.dir, "dovecot-mariadb.conf.ext")
        self.sql_config = os.path.join(self.dir, "dovecot-sql.conf.ext")
        self.run_dir = os.path.join(self.dir, "run")
        self.pid_file = os.path.join(self.run_dir, "master.pid")
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.vmail = os.path.join(self.dir, "vmail")
        self.module_dir = os.path.join(self.dir, "modules", "auth")
        self.settings_module_dir = os.path.join(self.dir, "modules", "settings")
        self.doveadm_module_dir = os.path.join(self.dir, "modules", "doveadm")
        self.admin_config = os.path.join(self.dir, "dovecot-mariadb-admin.conf.ext")
        self.auth_client_socket = os.path.join(self.run_dir, "auth-client")
        self.auth_userdb_socket = os.path.join(self.run_dir, "auth-userdb")
        self.lmtp_socket = os.path.join(self.run_dir, "lmtp")
        # the self-signed certificate write_config() makes (make_certificate)
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")

    def module_settings_text(self):
        """The module's settings as the lines of its 2.3 settings file."""
        return MODULE_CONFIG_TEMPLATE.format(
            hosts=self.db_hosts, db_user=self.db_user,
            db_password=self.db_password,
            connect_timeout=self.connect_timeout,
            query_timeout=self.query_timeout, vmail=self.vmail,
            mail=MAIL_LOCATION, uid=self.uid, gid=self.gid,
            extra=self.module_extra)

    def config_text(self):
        """dovecot.conf for the installed Dovecot: the 2.3 template as it
        is, or in 2.4's settings with the module's settings in it."""
        driver, authdb_args, userdb_settings = "mariadb", self.module_config, ""
        if self.builtin_sql:
            driver, authdb_args = "sql", self.sql_config
            userdb_settings = SQL_USERDB_SETTINGS.format(
                vmail=self.vmail, uid=self.uid, gid=self.gid)
        text = DOVECOT_CONFIG_TEMPLATE.format(
            dir=self.dir, instance=self.instance,
            protocols=self.protocols, uid=self.uid, gid=self.gid,
            cert=self.cert, key=self.key, driver=driver,
            authdb_args=authdb_args, userdb_settings=userdb_settings,
            admin_config=self.admin_config, mail=MAIL_LOCATION,
            imap_port=self.imap_port, auth_listeners=self.auth_listeners,
            passdb_settings=self.passdb_settings,
            passdbs_before=self.passdbs_before,
            lmtp_listeners=self.lmtp_listeners, extra=self.dovecot_extra)
        if not is_24():
            return text
        sql_settings = None
        if self.builtin_sql:
            sql_settings = dovecotconf.parse_settings_file(self.sql_settings_text())
        return dovecotconf.to_24(
            text, dovecotconf.parse_settings_file(self.module_settings_text()),
            config_version(), sql_settings)

    def module_mounts(self):
        """(our copy, Dovecot's module directory): the auth modules with
        ours; on 2.4 the settings modules with ours too; then etc_files
        (our file, the one under /etc)."""
        mounts = [(self.module_dir, SYSTEM_AUTH_MODULE_DIR)]
        if is_24():
            mounts.append((self.settings_module_dir, SYSTEM_SETTINGS_MODULE_DIR))
        for target, source in sorted(self.etc_files.items()):
            mounts.append((source, target))
        return mounts

    def write_config(self):
        for d in (self.dir, os.path.join(self.dir, "state"), self.run_dir,
                  self.vmail, self.module_dir):
            os.makedirs(d, exist_ok=True)
        # Dovecot's unprivileged processes must reach their sockets and files
        os.chmod(self.dir, 0o755)
        os.chown(self.vmail, self.uid, self.gid)
        self.cert, self.key = make_certificate(self.dir)
        if not is_24():
            with open(self.module_config, "w") as f:
                f.write(self.module_settings_text())
            # holds the database password: root only, read in preinit as root
            os.chmod(self.module_config, 0o600)
        if self.builtin_sql and not is_24():
            self.write_sql_config()
        if self.admin_password is not None:
            self.write_admin_config()
        # on 2.4 dovecot.conf holds the database password: root only (the
        # config process reads it as root)
        mode = 0o600 if is_24() else 0o644
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), mode)
            f.write(self.config_text())
        # a copy, not a symlink: the bind mount must not point back here
        for so in glob.glob(os.path.join(SYSTEM_AUTH_MODULE_DIR, "*.so")):
            shutil.copy2(so, self.module_dir)
        shutil.copy2(self.module_so, os.path.join(self.module_dir, "libauthdb_mariadb.so"))
        if is_24():
            os.makedirs(self.settings_module_dir, exist_ok=True)
            for so in glob.glob(os.path.join(SYSTEM_SETTINGS_MODULE_DIR, "*.so")):
                shutil.copy2(so, self.settings_module_dir)
            shutil.copy2(os.path.join(os.path.dirname(self.module_so), SETTINGS_MODULE),
                         os.path.join(self.settings_module_dir, SETTINGS_MODULE))

    def command(self, argv, extra_mounts=()):
        """argv (dovecot, doveadm, doveconf) run in a mount namespace of its
        own that has our copies of Dovecot's module directories."""
        mounts = " && ".join("mount --bind %s %s" % pair for pair in
                             self.module_mounts() + list(extra_mounts))
        return (["unshare", "-m", "--propagation", "private", "sh", "-c",
                 mounts + ' && exec "$@"', "sh"] + list(argv))

    def sql_settings_text(self):
        """dovecot-sql.conf.ext for builtin_sql: db_hosts ("address:port
        ...") as the mysql driver's host= list and its one port."""
        hosts = [h.rsplit(":", 1) for h in self.db_hosts.split()]
        ports = {port for _, port in hosts}
        if len(ports) != 1:
            raise ValueError("builtin_sql: the hosts' ports differ: %s"
                             % self.db_hosts)
        return SQL_CONFIG_TEMPLATE.format(
            hosts=" ".join("host=%s" % h for h, _ in hosts),
            port=ports.pop(), db_user=self.db_user,
            db_password=self.db_password, queries=self.sql_queries)

    def write_sql_config(self):
        """Write dovecot-sql.conf.ext (2.3; on 2.4 it is in dovecot.conf)."""
        with open(self.sql_config, "w") as f:
            f.write(self.sql_settings_text())
        os.chmod(self.sql_config, 0o600)

    def write_admin_config(self, text=None):
        """Write the admin commands' file: the one for this Dovecot's
        primary database (the first of db_hosts) with mail_admin's
        password, or text. Mode 0600, as the commands demand."""
        if text is None:
            text = ADMIN_CONFIG_TEMPLATE.format(
                hosts=self.db_hosts.split()[0], password=self.admin_password,
                extra=self.admin_extra)
        fd = os.open(self.admin_config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(self.admin_config, 0o600)

    def doveadm_argv(self, *args):
        """The command line that runs doveadm with this configuration (in
        command()'s mount namespace) and, if there is one, the admin
        commands' plugin: a copy of Dovecot's doveadm modules with the
        plugin over the system's (copied afresh on every call)."""
        argv = ["doveadm", "-c", self.config] + list(args)
        if self.doveadm_plugin_so is None:
            return self.command(argv)
        os.makedirs(self.doveadm_module_dir, exist_ok=True)
        for so in glob.glob(os.path.join(SYSTEM_DOVEADM_MODULE_DIR, "*.so")):
            shutil.copy2(so, self.doveadm_module_dir)
        shutil.copy2(self.doveadm_plugin_so, self.doveadm_module_dir)
        return self.command(argv, [(self.doveadm_module_dir, SYSTEM_DOVEADM_MODULE_DIR)])

    def program_env(self):
        """The environment of dovecot, doveconf and doveadm: with a
        sanitizer build, the sanitizers' runtime preloaded, as for Dovecot's
        processes (doveadm loads the admin commands; on 2.4 doveconf, which
        dovecot and doveadm run too, loads the settings module)."""
        env = dict(os.environ)
        env.update(sanitizer_variables())
        return env

    def pid(self):
        return proc.read_pid(self.pid_file)

    def is_running(self):
        pid = self.pid()
        return pid is not None and proc.pid_alive(pid)

    def start(self, timeout=30):
        if self.is_running():
            return
        self.write_config()
        # not a pipe: the daemon keeps its stdout open, a pipe would never close
        startup_log = os.path.join(self.dir, "startup.log")
        with open(startup_log, "w") as out:
            r = subprocess.run(self.command(["dovecot", "-c", self.config]),
                               env=self.program_env(), stdin=subprocess.DEVNULL,
                               stdout=out, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            with open(startup_log, errors="replace") as f:
                raise RuntimeError("dovecot failed to start: %s\n%s" % (
                    f.read(), self.log_tail()))
        proc.wait_for(lambda: self.is_running() and
                      os.path.exists(self.auth_client_socket), timeout,
                      what="dovecot to start")

    def auth_processes(self):
        """(auth master PIDs, auth-worker PIDs): children of the master
        titled "<instance>/auth" and "<instance>/auth -w" (after a reload
        the old auth master lingers for a moment)."""
        masters, workers = [], []
        for pid in proc.child_pids(self.pid()) if self.pid() else []:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    title = f.read().replace(b"\0", b" ").strip()
            except OSError:
                continue
            if title.endswith(b"/auth"):
                masters.append(pid)
            elif title.endswith(b"/auth -w"):
                workers.append(pid)
        return masters, workers

    def auth_master(self):
        """The PID of the auth master, once there is exactly one."""
        masters = proc.wait_for(lambda: (lambda m: m if len(m) == 1 else None)(
            self.auth_processes()[0]), 10, what="one auth master")
        return masters[0]

    def auth_pids(self):
        """Every auth process: masters and workers."""
        masters, workers = self.auth_processes()
        return masters + workers

    def reload(self):
        self.doveadm("reload", check=True)

    def doveadm(self, *args, check=False, input=None):
        """Run doveadm; input is its standard input (none if None)."""
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run(self.doveadm_argv(*args), env=self.program_env(),
                              capture_output=True, text=True, check=check,
                              timeout=120, **stdin)

    def doveconf(self, *args):
        """doveconf -c config args: the CompletedProcess (write_config()
        first)."""
        return subprocess.run(self.command(["doveconf", "-c", self.config] + list(args)),
                              env=self.program_env(), capture_output=True, text=True,
                              timeout=120)

    def log_lines(self, *words):
        """The log's lines that contain any of the words (for assertions
        that must not print the whole log)."""
        return [line for line in self.log().splitlines()
                if any(w in line for w in words)]

    def wait_for_log(self, text, count=1, timeout=10):
        """Wait until text is in the log count times. Dovecot's log process
        writes asynchronously: a line may come after the client's reply."""
        return proc.wait_for(lambda: self.log().count(text) >= count, timeout,
                             what="%d x %r in the log" % (count, text))


def openmetrics(port):
    """What the stats process's OpenMetrics endpoint on 127.0.0.1:port
    (service stats { inet_listener http { } }) says, as {series with
    labels: value}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            values[series] = float(value)
    return values
