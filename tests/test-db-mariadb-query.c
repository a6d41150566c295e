/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "db-mariadb-query.h"

#define L DB_MARIADB_PARAM_LOCAL
#define D DB_MARIADB_PARAM_DOMAIN
#define U DB_MARIADB_PARAM_USER
#define NH DB_MARIADB_PARAM_NEW_HASH
#define OH DB_MARIADB_PARAM_OLD_HASH

#define TEST_PARAMS_MAX 5

struct query_valid_test {
	const char *text;
	/* what is sent to the server */
	const char *sql;
	unsigned int params_count;
	enum db_mariadb_param params[TEST_PARAMS_MAX];
};

struct query_invalid_test {
	const char *text;
	const char *error;
};

static void test_query_valid(void)
{
	static const struct query_valid_test tests[] = {
		/* like the defaults */
		{ "SELECT CONCAT(local, '@', domain) AS user, "
		  "password_hash AS password FROM users "
		  "WHERE domain = :domain AND local = :local",
		  "SELECT CONCAT(local, '@', domain) AS user, "
		  "password_hash AS password FROM users "
		  "WHERE domain = ? AND local = ?", 2, { D, L } },
		{ "SELECT CONCAT(local, '@', domain) AS user "
		  "FROM users ORDER BY domain, local",
		  "SELECT CONCAT(local, '@', domain) AS user "
		  "FROM users ORDER BY domain, local", 0, { 0 } },
		{ "", "", 0, { 0 } },
		/* each placeholder */
		{ ":local", "?", 1, { L } },
		{ ":domain", "?", 1, { D } },
		{ ":user", "?", 1, { U } },
		{ ":new_hash :old_hash", "? ?", 2, { NH, OH } },
		/* the default rehash_query */
		{ "UPDATE users SET password_hash = :new_hash "
		  "WHERE domain = :domain AND local = :local "
		  "AND password_hash = :old_hash",
		  "UPDATE users SET password_hash = ? "
		  "WHERE domain = ? AND local = ? AND password_hash = ?",
		  4, { NH, D, L, OH } },
		{ "SELECT 1 FROM t WHERE address=:user",
		  "SELECT 1 FROM t WHERE address=?", 1, { U } },
		{ "WHERE (u=:user);", "WHERE (u=?);", 1, { U } },
		{ "SELECT :user\nFROM t", "SELECT ?\nFROM t", 1, { U } },
		/* repeated, in the order written */
		{ "SELECT :user, :user", "SELECT ?, ?", 2, { U, U } },
		{ "SELECT :user, :domain, :local, :domain, :user",
		  "SELECT ?, ?, ?, ?, ?", 5, { U, D, L, D, U } },
		/* names are case-insensitive */
		{ ":LOCAL :Domain :uSeR", "? ? ?", 3, { L, D, U } },
		/* not replaced inside strings and quoted identifiers */
		{ "SELECT ':user' FROM t WHERE a = :local",
		  "SELECT ':user' FROM t WHERE a = ?", 1, { L } },
		{ "SELECT \":domain ?\", :domain",
		  "SELECT \":domain ?\", ?", 1, { D } },
		{ "SELECT `:user?` FROM t WHERE u = :user",
		  "SELECT `:user?` FROM t WHERE u = ?", 1, { U } },
		/* backslash escapes and doubled quotes */
		{ "SELECT 'it\\'s :user', :local",
		  "SELECT 'it\\'s :user', ?", 1, { L } },
		{ "SELECT 'it''s :user', :local",
		  "SELECT 'it''s :user', ?", 1, { L } },
		{ "SELECT \"a\\\":user\", \"b\"\":user\", :local",
		  "SELECT \"a\\\":user\", \"b\"\":user\", ?", 1, { L } },
		{ "SELECT 'a\\\\', :local", "SELECT 'a\\\\', ?", 1, { L } },
		{ "SELECT '', \"\", :local", "SELECT '', \"\", ?", 1, { L } },
		/* no backslash escapes in backquoted identifiers */
		{ "SELECT `a\\`, :local", "SELECT `a\\`, ?", 1, { L } },
		{ "SELECT `a``:user`, :local",
		  "SELECT `a``:user`, ?", 1, { L } },
		/* other quotes inside a string */
		{ "SELECT '\"`:user', :local",
		  "SELECT '\"`:user', ?", 1, { L } },
		/* comments are replaced by a space, with what they contain */
		{ "SELECT 1 -- :foo ? 'x\nFROM t WHERE u = :user",
		  "SELECT 1  FROM t WHERE u = ?", 1, { U } },
		{ "SELECT 1 --\t:foo\n, :user", "SELECT 1  , ?", 1, { U } },
		{ "SELECT :user --", "SELECT ?  ", 1, { U } },
		{ "SELECT :user -- :foo", "SELECT ?  ", 1, { U } },
		{ "# :foo ?\nSELECT :user", " SELECT ?", 1, { U } },
		{ "SELECT :user # :foo", "SELECT ?  ", 1, { U } },
		{ "SELECT /* :foo ? ' */ :user", "SELECT   ?", 1, { U } },
		{ "SELECT/**/:user/*\n*/", "SELECT ? ", 1, { U } },
		/* "--" without a space after it is not a comment */
		{ "SELECT 1--:user", "SELECT 1--?", 1, { U } },
		/* a comment marker inside a string is not a comment */
		{ "SELECT '-- ', '#', '/*', :user",
		  "SELECT '-- ', '#', '/*', ?", 1, { U } },
		/* colons that are not placeholders */
		{ "SET @a := :user", "SET @a := ?", 1, { U } },
		{ "SELECT @a:=1, ::, :1, : x, a:",
		  "SELECT @a:=1, ::, :1, : x, a:", 0, { 0 } },
		{ "SELECT 1 :: :user", "SELECT 1 :: ?", 1, { U } },
	};
	struct query_valid_test test;
	struct db_mariadb_query *query;
	const char *error;
	unsigned int i, j;
	pool_t pool;
	bool ret;

	test_begin("db_mariadb_query_parse() valid");
	pool = pool_alloconly_create("test db_mariadb_query", 1024);
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		test = tests[i];
		error = NULL;
		ret = db_mariadb_query_parse(pool, test.text, &query, &error);
		test_assert_idx(ret, i);
		test_assert_idx(error == NULL, i);
		if (query != NULL) {
			test_assert_strcmp_idx(query->text, test.text, i);
			test_assert_strcmp_idx(query->sql, test.sql, i);
			test_assert_idx(query->params_count ==
					test.params_count, i);
			test_assert_idx((query->params == NULL) ==
					(test.params_count == 0), i);
			for (j = 0; j < test.params_count &&
				    j < query->params_count; j++) {
				test_assert_idx(query->params[j] ==
						test.params[j], i);
			}
		}
	} T_END;
	pool_unref(&pool);
	test_end();
}

static void test_query_invalid(void)
{
#define KNOWN " (known: :local, :domain, :user, :new_hash, :old_hash)"
	static const struct query_invalid_test tests[] = {
		{ ":foo", "unknown placeholder ':foo'" KNOWN },
		{ "SELECT :user, :users",
		  "unknown placeholder ':users'" KNOWN },
		{ "SELECT :user1", "unknown placeholder ':user1'" KNOWN },
		{ "SELECT :user_id", "unknown placeholder ':user_id'" KNOWN },
		{ "SELECT :username", "unknown placeholder ':username'" KNOWN },
		{ "SELECT 1::int", "unknown placeholder ':int'" KNOWN },
		/* the name is shortened in the message */
		{ ":aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "unknown placeholder ':aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
		  KNOWN },
		/* a bare '?' would take a value the module doesn't bind */
		{ "?", "'?' is not allowed: use the named placeholders "
		  ":local, :domain or :user" },
		{ "SELECT 1 FROM t WHERE a = ? AND b = :user",
		  "'?' is not allowed: use the named placeholders "
		  ":local, :domain or :user" },
		{ "SELECT :user?", "'?' is not allowed: use the named "
		  "placeholders :local, :domain or :user" },
		/* unterminated strings */
		{ "SELECT 'abc", "unterminated quoted string" },
		{ "SELECT \"abc", "unterminated quoted string" },
		{ "SELECT `abc", "unterminated quoted string" },
		{ "SELECT '", "unterminated quoted string" },
		{ "SELECT 'abc\\'", "unterminated quoted string" },
		{ "SELECT 'abc\\", "unterminated quoted string" },
		{ "SELECT 'it''", "unterminated quoted string" },
		{ "SELECT ``` :user", "unterminated quoted string" },
		/* unterminated comments */
		{ "SELECT /* :user", "unterminated comment" },
		{ "SELECT /* :user *", "unterminated comment" },
		{ "SELECT /*/ :user", "unterminated comment" },
		{ "/*", "unterminated comment" },
		/* MariaDB executes these: not comments */
		{ "SELECT /*! :user */ 1", "executable comments (/*! */, "
		  "/*M! */) are not allowed" },
		{ "SELECT /*M!100000 1 */ 2", "executable comments (/*! */, "
		  "/*M! */) are not allowed" },
	};
#undef KNOWN
	struct db_mariadb_query dummy, *query;
	const char *error;
	unsigned int i;
	pool_t pool;

	test_begin("db_mariadb_query_parse() invalid");
	pool = pool_alloconly_create("test db_mariadb_query", 1024);
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		error = NULL;
		query = &dummy;
		test_assert_idx(!db_mariadb_query_parse(pool, tests[i].text,
							&query, &error), i);
		test_assert_idx(query == NULL, i);
		test_assert_strcmp_idx(error, tests[i].error, i);
	} T_END;
	pool_unref(&pool);
	test_end();
}

static void test_query_max_params(void)
{
	struct db_mariadb_query *query;
	const char *error = NULL;
	string_t *text;
	unsigned int i;
	pool_t pool;

	test_begin("db_mariadb_query_parse() placeholder limit");
	pool = pool_alloconly_create("test db_mariadb_query", 1024);
	text = t_str_new(512);
	str_append(text, "SELECT 1 FROM t WHERE u IN (:user");
	for (i = 1; i < DB_MARIADB_QUERY_MAX_PARAMS; i++)
		str_append(text, ", :user");
	test_assert(db_mariadb_query_parse(pool, t_strconcat(str_c(text), ")",
							     NULL),
					   &query, &error));
	test_assert(query != NULL &&
		    query->params_count == DB_MARIADB_QUERY_MAX_PARAMS);
	/* one more is refused with a reason, not an assertion at start-up */
	str_append(text, ", :local)");
	test_assert(!db_mariadb_query_parse(pool, str_c(text), &query, &error));
	test_assert(query == NULL);
	test_assert_strcmp(error, "more than 32 placeholders");
	pool_unref(&pool);
	test_end();
}

static void test_query_param_name(void)
{
	test_begin("db_mariadb_param_name()");
	test_assert_strcmp(db_mariadb_param_name(DB_MARIADB_PARAM_LOCAL),
			   "local");
	test_assert_strcmp(db_mariadb_param_name(DB_MARIADB_PARAM_DOMAIN),
			   "domain");
	test_assert_strcmp(db_mariadb_param_name(DB_MARIADB_PARAM_USER),
			   "user");
	test_assert_strcmp(db_mariadb_param_name(DB_MARIADB_PARAM_NEW_HASH),
			   "new_hash");
	test_assert_strcmp(db_mariadb_param_name(DB_MARIADB_PARAM_OLD_HASH),
			   "old_hash");
	test_end();
}

static void test_query_uses(void)
{
	struct db_mariadb_query *query;
	const char *error;
	pool_t pool;

	test_begin("db_mariadb_query_uses()");
	pool = pool_alloconly_create("test db_mariadb_query", 1024);
	test_assert(db_mariadb_query_parse(pool, "SET p = :new_hash WHERE "
					   "u = :user", &query, &error));
	test_assert(db_mariadb_query_uses(query, DB_MARIADB_PARAM_NEW_HASH));
	test_assert(db_mariadb_query_uses(query, DB_MARIADB_PARAM_USER));
	test_assert(!db_mariadb_query_uses(query, DB_MARIADB_PARAM_OLD_HASH));
	test_assert(!db_mariadb_query_uses(query, DB_MARIADB_PARAM_LOCAL));
	/* parsed queries are lookups until their owner says otherwise */
	test_assert(!query->update);
	pool_unref(&pool);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_query_valid,
		test_query_invalid,
		test_query_max_params,
		test_query_param_name,
		test_query_uses,
		NULL
	};
	return test_run(test_functions);
}
