"""blocking = yes: Dovecot's classic model, lookups and bcrypt in
auth-workers with blocking calls. The same answers as the default mode."""

import threading
import unittest

from fixture import PASSWORD, Servers, USERS, wait_for_first_login
from lib import proc
from lib.authclient import auth, is_tempfail, userdb

S = None


def setUpModule():
    global S
    S = Servers("blocking", module_extra="blocking = yes\n").start()
    wait_for_first_login(S)


def tearDownModule():
    S.stop()


class BlockingTest(unittest.TestCase):
    def test_lookups_run_in_workers(self):
        self.assertEqual(auth(S.dovecot, USERS[1], PASSWORD)[0], "OK")
        S.dovecot.wait_for_log("Handling PASSV request")
        self.assertEqual(S.dovecot.log_lines("Verifying the password in a worker"), [])

    def test_workers_keep_their_priority(self):
        """The workers run the lookups too: they stay at the priority
        Dovecot gave them (blocking = no lowers it, test_async)."""
        self.assertEqual(auth(S.dovecot, "wrong@nahida.net", PASSWORD)[0], "FAIL")
        self.assertEqual(auth(S.dovecot, USERS[1], PASSWORD)[0], "OK")
        workers = S.dovecot.auth_processes()[1]
        self.assertNotEqual(workers, [])
        self.assertEqual({proc.nice(pid) for pid in workers} - {None},
                         {proc.nice(S.dovecot.pid())})

    def test_answers(self):
        cases = [
            (USERS[0], PASSWORD, "OK", False),
            ("DeepWood@NAHIDA.net", PASSWORD, "OK", False),
            (USERS[0], "wrong", "FAIL", False),
            ("nobody@nahida.net", PASSWORD, "FAIL", False),
            ("x' OR '1'='1@nahida.net", PASSWORD, "FAIL", False),
            ("a" * 300 + "@nahida.net", PASSWORD, "FAIL", False),
        ]
        for user, password, result, temp in cases:
            with self.subTest(user=user[:40]):
                r, fields = auth(S.dovecot, user, password)
                self.assertEqual((r, is_tempfail(fields)), (result, temp), fields)

    def test_a_locked_account_gets_the_dummy_check(self):
        S.db.sql("INSERT INTO users (local, domain, password_hash, display_name) "
                 "SELECT 'locked', domain, CONCAT('!', password_hash), 'Locked' "
                 "FROM users WHERE local = 'deepwood';", database="mail_server")
        try:
            before = len(S.dovecot.log_lines("Account is locked"))
            r, fields = auth(S.dovecot, "locked@nahida.net", PASSWORD)
            self.assertEqual((r, is_tempfail(fields)), ("FAIL", False), fields)
            S.dovecot.wait_for_log("Account is locked", before + 1)
        finally:
            S.db.sql("DELETE FROM users WHERE local = 'locked';", database="mail_server")

    def test_userdb_and_iteration(self):
        result, fields = userdb(S.dovecot, USERS[1])
        self.assertEqual(result, "USER")
        self.assertTrue(fields["home"].endswith("/nahida.net/deepwood"))
        r = S.dovecot.doveadm("user", "*")
        self.assertEqual(sorted(r.stdout.split()), sorted(USERS))
        S.dovecot.wait_for_log("Handling LIST request")

    def test_workers_report_an_outage_and_the_master_starts_no_more(self):
        """As Dovecot's sql driver does: an auth-worker that can't reach the
        database says so (ERROR), and the master starts no new workers
        until one reports that it works again (SUCCESS)."""
        # written after the lookups above: it stops the database
        S.db.stop()
        try:
            # one failed lookup: its worker reports the outage
            result, fields = auth(S.dovecot, USERS[0], PASSWORD)
            self.assertTrue(result == "FAIL" and is_tempfail(fields), fields)
            before = len(S.dovecot.auth_processes()[1])
            # a wave of concurrent logins would otherwise start a worker
            # each (auth_worker_max_count is 30)
            results = []

            def login():
                results.append(auth(S.dovecot, USERS[1], PASSWORD))
            threads = [threading.Thread(target=login) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(len(results), 16)
            self.assertTrue(all(r == "FAIL" and is_tempfail(f) for r, f in results),
                            results)
            self.assertLessEqual(len(S.dovecot.auth_processes()[1]), max(before, 1))
        finally:
            S.db.start()
        proc.wait_for(lambda: auth(S.dovecot, USERS[0], PASSWORD)[0] == "OK", 30,
                      interval=0.5, what="logins to work again")

    def test_database_down_is_a_temporary_failure_and_heals(self):
        # written last in this module: it stops the database
        S.db.stop()
        try:
            result, fields = auth(S.dovecot, USERS[0], PASSWORD)
            self.assertEqual(result, "FAIL")
            self.assertTrue(is_tempfail(fields), fields)
            result, fields = auth(S.dovecot, "nobody@nahida.net", PASSWORD)
            self.assertTrue(is_tempfail(fields), fields)
        finally:
            S.db.start()
        proc.wait_for(lambda: auth(S.dovecot, USERS[0], PASSWORD)[0] == "OK", 30,
                      interval=0.5, what="logins to work again")
