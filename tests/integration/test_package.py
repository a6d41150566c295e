"""The Debian package of debian/ (issue 10), built and used as an admin
would, for Dovecot 2.3 (Debian 12) and Dovecot 2.4 (Debian 13).

Build, once per Debian release: in a root with only the Build-Depends of
debian/control, build-essential and lintian (tests/lib/debroot.py; cached
in /var/cache/mariadb-auth-tests between runs, made anew when the
Build-Depends change), a copy of the checkout is built with
`dpkg-buildpackage -us -uc` and the result checked with lintian; then
`make dist` in the built tree, whose tarball must hold all of debian/ (a
native package: the release tarball is the package's source).

Use: in a clean root of the same release (Debian's dovecot-core and
mariadb-server, no build tools, no build tree), `apt-get install
./dovecot-mariadb-auth_*.deb`; then the steps of sql/README, run in the
package's /usr/share/doc/dovecot-mariadb-auth/examples as README.Debian
says, and Dovecot configured with the package's example files as
doc/dovecot/README.md does (its auth part: no TLS, no Postfix) and
started; `doveadm auth test` and `doveadm user` through the package's
module; then `apt-get purge`, and nothing of the package is left: no file
of its `dpkg -L` list, Dovecot's module directories as they were before,
no dpkg records.

Each class does all of that in setUpClass, in order, and keeps what every
step printed; its tests check what was kept, so they can run in any order
and the purge comes after every other step. The roots' servers run in
namespaces of their own (their own loopback) and end with the session,
also when a step fails. Times of each step are printed.

In a run inside a Debian root (tests/run --dovecot 2.4 sets
MARIADB_AUTH_ROOT) and in the sanitizer run (MODULE_SO) this module is
skipped: it builds both versions itself, from the source."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from fixture import PASSWORD, TOP, USERS
from lib import checkout, debroot, docsteps

PACKAGE = "dovecot-mariadb-auth"
DOC = "/usr/share/doc/" + PACKAGE
EXAMPLES = DOC + "/examples"
SUITES = {"2.3": "bookworm", "2.4": "trixie"}
# besides debian/control's Build-Depends (build_packages())
BUILD_TOOLS = ("build-essential", "lintian")
# a mail host before the package: Dovecot (no protocols) and MariaDB
INSTALL_PACKAGES = ("dovecot-core", "mariadb-server")
# the files of Dovecot's module directories that the package installs
MODULES = ["/usr/lib/dovecot/modules/auth/libauthdb_mariadb.so",
           # the admin commands, doveadm mariadb (doc/admin.md)
           "/usr/lib/dovecot/modules/doveadm/lib90_doveadm_mariadb_plugin.so"]
# and with Dovecot 2.4
MODULES_24 = ["/usr/lib/dovecot/modules/settings/libauthdb_mariadb_settings.so"]
MODULE_DIR = "/usr/lib/dovecot/modules"
# the copy of the checkout; dpkg-buildpackage writes into its parent
SOURCE = "/usr/local/src/build/dovecot-mariadb-auth"
BUILD_DIR = os.path.dirname(SOURCE)
USER = USERS[1]  # deepwood@nahida.net, sql/04-sample-data.sql
# the test's Dovecot: doc/dovecot/README.md's auth part, with the
# package's files (PW from sql/README's steps)
DOVECOT_STEPS = {
    "2.3": """\
cp doc/dovecot/auth-mariadb.conf.ext /etc/dovecot/conf.d/
install -m 0600 doc/dovecot/dovecot-mariadb.conf.ext /etc/dovecot/
sed -i "s/@MAIL_USER_PASSWORD@/$PW/" /etc/dovecot/dovecot-mariadb.conf.ext
""",
    "2.4": """\
install -m 0600 doc/dovecot/24/auth-mariadb.conf.ext /etc/dovecot/conf.d/
sed -i "s/@MAIL_USER_PASSWORD@/$PW/" /etc/dovecot/conf.d/auth-mariadb.conf.ext
""",
}
DOVECOT_COMMON = """\
id vmail >/dev/null 2>&1 ||
	useradd --system --user-group --home-dir /var/vmail --shell /usr/sbin/nologin vmail
install -d -m 0750 -o vmail -g vmail /var/vmail
sed -i 's/^!include auth-system\\.conf\\.ext$/!include auth-mariadb.conf.ext/' \\
	/etc/dovecot/conf.d/10-auth.conf
grep -q '^!include auth-mariadb\\.conf\\.ext$' /etc/dovecot/conf.d/10-auth.conf
"""

_built = {}


def setUpModule():
    if os.environ.get("MODULE_SO"):
        raise unittest.SkipTest("builds the package from the source, not MODULE_SO")
    if os.environ.get("MARIADB_AUTH_ROOT"):
        raise unittest.SkipTest("builds the package in roots of its own, not inside one")


def tearDownModule():
    for built in _built.values():
        if os.environ.get("KEEP_TEST_DIRS"):
            print("kept %s" % built.dir, file=sys.stderr)
        else:
            shutil.rmtree(built.dir, ignore_errors=True)


def elapsed(label, start):
    print("package: %s: %.0f s" % (label, time.monotonic() - start), flush=True)


def build_packages():
    """The build root's packages: debian/control's Build-Depends (the first
    of alternatives, without versions), build-essential and lintian. The
    root has nothing else, so a missing build dependency fails the build."""
    with open(os.path.join(TOP, "debian", "control")) as f:
        text = f.read()
    field = re.search(r"^Build-Depends:(.*(?:\n[ \t].*)*)", text, re.M).group(1)
    names = set(BUILD_TOOLS)
    for dep in field.split(","):
        name = re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", dep.split("|")[0]).strip()
        if name:
            # debhelper-compat (= 13) is a virtual package of debhelper's
            names.add("debhelper" if name == "debhelper-compat" else name)
    return tuple(sorted(names))


def modules(version):
    return sorted(MODULES + (MODULES_24 if version == "2.4" else []))


def ready_root(suite, packages):
    start = time.monotonic()
    root = debroot.Root(suite, packages=packages)
    root.ensure()
    elapsed("%s root %s ready" % (suite, os.path.basename(root.dir)), start)
    return root


def must(session, cmd, what, **kwargs):
    r = session.run(cmd, **kwargs)
    if r.returncode != 0:
        raise AssertionError("%s failed (exit %d):\n%s%s" % (
            what, r.returncode, r.stdout[-6000:], r.stderr[-6000:]))
    return r


class Built:
    """What building the package for one Dovecot gave: the files of
    dpkg-buildpackage (in dir), its log, lintian's output, the ABI of the
    root's dovecot-dev, the names in `make dist`'s tarball."""

    def __init__(self, version):
        self.version = version
        self.dir = tempfile.mkdtemp(prefix="mariadb-auth-deb-%s-" % version)
        self.debs = []
        self.log = ""
        self.lintian = ""
        self.abi = None
        self.dist = []

    def deb_version(self):
        """The binary package's version: debian/changelog's (AC_INIT's,
        a native package), "+dovecot" and the ABI."""
        return self.deb().split("_")[1]

    def version_upstream(self):
        """AC_INIT's version."""
        return self.deb_version().split("+")[0]

    def deb(self):
        [deb] = [name for name in self.debs if name.startswith(PACKAGE + "_")]
        return deb


def build(version):
    """The package built for version (once per run)."""
    if version in _built:
        return _built[version]
    root = ready_root(SUITES[version], build_packages())
    built = Built(version)
    with root.session(env={"DEBIAN_FRONTEND": "noninteractive"}) as s:
        s.copy_in(TOP, SOURCE, checkout.files())
        start = time.monotonic()
        r = s.run("dpkg-buildpackage -us -uc 2>&1", cwd=SOURCE, timeout=1800)
        built.log = r.stdout
        if r.returncode != 0:
            raise AssertionError("dpkg-buildpackage for %s failed (exit %d):\n%s"
                                 % (version, r.returncode, r.stdout[-8000:]))
        elapsed("dpkg-buildpackage for %s" % version, start)
        built.abi = s.read_file("/usr/share/dovecot/dovecot-abi").strip()
        built.debs = must(s, "ls *.deb", "ls", cwd=BUILD_DIR).stdout.split()
        start = time.monotonic()
        # every tag, with its explanation
        built.lintian = s.run("lintian --info --display-info --pedantic *.changes 2>&1",
                              cwd=BUILD_DIR, timeout=900).stdout
        elapsed("lintian for %s" % version, start)
        # the release tarball of the tree the build configured
        start = time.monotonic()
        must(s, "make dist", "make dist", cwd=SOURCE, timeout=600)
        built.dist = must(s, "tar -tzf dovecot-mariadb-auth-*.tar.gz", "tar",
                          cwd=SOURCE).stdout.split()
        elapsed("make dist", start)
        for name in built.debs:
            with open(os.path.join(built.dir, name), "wb") as f:
                f.write(must(s, ["cat", name], "cat", cwd=BUILD_DIR, text=False).stdout)
    _built[version] = built
    return built


def run_steps(session, step_list, cwd):
    """The steps in one shell (docsteps.script): its CompletedProcess."""
    session.write_file("/root/steps.sh", docsteps.script(step_list))
    return session.run(["bash", "/root/steps.sh"], cwd=cwd, timeout=600)


def leftovers(session, paths):
    """Which of paths still exist, but for directories that another
    package owns."""
    script = r"""
while IFS= read -r f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	[ -d "$f" ] && [ ! -L "$f" ] && dpkg -S "$f" >/dev/null 2>&1 && continue
	printf '%s\n' "$f"
done
"""
    return session.run(["sh", "-c", script], input="".join(p + "\n" for p in paths)
                       ).stdout.split("\n")[:-1]


class PackageTests:
    """The package for VERSION: built, installed, used and purged in
    setUpClass (see the module's description); the tests check what each
    step gave."""

    VERSION = None

    @classmethod
    def setUpClass(cls):
        cls.built = build(cls.VERSION)
        root = ready_root(SUITES[cls.VERSION], INSTALL_PACKAGES)
        with root.session(hostname="mail.nahida.net", apt_cache=True,
                          env={"DEBIAN_FRONTEND": "noninteractive"}) as s:
            s.block_services()
            cls.use(s)

    @classmethod
    def use(cls, s):
        v = cls.VERSION
        deb = cls.built.deb()
        s.copy_in(cls.built.dir, "/root/packages", [deb])
        start = time.monotonic()
        cls.modules_before = s.run(["find", MODULE_DIR]).stdout
        must(s, ["apt-get", "install", "-y", "-q", "./" + deb], "apt-get install",
             cwd="/root/packages", timeout=900)
        elapsed("apt-get install ./%s" % deb, start)
        cls.status = s.run(["dpkg-query", "-W", "-f", "${Status}\n${Depends}\n",
                            PACKAGE]).stdout
        cls.provides = s.run(["dpkg-query", "-W", "-f", "${Provides}", "dovecot-core"]).stdout
        cls.files = [f for f in s.run(["dpkg", "-L", PACKAGE]).stdout.split("\n")
                     if f and f != "/."]
        cls.regular = set(s.run(["sh", "-c", 'while IFS= read -r f; do [ -f "$f" ] && '
                                 '[ ! -L "$f" ] && printf "%s\\n" "$f"; done; true'],
                                input="".join(f + "\n" for f in cls.files)).stdout.split())

        start = time.monotonic()
        steps = docsteps.steps(os.path.join(TOP, "sql", "README"), TOP)
        steps.append(docsteps.Step("test_package", 0, DOVECOT_STEPS[v] + DOVECOT_COMMON))
        cls.setup = run_steps(s, steps, EXAMPLES)
        elapsed("%s: sql/README's steps and Dovecot's configuration" % v, start)
        cls.doveconf = s.run(["doveconf", "-n"])
        start = time.monotonic()
        cls.started = s.run(["dovecot"])
        cls.auth_ok = s.run(["doveadm", "auth", "test", USER, PASSWORD])
        cls.auth_wrong = s.run(["doveadm", "auth", "test", USER, "wrong"])
        cls.user = s.run(["doveadm", "user", USER])
        cls.dovecot_log = s.syslog()
        s.run(["doveadm", "stop"])
        elapsed("%s: Dovecot with the package's module" % v, start)

        start = time.monotonic()
        cls.purge = s.run(["apt-get", "purge", "-y", "-q", PACKAGE], timeout=600)
        elapsed("apt-get purge %s" % PACKAGE, start)
        cls.status_after = s.run(["dpkg-query", "-W", "-f", "${Status}", PACKAGE])
        cls.left = leftovers(s, cls.files)
        cls.modules_after = s.run(["find", MODULE_DIR]).stdout
        cls.dpkg_info = s.run("ls /var/lib/dpkg/info | grep '^%s[.:]' || true" % PACKAGE).stdout

    # -- the build

    def test_compiles_without_warnings(self):
        # -Werror is for CI; the package is built with Debian's flags
        # (hardening=+all), where a warning must not appear either
        warnings = [line for line in self.built.log.splitlines()
                    if re.search(r"\.[ch]:\d+(:\d+)?: warning:", line)]
        self.assertEqual(warnings, [])
        self.assertIn("-D_FORTIFY_SOURCE", self.built.log)

    def test_the_release_tarball_has_debian(self):
        # its name has AC_INIT's version, the package's debian/changelog's
        top = "dovecot-mariadb-auth-%s/" % self.built.version_upstream()
        in_tarball = sorted(name[len(top):] for name in self.built.dist
                            if name.startswith(top + "debian/") and not name.endswith("/"))
        in_checkout = sorted(name for name in checkout.files() if name.startswith("debian/"))
        self.assertEqual(in_tarball, in_checkout)

    def test_lintian_reports_no_error_or_warning(self):
        # every tag is printed; errors and warnings fail the test (the
        # explanations are in the failure's message)
        tags = re.findall(r"^[EWIPX]: .*$", self.built.lintian, re.M)
        print("\nlintian (%s): %s" % (self.VERSION, "\n  ".join([""] + tags) or "nothing"))
        self.assertEqual([tag for tag in tags if tag[0] in "EW"], [], self.built.lintian)

    # -- the package

    def test_its_version_names_the_dovecot_abi(self):
        self.assertEqual(self.built.deb_version(),
                         "%s+dovecot%s" % (self.built.version_upstream(), self.built.abi))

    def test_depends_on_the_abi_of_the_dovecot_it_was_built_with(self):
        status, depends = self.status.split("\n")[:2]
        self.assertEqual(status, "install ok installed")
        # dovecot-dev's ABI is what the installed dovecot-core provides
        self.assertIn("dovecot-abi-" + self.built.abi,
                      [d.strip() for d in self.provides.split(",")])
        self.assertIn("dovecot-abi-" + self.built.abi,
                      [d.strip() for d in depends.split(",")])

    def test_installs_the_modules_into_dovecots_module_directories(self):
        installed = sorted(f for f in self.regular if f.startswith(MODULE_DIR + "/"))
        self.assertEqual(installed, modules(self.VERSION))

    def test_ships_sql_and_the_examples_uncompressed(self):
        for path in ("sql/01-schema.sql", "sql/03-grants.sql", "sql/04-sample-data.sql",
                     "sql/README", "sql/postfix/mailboxes.cf", "doc/dovecot/README.md",
                     "doc/dovecot/auth-mariadb.conf.ext", "doc/dovecot/24/auth-mariadb.conf.ext",
                     "doc/postfix/main.cf", "doc/rspamd/local.d/dkim_signing.conf"):
            self.assertIn("%s/%s" % (EXAMPLES, path), self.regular)
        for name in ("README.Debian", "copyright", "configuration.md.gz", "migration.md.gz",
                     "README.md.gz", "changelog.gz"):
            self.assertIn("%s/%s" % (DOC, name), self.regular)
        # nothing else: Dovecot's module directories and the documentation
        elsewhere = [f for f in self.regular
                     if not f.startswith((MODULE_DIR + "/", DOC + "/"))]
        self.assertEqual(elsewhere, [])

    # -- Dovecot with it

    def test_the_examples_set_up_the_database_and_dovecot(self):
        self.assertEqual(self.setup.returncode, 0, self.setup.stdout + self.setup.stderr)
        self.assertEqual(self.doveconf.returncode, 0, self.doveconf.stderr)
        self.assertEqual(self.doveconf.stderr, "")
        self.assertRegex(self.doveconf.stdout,
                         r"passdb mariadb \{" if self.VERSION == "2.4" else r"driver = mariadb")

    def test_doveadm_logs_in_with_the_packages_module(self):
        # none before the package was installed, and no build tree
        self.assertNotIn("mariadb", self.modules_before)
        self.assertEqual(self.started.returncode, 0, self.started.stderr)
        r = self.auth_ok
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.dovecot_log[-3000:])
        self.assertIn("passdb: %s auth succeeded" % USER, r.stdout)
        self.assertNotEqual(self.auth_wrong.returncode, 0)
        self.assertIn("auth failed", self.auth_wrong.stdout)
        self.assertEqual(self.user.returncode, 0, self.user.stdout + self.user.stderr)
        self.assertRegex(self.user.stdout, r"home\s+/var/vmail/nahida\.net/deepwood")

    # -- after apt-get purge

    def test_purge_leaves_nothing_behind(self):
        self.assertEqual(self.purge.returncode, 0, self.purge.stdout + self.purge.stderr)
        # unknown to dpkg, or known as never installed: not even the
        # "config-files" state of a removed package
        r = self.status_after
        self.assertTrue(r.returncode != 0 or r.stdout.endswith(" not-installed"), r.stdout)
        self.assertEqual(self.left, [])
        self.assertEqual(self.dpkg_info, "")
        for path in modules(self.VERSION):
            self.assertIn(path, self.files)
        self.assertIn(MODULE_DIR + "/auth\n", self.modules_before)
        self.assertEqual(self.modules_after, self.modules_before)


class Dovecot23Test(PackageTests, unittest.TestCase):
    VERSION = "2.3"


class Dovecot24Test(PackageTests, unittest.TestCase):
    VERSION = "2.4"


class BothDovecotsTest(unittest.TestCase):
    """The packages built for the two Dovecots side by side."""

    def test_the_packages_differ_in_file_name_and_version(self):
        # one pool, one directory of .debs holds both; 2.4's version sorts
        # higher, as an upgrade from Debian 12 to 13 needs
        old, new = build("2.3"), build("2.4")
        self.assertNotEqual(old.deb(), new.deb())
        newer, older = new.deb_version(), old.deb_version()
        r = subprocess.run(["dpkg", "--compare-versions", newer, "gt", older])
        self.assertEqual(r.returncode, 0, "%s is not newer than %s" % (newer, older))

    def test_apt_refuses_the_package_of_the_other_dovecot(self):
        for version, other in (("2.3", "2.4"), ("2.4", "2.3")):
            with self.subTest(package=version, dovecot=other):
                built = build(version)
                root = ready_root(SUITES[other], INSTALL_PACKAGES)
                with root.session(env={"DEBIAN_FRONTEND": "noninteractive"}) as s:
                    s.copy_in(built.dir, "/root/packages", [built.deb()])
                    r = s.run(["apt-get", "install", "--simulate", "./" + built.deb()],
                              cwd="/root/packages", timeout=300)
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("dovecot-abi-%s but it is not installable" % built.abi,
                              r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
