/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "test-common.h"
#include "db-mariadb-query.h"
#include "db-mariadb-user.h"
#include "db-mariadb-params.h"

/* What libmariadb's mysql_stmt_bind_param() does with the array: it keeps
   a copy of it, and with it the pointers to the lengths and the values,
   which mysql_stmt_execute() reads later. This stand-in keeps the copy
   for the test to read, as execute would. */
static MYSQL_BIND test_kept_binds[DB_MARIADB_QUERY_MAX_PARAMS];
static unsigned int test_kept_count;
static my_bool test_bind_fails;

my_bool mysql_stmt_bind_param(MYSQL_STMT *stmt ATTR_UNUSED, MYSQL_BIND *bind)
{
	if (test_bind_fails)
		return 1;
	memcpy(test_kept_binds, bind, sizeof(bind[0]) * test_kept_count);
	return 0;
}

static void
test_params_parse(pool_t pool, const char *text,
		  struct db_mariadb_query **query_r)
{
	const char *error;

	if (!db_mariadb_query_parse(pool, text, query_r, &error))
		i_fatal("query %s: %s", text, error);
	test_kept_count = (*query_r)->params_count;
}

/* Read the kept binds as execute would: each length and value must
   still be what was bound. */
static void test_params_assert_kept(const char *const *values)
{
	unsigned int i;

	for (i = 0; i < test_kept_count; i++) {
		test_assert_idx(test_kept_binds[i].buffer_type ==
				MYSQL_TYPE_STRING, i);
		test_assert_idx(*test_kept_binds[i].length ==
				strlen(values[i]), i);
		test_assert_idx(memcmp(test_kept_binds[i].buffer, values[i],
				       strlen(values[i])) == 0, i);
	}
}

static void test_params_bind(void)
{
	static const char *const values[] = {
		"nahida.net", "deepwood", "deepwood@nahida.net",
		"deepwood", "nahida.net",
	};
	struct db_mariadb_params *params;
	struct db_mariadb_query *query;
	struct db_mariadb_user user;
	pool_t pool;

	test_begin("db_mariadb_params_bind()");
	pool = pool_alloconly_create("test params", 1024);
	user.local = "deepwood";
	user.domain = "nahida.net";
	user.address = "deepwood@nahida.net";
	test_params_parse(pool, "SELECT 1 FROM t WHERE d = :domain AND "
			  "l = :local OR a = :user OR (l, d) = (:local, :domain)",
			  &query);
	params = i_new(struct db_mariadb_params, 1);
	test_assert(db_mariadb_params_bind(params, (MYSQL_STMT *)pool, query,
					   &user) == 0);
	/* after the function that bound them has returned (the old code
	   pointed the lengths into its own stack frame: valgrind reports
	   these reads then, and ASan with detect_stack_use_after_return) */
	test_params_assert_kept(values);
	/* the lengths live in params, the caller's */
	test_assert(test_kept_binds[0].length == &params->lengths[0]);
	test_assert(test_kept_binds[4].length == &params->lengths[4]);

	/* no placeholders: nothing is bound */
	test_params_parse(pool, "SELECT 1", &query);
	test_assert(db_mariadb_params_bind(params, (MYSQL_STMT *)pool, query,
					   &user) == 0);
	/* a failed bind is reported */
	test_params_parse(pool, "SELECT :user", &query);
	test_bind_fails = TRUE;
	test_assert(db_mariadb_params_bind(params, (MYSQL_STMT *)pool, query,
					   &user) == -1);
	test_bind_fails = FALSE;
	i_free(params);
	pool_unref(&pool);
	test_end();
}

static void test_params_value(void)
{
	struct db_mariadb_user user = {
		.local = "a", .domain = "b.example", .address = "a@b.example",
		.new_hash = "$2y$12$new", .old_hash = "{SSHA512}old",
	};

	test_begin("db_mariadb_param_value()");
	test_assert_strcmp(db_mariadb_param_value(&user,
		DB_MARIADB_PARAM_LOCAL), "a");
	test_assert_strcmp(db_mariadb_param_value(&user,
		DB_MARIADB_PARAM_DOMAIN), "b.example");
	test_assert_strcmp(db_mariadb_param_value(&user,
		DB_MARIADB_PARAM_USER), "a@b.example");
	test_assert_strcmp(db_mariadb_param_value(&user,
		DB_MARIADB_PARAM_NEW_HASH), "$2y$12$new");
	test_assert_strcmp(db_mariadb_param_value(&user,
		DB_MARIADB_PARAM_OLD_HASH), "{SSHA512}old");
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_params_bind,
		test_params_value,
		NULL
	};
	return test_run(test_functions);
}
