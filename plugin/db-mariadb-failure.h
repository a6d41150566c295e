#ifndef DB_MARIADB_FAILURE_H
#define DB_MARIADB_FAILURE_H

/* What to do after a query failed, decided in one place for both ways the
   module runs (the auth master's pool and the auth-workers' blocking
   connections). */
enum db_mariadb_failure_action {
	/* the query failed, the connection is fine: fail the request */
	DB_MARIADB_FAILURE_FAIL,
	/* the connection is gone: close it and fail the request */
	DB_MARIADB_FAILURE_CLOSE_FAIL,
	/* the connection is gone, not its host (the server closed a
	   connection that had worked): close it and run the query once more
	   on a new connection */
	DB_MARIADB_FAILURE_RETRY,
	/* the host failed: skip it for a while, close the connection, fail
	   the request */
	DB_MARIADB_FAILURE_HOST_FAIL,
	/* the host failed: skip it for a while, close the connection and run
	   the query once more on a new connection (the next host) */
	DB_MARIADB_FAILURE_HOST_RETRY,
};

struct db_mariadb_failure {
	/* MariaDB's error number (0 if none applies) */
	unsigned int error;
	/* the connection had served a query before this one */
	bool connection_used;
	/* how many hosts are configured */
	unsigned int hosts_count;
	/* the request was already run once more after a failure */
	bool retried;
};

/* Errors after which a connection cannot be used again. */
bool db_mariadb_error_is_connection_lost(unsigned int error);
/* The server closed or killed the connection: after it had worked, the
   connection's fault, not the host's (idle timeout, KILL, a restart). */
bool db_mariadb_error_is_dropped(unsigned int error);
/* The server went away or refused the query as a whole (a Galera node
   that is not ready, a shutdown): another host may answer it. Not client
   errors, which would fail there too. */
bool db_mariadb_error_is_server_failure(unsigned int error);

enum db_mariadb_failure_action
db_mariadb_failure_action(const struct db_mariadb_failure *failure);
const char *db_mariadb_failure_action_name(enum db_mariadb_failure_action action);

#endif
