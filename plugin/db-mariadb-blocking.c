/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-blocking - blocking lookups in auth-workers, and iteration

   With blocking = yes Dovecot hands each lookup to an auth-worker
   process, which may wait: each worker holds one connection, opened on
   the first lookup (hosts in order, the first that answers) and kept. A
   connection that ended up on a replica is given up after
   DB_MARIADB_HOST_RETRY_SECS by a timer (an idle worker would otherwise
   keep it for ever), so that the next lookup tries the primary first
   again. Iteration (doveadm user '*', doveadm -A) always runs in a worker
   and streams its query over a connection of its own. A worker may wait,
   so a host given by name is resolved here with blocking calls, and its
   addresses are tried in order, as the pool does.

   What a failed query means is decided by the failure policy, the same
   as for the pool (db-mariadb-failure.c). */

#include "auth-common.h"
#include "array.h"
#include "ioloop.h"
#include "net.h"
#include "str.h"
#include "db-mariadb-failure.h"
#include "db-mariadb-params.h"
#include "db-mariadb-query.h"
#include "db-mariadb-row.h"
#include "db-mariadb-user.h"
#include "db-mariadb-conn.h"
#include "db-mariadb-blocking.h"

struct db_mariadb_blocking {
	const struct db_mariadb_settings *set;
	struct db_mariadb_hosts *hosts;
	struct event *event;

	MYSQL *mysql;
	/* index of the connected host */
	unsigned int host_idx;
	/* served a query since it was opened */
	bool used;
	/* connected to a replica: when to give it up for the primary */
	struct timeout *to_primary;
	ARRAY_TYPE(db_mariadb_stmt) stmts;
};

struct db_mariadb_iter {
	struct event *event;
	MYSQL *mysql;
	MYSQL_STMT *stmt;
	MYSQL_RES *meta;
	char *host;
	unsigned int user_col;
	/* MariaDB's error number of a failed connect */
	unsigned int connect_errno;
	char *error;
};

/* Connect to a host, at each of its addresses in turn if it is given by
   name. Returns the handle (with the host and address connected to in
   host_r), or NULL with MariaDB's error number; why an address failed is
   appended to errors either way. */
static MYSQL *
db_mariadb_blocking_connect_host(const struct db_mariadb_settings *set,
				 const struct db_mariadb_host *host,
				 const char **host_r, unsigned int *errno_r,
				 string_t *errors)
{
	struct db_mariadb_connect_args args;
	const struct ip_addr *ips = NULL, *ip;
	const char *error;
	unsigned int i, ips_count = 1;
	MYSQL *mysql;

	*host_r = db_mariadb_host_addr_str(host, NULL);
	if (db_mariadb_host_needs_lookup(host) &&
	    db_mariadb_host_resolve(host, &ips, &ips_count, &error) < 0) {
		str_append(errors, db_mariadb_host_lookup_error(host, error,
								errno_r));
		return NULL;
	}
	for (i = 0; i < ips_count; i++) {
		ip = ips == NULL ? NULL : &ips[i];
		db_mariadb_connect_args(set, host,
					ip == NULL ? NULL : net_ip2addr(ip),
					&args);
		mysql = db_mariadb_mysql_init(set, FALSE);
		if (mysql_real_connect(mysql, args.host, args.user,
				       args.password, args.dbname, args.port,
				       args.unix_socket, 0) != NULL) {
			*host_r = db_mariadb_host_addr_str(host, ip);
			return mysql;
		}
		*errno_r = mysql_errno(mysql);
		if (str_len(errors) > 0)
			str_append(errors, ", ");
		str_append(errors, db_mariadb_connect_error(set, host, ip,
							    mysql));
		mysql_close(mysql);
	}
	return NULL;
}

/* Connect to the first host that answers, in the hosts' order. Returns
   the handle with the host's index, or NULL with the reason in error_r. */
static MYSQL *
db_mariadb_blocking_connect_any(const struct db_mariadb_settings *set,
				struct db_mariadb_hosts *hosts,
				struct event *event, unsigned int *host_idx_r,
				unsigned int *errno_r, const char **error_r)
{
	struct db_mariadb_host_iter iter;
	const char *host;
	string_t *errors, *error;
	unsigned int i;
	MYSQL *mysql;

	*errno_r = hosts->last_connect_errno;
	if (!db_mariadb_hosts_backoff_allows(hosts, error_r))
		return NULL;

	errors = t_str_new(128);
	error = t_str_new(128);
	db_mariadb_hosts_iter_init(hosts, &iter);
	str_append(errors, db_mariadb_hosts_iter_reason(&iter));
	while (db_mariadb_hosts_iter_next(hosts, &iter, &i)) {
		str_truncate(error, 0);
		mysql = db_mariadb_blocking_connect_host(set,
			db_mariadb_host(hosts, i), &host, errno_r, error);
		if (mysql != NULL) {
			db_mariadb_hosts_backoff_reset(hosts);
			if (i != 0) {
				e_warning(event, "Connected to %s, not to "
					  "the primary: %s", host,
					  str_c(errors));
			} else if (str_len(error) > 0) {
				/* another of the primary's addresses failed */
				e_warning(event, "Connected to %s after: %s",
					  host, str_c(error));
			} else {
				e_debug(event, "Connected to %s", host);
			}
			*host_idx_r = i;
			return mysql;
		}
		db_mariadb_host_failed(hosts, i, str_c(error));
		if (str_len(errors) > 0)
			str_append(errors, ", ");
		str_append_str(errors, error);
	}
	db_mariadb_hosts_backoff_start(hosts, str_c(errors), *errno_r);
	*error_r = t_strdup_printf("Could not connect to any database host: %s",
				   str_c(errors));
	return NULL;
}

static void db_mariadb_blocking_disconnect(struct db_mariadb_blocking *conn)
{
	timeout_remove(&conn->to_primary);
	db_mariadb_stmts_close(&conn->stmts);
	if (conn->mysql != NULL) {
		mysql_close(conn->mysql);
		conn->mysql = NULL;
	}
}

static void db_mariadb_primary_timer_start(struct db_mariadb_blocking *conn,
					   unsigned int secs);

/* On a replica for DB_MARIADB_HOST_RETRY_SECS: give the connection up, so
   that the next lookup tries the primary first again. */
static void db_mariadb_primary_timeout(struct db_mariadb_blocking *conn)
{
	if (db_mariadb_host_is_skipped(conn->hosts, 0)) {
		/* the primary failed again meanwhile: not before it may be
		   tried */
		db_mariadb_primary_timer_start(conn,
			I_MAX(conn->hosts->retry_at[0] - ioloop_time, 1));
		return;
	}
	e_debug(conn->event, "Closing the connection to %s to try the "
		"primary again",
		db_mariadb_hosts_name(conn->hosts, conn->host_idx));
	db_mariadb_blocking_disconnect(conn);
}

static void db_mariadb_primary_timer_start(struct db_mariadb_blocking *conn,
					   unsigned int secs)
{
	timeout_remove(&conn->to_primary);
	conn->to_primary = timeout_add(secs * 1000, db_mariadb_primary_timeout,
				       conn);
}

static int
db_mariadb_blocking_connect(struct db_mariadb_blocking *conn,
			    unsigned int *errno_r, const char **error_r)
{
	if (conn->mysql != NULL)
		return 0;
	conn->mysql = db_mariadb_blocking_connect_any(conn->set, conn->hosts,
						      conn->event,
						      &conn->host_idx,
						      errno_r, error_r);
	if (conn->mysql == NULL)
		return -1;
	conn->used = FALSE;
	if (conn->host_idx != 0)
		db_mariadb_primary_timer_start(conn, DB_MARIADB_HOST_RETRY_SECS);
	return 0;
}

/* Returns the prepared statement for the query on the current connection,
   preparing it if needed, or NULL with the reason in error_r. */
static MYSQL_STMT *
db_mariadb_blocking_stmt(struct db_mariadb_blocking *conn,
			 const struct db_mariadb_query *query,
			 unsigned int *errno_r, const char **error_r)
{
	MYSQL_STMT *st;

	st = db_mariadb_stmt_find(&conn->stmts, query);
	if (st != NULL)
		return st;
	st = mysql_stmt_init(conn->mysql);
	if (st == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "mysql_stmt_init() failed");
	if (mysql_stmt_prepare(st, query->sql, strlen(query->sql)) != 0) {
		*errno_r = mysql_stmt_errno(st);
		*error_r = t_strdup_printf("Preparing the query failed: %u: %s",
					   mysql_stmt_errno(st),
					   mysql_stmt_error(st));
		(void)mysql_stmt_close(st);
		return NULL;
	}
	if (db_mariadb_stmt_add(&conn->stmts, query, st, error_r) < 0)
		return NULL;
	return st;
}

/* Run the query once on the current connection. Returns like
   db_mariadb_blocking_lookup(), with MariaDB's error number of a failure
   in errno_r (0 if none applies). */
static int
db_mariadb_blocking_lookup_once(struct db_mariadb_blocking *conn,
				const struct db_mariadb_query *query,
				const struct db_mariadb_user *user, pool_t pool,
				struct db_mariadb_row *row_r,
				unsigned int *errno_r, const char **error_r)
{
	/* executed in this frame: the parameters live until it's done */
	struct db_mariadb_params params;
	MYSQL_STMT *st;

	*errno_r = 0;
	st = db_mariadb_blocking_stmt(conn, query, errno_r, error_r);
	if (st == NULL)
		return -1;
	if (db_mariadb_params_bind(&params, st, query, user) < 0 ||
	    mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_store_result(st) != 0) {
		*errno_r = mysql_stmt_errno(st);
		*error_r = t_strdup_printf("%u: %s", mysql_stmt_errno(st),
					   mysql_stmt_error(st));
		(void)mysql_stmt_free_result(st);
		return -1;
	}
	return db_mariadb_stmt_read_result(st, query, pool, row_r, errno_r,
					   error_r);
}

int db_mariadb_blocking_lookup(struct db_mariadb_blocking *conn,
			       const struct db_mariadb_query *query,
			       const struct db_mariadb_user *user,
			       struct event *parent_event, pool_t pool,
			       struct db_mariadb_row *row_r,
			       const char **error_r, bool *unreachable_r)
{
	struct db_mariadb_failure failure;
	enum db_mariadb_failure_action action;
	struct event *event;
	const char *host = NULL, *error = NULL;
	unsigned int err = 0;
	int ret;

	i_zero(row_r);
	i_zero(&failure);
	*unreachable_r = FALSE;
	event = db_mariadb_query_event_begin(parent_event != NULL ?
					     parent_event : conn->event, query);
	for (;;) {
		if (db_mariadb_blocking_connect(conn, &err, &error) < 0) {
			*unreachable_r = TRUE;
			ret = -1;
			break;
		}
		host = db_mariadb_hosts_name(conn->hosts, conn->host_idx);
		ret = db_mariadb_blocking_lookup_once(conn, query, user, pool,
						      row_r, &err, &error);
		if (ret >= 0) {
			conn->used = TRUE;
			break;
		}
		failure.error = err;
		failure.connection_used = conn->used;
		failure.hosts_count = conn->set->parsed_hosts_count;
		action = db_mariadb_failure_action(&failure);
		if (action == DB_MARIADB_FAILURE_FAIL) {
			/* the server answered: the connection works */
			conn->used = TRUE;
			break;
		}
		e_warning(event, "Lost connection to %s: %s", host, error);
		if (action == DB_MARIADB_FAILURE_HOST_FAIL ||
		    action == DB_MARIADB_FAILURE_HOST_RETRY)
			db_mariadb_host_failed(conn->hosts, conn->host_idx, error);
		db_mariadb_blocking_disconnect(conn);
		if (action != DB_MARIADB_FAILURE_RETRY &&
		    action != DB_MARIADB_FAILURE_HOST_RETRY) {
			error = t_strdup_printf("Connection lost: %s", error);
			break;
		}
		failure.retried = TRUE;
	}
	db_mariadb_query_event_end(&event, host, err, ret < 0 ? error : NULL);
	*error_r = error;
	return ret;
}

struct db_mariadb_blocking *
db_mariadb_blocking_init(const struct db_mariadb_settings *set,
			 struct db_mariadb_hosts *hosts, struct event *event)
{
	struct db_mariadb_blocking *conn;

	conn = i_new(struct db_mariadb_blocking, 1);
	conn->set = set;
	conn->hosts = hosts;
	conn->event = event;
	i_array_init(&conn->stmts, 4);
	return conn;
}

void db_mariadb_blocking_deinit(struct db_mariadb_blocking **_conn)
{
	struct db_mariadb_blocking *conn = *_conn;

	*_conn = NULL;
	db_mariadb_blocking_disconnect(conn);
	array_free(&conn->stmts);
	i_free(conn);
}

struct db_mariadb_iter *
db_mariadb_iter_init(const struct db_mariadb_settings *set,
		     struct db_mariadb_hosts *hosts,
		     const struct db_mariadb_query *query,
		     struct event *parent_event)
{
	struct db_mariadb_iter *iter;
	MYSQL_FIELD *fields;
	const char *error;
	unsigned int i, count, host_idx, err;

	iter = i_new(struct db_mariadb_iter, 1);
	iter->event = db_mariadb_query_event_begin(parent_event, query);
	/* a connection of its own: the iteration streams its rows while
	   the worker's connection keeps answering lookups */
	iter->mysql = db_mariadb_blocking_connect_any(set, hosts, iter->event,
						      &host_idx, &err, &error);
	if (iter->mysql == NULL) {
		iter->connect_errno = err;
		iter->error = i_strdup(error);
		return iter;
	}
	iter->host = i_strdup(db_mariadb_hosts_name(hosts, host_idx));
	iter->stmt = mysql_stmt_init(iter->mysql);
	if (iter->stmt == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "mysql_stmt_init() failed");
	if (mysql_stmt_prepare(iter->stmt, query->sql, strlen(query->sql)) != 0 ||
	    mysql_stmt_execute(iter->stmt) != 0) {
		iter->error = i_strdup_printf("%u: %s",
					      mysql_stmt_errno(iter->stmt),
					      mysql_stmt_error(iter->stmt));
		return iter;
	}
	iter->meta = mysql_stmt_result_metadata(iter->stmt);
	if (iter->meta == NULL) {
		iter->error = i_strdup("iterate_query returns no result set");
		return iter;
	}
	count = mysql_num_fields(iter->meta);
	fields = mysql_fetch_fields(iter->meta);
	for (i = 0; i < count; i++) {
		if (strcasecmp(fields[i].name, "user") == 0)
			break;
	}
	if (i == count)
		iter->error = i_strdup("iterate_query returns no 'user' column");
	iter->user_col = i;
	return iter;
}

int db_mariadb_iter_next(struct db_mariadb_iter *iter, const char **user_r)
{
	struct db_mariadb_row row;
	int ret;

	if (iter->error != NULL)
		return -1;
	/* the caller frees the row with its data stack frame */
	ret = db_mariadb_stmt_fetch_row(iter->stmt, iter->meta,
					pool_datastack_create(), &row);
	if (ret < 0) {
		iter->error = i_strdup_printf("%u: %s",
					      mysql_stmt_errno(iter->stmt),
					      mysql_stmt_error(iter->stmt));
		return -1;
	}
	if (ret == 0)
		return 0;
	*user_r = row.fields[iter->user_col].value;
	if (*user_r == NULL) {
		/* a NULL user is skipped, not fatal */
		*user_r = "";
	}
	return 1;
}

int db_mariadb_iter_deinit(struct db_mariadb_iter **_iter,
			   const char **error_r)
{
	struct db_mariadb_iter *iter = *_iter;
	int ret = 0;

	*_iter = NULL;
	if (iter->error != NULL) {
		*error_r = t_strdup_printf("Iterating users failed: %s",
					   iter->error);
		ret = -1;
	}
	db_mariadb_query_event_end(&iter->event, iter->host,
				   iter->stmt == NULL ? iter->connect_errno :
				   mysql_stmt_errno(iter->stmt), iter->error);
	if (iter->meta != NULL)
		mysql_free_result(iter->meta);
	if (iter->stmt != NULL)
		(void)mysql_stmt_close(iter->stmt);
	if (iter->mysql != NULL)
		mysql_close(iter->mysql);
	i_free(iter->host);
	i_free(iter->error);
	i_free(iter);
	return ret;
}
