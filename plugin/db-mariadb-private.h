#ifndef DB_MARIADB_PRIVATE_H
#define DB_MARIADB_PRIVATE_H

/* Shared by db-mariadb.c (blocking lookups in auth-workers, iteration) and
   db-mariadb-pool.c (non-blocking lookups in the auth master). */

#include "array.h"
#include "db-mariadb.h"

#include <mysql.h>

/* how long a host that failed is skipped, and how long a connection to a
   replica is used before the primary is tried again */
#define DB_MARIADB_HOST_RETRY_SECS 30

struct db_mariadb_conn;
struct db_mariadb_request;

struct db_mariadb_stmt {
	const struct db_mariadb_query *query;
	MYSQL_STMT *stmt;
};
ARRAY_DEFINE_TYPE(db_mariadb_stmt, struct db_mariadb_stmt);

struct db_mariadb {
	struct db_mariadb *prev, *next;
	int refcount;

	pool_t pool;
	struct event *event;
	const char *config_path;
	struct db_mariadb_settings *set;

	/* blocking mode: the worker's one connection */
	MYSQL *mysql;
	/* index into set->parsed_hosts of the connected host */
	unsigned int host_idx;
	/* connected to a replica: when to give it up for the primary */
	struct timeout *to_primary;
	ARRAY_TYPE(db_mariadb_stmt) stmts;

	/* non-blocking mode: the pool and the requests waiting for it */
	struct db_mariadb_conn *conns;
	struct db_mariadb_request *queue_head, *queue_tail;
	unsigned int queue_len;

	/* per host: don't try it before this time (it failed recently) */
	time_t *host_retry_at;

	/* no connect attempts before this time */
	struct timeval backoff_until;
	unsigned int backoff_msecs;
	char *last_connect_error;

	bool self_check_started;
};

/* Errors after which a connection cannot be used again. */
bool db_mariadb_errno_is_connection_lost(unsigned int err);
/* The server closed or killed the connection: after it had worked, the
   connection's fault, not the host's (idle timeout, KILL, a restart). */
bool db_mariadb_errno_is_dropped(unsigned int err);
/* The server went away or refused the query as a whole (a Galera node
   that is not ready, a shutdown): another host may answer it. Not client
   errors, which would fail there too. */
bool db_mariadb_errno_is_server_failure(unsigned int err);
const char *db_mariadb_host_str(const struct db_mariadb_host *host);

/* A MYSQL handle with the configured options (timeouts, charset, TLS). */
MYSQL *db_mariadb_mysql_init(struct db_mariadb *db, bool nonblocking);

/* Returns TRUE if connecting is allowed now, FALSE with the reason in
   error_r while a back-off after failed connects lasts. */
bool db_mariadb_backoff_allows_connect(struct db_mariadb *db,
				       const char **error_r);
/* Every host failed: start or lengthen the back-off. */
void db_mariadb_backoff_start(struct db_mariadb *db, const char *errors);
void db_mariadb_backoff_reset(struct db_mariadb *db);
/* Skip a host that just failed for DB_MARIADB_HOST_RETRY_SECS. */
void db_mariadb_host_failed(struct db_mariadb *db, unsigned int host_idx);
/* The first host to try: the first one not skipped (the primary when all
   are). */
unsigned int db_mariadb_first_host(struct db_mariadb *db);
bool db_mariadb_host_is_skipped(struct db_mariadb *db, unsigned int host_idx);

struct db_mariadb_stmt *
db_mariadb_stmt_find(ARRAY_TYPE(db_mariadb_stmt) *stmts,
		     const struct db_mariadb_query *query);
void db_mariadb_stmts_close(ARRAY_TYPE(db_mariadb_stmt) *stmts);
/* After preparing: check the parameter count and remember the statement.
   Returns 0, or -1 (statement closed) with the reason in error_r. */
int db_mariadb_stmt_add(ARRAY_TYPE(db_mariadb_stmt) *stmts,
			const struct db_mariadb_query *query, MYSQL_STMT *st,
			const char **error_r);
/* After mysql_stmt_store_result(): read the one row. Returns 1 with it,
   0 if there is none, -1 with the reason (and MariaDB's error number, 0 if
   none applies) if fetching failed or more than one row matched. Frees
   the result. */
int db_mariadb_stmt_read_row(MYSQL_STMT *st, pool_t pool,
			     struct db_mariadb_row *row_r,
			     unsigned int *errno_r, const char **error_r);

void db_mariadb_pool_init(struct db_mariadb *db);
/* Close the connections that are not busy. */
void db_mariadb_pool_close_idle(struct db_mariadb *db);
/* Fail every request still queued or running, close the connections. */
void db_mariadb_pool_deinit(struct db_mariadb *db);

#endif
