/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "unlink-directory.h"
#include "write-full.h"
#include "test-common.h"
#include "test-compat.h"
#include "db-mariadb-query.h"
#include "db-mariadb-settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_PATH "test.conf"
#define SECRET "Sekr1t-P4ss"

enum test_setting_type {
	TEST_STR,
	TEST_BOOL,
	TEST_SECS,
	/* a number or "auto" */
	TEST_COST,
};

/* Every key, as in the module's own table. */
struct setting_key_test {
	const char *key;
	enum test_setting_type type;
	size_t offset;
	const char *default_value;
	/* a valid value other than the default ... */
	const char *value;
	/* ... and other lines it needs to pass the whole-file checks */
	const char *needs;
};

#define STR(key, default_value, value, needs) \
	{ #key, TEST_STR, offsetof(struct db_mariadb_settings, key), \
	  default_value, value, needs }
#define BOOL(key, default_value, value, needs) \
	{ #key, TEST_BOOL, offsetof(struct db_mariadb_settings, key), \
	  default_value, value, needs }
/* printed like seconds: a plain unsigned int */
#define UINT(key, default_value, value) \
	{ #key, TEST_SECS, offsetof(struct db_mariadb_settings, key), \
	  default_value, value, "" }
#define COST(key, default_value, value) \
	{ #key, TEST_COST, offsetof(struct db_mariadb_settings, key), \
	  default_value, value, "" }
#define SECS(key, default_value, value) \
	{ #key, TEST_SECS, offsetof(struct db_mariadb_settings, key##_secs), \
	  default_value, value, "" }

static const struct setting_key_test setting_keys[] = {
	STR(hosts, "localhost", "db1.example.com", ""),
	STR(user, "mail_user", "vmail_reader", ""),
	/* no inline comments: a '#' is part of the value */
	STR(password, "", SECRET " #x", ""),
	STR(dbname, "mail_server", "mail", ""),

	BOOL(tls, "no", "yes", ""),
	STR(tls_ca, "", "/etc/ssl/ca.pem", "tls = yes\n"),
	STR(tls_cert, "", "/etc/ssl/c.pem", "tls = yes\ntls_key = /k.pem\n"),
	STR(tls_key, "", "/etc/ssl/k.pem", "tls = yes\ntls_cert = /c.pem\n"),
	BOOL(tls_verify, "yes", "no", ""),

	SECS(connect_timeout, "5", "30"),
	SECS(query_timeout, "5", "3600"),
	BOOL(blocking, "no", "yes", ""),
	UINT(pool_size, "2", "8"),
	UINT(queue_limit, "1000", "50"),

	COST(unknown_user_cost, "auto", "12"),
	UINT(bcrypt_max_cost, "15", "12"),
	BOOL(allow_weak_schemes, "no", "yes", ""),

	BOOL(rehash, "no", "yes", ""),
	UINT(rehash_cost, "12", "11"),
	STR(rehash_user, "mail_rehash", "vmail_rehash", ""),
	STR(rehash_password, "", SECRET "2", ""),

	BOOL(login_cache, "yes", "no", ""),
	UINT(login_cache_size, "10000", "500"),
	SECS(login_cache_ttl, "3600", "60"),

	STR(password_query,
	    "SELECT CONCAT(local, '@', domain) AS user, "
	    "password_hash AS password "
	    "FROM users WHERE domain = :domain AND local = :local",
	    "SELECT password FROM t WHERE address = :user", ""),
	STR(user_query,
	    "SELECT CONCAT(local, '@', domain) AS user, display_name "
	    "FROM users WHERE domain = :domain AND local = :local",
	    "SELECT home FROM t WHERE address = :user", ""),
	STR(iterate_query,
	    "SELECT CONCAT(local, '@', domain) AS user "
	    "FROM users ORDER BY domain, local",
	    "SELECT address AS user FROM t", ""),
	STR(rehash_query,
	    "UPDATE users SET password_hash = :new_hash "
	    "WHERE domain = :domain AND local = :local "
	    "AND password_hash = :old_hash",
	    "UPDATE t SET pw = :new_hash WHERE address = :user AND "
	    "pw = :old_hash", ""),

	STR(home, "/var/vmail/%d/%n", "/home/%u", ""),
	STR(mail, "", "maildir:~/Maildir", ""),
	STR(uid, "", "vmail", ""),
	STR(gid, "", "5000", ""),
};

/* data -> NULL if it is valid, else the exact error */
struct settings_error_test {
	const char *data;
	const char *error;
};

static int
test_parse(pool_t pool, const char *data, struct db_mariadb_settings **set_r,
	   const char **error_r)
{
	*error_r = NULL;
	return db_mariadb_settings_parse(pool, TEST_PATH,
					 (const unsigned char *)data,
					 strlen(data), set_r, error_r);
}

/* The value of a setting in the form it is written in the file. */
static const char *
test_setting_value(const struct db_mariadb_settings *set,
		   const struct setting_key_test *test)
{
	const void *ptr = CONST_PTR_OFFSET(set, test->offset);

	switch (test->type) {
	case TEST_STR:
		return *(const char *const *)ptr;
	case TEST_BOOL:
		return *(const bool *)ptr ? "yes" : "no";
	case TEST_SECS:
		return dec2str(*(const unsigned int *)ptr);
	case TEST_COST:
		if (*(const unsigned int *)ptr == DB_MARIADB_COST_AUTO)
			return "auto";
		return dec2str(*(const unsigned int *)ptr);
	}
	i_unreached();
}

/* Every setting has its default value, except those that the file
   written for the test "changed" (if not NULL) sets. */
static void
test_settings_assert_defaults(const struct db_mariadb_settings *set,
			      const struct setting_key_test *changed)
{
	const struct setting_key_test *test;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(setting_keys); i++) {
		test = &setting_keys[i];
		if (changed != NULL && (test == changed ||
		    strstr(changed->needs, test->key) != NULL))
			continue;
		test_assert_strcmp_idx(test_setting_value(set, test),
				       test->default_value, i);
	}
}

/* Runs a table of files that are either valid (error == NULL) or refused
   with exactly the given error. */
static void
test_settings_errors(const struct settings_error_test *tests,
		     unsigned int count)
{
	struct db_mariadb_settings *set;
	const char *error;
	unsigned int i;
	pool_t pool;
	int ret;

	for (i = 0; i < count; i++) T_BEGIN {
		pool = pool_alloconly_create("test settings", 1024);
		ret = test_parse(pool, tests[i].data, &set, &error);
		if (tests[i].error == NULL) {
			test_assert_idx(ret == 0, i);
			test_assert_idx(set != NULL && error == NULL, i);
		} else {
			test_assert_idx(ret == -1, i);
			test_assert_idx(set == NULL, i);
			test_assert_strcmp_idx(error, tests[i].error, i);
		}
		pool_unref(&pool);
	} T_END;
}

static void test_settings_defaults(void)
{
	struct db_mariadb_settings *set;
	const struct db_mariadb_query *query;
	const char *error;
	pool_t pool;

	test_begin("db_mariadb_settings_parse() defaults");
	pool = pool_alloconly_create("test settings", 1024);
	test_assert(test_parse(pool, "", &set, &error) == 0);
	test_assert(error == NULL);
	test_settings_assert_defaults(set, NULL);
	test_assert_strcmp(set->path, TEST_PATH);
	test_assert(set->parsed_hosts_count == 1);
	test_assert_strcmp(set->parsed_hosts[0].name, "localhost");
	test_assert(set->parsed_hosts[0].port == 3306);
	test_assert(set->parsed_hosts[0].socket_path == NULL);

	query = set->parsed_password_query;
	test_assert(query->params_count == 2 &&
		    query->params[0] == DB_MARIADB_PARAM_DOMAIN &&
		    query->params[1] == DB_MARIADB_PARAM_LOCAL);
	query = set->parsed_user_query;
	test_assert(query->params_count == 2 &&
		    query->params[0] == DB_MARIADB_PARAM_DOMAIN &&
		    query->params[1] == DB_MARIADB_PARAM_LOCAL);
	test_assert(set->parsed_iterate_query->params_count == 0);
	query = set->parsed_rehash_query;
	test_assert(query->params_count == 4 &&
		    query->params[0] == DB_MARIADB_PARAM_NEW_HASH &&
		    query->params[1] == DB_MARIADB_PARAM_DOMAIN &&
		    query->params[2] == DB_MARIADB_PARAM_LOCAL &&
		    query->params[3] == DB_MARIADB_PARAM_OLD_HASH);
	test_assert(query->update);
	test_assert(!set->parsed_password_query->update);
	test_assert_strcmp(query->name, "rehash");
	/* the query field of their events */
	test_assert_strcmp(set->parsed_password_query->name, "password");
	test_assert_strcmp(set->parsed_user_query->name, "user");
	test_assert_strcmp(set->parsed_iterate_query->name, "iterate");
	pool_unref(&pool);
	test_end();
}

static void test_settings_keys(void)
{
	const struct setting_key_test *test;
	struct db_mariadb_settings *set;
	const char *data, *error;
	unsigned int i;
	pool_t pool;

	test_begin("db_mariadb_settings_parse() every key");
	for (i = 0; i < N_ELEMENTS(setting_keys); i++) T_BEGIN {
		test = &setting_keys[i];
		pool = pool_alloconly_create("test settings", 1024);
		data = t_strdup_printf("%s%s = %s\n", test->needs,
				       test->key, test->value);
		test_assert_idx(test_parse(pool, data, &set, &error) == 0, i);
		test_assert_idx(error == NULL, i);
		if (set != NULL) {
			test_assert_strcmp_idx(test_setting_value(set, test),
					       test->value, i);
			test_settings_assert_defaults(set, test);
		}
		pool_unref(&pool);
	} T_END;
	test_end();
}

static void test_settings_bool(void)
{
	static const struct settings_error_test tests[] = {
		{ "tls_verify = yes", NULL },
		{ "tls_verify = no", NULL },
		{ "tls_verify = \"no\"", NULL },
		{ "tls_verify = YES", TEST_PATH ":1: tls_verify: "
		  "invalid value 'YES': expected yes or no" },
		{ "tls_verify = No", TEST_PATH ":1: tls_verify: "
		  "invalid value 'No': expected yes or no" },
		{ "tls_verify = true", TEST_PATH ":1: tls_verify: "
		  "invalid value 'true': expected yes or no" },
		{ "tls_verify = 1", TEST_PATH ":1: tls_verify: "
		  "invalid value '1': expected yes or no" },
		{ "tls = on", TEST_PATH ":1: tls: "
		  "invalid value 'on': expected yes or no" },
		{ "tls = y", TEST_PATH ":1: tls: "
		  "invalid value 'y': expected yes or no" },
		{ "blocking =", TEST_PATH ":1: blocking: "
		  "invalid value '': expected yes or no" },
		{ "blocking = yes no", TEST_PATH ":1: blocking: "
		  "invalid value 'yes no': expected yes or no" },
	};

	test_begin("db_mariadb_settings_parse() booleans");
	test_settings_errors(tests, N_ELEMENTS(tests));
	test_end();
}

static const struct setting_key_test *test_setting_key(const char *key)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(setting_keys); i++) {
		if (strcmp(setting_keys[i].key, key) == 0)
			return &setting_keys[i];
	}
	i_unreached();
}

/* Seconds and plain numbers: both unsigned ints with a range. */
static void test_settings_numbers(void)
{
#define RANGE(min, max) "must be between "#min" and "#max" seconds"
#define NOT_A_NUMBER "expected a number of seconds"
	static const struct {
		const char *key, *value;
		unsigned int num;
		const char *error;
	} tests[] = {
		{ "connect_timeout", "1", 1, NULL },
		{ "connect_timeout", "300", 300, NULL },
		{ "connect_timeout", "5s", 5, NULL },
		{ "connect_timeout", "300s", 300, NULL },
		{ "query_timeout", "3600", 3600, NULL },
		{ "query_timeout", "3600s", 3600, NULL },
		{ "connect_timeout", "0", 0, RANGE(1, 300) },
		{ "connect_timeout", "0s", 0, RANGE(1, 300) },
		{ "connect_timeout", "301", 0, RANGE(1, 300) },
		{ "connect_timeout", "3600", 0, RANGE(1, 300) },
		{ "query_timeout", "0", 0, RANGE(1, 3600) },
		{ "query_timeout", "3601s", 0, RANGE(1, 3600) },
		{ "connect_timeout", "", 0, NOT_A_NUMBER },
		{ "connect_timeout", "s", 0, NOT_A_NUMBER },
		{ "connect_timeout", "5ss", 0, NOT_A_NUMBER },
		{ "connect_timeout", "5 s", 0, NOT_A_NUMBER },
		{ "connect_timeout", "5m", 0, NOT_A_NUMBER },
		{ "connect_timeout", "5ms", 0, NOT_A_NUMBER },
		{ "connect_timeout", "-1", 0, NOT_A_NUMBER },
		{ "connect_timeout", "+5", 0, NOT_A_NUMBER },
		{ "connect_timeout", "0x10", 0, NOT_A_NUMBER },
		{ "connect_timeout", "1.5", 0, NOT_A_NUMBER },
		{ "query_timeout", "4294967296", 0, NOT_A_NUMBER },
		{ "query_timeout", "99999999999999999999s", 0, NOT_A_NUMBER },
		{ "login_cache_ttl", "60s", 60, NULL },
		{ "pool_size", "1", 1, NULL },
		{ "pool_size", "64", 64, NULL },
		{ "pool_size", "0", 0, "must be between 1 and 64" },
		{ "pool_size", "65", 0, "must be between 1 and 64" },
		{ "pool_size", "2s", 0, "expected a number" },
		{ "pool_size", "", 0, "expected a number" },
		{ "pool_size", "-1", 0, "expected a number" },
		{ "queue_limit", "1", 1, NULL },
		{ "queue_limit", "1000000", 1000000, NULL },
		{ "queue_limit", "0", 0, "must be between 1 and 1000000" },
		{ "login_cache_size", "1", 1, NULL },
		{ "login_cache_size", "0", 0, "must be between 1 and 10000000" },
		{ "unknown_user_cost", "0", 0, NULL },
		{ "unknown_user_cost", "auto", DB_MARIADB_COST_AUTO, NULL },
		{ "unknown_user_cost", "32", 0, "must be auto or between 0 and 31" },
		{ "unknown_user_cost", "x", 0, "expected a number or auto" },
		{ "bcrypt_max_cost", "4", 4, NULL },
		{ "bcrypt_max_cost", "31", 31, NULL },
		{ "bcrypt_max_cost", "3", 0, "must be between 4 and 31" },
	};
#undef RANGE
#undef NOT_A_NUMBER
	struct db_mariadb_settings *set;
	const char *data, *error;
	unsigned int i, num;
	pool_t pool;
	int ret;

	test_begin("db_mariadb_settings_parse() seconds and numbers");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		pool = pool_alloconly_create("test settings", 1024);
		data = t_strdup_printf("%s = %s", tests[i].key,
				       tests[i].value);
		ret = test_parse(pool, data, &set, &error);
		if (tests[i].error == NULL) {
			test_assert_idx(ret == 0, i);
			num = set == NULL ? 0 : *(const unsigned int *)
				CONST_PTR_OFFSET(set, test_setting_key(
					tests[i].key)->offset);
			test_assert_idx(num == tests[i].num, i);
		} else {
			test_assert_idx(ret == -1, i);
			test_assert_strcmp_idx(error, t_strdup_printf(
				TEST_PATH ":1: %s: invalid value '%s': %s",
				tests[i].key, tests[i].value,
				tests[i].error), i);
		}
		pool_unref(&pool);
	} T_END;
	test_end();
}

static void test_settings_syntax(void)
{
	/* data -> the value of "user", or the error */
	static const struct {
		const char *data;
		const char *user;
		const char *error;
	} tests[] = {
		{ "user = u", "u", NULL },
		{ "user=u", "u", NULL },
		{ "  user   =   u  \n", "u", NULL },
		{ "\tuser\t=\tu\t\n", "u", NULL },
		{ "user = u\r\n", "u", NULL },
		{ "user = u\r\ndbname = d\r\n", "u", NULL },
		{ "user = a = b", "a = b", NULL },
		{ "user = a#b", "a#b", NULL },
		{ "user = a # b", "a # b", NULL },
		/* comments and blank lines */
		{ "# comment\nuser = u\n", "u", NULL },
		{ "  # indented comment\n\n\t\nuser = u", "u", NULL },
		{ "#user = x\nuser = u", "u", NULL },
		{ "\n\n\nuser = u\n\n\n", "u", NULL },
		{ "\r\n# c\r\n\r\nuser = u\r\n", "u", NULL },
		/* a comment ending in a backslash is not continued */
		{ "# comment \\\nuser = u", "u", NULL },
		/* double quotes keep the spaces inside */
		{ "user = \"  u  \"", "  u  ", NULL },
		{ "user = \"u\"  ", "u", NULL },
		{ "user = \"a\"b\"", "a\"b", NULL },
		{ "user = \"u\"x", "\"u\"x", NULL },
		{ "user = x\"u\"", "x\"u\"", NULL },
		{ "user = \"", "\"", NULL },
		{ "user = 'u'", "'u'", NULL },
		/* backslash continuation keeps the line break (so that a
		   -- comment in a query ends with its line) */
		{ "user = a \\\n b", "a \nb", NULL },
		{ "user = a\\\nb\\\nc", "a\nb\nc", NULL },
		{ "user = a\\\r\nb\r\n", "a\nb", NULL },
		{ "user \\\n = u", "u", NULL },
		{ "user = u\\", "u", NULL },
		{ "user = u\\\n", "u", NULL },
		{ "user = u\\\n\\\n", "u", NULL },
		{ "user = a\\\n# not a comment", "a\n# not a comment", NULL },
		/* an empty line ends a continued one */
		{ "user = a\\\n\nb", NULL,
		  TEST_PATH ":3: expected 'key = value'" },
		/* errors name the line (the first of a continued one) */
		{ "user", NULL, TEST_PATH ":1: expected 'key = value'" },
		{ "user u", NULL, TEST_PATH ":1: expected 'key = value'" },
		{ "user: u", NULL, TEST_PATH ":1: expected 'key = value'" },
		{ "# c\n\nuser = u\nbad\n", NULL,
		  TEST_PATH ":4: expected 'key = value'" },
		{ "user = u\r\nbad\r\n", NULL,
		  TEST_PATH ":2: expected 'key = value'" },
		{ "= u", NULL, TEST_PATH ":1: unknown setting ''" },
		{ "foo = bar", NULL, TEST_PATH ":1: unknown setting 'foo'" },
		{ "User = u", NULL, TEST_PATH ":1: unknown setting 'User'" },
		{ "user_name = u", NULL,
		  TEST_PATH ":1: unknown setting 'user_name'" },
		{ "\"user\" = u", NULL,
		  TEST_PATH ":1: unknown setting '\"user\"'" },
		{ "\nfoo = a \\\n  b\n", NULL,
		  TEST_PATH ":2: unknown setting 'foo'" },
		{ "user = u\nuser = v", NULL,
		  TEST_PATH ":2: user: given more than once" },
		{ "user = u\n\n#\nuser = u", NULL,
		  TEST_PATH ":4: user: given more than once" },
		{ "tls = no\ntls = no", NULL,
		  TEST_PATH ":2: tls: given more than once" },
	};
	struct db_mariadb_settings *set;
	const char *error;
	unsigned int i;
	pool_t pool;
	int ret;

	test_begin("db_mariadb_settings_parse() syntax");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		pool = pool_alloconly_create("test settings", 1024);
		ret = test_parse(pool, tests[i].data, &set, &error);
		if (tests[i].error == NULL) {
			test_assert_idx(ret == 0, i);
			test_assert_strcmp_idx(set == NULL ? NULL : set->user,
					       tests[i].user, i);
		} else {
			test_assert_idx(ret == -1 && set == NULL, i);
			test_assert_strcmp_idx(error, tests[i].error, i);
		}
		pool_unref(&pool);
	} T_END;
	test_end();
}

static void test_settings_nul(void)
{
	static const struct {
		const char *data;
		size_t size;
	} tests[] = {
		{ "user = a\0b\n", 11 },
		{ "user = u\n\0", 10 },
		{ "\0user = u\n", 10 },
		{ "# \0\nuser = u\n", 13 },
	};
	struct db_mariadb_settings *set;
	const char *error;
	unsigned int i;
	pool_t pool;

	test_begin("db_mariadb_settings_parse() NUL");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		pool = pool_alloconly_create("test settings", 1024);
		error = NULL;
		test_assert_idx(db_mariadb_settings_parse(pool, TEST_PATH,
			(const unsigned char *)tests[i].data, tests[i].size,
			&set, &error) == -1, i);
		test_assert_idx(set == NULL, i);
		test_assert_strcmp_idx(error, TEST_PATH ": contains a NUL byte",
				       i);
		pool_unref(&pool);
	} T_END;
	test_end();
}

/* The value of "hosts" and what it is parsed to: each host as name:port,
   [IPv6]:port or /socket, separated by a space. */
static const char *
test_hosts_str(const struct db_mariadb_settings *set)
{
	const struct db_mariadb_host *host;
	string_t *str = t_str_new(64);
	unsigned int i;

	for (i = 0; i < set->parsed_hosts_count; i++) {
		host = &set->parsed_hosts[i];
		if (i > 0)
			str_append_c(str, ' ');
		if (host->socket_path != NULL) {
			i_assert(host->name == NULL);
			str_append(str, host->socket_path);
		} else if (strchr(host->name, ':') != NULL) {
			str_printfa(str, "[%s]:%u", host->name, host->port);
		} else {
			str_printfa(str, "%s:%u", host->name, host->port);
		}
	}
	return str_c(str);
}

static void test_settings_hosts(void)
{
#define HOST_ERROR(host, error) \
	TEST_PATH ": hosts: '" host "': " error
#define BAD_PORT "invalid port (expected 1..65535)"
	static const struct {
		const char *value;
		const char *hosts;
		const char *error;
	} tests[] = {
		{ "db1", "db1:3306", NULL },
		{ "db1:3307", "db1:3307", NULL },
		{ "db1:1", "db1:1", NULL },
		{ "db1:65535", "db1:65535", NULL },
		{ "192.0.2.1:3306", "192.0.2.1:3306", NULL },
		{ "[::1]:3307", "[::1]:3307", NULL },
		{ "[::1]", "[::1]:3306", NULL },
		{ "[2001:db8::1]:13306", "[2001:db8::1]:13306", NULL },
		{ "/run/mysqld/mysqld.sock", "/run/mysqld/mysqld.sock", NULL },
		{ "a,b", "a:3306 b:3306", NULL },
		{ "a b", "a:3306 b:3306", NULL },
		{ " a, b\tc ,, d , ", "a:3306 b:3306 c:3306 d:3306", NULL },
		{ "db1:3307, [::1]:3308 /run/m.sock,db2",
		  "db1:3307 [::1]:3308 /run/m.sock db2:3306", NULL },
		{ "", NULL, TEST_PATH ": hosts: no host given" },
		{ " , ,\t", NULL, TEST_PATH ": hosts: no host given" },
		{ "db1:0", NULL, HOST_ERROR("db1:0", BAD_PORT) },
		{ "db1:65536", NULL, HOST_ERROR("db1:65536", BAD_PORT) },
		{ "db1:x", NULL, HOST_ERROR("db1:x", BAD_PORT) },
		{ "db1:", NULL, HOST_ERROR("db1:", BAD_PORT) },
		{ "db1:-1", NULL, HOST_ERROR("db1:-1", BAD_PORT) },
		{ "db1:3306x", NULL, HOST_ERROR("db1:3306x", BAD_PORT) },
		{ "[::1]:", NULL, HOST_ERROR("[::1]:", BAD_PORT) },
		{ "[::1]:99999", NULL, HOST_ERROR("[::1]:99999", BAD_PORT) },
		{ "good, db1:x", NULL, HOST_ERROR("db1:x", BAD_PORT) },
		{ ":3306", NULL, HOST_ERROR(":3306", "empty host name") },
		{ "[]:3306", NULL, HOST_ERROR("[]:3306", "empty host name") },
		{ "::1", NULL, HOST_ERROR("::1",
		  "an IPv6 address must be written as [addr]:port") },
		{ "db1:3306:3307", NULL, HOST_ERROR("db1:3306:3307",
		  "an IPv6 address must be written as [addr]:port") },
		{ "[::1", NULL, HOST_ERROR("[::1",
		  "missing ']' after an IPv6 address") },
		{ "[::1]3306", NULL, HOST_ERROR("[::1]3306",
		  "expected ':port' after ']'") },
	};
#undef HOST_ERROR
#undef BAD_PORT
	struct db_mariadb_settings *set;
	const char *data, *error;
	unsigned int i;
	pool_t pool;
	int ret;

	test_begin("db_mariadb_settings_parse() hosts");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		pool = pool_alloconly_create("test settings", 1024);
		data = t_strdup_printf("hosts = %s\n", tests[i].value);
		ret = test_parse(pool, data, &set, &error);
		if (tests[i].error == NULL) {
			test_assert_idx(ret == 0, i);
			test_assert_strcmp_idx(set == NULL ? NULL :
					       test_hosts_str(set),
					       tests[i].hosts, i);
		} else {
			test_assert_idx(ret == -1 && set == NULL, i);
			test_assert_strcmp_idx(error, tests[i].error, i);
		}
		pool_unref(&pool);
	} T_END;
	test_end();
}

static void test_settings_whole_file(void)
{
#define TLS_WITHOUT_TLS TEST_PATH \
	": tls_ca, tls_cert or tls_key is set but tls = no"
#define CERT_KEY TEST_PATH ": tls_cert and tls_key must be given together"
	static const struct settings_error_test tests[] = {
		{ "tls = yes", NULL },
		{ "tls = yes\ntls_ca = /ca.pem", NULL },
		{ "tls = yes\ntls_cert = /c.pem\ntls_key = /k.pem", NULL },
		{ "tls_key = /k.pem\ntls_cert = /c.pem\ntls = yes\n"
		  "tls_ca = /ca.pem\ntls_verify = no", NULL },
		{ "tls_ca = /ca.pem", TLS_WITHOUT_TLS },
		{ "tls = no\ntls_ca = /ca.pem", TLS_WITHOUT_TLS },
		{ "tls_cert = /c.pem\ntls_key = /k.pem", TLS_WITHOUT_TLS },
		{ "tls_key = /k.pem", TLS_WITHOUT_TLS },
		{ "tls = yes\ntls_cert = /c.pem", CERT_KEY },
		{ "tls = yes\ntls_key = /k.pem", CERT_KEY },
		{ "tls = yes\ntls_ca = /ca.pem\ntls_key = /k.pem", CERT_KEY },
		{ "blocking = no\npool_size = 1", NULL },
		{ "unknown_user_cost = 0", NULL },
		{ "unknown_user_cost = 4", NULL },
		{ "unknown_user_cost = 3", TEST_PATH ": unknown_user_cost: must "
		  "be auto, 0 (no dummy check) or a bcrypt cost of "
		  "4..bcrypt_max_cost (15)" },
		{ "unknown_user_cost = 15", NULL },
		{ "unknown_user_cost = 16", TEST_PATH ": unknown_user_cost: must "
		  "be auto, 0 (no dummy check) or a bcrypt cost of "
		  "4..bcrypt_max_cost (15)" },
		{ "unknown_user_cost = 31\nbcrypt_max_cost = 31", NULL },
		{ "unknown_user_cost = auto\nbcrypt_max_cost = 4", NULL },
		{ "password =", NULL },
		{ "user =", TEST_PATH ": user: must not be empty" },
		{ "user = \"\"", TEST_PATH ": user: must not be empty" },
		{ "dbname =", TEST_PATH ": dbname: must not be empty" },
		{ "password_query =",
		  TEST_PATH ": password_query: must not be empty" },
		{ "user_query = \"\"",
		  TEST_PATH ": user_query: must not be empty" },
		{ "iterate_query =",
		  TEST_PATH ": iterate_query: must not be empty" },
		{ "password_query = SELECT p FROM t WHERE u = :foo",
		  TEST_PATH ": password_query: unknown placeholder ':foo' "
		  "(known: :local, :domain, :user, :new_hash, :old_hash)" },
		{ "user_query = SELECT h FROM t WHERE u = ?",
		  TEST_PATH ": user_query: '?' is not allowed: use the named "
		  "placeholders :local, :domain or :user" },
		{ "iterate_query = SELECT 'x",
		  TEST_PATH ": iterate_query: unterminated quoted string" },
		{ "iterate_query = SELECT user FROM t WHERE domain = :domain",
		  TEST_PATH ": iterate_query: must not use placeholders" },
		{ "password_query = SELECT p /* FROM t",
		  TEST_PATH ": password_query: unterminated comment" },
		/* a long query over several lines */
		{ "password_query = SELECT password \\\n"
		  "  FROM users \\\n"
		  "  WHERE local = :local AND domain = :domain", NULL },
		/* a comment ends with its line, the rest of the query stays */
		{ "password_query = SELECT password FROM users \\\n"
		  "  -- the primary key \\\n"
		  "  WHERE domain = :domain AND local = :local", NULL },
		/* a per-user query that ignores the user answers every login
		   with the same row */
		{ "password_query = SELECT password FROM users",
		  TEST_PATH ": password_query: uses none of :local, :domain, "
		  ":user" },
		{ "user_query = SELECT home FROM users",
		  TEST_PATH ": user_query: uses none of :local, :domain, :user" },
		/* the hashes are for rehash_query only */
		{ "password_query = SELECT p FROM t WHERE u = :user AND "
		  "p = :old_hash", TEST_PATH ": password_query: :new_hash and "
		  ":old_hash are for rehash_query" },
		{ "user_query = SELECT :new_hash FROM t WHERE u = :user",
		  TEST_PATH ": user_query: :new_hash and :old_hash are for "
		  "rehash_query" },
		{ "iterate_query = SELECT :old_hash AS user FROM t",
		  TEST_PATH ": iterate_query: must not use placeholders" },
		/* rehash_query: a compare-and-swap of the user's row */
		{ "rehash_query = UPDATE t SET p = 'x' WHERE u = :user AND "
		  "p = :old_hash", TEST_PATH ": rehash_query: must use "
		  ":new_hash" },
		{ "rehash_query = UPDATE t SET p = :new_hash WHERE u = :user",
		  TEST_PATH ": rehash_query: must use :old_hash (as in "
		  "password_hash = :old_hash), or a password changed "
		  "meanwhile would be overwritten" },
		{ "rehash_query = UPDATE t SET p = :new_hash WHERE p = :old_hash",
		  TEST_PATH ": rehash_query: uses none of :local, :domain, "
		  ":user" },
		{ "rehash_query =", TEST_PATH ": rehash_query: must not be "
		  "empty" },
		{ "rehash_query = UPDATE t SET p = :new_hash, q = :new_hash "
		  "WHERE d = :domain AND l = :local AND p = :old_hash", NULL },
		/* the rehash account */
		{ "rehash = yes", NULL },
		{ "rehash = yes\nrehash_user =", TEST_PATH ": rehash_user: "
		  "must not be empty with rehash = yes" },
		{ "rehash = no\nrehash_user =", NULL },
		{ "rehash = yes\nrehash_user = mail_user", TEST_PATH
		  ": rehash_user: must be another account than user, which "
		  "stays read-only (see sql/03-grants.sql)" },
		{ "rehash = yes\nuser = a\nrehash_user = a", TEST_PATH
		  ": rehash_user: must be another account than user, which "
		  "stays read-only (see sql/03-grants.sql)" },
		{ "rehash = yes\nrehash_cost = 15", NULL },
		{ "rehash = yes\nrehash_cost = 16", TEST_PATH ": rehash_cost: "
		  "must be at most bcrypt_max_cost (15), or the new hashes "
		  "would be refused" },
		{ "rehash = yes\nrehash_cost = 16\nbcrypt_max_cost = 16", NULL },
		/* without rehash it is not used */
		{ "rehash_cost = 16", NULL },
		{ "bcrypt_max_cost = 10", NULL },
		{ "rehash_cost = 3", TEST_PATH ":1: rehash_cost: invalid value "
		  "'3': must be between 4 and 31" },
	};
#undef TLS_WITHOUT_TLS
#undef CERT_KEY

	test_begin("db_mariadb_settings_parse() whole-file checks");
	test_settings_errors(tests, N_ELEMENTS(tests));
	test_end();
}

static void test_settings_password_not_shown(void)
{
	static const char *const tests[] = {
		"password = " SECRET "\npassword = " SECRET,
		"password = \"" SECRET "\"\npassword = x",
		"password = " SECRET "\nbad line",
		"password = " SECRET "\nfoo = bar",
		"password = " SECRET "\npool_size = 0",
		"password = " SECRET "\ntls_ca = /ca.pem",
		"password = " SECRET "\nhosts = db1:x",
		"password " SECRET,
		"password: " SECRET,
		"password \\\n " SECRET,
		"password " SECRET "=x",
		"rehash_password = " SECRET "\nrehash_password = " SECRET,
		"rehash_password = " SECRET "\nrehash_cost = x",
	};
	struct db_mariadb_settings *set;
	const char *error;
	unsigned int i;
	pool_t pool;

	test_begin("db_mariadb_settings_parse() password never in errors");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		pool = pool_alloconly_create("test settings", 1024);
		test_assert_idx(test_parse(pool, tests[i], &set, &error) < 0,
				i);
		test_assert_idx(error != NULL &&
				strstr(error, SECRET) == NULL, i);
		test_assert_idx(error != NULL &&
				str_begins_with(error, TEST_PATH ":"), i);
		pool_unref(&pool);
	} T_END;
	test_end();
}

/* Creates path with the given contents and mode (umask doesn't apply). */
static void
test_write_file(const char *path, const char *data, mode_t mode)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		i_fatal("open(%s) failed: %m", path);
	if (write_full(fd, data, strlen(data)) < 0)
		i_fatal("write(%s) failed: %m", path);
	if (fchmod(fd, mode) < 0)
		i_fatal("fchmod(%s) failed: %m", path);
	i_close_fd(&fd);
}

static void test_settings_read(void)
{
	struct db_mariadb_settings *set;
	const char *dir, *path, *warning, *error;
	char template[] = "/tmp/test-db-mariadb-settings.XXXXXX";
	pool_t pool;
	int fd;

	test_begin("db_mariadb_settings_read()");
	if (mkdtemp(template) == NULL)
		i_fatal("mkdtemp(%s) failed: %m", template);
	dir = template;
	pool = pool_alloconly_create("test settings", 1024);

	/* missing file */
	path = t_strconcat(dir, "/missing.conf", NULL);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == -1);
	test_assert(set == NULL && warning == NULL);
	test_assert_strcmp(error, t_strdup_printf(
		"open(%s) failed: No such file or directory", path));

	/* a directory */
	test_assert(db_mariadb_settings_read(pool, dir, &set, &warning,
					     &error) == -1);
	test_assert(set == NULL);
	test_assert_strcmp(error, t_strdup_printf(
		"%s: not a regular file of at most 1048576 bytes", dir));

	/* readable by everyone: parsed, with a warning */
	path = t_strconcat(dir, "/world.conf", NULL);
	test_write_file(path, "user = u\npassword = " SECRET "\n", 0644);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == 0);
	test_assert(set != NULL && strcmp(set->user, "u") == 0);
	test_assert(warning != NULL && strstr(warning, path) != NULL);
	test_assert(warning != NULL && strstr(warning, SECRET) == NULL);

	/* owner or group only: no warning */
	path = t_strconcat(dir, "/private.conf", NULL);
	test_write_file(path, "user = u\n", 0600);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == 0);
	test_assert(set != NULL && warning == NULL);
	test_write_file(path, "user = u\n", 0640);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == 0);
	test_assert(set != NULL && warning == NULL);

	/* whoever can write it chooses the queries: refused */
	test_write_file(path, "user = u\n", 0620);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == -1);
	test_assert(set == NULL);
	test_assert_strcmp(error, t_strdup_printf(
		"%s is writable by its group: whoever can write it chooses "
		"the queries, chmod 0600 or 0640 it", path));
	test_write_file(path, "user = u\n", 0602);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == -1);
	test_assert_strcmp(error, t_strdup_printf(
		"%s is writable by every user: whoever can write it chooses "
		"the queries, chmod 0600 or 0640 it", path));
	if (geteuid() == 0) {
		/* owned by someone else (only root can give it away) */
		test_write_file(path, "user = u\n", 0600);
		if (chown(path, 65534, (gid_t)-1) < 0)
			i_fatal("chown(%s) failed: %m", path);
		test_assert(db_mariadb_settings_read(pool, path, &set,
						     &warning, &error) == -1);
		test_assert_strcmp(error, t_strdup_printf(
			"%s is owned by UID 65534: whoever can write it "
			"chooses the queries, it must be owned by root", path));
		i_unlink(path);
	}

	/* empty: all defaults */
	test_write_file(path, "", 0600);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == 0);
	test_assert(set != NULL && strcmp(set->user, "mail_user") == 0);
	test_assert(set != NULL && strcmp(set->path, path) == 0);

	/* parse errors name the file and the line */
	test_write_file(path, "user = u\nfoo = bar\n", 0600);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == -1);
	test_assert(set == NULL);
	test_assert_strcmp(error, t_strdup_printf(
		"%s:2: unknown setting 'foo'", path));

	/* too large */
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd == -1 ||
	    ftruncate(fd, DB_MARIADB_SETTINGS_FILE_MAX_SIZE + 1) < 0)
		i_fatal("ftruncate(%s) failed: %m", path);
	i_close_fd(&fd);
	test_assert(db_mariadb_settings_read(pool, path, &set, &warning,
					     &error) == -1);
	test_assert_strcmp(error, t_strdup_printf(
		"%s: not a regular file of at most 1048576 bytes", path));

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
		test_settings_bool,
		test_settings_numbers,
		test_settings_syntax,
		test_settings_nul,
		test_settings_hosts,
		test_settings_whole_file,
		test_settings_password_not_shown,
		test_settings_read,
		NULL
	};
	return test_run(test_functions);
}
