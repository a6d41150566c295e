/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-failure - the failure policy

   One function decides what a failed query means for its connection, its
   host and its request, from MariaDB's error number, whether the
   connection had worked before, how many hosts there are and whether the
   request was already retried:

   - an error of the query itself (a syntax error, a missing table) fails
     the request and keeps the connection;
   - a connection that had worked and was then closed by the server (its
     idle timeout, KILL, a restart) says nothing about the host: the query
     runs once more on a new connection, which finds out;
   - any other lost connection counts against its host, which is skipped
     for a while; the query runs once more when the connection had worked
     (the next connection goes elsewhere if there is another host), or
     when a fresh connection's server failed (gone, shutting down, a Galera
     node that is not ready) and there is another host to ask;
   - a request is run once more at most.

   Pure: the errors are MariaDB's numbers, nothing here talks to a
   server. */

#include "lib.h"
#include "db-mariadb-failure.h"

#include <mysqld_error.h>
#include <errmsg.h>

bool db_mariadb_error_is_connection_lost(unsigned int error)
{
	if (error >= CR_MIN_ERROR && error <= CR_MAX_ERROR)
		return TRUE;
	switch (error) {
	case ER_UNKNOWN_COM_ERROR:	/* 1047: Galera node not ready */
	case ER_SERVER_SHUTDOWN:	/* 1053 */
	case ER_CON_COUNT_ERROR:	/* 1040: too many connections */
	case ER_CONNECTION_KILLED:	/* 1927 */
	case ER_QUERY_INTERRUPTED:	/* 1317 */
		return TRUE;
	default:
		return FALSE;
	}
}

bool db_mariadb_error_is_dropped(unsigned int error)
{
	return error == CR_SERVER_GONE_ERROR || error == CR_SERVER_LOST ||
		error == ER_CONNECTION_KILLED;
}

bool db_mariadb_error_is_server_failure(unsigned int error)
{
	return db_mariadb_error_is_dropped(error) ||
		error == ER_UNKNOWN_COM_ERROR || error == ER_SERVER_SHUTDOWN;
}

enum db_mariadb_failure_action
db_mariadb_failure_action(const struct db_mariadb_failure *failure)
{
	bool host_failed, retry;

	if (!db_mariadb_error_is_connection_lost(failure->error))
		return DB_MARIADB_FAILURE_FAIL;

	host_failed = !failure->connection_used ||
		!db_mariadb_error_is_dropped(failure->error);
	retry = !failure->retried &&
		(failure->connection_used ||
		 (failure->hosts_count > 1 &&
		  db_mariadb_error_is_server_failure(failure->error)));
	if (host_failed) {
		return retry ? DB_MARIADB_FAILURE_HOST_RETRY :
			DB_MARIADB_FAILURE_HOST_FAIL;
	}
	return retry ? DB_MARIADB_FAILURE_RETRY :
		DB_MARIADB_FAILURE_CLOSE_FAIL;
}

const char *db_mariadb_failure_action_name(enum db_mariadb_failure_action action)
{
	switch (action) {
	case DB_MARIADB_FAILURE_FAIL:
		return "fail";
	case DB_MARIADB_FAILURE_CLOSE_FAIL:
		return "close, fail";
	case DB_MARIADB_FAILURE_RETRY:
		return "close, retry";
	case DB_MARIADB_FAILURE_HOST_FAIL:
		return "host failed, fail";
	case DB_MARIADB_FAILURE_HOST_RETRY:
		return "host failed, retry";
	}
	i_unreached();
}
