#ifndef DB_MARIADB_CONN_H
#define DB_MARIADB_CONN_H

/* The connection leaf: what one MariaDB connection needs, whichever way
   it runs (the pool in the auth master, a blocking connection in an
   auth-worker). Calls nothing above it. */

#include "array.h"
#include "dns-lookup.h"
#include "db-mariadb-settings.h"

#include <mysql.h>

struct db_mariadb_query;
struct db_mariadb_row;

/* how long a host that failed is skipped, and how long a connection to a
   replica is used before the primary is tried again */
#define DB_MARIADB_HOST_RETRY_SECS 30

/* Category of the module's events ("mariadb", under Dovecot's "auth"). */
extern struct event_category event_category_mariadb;

/* The hosts of one configuration, and what was learnt about them: which
   failed recently (skipped for DB_MARIADB_HOST_RETRY_SECS) and, when every
   host failed, a back-off (1 s doubling up to 8 s) during which nothing
   connects. Shared by all connections of a process. */
struct db_mariadb_hosts {
	const struct db_mariadb_settings *set;
	struct event *event;

	/* per host: don't try it before this time */
	time_t *retry_at;
	/* per host: how it is named in logs and events */
	const char **names;

	/* no connect attempts before this time */
	struct timeval backoff_until;
	unsigned int backoff_msecs;
	char *last_connect_error;
	/* MariaDB's error number of the last failed connect */
	unsigned int last_connect_errno;
};

/* The hosts to try for a new connection, in order: from the first one
   that did not fail recently (the primary when none did or all did),
   wrapping around to those before it. */
struct db_mariadb_host_iter {
	unsigned int first, n;
};

/* The hosts of a configuration, once per process. */
struct db_mariadb_hosts *
db_mariadb_hosts_init(pool_t pool, const struct db_mariadb_settings *set,
		      struct event *event);
/* Warn about settings that weaken the connection (tls_verify = no). */
void db_mariadb_conn_settings_warn(const struct db_mariadb_settings *set,
				   struct event *event);
void db_mariadb_hosts_deinit(struct db_mariadb_hosts **hosts);

void db_mariadb_hosts_iter_init(struct db_mariadb_hosts *hosts,
				struct db_mariadb_host_iter *iter_r);
/* Returns TRUE with the next host's index, FALSE after the last one. */
bool db_mariadb_hosts_iter_next(struct db_mariadb_hosts *hosts,
				struct db_mariadb_host_iter *iter,
				unsigned int *host_idx_r);
/* Why the iteration doesn't start with the primary, "" if it does. */
const char *db_mariadb_hosts_iter_reason(const struct db_mariadb_host_iter *iter);

/* Skip a host that just failed (and emit mariadb_host_failed). */
void db_mariadb_host_failed(struct db_mariadb_hosts *hosts,
			    unsigned int host_idx, const char *reason);
bool db_mariadb_host_is_skipped(struct db_mariadb_hosts *hosts,
				unsigned int host_idx);
const struct db_mariadb_host *
db_mariadb_host(struct db_mariadb_hosts *hosts, unsigned int host_idx);
/* How a host is named in logs and events: host:port, [v6]:port or the
   socket's path. */
const char *db_mariadb_hosts_name(struct db_mariadb_hosts *hosts,
				  unsigned int host_idx);
/* A host, with the address it was resolved to if ip isn't NULL:
   "db1.example.com:3306 (192.0.2.1)". */
const char *db_mariadb_host_addr_str(const struct db_mariadb_host *host,
				     const struct ip_addr *ip);

/* Returns TRUE if connecting is allowed now, FALSE with the reason in
   error_r while a back-off after failed connects lasts. */
bool db_mariadb_hosts_backoff_allows(struct db_mariadb_hosts *hosts,
				     const char **error_r);
/* Every host failed (the last one with MariaDB's error error_code):
   start or lengthen the back-off. */
void db_mariadb_hosts_backoff_start(struct db_mariadb_hosts *hosts,
				    const char *errors,
				    unsigned int error_code);
void db_mariadb_hosts_backoff_reset(struct db_mariadb_hosts *hosts);

/* A MYSQL handle with the configured options (timeouts, charset, TLS). */
MYSQL *db_mariadb_mysql_init(const struct db_mariadb_settings *set,
			     bool nonblocking);

/* A host given by a name that the module resolves itself, so that the
   auth master never waits for a name server (not an address, a unix
   socket, or "localhost", which libmariadb reaches by its socket). The
   module then connects to the addresses, in order. */
bool db_mariadb_host_needs_lookup(const struct db_mariadb_host *host);
/* dns_lookup() settings for resolving a host without blocking (Dovecot's
   dns-client service; connect_timeout bounds the lookup). */
void db_mariadb_host_lookup_settings(const struct db_mariadb_settings *set,
				     struct event *event,
				     struct dns_lookup_settings *dns_set_r);
/* Resolve a host's name with blocking calls (auth-workers may wait).
   Returns 0 with the addresses (from the data stack), or -1 with the
   reason in error_r. */
int db_mariadb_host_resolve(const struct db_mariadb_host *host,
			    const struct ip_addr **ips_r,
			    unsigned int *ips_count_r, const char **error_r);
/* Why a host could not be resolved ("host: 2005: Could not resolve NAME:
   reason"); error_code_r is MariaDB's "unknown host" error. */
const char *db_mariadb_host_lookup_error(const struct db_mariadb_host *host,
					 const char *reason,
					 unsigned int *error_code_r);

/* What mysql_real_connect() and mysql_real_connect_start() are given for
   a host, at address (the text of one of its addresses if the module
   resolved it, else NULL). libmariadb keeps pointing to the strings until
   connecting has finished. */
struct db_mariadb_connect_args {
	const char *host, *user, *password, *dbname, *unix_socket;
	unsigned int port;
};
void db_mariadb_connect_args(const struct db_mariadb_settings *set,
			     const struct db_mariadb_host *host,
			     const char *address,
			     struct db_mariadb_connect_args *args_r);
/* Why connecting to a host (at the address ip, or NULL) failed: "host:
   errno: error", with what a TLS failure means. */
const char *db_mariadb_connect_error(const struct db_mariadb_settings *set,
				     const struct db_mariadb_host *host,
				     const struct ip_addr *ip, MYSQL *mysql);

/* The statements prepared on one connection, by query. */
struct db_mariadb_stmt {
	const struct db_mariadb_query *query;
	MYSQL_STMT *stmt;
};
ARRAY_DEFINE_TYPE(db_mariadb_stmt, struct db_mariadb_stmt);

MYSQL_STMT *db_mariadb_stmt_find(ARRAY_TYPE(db_mariadb_stmt) *stmts,
				 const struct db_mariadb_query *query);
/* After preparing: check the parameter count and remember the statement.
   Returns 0, or -1 (statement closed) with the reason in error_r. */
int db_mariadb_stmt_add(ARRAY_TYPE(db_mariadb_stmt) *stmts,
			const struct db_mariadb_query *query, MYSQL_STMT *st,
			const char **error_r);
void db_mariadb_stmts_close(ARRAY_TYPE(db_mariadb_stmt) *stmts);

/* After mysql_stmt_store_result(): read the one row. Returns 1 with it,
   0 if there is none, -1 with the reason (and MariaDB's error number, 0 if
   none applies) if fetching failed or more than one row matched. Frees
   the result. */
int db_mariadb_stmt_read_row(MYSQL_STMT *st, pool_t pool,
			     struct db_mariadb_row *row_r,
			     unsigned int *errno_r, const char **error_r);
/* After mysql_stmt_store_result(): the result of a query, read as
   db_mariadb_stmt_read_row() does, or for an update query (query->update)
   1 if it changed a row, 0 if not (row_r then has no fields). */
int db_mariadb_stmt_read_result(MYSQL_STMT *st,
				const struct db_mariadb_query *query,
				pool_t pool, struct db_mariadb_row *row_r,
				unsigned int *errno_r, const char **error_r);
/* Fetch the next row of a statement's result set as strings (for
   streaming): 1 with it, 0 at the end, -1 on error. */
int db_mariadb_stmt_fetch_row(MYSQL_STMT *st, MYSQL_RES *meta, pool_t pool,
			      struct db_mariadb_row *row_r);

/* A query's event: a child of parent (a request's, to keep its session in
   every line), created when the query is asked for, so that its duration
   covers the wait for a connection too. */
struct event *db_mariadb_query_event_begin(struct event *parent,
					   const struct db_mariadb_query *query);
/* Emit the event as mariadb_query_finished (with the host, and on
   failure MariaDB's error number and text) and free it. */
void db_mariadb_query_event_end(struct event **event, const char *host,
				unsigned int error_code, const char *error);

#endif
