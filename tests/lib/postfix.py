"""A private Postfix for the tests and the local demo stack.

The mail path of a real installation (doc/postfix/), on 127.0.0.1 and in
one directory of its own:

    basedir/etc/             config_directory: main.cf, master.cf
    basedir/etc/virtual.d/   the maps of sql/postfix/*.cf, placeholders
                             filled in (root:postfix, mode 0640)
    basedir/spool/           queue_directory (pid/master.pid, private/, ...)
    basedir/data/            data_directory (TLS session cache, locks)
    basedir/postfix.log      maillog_file: every Postfix program logs here
                             through postlogd, no syslog needed

Two SMTP services: "smtp" (inbound mail for the hosted domains, no AUTH,
no relaying) and "submission" (STARTTLS required, then SMTP AUTH through
Dovecot's auth socket, senders limited to the addresses they own). The
hosted domains, mailboxes, aliases and sender owners come from MariaDB
through proxymap with the map files of sql/postfix; mail for them goes to
Dovecot's LMTP. Mail for any other domain is bounced, never sent to
another host.

With milter (e.g. "inet:127.0.0.1:11332", rspamd's proxy worker,
lib/rspamd.py) every message of both services and of local programs passes
that milter, and mail is refused with 4xx while it cannot be asked
(milter_default_action = tempfail), as in doc/postfix/main.cf.

Dovecot puts its two sockets for Postfix where a real installation has
them, in Postfix's private/ directory (auth and dovecot-lmtp):
dovecot_auth_listener() and dovecot_lmtp_listener() give the Dovecot
configuration for that, and prepare() creates private/ so that Dovecot can
start before Postfix does.

No daemon is chrooted (the queue directory holds no copy of /etc), so the
relative socket paths resolve against the queue directory, as they do in a
chroot. The server runs as the system user postfix (from the postfix
package), is started with "postfix -c basedir/etc start" and stopped by the
PID in spool/pid/master.pid, never by name. Nothing under /etc is read
except Postfix's own compiled-in meta_directory (postfix-files,
dynamicmaps.cf) and nothing under /etc is written.
"""

import grp
import os
import pwd
import shutil
import subprocess

from . import proc

# sql/postfix/*.cf, in the order of sql/postfix/README
MAPS = ("domains", "mailboxes", "aliases", "sender-login")

# The Postfix parameter each map is for
MAP_PARAMETERS = {
    "domains": "virtual_mailbox_domains",
    "mailboxes": "virtual_mailbox_maps",
    "aliases": "virtual_alias_maps",
    "sender-login": "smtpd_sender_login_maps",
}

PASSWORD_TOKEN = "@MAIL_USER_PASSWORD@"
HOSTS_TOKEN = "@DB_HOSTS@"

START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 60.0

MAIN_CF_TEMPLATE = """\
# main.cf of a private Postfix, written by tests/lib/postfix.py: rewritten
# at every start, edit the template there. doc/postfix/main.cf is the same
# mail path for a real installation; the differences are the directories,
# the ports, no chroot, and that nothing is sent to other hosts.
compatibility_level = 3.6

# A private instance: own directories, loopback only, a log file of its own.
queue_directory = {queue_dir}
data_directory = {data_dir}
maillog_file = {log_path}
maillog_file_prefixes = {dir}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
biff = no
append_dot_mydomain = no

# No local(8) delivery: every hosted domain is a virtual mailbox domain.
mydestination =
alias_maps =
alias_database =
# Mail to other domains is bounced at once: this stack sends nothing to
# other hosts (no DNS, no port 25 out).
default_transport = error:5.7.1 the local test stack does not send mail to other hosts
relay_transport = $default_transport

# The guide's identity (doc/postfix/main.cf): the name in the banner and in
# Received: headers, and the HELO name for SPF checks of outgoing mail.
myhostname = {hostname}
mydomain = {domain}
mail_name = {mail_name}
smtpd_banner = $myhostname ESMTP - $mail_name
smtp_helo_name = $mydomain

# TLS: the self-signed certificate of the stack, TLS 1.2 or newer only (the
# guide's floor), in both directions.
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtp_tls_security_level = may
smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1
smtpd_tls_mandatory_protocols = $smtpd_tls_protocols
smtp_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1
smtp_tls_mandatory_protocols = $smtp_tls_protocols
tls_preempt_cipherlist = yes
tls_ssl_options = NO_RENEGOTIATION
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
# AUTH only after STARTTLS, never in plain text (there is no exception for
# loopback clients).
smtpd_tls_auth_only = yes

# SMTP AUTH is asked of Dovecot's auth service (its unix_listener in
# private/auth), and enabled on the submission port only (master.cf).
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no

# Hosted domains, mailboxes, aliases and sender owners from MariaDB
# (sql/postfix/*.cf), through proxymap: one connection per map, shared by
# all smtpd processes.
virtual_mailbox_domains = proxy:mysql:{maps_dir}/domains.cf
virtual_mailbox_maps = proxy:mysql:{maps_dir}/mailboxes.cf
virtual_alias_maps = proxy:mysql:{maps_dir}/aliases.cf
virtual_alias_domains =
smtpd_sender_login_maps = proxy:mysql:{maps_dir}/sender-login.cf
# Delivery into the mailboxes: Dovecot's LMTP (its unix_listener in
# private/dovecot-lmtp), which takes home, uid and gid from the userdb.
virtual_transport = lmtp:unix:private/dovecot-lmtp

# No open relay. Unlike doc/postfix/main.cf there is no permit_mynetworks:
# every client of this stack comes from the loopback, and trusting it would
# let any local program relay without logging in.
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
disable_vrfy_command = yes
smtpd_helo_required = yes

# The submission service (master.cf): logged-in clients only, and each may
# only use the addresses it owns (smtpd_sender_login_maps).
mua_client_restrictions = permit_sasl_authenticated, reject
mua_sender_restrictions = reject_sender_login_mismatch
mua_relay_restrictions = permit_sasl_authenticated, reject
{milter}"""

# With a milter (rspamd's proxy worker, lib/rspamd.py), as doc/postfix/main.cf
MILTER_TEMPLATE = """
# Every message, inbound and submitted, passes rspamd's proxy worker in
# milter mode; if it cannot be asked, Postfix answers 4xx (tempfail):
# nothing is accepted unscanned.
smtpd_milters = {milter}
non_smtpd_milters = $smtpd_milters
milter_protocol = 6
milter_mail_macros = i {{mail_addr}} {{client_addr}} {{client_name}} {{auth_authen}}
milter_default_action = tempfail
"""

MASTER_CF_TEMPLATE = """\
# master.cf of a private Postfix, written by tests/lib/postfix.py. Nothing
# is chrooted (the 5th column is n): the queue directory has no copy of /etc.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:{smtp_port} inet n - n - - smtpd
127.0.0.1:{submission_port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=$mua_client_restrictions
  -o smtpd_sender_restrictions=$mua_sender_restrictions
  -o smtpd_relay_restrictions=$mua_relay_restrictions
  -o milter_macro_daemon_name=ORIGINATING
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

DOVECOT_AUTH_LISTENER = """\
  # Postfix's smtpd asks here about SMTP AUTH (smtpd_sasl_path = private/auth)
  unix_listener {path} {{
    mode = 0660
    user = postfix
    group = postfix
  }}
"""

DOVECOT_LMTP_LISTENER = """\
  # Postfix delivers here (virtual_transport = lmtp:unix:private/dovecot-lmtp)
  unix_listener {path} {{
    mode = 0600
    user = postfix
    group = postfix
  }}
"""


class PostfixError(RuntimeError):
    """Postfix or one of its programs failed; the message says why."""


def _program(name):
    path = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/sbin"))
    found = shutil.which(name, path=path)
    if found is None:
        raise PostfixError("%s not found: install postfix and postfix-mysql" % name)
    return found


def _write(path, text, mode, uid=0, gid=0):
    """Write text to path with the given mode and owner, replacing the file
    only if its content or permissions differ. The file never exists with
    looser permissions, not even for a moment."""
    try:
        st = os.lstat(path)
        with open(path, encoding="utf-8") as f:
            if (f.read() == text and st.st_mode & 0o7777 == mode
                    and (st.st_uid, st.st_gid) == (uid, gid)):
                return
    except OSError:
        pass
    tmp = path + ".new"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o700)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchown(f.fileno(), uid, gid)
        os.fchmod(f.fileno(), mode)
        f.write(text)
    os.rename(tmp, path)


class Postfix(proc.Daemon):
    """One private Postfix (see the module documentation).

    map_dir: the directory with the map files (sql/postfix); db_hosts: the
    value for their @DB_HOSTS@ (e.g. "inet:127.0.0.1:3306"); db_password:
    mail_user's password; cert, key: the TLS certificate and key (read as
    root when smtpd starts). Ports default to free ones.
    """

    def __init__(self, basedir, map_dir, db_hosts, db_password, cert, key,
                 smtp_port=None, submission_port=None, hostname="smtp.nahida.net",
                 domain="nahida.net", mail_name="nahidaSMTP", milter=None):
        self.dir = os.path.abspath(basedir)
        self.map_dir = map_dir
        self.db_hosts = db_hosts
        self.db_password = db_password
        self.cert = cert
        self.key = key
        self.smtp_port = smtp_port or proc.free_port()
        self.submission_port = submission_port or proc.free_port()
        self.hostname = hostname
        self.domain = domain
        self.mail_name = mail_name
        # e.g. "inet:127.0.0.1:11332": smtpd_milters and non_smtpd_milters
        self.milter = milter
        self.config_dir = os.path.join(self.dir, "etc")
        self.maps_dir = os.path.join(self.config_dir, "virtual.d")
        self.queue_dir = os.path.join(self.dir, "spool")
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postfix.log")
        self.pid_file = os.path.join(self.queue_dir, "pid", "master.pid")
        self.private_dir = os.path.join(self.queue_dir, "private")
        # Dovecot's sockets for Postfix (the paths main.cf names relatively)
        self.auth_socket = os.path.join(self.private_dir, "auth")
        self.lmtp_socket = os.path.join(self.private_dir, "dovecot-lmtp")

    def map_file(self, name):
        """The installed map file of sql/postfix/<name>.cf."""
        return os.path.join(self.maps_dir, name + ".cf")

    def dovecot_auth_listener(self):
        """Dovecot configuration inside "service auth { }": the SASL socket
        Postfix's smtpd asks (the auth-client protocol)."""
        return DOVECOT_AUTH_LISTENER.format(path=self.auth_socket)

    def dovecot_lmtp_listener(self):
        """Dovecot configuration inside "service lmtp { }": the LMTP socket
        Postfix delivers to."""
        return DOVECOT_LMTP_LISTENER.format(path=self.lmtp_socket)

    def prepare(self):
        """Write the configuration and the maps and create the directories
        (private/ too, for Dovecot's sockets). Done by start() as well; can
        be run again at any time."""
        try:
            postfix = pwd.getpwnam("postfix")
            postfix_gid = grp.getgrnam("postfix").gr_gid
        except KeyError:
            raise PostfixError("there is no system user and group postfix: "
                               "install the postfix package") from None
        for d in (self.dir, self.config_dir, self.queue_dir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        # only root and Postfix may read the map files (they hold the
        # database password)
        os.makedirs(self.maps_dir, exist_ok=True)
        os.chown(self.maps_dir, 0, postfix_gid)
        os.chmod(self.maps_dir, 0o750)
        # as "postfix start" would create it: postfix:root 0700
        os.makedirs(self.private_dir, exist_ok=True)
        os.chown(self.private_dir, postfix.pw_uid, 0)
        os.chmod(self.private_dir, 0o700)

        for name in MAPS:
            with open(os.path.join(self.map_dir, name + ".cf"), encoding="utf-8") as f:
                text = f.read()
            text = (text.replace(PASSWORD_TOKEN, self.db_password)
                    .replace(HOSTS_TOKEN, self.db_hosts))
            _write(self.map_file(name), text, 0o640, 0, postfix_gid)
        _write(os.path.join(self.config_dir, "main.cf"), MAIN_CF_TEMPLATE.format(
            dir=self.dir, queue_dir=self.queue_dir, data_dir=self.data_dir,
            log_path=self.log_path, hostname=self.hostname, domain=self.domain,
            mail_name=self.mail_name, cert=self.cert, key=self.key,
            maps_dir=self.maps_dir,
            milter=MILTER_TEMPLATE.format(milter=self.milter) if self.milter else ""),
            0o644)
        _write(os.path.join(self.config_dir, "master.cf"), MASTER_CF_TEMPLATE.format(
            smtp_port=self.smtp_port, submission_port=self.submission_port), 0o644)

    def start(self, timeout=START_TIMEOUT):
        """Start Postfix (prepare() first). Returns at once if it runs
        already; raises PostfixError with the log if it does not start."""
        if self.is_running():
            return
        self.prepare()
        r = self.command("start")
        if r.returncode != 0:
            raise PostfixError("postfix start failed (status %d): %s\n%s" % (
                r.returncode, (r.stdout + r.stderr).strip(), self.log_tail()))
        proc.wait_for(self.is_running, timeout, what="postfix to start")

    def _is_ours(self, pid):
        """A live Postfix master of this instance: its program is master
        and its working directory our queue directory. Postfix is stopped
        by this PID (SIGTERM: the master stops its children and exits)."""
        return proc.runs(pid, "master", cwd=self.queue_dir)

    def command(self, *args):
        """Run "postfix -c config_dir args..."."""
        return subprocess.run([_program("postfix"), "-c", self.config_dir, *args],
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT)

    def postconf(self, *args):
        """Run "postconf -c config_dir args..."; returns the CompletedProcess."""
        return subprocess.run([_program("postconf"), "-c", self.config_dir, *args],
                              capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT)

    def postmap_query(self, name, key, proxy=False):
        """Look key up in map name (sql/postfix/<name>.cf) with postmap -q:
        directly (mysql:) or through this instance's proxymap (proxy:mysql:,
        as smtpd does). Returns the CompletedProcess: status 0 and the
        value, or status 1 and no output for an unknown key."""
        table = "mysql:" + self.map_file(name)
        if proxy:
            table = "proxy:" + table
        return subprocess.run([_program("postmap"), "-c", self.config_dir,
                               "-q", key, table],
                              capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT)
