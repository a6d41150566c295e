"""doveadm mariadb: the admin commands (issue 14), end to end.

A domain, users and aliases made with the commands, on the real servers:
the users log in over IMAP and SMTP AUTH (Postfix through Dovecot) and
receive mail through LMTP, also through an alias; passwd takes effect at
the next login although the module's verified-login cache knew the old
password; a locked user is refused and unlocked logs in with the old
password; passwords from the terminal (asked twice, not echoed) or from
standard input. Every refusal with its message and exit code, and the
tables unchanged after it. The write account mail_admin has exactly the
privileges the commands need and can do nothing else; the module's
mail_user is untouched. doveadm's formatters, help and exit codes.

Everything goes through fixture.Servers and its Dovecot's doveadm(),
doveadm_argv() and admin file, so that the module runs on either Dovecot
version's harness."""

import imaplib
import json
import os
import pty
import select
import smtplib
import time
import unittest
import uuid

from fixture import PASSWORD, USERS, Servers, wait_for_first_login
from lib import proc
from lib.authclient import auth, is_tempfail
from lib.dovecot import is_24
from lib.mailclient import find_message, imap_login, submission_login

# the admin file's bcrypt_cost for the tests: cheap, and not the default
COST = 5
DELIVERY_TIMEOUT = 30

# doveadm's exit codes
EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER, EX_NOHOST = 0, 64, 65, 67, 68
EX_TEMPFAIL, EX_CONFIG = 75, 78

S = None


def setUpModule():
    global S
    S = Servers("admin", postfix=True,
                admin_extra="bcrypt_cost = %d\n" % COST).start()
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


def doveadm(*args, input=None):
    """doveadm mariadb ARGS, with input as its standard input."""
    return S.dovecot.doveadm("mariadb", *args, input=input)


def sql(statements):
    return S.db.sql(statements, database="mail_server")


def tables():
    """Every row of the three tables, to show that a refused command
    changed nothing."""
    return sql("SELECT * FROM domains ORDER BY domain;"
               "SELECT * FROM users ORDER BY domain, local;"
               "SELECT * FROM aliases ORDER BY source_domain, source_local;")


def stored_hash(address):
    local, domain = address.split("@")
    return sql("SELECT password_hash FROM users WHERE domain = '%s' AND "
               "local = '%s'" % (domain, local)).rstrip("\n")


def doveadm_on_terminal(args, answers, timeout=60):
    """Run doveadm mariadb ARGS on a new pseudo-terminal (its controlling
    terminal, standard input and output), typing one answer after each
    password prompt. Returns (exit code, everything the terminal showed)."""
    argv = S.dovecot.doveadm_argv("mariadb", *args)
    env = S.dovecot.program_env()
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    answers = list(answers)
    output = b""
    answered = 0
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, 9)
                raise AssertionError("doveadm on a terminal did not end: %r" % output)
            if not select.select([fd], [], [], left)[0]:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: every process of the terminal has gone
                break
            if not data:
                break
            output += data
            while answered < output.count(b"password: ") and answers:
                os.write(fd, answers.pop(0).encode() + b"\n")
                answered += 1
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def login_ok(address, password):
    result, fields = auth(S.dovecot, address, password)
    if result == "FAIL" and is_tempfail(fields):
        raise AssertionError("temporary failure for %s: %s" % (address, fields))
    return result == "OK"


def imap_refused(address, password):
    """The IMAP login is refused as a failed authentication (not as a
    temporary failure)."""
    try:
        imap_login(S.dovecot.imap_port, address, password, S.dovecot.cert).logout()
    except imaplib.IMAP4.error as e:
        return "AUTHENTICATIONFAILED" in str(e)
    return False


def message(sender, recipient, token):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: test %s\r\n\r\nbody %s\r\n"
            % (sender, recipient, token, token))


def send_inbound(recipient, token):
    """Mail from another server, through Postfix's port 25."""
    s = smtplib.SMTP("127.0.0.1", S.postfix.smtp_port, timeout=30)
    try:
        s.sendmail("someone@example.org", [recipient],
                   message("someone@example.org", recipient, token))
    finally:
        s.quit()


def wait_in_inbox(address, password, token):
    """Wait until the message with token is in address's INBOX (IMAP);
    returns its header."""
    def fetch():
        imap = imap_login(S.dovecot.imap_port, address, password, S.dovecot.cert)
        try:
            return find_message(imap, token, "BODY.PEEK[HEADER]")
        finally:
            imap.logout()
    try:
        return proc.wait_for(fetch, DELIVERY_TIMEOUT, interval=0.5,
                             what="delivery to %s" % address)
    except TimeoutError:
        raise AssertionError("not delivered to %s:\n%s\n%s" % (
            address, S.postfix.log_tail(), S.dovecot.log_tail())) from None


class AdminTestCase(unittest.TestCase):
    def ok(self, *args, input=None):
        """Run a command that must succeed; returns its standard output."""
        r = doveadm(*args, input=input)
        self.assertEqual(r.returncode, EX_OK, "%s: %s" % (args, r.stderr))
        return r.stdout

    def refused(self, exit_code, message, *args, input=None):
        """Run a command that must be refused with exit_code and message
        on standard error, without changing any table."""
        before = tables()
        r = doveadm(*args, input=input)
        self.assertEqual((r.returncode, r.stdout), (exit_code, ""),
                         "%s: %s" % (args, r.stderr))
        self.assertIn(message, r.stderr, args)
        self.assertEqual(tables(), before, args)
        return r

    def add_domain(self):
        domain = "d%s.example" % uuid.uuid4().hex[:12]
        self.ok("domain", "add", domain)
        return domain

    def add_user(self, domain, local="user", password=PASSWORD, *args):
        address = "%s@%s" % (local, domain)
        self.ok("user", "add", address, *args, input=password + "\n")
        return address

    def listing(self, formatter, *args):
        """The output of doveadm -f formatter mariadb ARGS (which must
        succeed)."""
        r = S.dovecot.doveadm("-f", formatter, "mariadb", *args)
        self.assertEqual(r.returncode, EX_OK, "%s: %s" % (args, r.stderr))
        return r.stdout

    def users(self, *args):
        """user list as JSON: {address: row}."""
        return {row["address"]: row
                for row in json.loads(self.listing("json", "user", "list", *args))}


class MailTest(AdminTestCase):
    def test_new_domain_and_user_log_in_and_receive_mail(self):
        domain = self.add_domain()
        address = self.add_user(domain, "Neo", "n3w-Passw0rd", "-n", "Néo Anderson")
        # bcrypt at the admin file's cost, by the module's own code
        self.assertRegex(stored_hash(address), r"^\$2y\$%02d\$.{53}$" % COST)
        self.assertEqual(self.users(domain), {address: {
            "address": address, "display_name": "Néo Anderson",
            "scheme": "BLF-CRYPT", "locked": "no"}})
        self.assertTrue(login_ok(address, "n3w-Passw0rd"))
        imap_login(S.dovecot.imap_port, address, "n3w-Passw0rd", S.dovecot.cert).logout()
        submission_login(S.postfix.submission_port, address, "n3w-Passw0rd",
                         S.dovecot.cert).quit()
        token = uuid.uuid4().hex
        send_inbound(address, token)
        header = wait_in_inbox(address, "n3w-Passw0rd", token)
        # delivered by Dovecot's LMTP to the canonical address
        self.assertIn(b"Delivered-To: %s" % address.encode(), header)

    def test_alias_made_with_the_commands_delivers(self):
        domain = self.add_domain()
        address = self.add_user(domain)
        alias = "info@" + domain
        self.ok("alias", "add", alias, address)
        listed = json.loads(self.listing("json", "alias", "list", domain))
        self.assertEqual(listed, [{"source": alias, "destination": address}])
        token = uuid.uuid4().hex
        send_inbound(alias, token)
        header = wait_in_inbox(address, PASSWORD, token)
        self.assertIn(b"Delivered-To: %s" % address.encode(), header)


class PasswordTest(AdminTestCase):
    def test_passwd_takes_effect_at_the_next_login(self):
        address = self.add_user(self.add_domain())
        # the second login is answered by the verified-login cache
        self.assertTrue(login_ok(address, PASSWORD))
        self.assertTrue(login_ok(address, PASSWORD))
        proc.wait_for(lambda: [line for line in S.dovecot.log_lines(
            "Verified-login cache hit") if address in line], 10,
            what="a verified-login cache hit for %s" % address)
        self.ok("user", "passwd", address, input="s3cond-Passw0rd\n")
        self.assertFalse(login_ok(address, PASSWORD))
        self.assertTrue(imap_refused(address, PASSWORD))
        self.assertTrue(login_ok(address, "s3cond-Passw0rd"))
        imap_login(S.dovecot.imap_port, address, "s3cond-Passw0rd",
                   S.dovecot.cert).logout()

    def test_password_from_the_terminal_is_asked_twice_without_echo(self):
        address = self.add_user(self.add_domain())
        code, shown = doveadm_on_terminal(("user", "passwd", address),
                                          ["t3rminal-Pass", "t3rminal-Pass"])
        self.assertEqual(code, EX_OK, shown)
        self.assertIn("New password: ", shown)
        self.assertIn("Repeat the new password: ", shown)
        self.assertNotIn("t3rminal-Pass", shown)
        self.assertTrue(login_ok(address, "t3rminal-Pass"))
        # user add reads it the same way
        other = "other@" + address.split("@")[1]
        code, shown = doveadm_on_terminal(("user", "add", other),
                                          ["an0ther-Pass", "an0ther-Pass"])
        self.assertEqual(code, EX_OK, shown)
        self.assertTrue(login_ok(other, "an0ther-Pass"))

    def test_two_different_passwords_on_the_terminal_change_nothing(self):
        address = self.add_user(self.add_domain())
        before = stored_hash(address)
        code, shown = doveadm_on_terminal(("user", "passwd", address),
                                          ["f1rst-Pass", "s3cond-Pass"])
        self.assertEqual(code, EX_USAGE, shown)
        self.assertIn("The two passwords differ: nothing changed", shown)
        self.assertEqual(stored_hash(address), before)
        self.assertTrue(login_ok(address, PASSWORD))

    def test_passwords_bcrypt_would_cut_or_that_are_empty_are_refused(self):
        address = self.add_user(self.add_domain())
        self.refused(EX_USAGE, "The password is 73 octets long, but bcrypt uses "
                     "only its first 72", "user", "passwd", address,
                     input="p" * 73 + "\n")
        self.refused(EX_USAGE, "The password is longer than 1023 octets",
                     "user", "passwd", address, input="p" * 5000 + "\n")
        self.refused(EX_USAGE, "The password is empty", "user", "passwd",
                     address, input="\n")
        self.refused(EX_USAGE, "The password contains a control character",
                     "user", "passwd", address, input="pass\tword\n")
        self.assertTrue(login_ok(address, PASSWORD))
        # 72 octets are fine: all of them count
        self.ok("user", "passwd", address, input="p" * 72 + "\n")
        self.assertTrue(login_ok(address, "p" * 72))
        self.assertFalse(login_ok(address, "p" * 71 + "q"))


class LockTest(AdminTestCase):
    def test_locked_user_is_refused_and_unlocked_logs_in_with_the_old_password(self):
        address = self.add_user(self.add_domain())
        self.assertTrue(login_ok(address, PASSWORD))
        before = stored_hash(address)
        self.ok("user", "lock", address)
        # recoverable, as usermod -L keeps it
        self.assertEqual(stored_hash(address), "!" + before)
        self.assertEqual(self.users(address.split("@")[1])[address]["locked"], "yes")
        self.assertFalse(login_ok(address, PASSWORD))
        self.assertTrue(imap_refused(address, PASSWORD))
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            submission_login(S.postfix.submission_port, address, PASSWORD,
                             S.dovecot.cert)
        # again: nothing to do
        r = doveadm("user", "lock", address)
        self.assertEqual(r.returncode, EX_OK, r.stderr)
        self.assertIn("%s is locked already" % address, r.stderr)
        self.assertEqual(stored_hash(address), "!" + before)
        self.ok("user", "unlock", address)
        self.assertEqual(stored_hash(address), before)
        self.assertTrue(login_ok(address, PASSWORD))
        imap_login(S.dovecot.imap_port, address, PASSWORD, S.dovecot.cert).logout()
        r = doveadm("user", "unlock", address)
        self.assertEqual(r.returncode, EX_OK, r.stderr)
        self.assertIn("%s is not locked" % address, r.stderr)

    def test_passwd_keeps_a_locked_user_locked(self):
        address = self.add_user(self.add_domain())
        self.ok("user", "lock", address)
        r = doveadm("user", "passwd", address, input="l0cked-Pass\n")
        self.assertEqual(r.returncode, EX_OK, r.stderr)
        self.assertIn("%s stays locked" % address, r.stderr)
        self.assertFalse(login_ok(address, "l0cked-Pass"))
        self.ok("user", "unlock", address)
        self.assertTrue(login_ok(address, "l0cked-Pass"))

    def test_unlocking_a_lock_without_a_hash_is_refused(self):
        address = self.add_user(self.add_domain())
        local, domain = address.split("@")
        sql("UPDATE users SET password_hash = '!' WHERE domain = '%s' AND "
            "local = '%s'" % (domain, local))
        self.refused(EX_DATAERR, "Unlocking %s would leave it without a password"
                     % address, "user", "unlock", address)


class ListTest(AdminTestCase):
    def test_user_list_in_every_formatter(self):
        domain = self.add_domain()
        address = self.add_user(domain, "lister", PASSWORD, "-n", "Lister")
        out = self.listing("tab", "user", "list", domain)
        self.assertEqual(out.splitlines(), [
            "address\tdisplay_name\tscheme\tlocked",
            "%s\tLister\tBLF-CRYPT\tno" % address])
        out = self.listing("flow", "user", "list", domain)
        self.assertEqual(out.split(), [
            "address=" + address, "display_name=Lister", "scheme=BLF-CRYPT",
            "locked=no"])
        out = self.listing("table", "user", "list", domain)
        self.assertEqual([line.split() for line in out.splitlines()], [
            ["address", "display_name", "scheme", "locked"],
            [address, "Lister", "BLF-CRYPT", "no"]])
        self.assertEqual(list(self.users(domain)), [address])

    def test_user_list_names_the_scheme_and_never_the_hash(self):
        domain = self.add_domain()
        sha512 = "{SHA512-CRYPT}$6$saltsalt$" + "h" * 86
        sql("INSERT INTO users VALUES ('migrated', '%s', '%s', ''), "
            "('locked', '%s', '!%s', '')" % (domain, sha512, domain,
                                              stored_hash(USERS[0])))
        out = self.listing("json", "user", "list", domain)
        self.assertNotIn("$6$", out)
        self.assertNotIn("$2y$", out)
        users = {row["address"]: (row["scheme"], row["locked"]) for row in json.loads(out)}
        self.assertEqual(users, {"migrated@" + domain: ("SHA512-CRYPT", "no"),
                                 "locked@" + domain: ("BLF-CRYPT", "yes")})

    def test_domain_list_counts_users_and_aliases(self):
        domain = self.add_domain()
        self.add_user(domain, "one")
        self.add_user(domain, "two")
        self.ok("alias", "add", "three@" + domain, "one@" + domain)
        rows = json.loads(self.listing("json", "domain", "list", domain))
        self.assertEqual(rows, [{"domain": domain, "users": 2, "aliases": 1}])
        every = json.loads(self.listing("json", "domain", "list"))
        self.assertIn({"domain": "nahida.net", "users": 2, "aliases": 1}, every)
        self.assertIn(rows[0], every)

    def test_alias_list_of_one_source(self):
        domain = self.add_domain()
        address = self.add_user(domain)
        self.ok("alias", "add", "a@" + domain, address)
        self.ok("alias", "add", "b@" + domain, address)
        out = self.listing("tab", "alias", "list", "B@" + domain.upper())
        self.assertEqual(out.splitlines(), ["source\tdestination",
                                            "b@%s\t%s" % (domain, address)])


class RefusalTest(AdminTestCase):
    def test_bad_addresses_and_values(self):
        domain = self.add_domain()
        self.refused(EX_USAGE, "Invalid user: has no '@' (expected local@domain)",
                     "user", "add", "nobody", input="x\n")
        self.refused(EX_USAGE, "Invalid user: contains a space",
                     "user", "add", "no body@" + domain, input="x\n")
        self.refused(EX_USAGE, "Invalid user: local part is longer than 40 "
                     "characters (the schema's limit)",
                     "user", "add", "a" * 41 + "@" + domain, input="x\n")
        self.refused(EX_USAGE, "Invalid domain: domain has an empty label",
                     "domain", "add", "bad..example")
        self.refused(EX_USAGE, "Invalid display name: contains a control character",
                     "user", "add", "ctl@" + domain, "-n", "a\x1bb", input="x\n")
        self.refused(EX_USAGE, "Invalid source: has more than one '@'",
                     "alias", "add", "a@b@" + domain, "x@" + domain)

    def test_unknown_domain(self):
        self.refused(EX_NOHOST, "Unknown domain nowhere.example (doveadm mariadb "
                     "domain add nowhere.example)", "user", "add",
                     "x@nowhere.example", input="x\n")
        self.refused(EX_NOHOST, "Unknown domain nowhere.example", "alias", "add",
                     "x@nowhere.example", USERS[0])
        self.refused(EX_NOHOST, "Unknown domain nowhere.example", "domain",
                     "remove", "nowhere.example")
        self.refused(EX_NOHOST, "Unknown domain nowhere.example", "user", "list",
                     "nowhere.example")
        self.refused(EX_NOHOST, "Unknown domain nowhere.example", "alias", "list",
                     "nowhere.example")

    def test_duplicates(self):
        domain = self.add_domain()
        address = self.add_user(domain)
        self.ok("alias", "add", "info@" + domain, address)
        self.refused(EX_DATAERR, "Domain %s exists already" % domain,
                     "domain", "add", domain.upper())
        # the same user, whatever the case (the schema's collation)
        self.refused(EX_DATAERR, "User user@%s exists already" % domain,
                     "user", "add", "USER@" + domain, input="x\n")
        self.refused(EX_DATAERR, "Alias info@%s exists already (-> %s)"
                     % (domain, address), "alias", "add", "info@" + domain,
                     USERS[0])

    def test_alias_to_a_missing_user(self):
        domain = self.add_domain()
        self.refused(EX_NOUSER, "Unknown user ghost@%s: an alias must point to a "
                     "user" % domain, "alias", "add", "a@" + domain, "ghost@" + domain)
        # an alias is no user either
        address = self.add_user(domain)
        self.ok("alias", "add", "b@" + domain, address)
        self.refused(EX_NOUSER, "Unknown user b@%s" % domain, "alias", "add",
                     "c@" + domain, "b@" + domain)

    def test_alias_loops(self):
        domain = self.add_domain()
        one = self.add_user(domain, "one")
        two = self.add_user(domain, "two")
        three = self.add_user(domain, "three")
        r = doveadm("alias", "add", one, two)
        self.assertEqual(r.returncode, EX_OK, r.stderr)
        self.assertIn("%s is a user too: its mail will go to %s" % (one, two), r.stderr)
        self.ok("alias", "add", two, three)
        self.refused(EX_DATAERR, "Alias loop: %s -> %s -> %s -> %s"
                     % (three, one, two, three), "alias", "add", three, one)
        # the database decides which addresses are equal
        self.refused(EX_DATAERR, "Alias loop: %s -> THREE@%s" % (three, domain),
                     "alias", "add", three, three.upper())

    def test_removing_a_domain_that_still_has_users(self):
        domain = self.add_domain()
        address = self.add_user(domain)
        self.ok("alias", "add", "info@" + domain, address)
        self.refused(EX_DATAERR, "Domain %s still has 1 users and 1 aliases: "
                     "remove them first" % domain, "domain", "remove", domain)
        r = doveadm("user", "remove", address)
        self.assertEqual(r.returncode, EX_OK, r.stderr)
        self.assertIn("The aliases that pointed to %s are gone with it: info@%s"
                      % (address, domain), r.stderr)
        self.ok("domain", "remove", domain)
        self.assertNotIn(domain, sql("SELECT domain FROM domains"))

    def test_unknown_user_and_alias(self):
        domain = self.add_domain()
        for command in ("passwd", "lock", "unlock", "remove"):
            self.refused(EX_NOUSER, "Unknown user ghost@" + domain, "user", command,
                         "ghost@" + domain, input="x\n")
        self.refused(EX_NOHOST, "Unknown alias ghost@" + domain, "alias", "remove",
                     "ghost@" + domain)
        self.refused(EX_NOHOST, "Unknown alias ghost@" + domain, "alias", "list",
                     "ghost@" + domain)

    def test_bad_usage(self):
        for args in (("user", "add"), ("alias", "add", "a@nahida.net"),
                     ("domain", "remove")):
            r = self.refused(EX_USAGE, "doveadm mariadb %s" % " ".join(args[:2]), *args)
            self.assertIn("<", r.stderr)

    def test_database_failure_is_a_temporary_failure(self):
        port = proc.free_port()
        try:
            S.dovecot.write_admin_config(
                "hosts = 127.0.0.1:%d\npassword = %s\nconnect_timeout = 2\n"
                % (port, S.admin_password))
            self.refused(EX_TEMPFAIL, "Could not connect to the database: "
                         "127.0.0.1:%d: 2002" % port, "domain", "add", "new.example")
            # the right server, the wrong password
            S.dovecot.write_admin_config(
                "hosts = 127.0.0.1:%d\npassword = wrong\n" % S.db.port)
            self.refused(EX_TEMPFAIL, "1045: Access denied for user 'mail_admin'",
                         "user", "list")
        finally:
            S.dovecot.write_admin_config()
        self.ok("user", "list")


class AccountTest(AdminTestCase):
    ACCOUNTS = ("'%s'@'localhost'", "'%s'@'127.0.0.1'")

    def privileges(self, user):
        """Every privilege of user's two accounts, as (account, object,
        privilege) rows from information_schema."""
        rows = set()
        for table, columns in (("USER_PRIVILEGES", "'*', ''"),
                               ("SCHEMA_PRIVILEGES", "TABLE_SCHEMA, ''"),
                               ("TABLE_PRIVILEGES", "TABLE_SCHEMA, TABLE_NAME"),
                               ("COLUMN_PRIVILEGES",
                                "TABLE_SCHEMA, CONCAT(TABLE_NAME, '.', COLUMN_NAME)")):
            out = S.db.sql("SELECT GRANTEE, %s, PRIVILEGE_TYPE, IS_GRANTABLE FROM "
                           "information_schema.%s WHERE GRANTEE LIKE '''%s''@%%'"
                           % (columns, table, user))
            rows |= {tuple(line.split("\t")) for line in out.splitlines()}
        return rows

    def expected(self, user, grants):
        rows = set()
        for account in self.ACCOUNTS:
            rows.add((account % user, "*", "", "USAGE", "NO"))
            for obj, privileges in grants:
                schema, name = obj.split(".", 1)
                rows |= {(account % user, schema, name, p, "NO") for p in privileges}
        return rows

    def test_write_account_has_exactly_what_the_commands_need(self):
        self.assertEqual(self.privileges("mail_admin"), self.expected("mail_admin", (
            ("mail_server.domains", ("SELECT", "INSERT", "DELETE")),
            ("mail_server.users", ("SELECT", "INSERT", "DELETE")),
            ("mail_server.users.password_hash", ("UPDATE",)),
            ("mail_server.aliases", ("SELECT", "INSERT", "DELETE")))))

    def test_write_account_can_do_nothing_else(self):
        statements = (
            ("UPDATE users SET display_name = 'x'", 1143),
            ("UPDATE users SET domain = 'x'", 1143),
            ("UPDATE users SET local = 'x'", 1143),
            ("UPDATE domains SET domain = 'x'", 1142),
            ("UPDATE aliases SET destination_local = 'x'", 1142),
            ("SELECT * FROM users_fqda", 1142),
            ("CREATE TABLE t (i INT)", 1142),
            ("DROP TABLE aliases", 1142),
            ("ALTER TABLE users ADD COLUMN x INT", 1142),
            ("SELECT user FROM mysql.user", 1142),
            ("GRANT SELECT ON mail_server.users TO 'mail_user'@'localhost'", 1142),
            ("CREATE USER 'someone'@'localhost'", 1227),
        )
        for statement, error in statements:
            with self.subTest(statement=statement):
                with self.assertRaisesRegex(Exception, "ERROR %d " % error):
                    S.db.sql(statement, database="mail_server", user="mail_admin",
                             password=S.admin_password)

    def test_module_account_is_untouched(self):
        # the module's settings: its own file on 2.3, dovecot.conf on 2.4
        module_file = S.dovecot.config if is_24() else S.dovecot.module_config
        with open(module_file, "rb") as f:
            module_config = f.read()
        # the file that holds the module's password (not printed on failure)
        self.assertTrue(S.db_password.encode() in module_config,
                        "%s has no mariadb password setting" % module_file)
        address = self.add_user(self.add_domain())
        self.ok("user", "lock", address)
        self.ok("user", "remove", address)
        self.assertEqual(self.privileges("mail_user"), self.expected("mail_user", (
            ("mail_server.domains", ("SELECT",)),
            ("mail_server.users", ("SELECT",)),
            ("mail_server.aliases", ("SELECT",)),
            ("mail_server.users_fqda", ("SELECT",)),
            ("mail_server.aliases_fqda", ("SELECT",)))))
        with open(module_file, "rb") as f:
            self.assertEqual(f.read(), module_config)
        # the module still logs in with its password
        self.assertTrue(login_ok(USERS[0], PASSWORD))

    def test_commands_refuse_the_module_account(self):
        try:
            S.dovecot.write_admin_config(
                "hosts = 127.0.0.1:%d\nuser = mail_user\npassword = %s\n"
                % (S.db.port, S.db_password))
            self.refused(EX_CONFIG, "user: mail_user is the module's read-only "
                         "account; the commands write through their own "
                         "(mail_admin, sql/03-grants.sql)", "user", "list")
        finally:
            S.dovecot.write_admin_config()

    def test_admin_file_that_others_can_read_is_refused(self):
        try:
            os.chmod(S.dovecot.admin_config, 0o644)
            self.refused(EX_CONFIG, "is readable by every user on this host and "
                         "holds the password of the database account that changes "
                         "users: chmod 0600 it", "domain", "list")
        finally:
            os.chmod(S.dovecot.admin_config, 0o600)


class HelpTest(unittest.TestCase):
    def test_the_commands_are_in_doveadm_help(self):
        r = S.dovecot.doveadm("help")
        # 2.3 writes the list to stderr, 2.4 to stdout (and exits 0)
        self.assertRegex(r.stdout if is_24() else r.stderr,
                         r"\n  mariadb +alias\|.*domain\|user\n")
        r = S.dovecot.doveadm("mariadb")
        self.assertEqual(r.returncode, EX_USAGE)
        self.assertRegex(r.stderr, r"\n  alias +add\|list\|remove\n")
        self.assertRegex(r.stderr, r"\n  domain +add\|list\|remove\n")
        self.assertRegex(r.stderr, r"\n  user +add\|list\|lock\|passwd\|remove\|unlock\n")
