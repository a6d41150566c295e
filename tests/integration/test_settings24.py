"""Dovecot 2.4: the module's settings are Dovecot's own (issue 10).

Its settings module makes doveconf know them: doveconf -n lists them with
the database password hidden; a misspelled mariadb_* key, a bad value, a
2.3 template (%d) or a mail field in fields { } stop doveconf, and with it
Dovecot's start, with a message that names what is wrong; and the minimal
configuration of doc/configuration.md works as written, with doveadm auth
test, doveadm user and doveadm user '*'. (On 2.3 the settings file's
checks are in test_startup and test_hostile.)"""

import os
import re
import shutil
import tempfile
import unittest

from fixture import MODULE_SO, PASSWORD, TOP, USERS, Servers, wait_for_first_login
from lib import dovecot
from lib.dovecot import Dovecot

S = None


def setUpModule():
    global S
    if not dovecot.is_24():
        raise unittest.SkipTest("Dovecot 2.4's settings only (2.3: its settings file, "
                                "test_startup and test_hostile)")
    S = Servers("settings24").start()
    wait_for_first_login(S)


def tearDownModule():
    if S is not None:
        S.stop()


class EditedDovecot(Dovecot):
    """A Dovecot whose dovecot.conf is the tests' with some text replaced."""

    def __init__(self, *args, edits=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.edits = edits

    def config_text(self):
        text = super().config_text()
        for old, new in self.edits:
            if old not in text:
                raise AssertionError("%r is not in the configuration" % old)
            text = text.replace(old, new)
        return text


class ConfigDir:
    """A Dovecot configuration of its own (not started), for doveconf."""

    def __init__(self, edits=(), **kwargs):
        self.dir = tempfile.mkdtemp(prefix="mariadb-auth-settings24-")
        self.dovecot = EditedDovecot(self.dir, MODULE_SO, db_hosts="127.0.0.1:%d" % S.db.port,
                                     db_password=S.db_password, edits=edits, **kwargs)
        self.dovecot.write_config()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.dovecot.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class DoveconfTest(unittest.TestCase):
    def assert_refused(self, config, *texts):
        """doveconf fails, and so does Dovecot's start, naming texts."""
        r = config.dovecot.doveconf("-n")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        for text in texts:
            self.assertIn(text, r.stderr)
        with self.assertRaises(RuntimeError) as cm:
            config.dovecot.start()
        for text in texts:
            self.assertIn(text, str(cm.exception))
        self.assertFalse(config.dovecot.is_running())

    def test_doveconf_lists_the_settings_and_hides_the_password(self):
        r = S.dovecot.doveconf("-n")
        self.assertEqual(r.returncode, 0, r.stderr)
        # -n: the settings that differ from their defaults
        self.assertIn("mariadb_hosts = 127.0.0.1:%d" % S.db.port, r.stdout)
        self.assertIn("mariadb_password = # hidden", r.stdout)
        self.assertNotIn(S.db_password, r.stdout)
        self.assertEqual(r.stderr, "")

    def test_a_misspelled_key_is_refused_by_name(self):
        with ConfigDir(dovecot_extra="mariadb_pool_sise = 3\n") as c:
            self.assert_refused(c, "Unknown setting: mariadb_pool_sise")

    def test_a_bad_value_is_refused_by_name(self):
        with ConfigDir(module_extra="pool_size = lots\n") as c:
            self.assert_refused(c, "mariadb_pool_size: invalid value 'lots': "
                                   "expected a number")

    def test_a_2_3_template_is_refused_with_what_to_write(self):
        with ConfigDir(edits=[("%{user | domain}/%{user | username}", "%d/%n")]) as c:
            self.assert_refused(c, "uses Dovecot 2.3's %d", "write %{user | domain}")

    def test_a_mail_field_is_refused_with_what_to_write(self):
        # in the fields { } of the userdb mariadb block
        edit = ("    mail_driver = maildir\n    mail_path = ~/Maildir\n    uid",
                "    mail = maildir:~/Maildir\n    uid")
        with ConfigDir(edits=[edit]) as c:
            self.assert_refused(c, "fields { mail } is ignored by Dovecot 2.4",
                                "return mail_driver and mail_path")


def documented_minimal_config():
    """The minimal configuration in doc/configuration.md's "Dovecot 2.4"."""
    with open(os.path.join(TOP, "doc", "configuration.md")) as f:
        text = f.read()
    section = text.split("\n## Dovecot 2.4\n", 1)[1]
    return re.search(r"\n```\n(.*?)```\n", section, re.S).group(1)


class MinimalDovecot(Dovecot):
    """The documented minimal configuration, with this test's database,
    mail directory and system user (mail, not vmail), and what a private
    instance needs (its directories, no listener of a protocol; the
    sanitizers' runtime with a sanitizer build)."""

    def config_text(self):
        minimal = (documented_minimal_config()
                   .replace("127.0.0.1:3306", self.db_hosts)
                   .replace("mariadb_password = ...", "mariadb_password = " + self.db_password)
                   .replace("/var/vmail/", self.vmail + "/")
                   .replace("uid = vmail", "uid = %d" % self.uid)
                   .replace("gid = vmail", "gid = %d" % self.gid))
        version = dovecot.config_version()
        return """\
dovecot_config_version = {version}
dovecot_storage_version = {version}
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = {instance}
log_path = {dir}/dovecot.log
protocols =
auth_debug = yes
# the test's system user mail (8) stands for vmail
first_valid_uid = {uid}
first_valid_gid = {gid}
{sanitizer}
{minimal}""".format(version=version, dir=self.dir, instance=self.instance,
                    uid=self.uid, gid=self.gid, sanitizer=dovecot.sanitizer_settings_24(),
                    minimal=minimal)


class MinimalConfigTest(unittest.TestCase):
    def test_the_documented_minimal_configuration_works(self):
        base = tempfile.mkdtemp(prefix="mariadb-auth-minimal-")
        d = MinimalDovecot(base, MODULE_SO, db_hosts="127.0.0.1:%d" % S.db.port,
                           db_password=S.db_password)
        try:
            d.start()
            r = d.doveadm("auth", "test", USERS[0], PASSWORD)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("auth succeeded", r.stdout)
            r = d.doveadm("auth", "test", USERS[0], "wrong")
            self.assertNotEqual(r.returncode, 0, r.stdout)
            r = d.doveadm("user", USERS[0])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            fields = dict(line.split("\t", 1) for line in r.stdout.splitlines()[1:])
            self.assertEqual(fields["home"], os.path.join(d.vmail, "nahida.net", "1000dreams"))
            self.assertEqual((fields["uid"], fields["gid"]), (str(d.uid), str(d.gid)))
            r = d.doveadm("user", "*")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(sorted(r.stdout.split()), sorted(USERS))
        finally:
            d.stop()
            shutil.rmtree(base, ignore_errors=True)
