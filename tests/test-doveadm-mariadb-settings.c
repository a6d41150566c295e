/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "unlink-directory.h"
#include "test-common.h"
#include "db-mariadb-settings.h"
#include "doveadm-mariadb-settings.h"

#include <stdio.h>
#include <sys/stat.h>

#define TEST_PATH "admin.conf"
#define SECRET "Sekr1t-P4ss"

static int
test_parse(pool_t pool, const char *data,
	   struct doveadm_mariadb_settings **set_r, const char **error_r)
{
	*error_r = NULL;
	return doveadm_mariadb_settings_parse(pool, TEST_PATH,
					      (const unsigned char *)data,
					      strlen(data), set_r, error_r);
}

static void test_settings_defaults(void)
{
	struct doveadm_mariadb_settings *set;
	const char *error;
	pool_t pool;

	test_begin("doveadm_mariadb_settings_parse() defaults");
	pool = pool_alloconly_create("test settings", 1024);
	test_assert(test_parse(pool, "", &set, &error) == 0);
	test_assert(error == NULL);
	test_assert_strcmp(set->db->user, "mail_admin");
	test_assert_strcmp(set->db->hosts, "localhost");
	test_assert_strcmp(set->db->dbname, "mail_server");
	test_assert(set->bcrypt_cost == 12);
	pool_unref(&pool);
	test_end();
}

static void test_settings_keys(void)
{
	static const char *const text =
		"hosts = 10.0.0.1:3307 10.0.0.2\n"
		"user = admin\n"
		"password = " SECRET "\n"
		"dbname = mail\n"
		"tls = yes\n"
		"tls_ca = /etc/ssl/ca.pem\n"
		"tls_cert = /etc/ssl/c.pem\n"
		"tls_key = /etc/ssl/k.pem\n"
		"tls_verify = no\n"
		"connect_timeout = 7\n"
		"query_timeout = 9s\n"
		"bcrypt_cost = 4\n";
	struct doveadm_mariadb_settings *set;
	const char *error;
	pool_t pool;

	test_begin("doveadm_mariadb_settings_parse() every key");
	pool = pool_alloconly_create("test settings", 1024);
	test_assert(test_parse(pool, text, &set, &error) == 0);
	test_assert(error == NULL);
	test_assert(set->db->parsed_hosts_count == 2);
	test_assert(set->db->parsed_hosts[0].port == 3307);
	test_assert_strcmp(set->db->user, "admin");
	test_assert_strcmp(set->db->password, SECRET);
	test_assert_strcmp(set->db->dbname, "mail");
	test_assert(set->db->tls && !set->db->tls_verify);
	test_assert_strcmp(set->db->tls_ca, "/etc/ssl/ca.pem");
	test_assert_strcmp(set->db->tls_key, "/etc/ssl/k.pem");
	test_assert(set->db->connect_timeout_secs == 7);
	test_assert(set->db->query_timeout_secs == 9);
	test_assert(set->bcrypt_cost == 4);
	pool_unref(&pool);
	test_end();
}

static void test_settings_errors(void)
{
	static const struct {
		const char *data, *error;
	} tests[] = {
		{ "bcrypt_cost = 3",
		  TEST_PATH ":1: bcrypt_cost: invalid value '3': expected a "
		  "number between 4 and 31" },
		{ "bcrypt_cost = 32",
		  TEST_PATH ":1: bcrypt_cost: invalid value '32': expected a "
		  "number between 4 and 31" },
		{ "bcrypt_cost = ten",
		  TEST_PATH ":1: bcrypt_cost: invalid value 'ten': expected a "
		  "number between 4 and 31" },
		/* the module's own keys are not the admin file's */
		{ "user = a\npool_size = 3",
		  TEST_PATH ":2: unknown setting 'pool_size' (the admin file "
		  "takes hosts, user, password, dbname, tls*, "
		  "connect_timeout, query_timeout and bcrypt_cost)" },
		{ "password_query = SELECT 1",
		  TEST_PATH ":1: unknown setting 'password_query' (the admin "
		  "file takes hosts, user, password, dbname, tls*, "
		  "connect_timeout, query_timeout and bcrypt_cost)" },
		{ "bcrypt_cost = 5\nbcrypt_cost = 6",
		  TEST_PATH ":2: bcrypt_cost: given more than once" },
		{ "tls = maybe",
		  TEST_PATH ":1: tls: invalid value 'maybe': expected yes or "
		  "no" },
		{ "hosts =",
		  TEST_PATH ": hosts: no host given" },
		/* never the module's read-only account */
		{ "user = mail_user",
		  TEST_PATH ": user: mail_user is the module's read-only "
		  "account; the commands write through their own "
		  "(mail_admin, sql/03-grants.sql)" },
	};
	struct doveadm_mariadb_settings *set;
	const char *error;
	unsigned int i;
	pool_t pool;

	test_begin("doveadm_mariadb_settings_parse() errors");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		pool = pool_alloconly_create("test settings", 1024);
		test_assert_idx(test_parse(pool, tests[i].data, &set,
					   &error) == -1, i);
		test_assert_idx(set == NULL, i);
		test_assert_strcmp_idx(error, tests[i].error, i);
		pool_unref(&pool);
	} T_END;
	test_end();
}

static void test_write(const char *path, const char *data, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(data, f) < 0 || fclose(f) != 0)
		i_fatal("writing %s failed: %m", path);
	if (chmod(path, mode) < 0)
		i_fatal("chmod(%s) failed: %m", path);
}

static void test_settings_read(void)
{
	struct doveadm_mariadb_settings *set;
	const char *path, *error;
	char dir[] = "/tmp/test-doveadm-mariadb-settings.XXXXXX";
	pool_t pool;

	test_begin("doveadm_mariadb_settings_read()");
	if (mkdtemp(dir) == NULL)
		i_fatal("mkdtemp(%s) failed: %m", dir);
	pool = pool_alloconly_create("test settings", 1024);
	path = t_strconcat(dir, "/admin.conf", NULL);

	test_write(path, "password = " SECRET "\nbcrypt_cost = 5\n", 0600);
	test_assert(doveadm_mariadb_settings_read(pool, path, &set,
						  &error) == 0);
	test_assert(set != NULL && set->bcrypt_cost == 5);
	/* the module's file would only be warned about */
	test_write(path, "password = " SECRET "\n", 0644);
	test_assert(doveadm_mariadb_settings_read(pool, path, &set,
						  &error) == -1);
	test_assert(set == NULL);
	test_assert_strcmp(error, t_strdup_printf(
		"%s is readable by every user on this host and holds the "
		"password of the database account that changes users: chmod "
		"0600 it", path));
	/* the same checks as for the module's file */
	test_write(path, "password = " SECRET "\n", 0620);
	test_assert(doveadm_mariadb_settings_read(pool, path, &set,
						  &error) == -1);
	test_assert(strstr(error, "is writable by its group") != NULL);
	i_unlink(path);
	test_assert(doveadm_mariadb_settings_read(pool, path, &set,
						  &error) == -1);
	test_assert_strcmp(error, t_strdup_printf(
		"open(%s) failed: No such file or directory", path));

	pool_unref(&pool);
	if (unlink_directory(dir, UNLINK_DIRECTORY_FLAG_RMDIR, &error) < 0)
		i_fatal("unlink_directory(%s) failed: %s", dir, error);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_settings_defaults,
		test_settings_keys,
		test_settings_errors,
		test_settings_read,
		NULL
	};
	return test_run(test_functions);
}
