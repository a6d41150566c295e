/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "test-common.h"
#include "db-mariadb-failure.h"

#include <mysqld_error.h>
#include <errmsg.h>

#define FAIL DB_MARIADB_FAILURE_FAIL
#define CLOSE_FAIL DB_MARIADB_FAILURE_CLOSE_FAIL
#define RETRY DB_MARIADB_FAILURE_RETRY
#define HOST_FAIL DB_MARIADB_FAILURE_HOST_FAIL
#define HOST_RETRY DB_MARIADB_FAILURE_HOST_RETRY

struct failure_test {
	unsigned int error;
	bool used;
	unsigned int hosts;
	bool retried;
	enum db_mariadb_failure_action action;
};

static void test_failure_policy(void)
{
	/* The whole table: the error's class (query error, a dropped
	   connection, a server failure, another client error) against
	   whether the connection had worked, one or two hosts, and whether
	   the request was already retried. */
	static const struct failure_test tests[] = {
		/* an error of the query: fail, keep the connection */
		{ ER_PARSE_ERROR, FALSE, 1, FALSE, FAIL },
		{ ER_PARSE_ERROR, TRUE, 2, FALSE, FAIL },
		{ ER_NO_SUCH_TABLE, TRUE, 2, TRUE, FAIL },
		{ ER_STATEMENT_TIMEOUT, TRUE, 1, FALSE, FAIL },
		{ 0, TRUE, 2, FALSE, FAIL },

		/* a connection that had worked, closed by the server (idle
		   timeout, KILL, restart): not the host's fault, retry once */
		{ CR_SERVER_GONE_ERROR, TRUE, 1, FALSE, RETRY },
		{ CR_SERVER_LOST, TRUE, 2, FALSE, RETRY },
		{ ER_CONNECTION_KILLED, TRUE, 1, FALSE, RETRY },
		{ CR_SERVER_GONE_ERROR, TRUE, 1, TRUE, CLOSE_FAIL },
		{ CR_SERVER_LOST, TRUE, 2, TRUE, CLOSE_FAIL },

		/* the same on a fresh connection: the host's fault; another
		   host may answer */
		{ CR_SERVER_GONE_ERROR, FALSE, 1, FALSE, HOST_FAIL },
		{ CR_SERVER_LOST, FALSE, 2, FALSE, HOST_RETRY },
		{ ER_CONNECTION_KILLED, FALSE, 2, FALSE, HOST_RETRY },
		{ CR_SERVER_LOST, FALSE, 2, TRUE, HOST_FAIL },

		/* a Galera node that is not ready, a shutdown: the host */
		{ ER_UNKNOWN_COM_ERROR, FALSE, 1, FALSE, HOST_FAIL },
		{ ER_UNKNOWN_COM_ERROR, FALSE, 3, FALSE, HOST_RETRY },
		{ ER_UNKNOWN_COM_ERROR, TRUE, 1, FALSE, HOST_RETRY },
		{ ER_UNKNOWN_COM_ERROR, TRUE, 3, TRUE, HOST_FAIL },
		{ ER_SERVER_SHUTDOWN, FALSE, 2, FALSE, HOST_RETRY },
		{ ER_SERVER_SHUTDOWN, TRUE, 2, FALSE, HOST_RETRY },

		/* other lost connections: the host failed, but a fresh
		   connection's error would fail elsewhere too */
		{ ER_CON_COUNT_ERROR, FALSE, 2, FALSE, HOST_FAIL },
		{ ER_QUERY_INTERRUPTED, FALSE, 2, FALSE, HOST_FAIL },
		{ CR_COMMANDS_OUT_OF_SYNC, FALSE, 2, FALSE, HOST_FAIL },
		{ CR_COMMANDS_OUT_OF_SYNC, TRUE, 2, FALSE, HOST_RETRY },
		{ ER_QUERY_INTERRUPTED, TRUE, 1, FALSE, HOST_RETRY },
		{ ER_CON_COUNT_ERROR, TRUE, 1, TRUE, HOST_FAIL },
	};
	struct db_mariadb_failure failure;
	enum db_mariadb_failure_action action;
	unsigned int i;

	test_begin("db_mariadb_failure_action()");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		i_zero(&failure);
		failure.error = tests[i].error;
		failure.connection_used = tests[i].used;
		failure.hosts_count = tests[i].hosts;
		failure.retried = tests[i].retried;
		action = db_mariadb_failure_action(&failure);
		test_assert_strcmp_idx(db_mariadb_failure_action_name(action),
			db_mariadb_failure_action_name(tests[i].action), i);
	}
	test_end();
}

static void test_failure_classes(void)
{
	test_begin("db_mariadb_error_is_*()");
	test_assert(db_mariadb_error_is_connection_lost(CR_MIN_ERROR));
	test_assert(db_mariadb_error_is_connection_lost(CR_MAX_ERROR));
	test_assert(!db_mariadb_error_is_connection_lost(0));
	test_assert(!db_mariadb_error_is_connection_lost(ER_DUP_ENTRY));
	test_assert(db_mariadb_error_is_dropped(CR_SERVER_GONE_ERROR));
	test_assert(!db_mariadb_error_is_dropped(ER_UNKNOWN_COM_ERROR));
	test_assert(db_mariadb_error_is_server_failure(ER_UNKNOWN_COM_ERROR));
	test_assert(db_mariadb_error_is_server_failure(CR_SERVER_LOST));
	test_assert(!db_mariadb_error_is_server_failure(ER_CON_COUNT_ERROR));
	test_assert(!db_mariadb_error_is_server_failure(CR_COMMANDS_OUT_OF_SYNC));
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_failure_policy,
		test_failure_classes,
		NULL
	};
	return test_run(test_functions);
}
