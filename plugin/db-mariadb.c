/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb - configuration, shared statement code, blocking lookups

   One struct db_mariadb exists per configuration file and process; passdb
   and userdb share it. With blocking = yes, lookups run in auth-worker
   processes, each worker holding one connection opened on first use (this
   file); with blocking = no they run in the auth master on a small pool of
   non-blocking connections (db-mariadb-pool.c). Both use the statement
   and row code here. Hosts are tried in the configured order. Every query
   is a prepared statement whose parameters are bound, never interpolated;
   statements are prepared once per connection and again after a
   reconnect.

   Failure handling: an error that means the connection is gone (a client
   error, a server shutting down, a Galera node that is not ready) closes
   the connection. A query that found its connection dead is retried once on
   a new one, since servers drop idle connections (wait_timeout) all the
   time; so is a new connection's query that the server failed, when there
   is another host to go to. A host whose connect or fresh connection failed
   is skipped for DB_MARIADB_HOST_RETRY_SECS; a used connection the server
   dropped is not held against its host. A connection on a replica is given
   up after that long for the primary. A failed connect starts a back-off (1 s doubling up to 8 s) during
   which lookups fail at once instead of each waiting for the connect
   timeout. All of these are reported to the caller as errors, which the
   passdb and userdb turn into temporary failures, never into "unknown
   user" or "wrong password". */

#include "auth-common.h"
#include "array.h"
#include "ioloop.h"
#include "llist.h"
#include "safe-memset.h"
#include "str.h"
#include "time-util.h"
#include "db-mariadb-password.h"
#include "db-mariadb-query.h"
#include "db-mariadb-user.h"
#include "db-mariadb-params.h"
#include "db-mariadb-private.h"

#include <mysqld_error.h>
#include <errmsg.h>

#define DB_MARIADB_BACKOFF_MIN_MSECS 1000
#define DB_MARIADB_BACKOFF_MAX_MSECS 8000

struct db_mariadb_iter {
	struct db_mariadb *db;
	MYSQL *mysql;
	MYSQL_STMT *stmt;
	MYSQL_RES *meta;
	unsigned int user_col;
	char *error;
};

static struct db_mariadb *db_mariadb_list = NULL;
const struct db_mariadb_row db_mariadb_no_row = { NULL, 0 };

/* Errors after which a connection cannot be used again. */
bool db_mariadb_errno_is_connection_lost(unsigned int err)
{
	if (err >= CR_MIN_ERROR && err <= CR_MAX_ERROR)
		return TRUE;
	switch (err) {
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

bool db_mariadb_errno_is_dropped(unsigned int err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
		err == ER_CONNECTION_KILLED;
}

bool db_mariadb_errno_is_server_failure(unsigned int err)
{
	return db_mariadb_errno_is_dropped(err) ||
		err == ER_UNKNOWN_COM_ERROR || err == ER_SERVER_SHUTDOWN;
}

const char *
db_mariadb_host_str(const struct db_mariadb_host *host)
{
	if (host->socket_path != NULL)
		return host->socket_path;
	if (strchr(host->name, ':') != NULL)
		return t_strdup_printf("[%s]:%u", host->name, host->port);
	return t_strdup_printf("%s:%u", host->name, host->port);
}

void db_mariadb_stmts_close(ARRAY_TYPE(db_mariadb_stmt) *stmts)
{
	struct db_mariadb_stmt *stmt;

	array_foreach_modifiable(stmts, stmt)
		(void)mysql_stmt_close(stmt->stmt);
	array_clear(stmts);
}

static void db_mariadb_disconnect(struct db_mariadb *db)
{
	timeout_remove(&db->to_primary);
	db_mariadb_stmts_close(&db->stmts);
	if (db->mysql != NULL) {
		mysql_close(db->mysql);
		db->mysql = NULL;
	}
}

MYSQL *db_mariadb_mysql_init(struct db_mariadb *db, bool nonblocking)
{
	const struct db_mariadb_settings *set = db->set;
	unsigned int connect_timeout = set->connect_timeout_secs;
	unsigned int query_timeout = set->query_timeout_secs, io_timeout;
	my_bool on = 1, verify = set->tls_verify ? 1 : 0;
	MYSQL *mysql;

	mysql = mysql_init(NULL);
	if (mysql == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "mysql_init() failed");
	if (nonblocking)
		(void)mysql_options(mysql, MYSQL_OPT_NONBLOCK, 0);
	/* a slow query is ended first by the pool's deadline (non-blocking)
	   or by the server's max_statement_time (blocking), always the same
	   way; libmariadb's own timeouts are for a server that stopped
	   answering altogether */
	io_timeout = query_timeout + 1;
	(void)mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	(void)mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	(void)mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	(void)mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* a query the client gave up on must not go on running (and holding
	   a server thread) on the server */
	(void)mysql_options(mysql, MYSQL_INIT_COMMAND, t_strdup_printf(
		"SET SESSION max_statement_time = %u", query_timeout));
	if (set->tls) {
		(void)mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &on);
		(void)mysql_options(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
				    &verify);
		if (set->tls_ca[0] != '\0')
			(void)mysql_options(mysql, MYSQL_OPT_SSL_CA, set->tls_ca);
		if (set->tls_cert[0] != '\0') {
			(void)mysql_options(mysql, MYSQL_OPT_SSL_CERT,
					    set->tls_cert);
			(void)mysql_options(mysql, MYSQL_OPT_SSL_KEY,
					    set->tls_key);
		}
	}
	return mysql;
}

static MYSQL *
db_mariadb_connect_host(struct db_mariadb *db,
			const struct db_mariadb_host *host,
			const char **error_r)
{
	const struct db_mariadb_settings *set = db->set;
	MYSQL *mysql;

	mysql = db_mariadb_mysql_init(db, FALSE);
	if (mysql_real_connect(mysql,
			       host->socket_path != NULL ? NULL : host->name,
			       set->user, set->password, set->dbname,
			       host->socket_path != NULL ? 0 : host->port,
			       host->socket_path, 0) == NULL) {
		*error_r = t_strdup_printf("%u: %s", mysql_errno(mysql),
					   mysql_error(mysql));
		mysql_close(mysql);
		return NULL;
	}
	return mysql;
}

void db_mariadb_host_failed(struct db_mariadb *db, unsigned int host_idx)
{
	db->host_retry_at[host_idx] = ioloop_time + DB_MARIADB_HOST_RETRY_SECS;
}

bool db_mariadb_host_is_skipped(struct db_mariadb *db, unsigned int host_idx)
{
	return db->host_retry_at[host_idx] > ioloop_time;
}

unsigned int db_mariadb_first_host(struct db_mariadb *db)
{
	unsigned int i;

	for (i = 0; i < db->set->parsed_hosts_count; i++) {
		if (!db_mariadb_host_is_skipped(db, i))
			return i;
	}
	return 0;
}

bool db_mariadb_backoff_allows_connect(struct db_mariadb *db,
				       const char **error_r)
{
	/* a blocking worker's ioloop time is that of the request's arrival,
	   while connecting may have taken a while since */
	io_loop_time_refresh();
	if (timeval_cmp(&ioloop_timeval, &db->backoff_until) >= 0)
		return TRUE;
	*error_r = t_strdup_printf(
		"Not connected to any database host, next attempt in "
		"%d ms (last error: %s)",
		timeval_diff_msecs(&db->backoff_until, &ioloop_timeval),
		db->last_connect_error);
	return FALSE;
}

void db_mariadb_backoff_start(struct db_mariadb *db, const char *errors)
{
	io_loop_time_refresh();
	db->backoff_msecs = db->backoff_msecs == 0 ?
		DB_MARIADB_BACKOFF_MIN_MSECS :
		I_MIN(db->backoff_msecs * 2, DB_MARIADB_BACKOFF_MAX_MSECS);
	db->backoff_until = ioloop_timeval;
	timeval_add_msecs(&db->backoff_until, db->backoff_msecs);
	i_free(db->last_connect_error);
	db->last_connect_error = i_strdup(errors);
}

void db_mariadb_backoff_reset(struct db_mariadb *db)
{
	db->backoff_msecs = 0;
}

static void db_mariadb_primary_timer_start(struct db_mariadb *db,
					  unsigned int secs);

/* On a replica for DB_MARIADB_HOST_RETRY_SECS: give the connection up, so
   that the next lookup tries the primary first again. A timer rather than
   a check at the next lookup: an auth-worker may sit idle for long. */
static void db_mariadb_primary_timeout(struct db_mariadb *db)
{
	if (db_mariadb_host_is_skipped(db, 0)) {
		/* the primary failed again meanwhile: not before it may be
		   tried */
		db_mariadb_primary_timer_start(db,
			I_MAX(db->host_retry_at[0] - ioloop_time, 1));
		return;
	}
	e_debug(db->event, "Closing the connection to %s to try the primary "
		"again", db_mariadb_host_str(&db->set->parsed_hosts[db->host_idx]));
	db_mariadb_disconnect(db);
}

static void db_mariadb_primary_timer_start(struct db_mariadb *db,
					  unsigned int secs)
{
	timeout_remove(&db->to_primary);
	db->to_primary = timeout_add(secs * 1000, db_mariadb_primary_timeout,
				     db);
}

/* Connect to the first host that answers. Returns 0, or -1 with the
   reason in error_r. */
static int db_mariadb_connect(struct db_mariadb *db, const char **error_r)
{
	const struct db_mariadb_settings *set = db->set;
	const struct db_mariadb_host *host;
	string_t *errors;
	const char *error;
	unsigned int i, n, first;

	if (db->mysql != NULL)
		return 0;
	if (!db_mariadb_backoff_allows_connect(db, error_r))
		return -1;

	errors = t_str_new(128);
	first = db_mariadb_first_host(db);
	if (first != 0)
		str_append(errors, "the primary failed recently");
	for (n = 0; n < set->parsed_hosts_count; n++) {
		/* from the first host that didn't fail recently, in order */
		i = (first + n) % set->parsed_hosts_count;
		host = &set->parsed_hosts[i];
		db->mysql = db_mariadb_connect_host(db, host, &error);
		if (db->mysql == NULL)
			db_mariadb_host_failed(db, i);
		else {
			db->host_idx = i;
			db_mariadb_backoff_reset(db);
			if (i == 0) {
				e_debug(db->event, "Connected to %s",
					db_mariadb_host_str(host));
				return 0;
			}
			e_warning(db->event, "Connected to %s, not to the "
				  "primary: %s", db_mariadb_host_str(host),
				  str_c(errors));
			db_mariadb_primary_timer_start(db,
				DB_MARIADB_HOST_RETRY_SECS);
			return 0;
		}
		if (str_len(errors) > 0)
			str_append(errors, ", ");
		str_printfa(errors, "%s: %s", db_mariadb_host_str(host), error);
	}

	db_mariadb_backoff_start(db, str_c(errors));
	*error_r = t_strdup_printf("Could not connect to any database host: %s",
				   str_c(errors));
	return -1;
}

struct db_mariadb_stmt *
db_mariadb_stmt_find(ARRAY_TYPE(db_mariadb_stmt) *stmts,
		     const struct db_mariadb_query *query)
{
	struct db_mariadb_stmt *stmt;

	array_foreach_modifiable(stmts, stmt) {
		/* cppcheck can't see into Dovecot's array macros */
		/* cppcheck-suppress uninitvar */
		if (stmt->query == query)
			return stmt;
	}
	return NULL;
}

int db_mariadb_stmt_add(ARRAY_TYPE(db_mariadb_stmt) *stmts,
			const struct db_mariadb_query *query, MYSQL_STMT *st,
			const char **error_r)
{
	struct db_mariadb_stmt *stmt;

	if (mysql_stmt_param_count(st) != query->params_count) {
		*error_r = t_strdup_printf(
			"The server counts %lu parameters in the query, "
			"the module %u", mysql_stmt_param_count(st),
			query->params_count);
		(void)mysql_stmt_close(st);
		return -1;
	}
	stmt = array_append_space(stmts);
	stmt->query = query;
	stmt->stmt = st;
	return 0;
}

/* Returns the prepared statement for the query on the current connection,
   preparing it if needed, or NULL with the reason in error_r. */
static MYSQL_STMT *
db_mariadb_stmt_get(struct db_mariadb *db, const struct db_mariadb_query *query,
		    unsigned int *errno_r, const char **error_r)
{
	struct db_mariadb_stmt *stmt;
	MYSQL_STMT *st;

	stmt = db_mariadb_stmt_find(&db->stmts, query);
	if (stmt != NULL)
		return stmt->stmt;
	st = mysql_stmt_init(db->mysql);
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
	*errno_r = 0;
	if (db_mariadb_stmt_add(&db->stmts, query, st, error_r) < 0)
		return NULL;
	return st;
}

/* Fetch the current row's columns as strings. */
static int
db_mariadb_stmt_fetch_row(MYSQL_STMT *st, MYSQL_RES *meta, pool_t pool,
			  struct db_mariadb_row *row_r)
{
	unsigned int i, count = mysql_num_fields(meta);
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	struct db_mariadb_field *out;
	MYSQL_BIND *binds;
	unsigned long *lengths;
	my_bool *nulls;
	char *value;
	int ret;

	binds = t_new(MYSQL_BIND, count);
	lengths = t_new(unsigned long, count);
	nulls = t_new(my_bool, count);
	for (i = 0; i < count; i++) {
		/* no buffer: fetch reports the lengths, then each column is
		   fetched into a buffer of the right size */
		binds[i].buffer_type = MYSQL_TYPE_STRING;
		binds[i].length = &lengths[i];
		binds[i].is_null = &nulls[i];
	}
	if (mysql_stmt_bind_result(st, binds))
		return -1;
	ret = mysql_stmt_fetch(st);
	if (ret == MYSQL_NO_DATA)
		return 0;
	if (ret != 0 && ret != MYSQL_DATA_TRUNCATED)
		return -1;

	out = p_new(pool, struct db_mariadb_field, count);
	for (i = 0; i < count; i++) {
		out[i].name = p_strdup(pool, fields[i].name);
		if (nulls[i])
			continue;
		value = p_malloc(pool, lengths[i] + 1);
		binds[i].buffer = value;
		binds[i].buffer_length = lengths[i] + 1;
		if (lengths[i] > 0 &&
		    mysql_stmt_fetch_column(st, &binds[i], i, 0) != 0)
			return -1;
		value[lengths[i]] = '\0';
		out[i].value = value;
	}
	row_r->fields = out;
	row_r->count = count;
	return 1;
}

int db_mariadb_stmt_read_row(MYSQL_STMT *st, pool_t pool,
			     struct db_mariadb_row *row_r,
			     unsigned int *errno_r, const char **error_r)
{
	struct db_mariadb_row extra;
	MYSQL_RES *meta;
	int ret;

	*errno_r = 0;
	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL) {
		*error_r = "The query returns no result set";
		(void)mysql_stmt_free_result(st);
		return -1;
	}
	T_BEGIN {
		ret = db_mariadb_stmt_fetch_row(st, meta, pool, row_r);
		if (ret > 0) {
			ret = db_mariadb_stmt_fetch_row(st, meta, pool, &extra);
			if (ret > 0) {
				*error_r = "The query returned more than one row";
				ret = -2;
			} else if (ret == 0) {
				ret = 1;
			}
		}
	} T_END;
	if (ret == -1) {
		*errno_r = mysql_stmt_errno(st);
		*error_r = t_strdup_printf("Fetching the row failed: %u: %s",
					   mysql_stmt_errno(st),
					   mysql_stmt_error(st));
	}
	mysql_free_result(meta);
	(void)mysql_stmt_free_result(st);
	return ret < 0 ? -1 : ret;
}

/* Run the query once on the current connection. Returns like
   db_mariadb_lookup(), and sets *errno_r to the MariaDB error number of a
   failure (0 if none applies). */
static int
db_mariadb_lookup_once(struct db_mariadb *db,
		       const struct db_mariadb_query *query,
		       const struct db_mariadb_user *user, pool_t pool,
		       struct db_mariadb_row *row_r, unsigned int *errno_r,
		       const char **error_r)
{
	/* executed in this frame: the parameters live until it's done */
	struct db_mariadb_params params;
	MYSQL_STMT *st;

	*errno_r = 0;
	st = db_mariadb_stmt_get(db, query, errno_r, error_r);
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
	return db_mariadb_stmt_read_row(st, pool, row_r, errno_r, error_r);
}

int db_mariadb_lookup(struct db_mariadb *db,
		      const struct db_mariadb_query *query,
		      const struct db_mariadb_user *user, pool_t pool,
		      struct db_mariadb_row *row_r, const char **error_r)
{
	unsigned int attempt, err;
	const char *error = NULL;
	bool was_connected;
	int ret;

	i_zero(row_r);
	for (attempt = 0;; attempt++) {
		was_connected = db->mysql != NULL;
		if (db_mariadb_connect(db, error_r) < 0)
			return -1;
		ret = db_mariadb_lookup_once(db, query, user, pool, row_r,
					     &err, &error);
		if (ret >= 0)
			return ret;
		if (!db_mariadb_errno_is_connection_lost(err)) {
			*error_r = error;
			return -1;
		}
		e_warning(db->event, "Lost connection to %s: %s",
			  db_mariadb_host_str(&db->set->parsed_hosts[db->host_idx]),
			  error);
		/* a connection that worked and was then closed by the server
		   (idle timeout, KILL, a restart): reconnecting finds out
		   whether the host is really gone */
		if (!was_connected || !db_mariadb_errno_is_dropped(err))
			db_mariadb_host_failed(db, db->host_idx);
		db_mariadb_disconnect(db);
		/* a connection that was already open may just have been
		   closed by the server while idle, and with several hosts the
		   next one may answer (e.g. after a Galera node refused the
		   query with 1047): try once more at once */
		if (attempt > 0 ||
		    (!was_connected && (db->set->parsed_hosts_count < 2 ||
					!db_mariadb_errno_is_server_failure(err)))) {
			*error_r = t_strdup_printf("Connection lost: %s", error);
			return -1;
		}
	}
}

const struct db_mariadb_field *
db_mariadb_row_find(const struct db_mariadb_row *row, const char *name)
{
	unsigned int i;

	for (i = 0; i < row->count; i++) {
		if (strcasecmp(row->fields[i].name, name) == 0)
			return &row->fields[i];
	}
	return NULL;
}

struct db_mariadb_iter *db_mariadb_iter_init(struct db_mariadb *db)
{
	const struct db_mariadb_query *query = db->set->parsed_iterate_query;
	struct db_mariadb_iter *iter;
	const struct db_mariadb_host *host;
	MYSQL_FIELD *fields;
	const char *error = NULL;
	unsigned int i, count;

	iter = i_new(struct db_mariadb_iter, 1);
	iter->db = db;
	db->refcount++;

	/* a connection of its own: the iteration streams its rows while
	   the main connection keeps answering lookups */
	for (i = 0; i < db->set->parsed_hosts_count; i++) {
		host = &db->set->parsed_hosts[i];
		iter->mysql = db_mariadb_connect_host(db, host, &error);
		if (iter->mysql != NULL)
			break;
		error = t_strdup_printf("%s: %s", db_mariadb_host_str(host),
					error);
	}
	if (iter->mysql == NULL) {
		iter->error = i_strdup_printf(
			"Could not connect to any database host: %s", error);
		return iter;
	}
	iter->stmt = mysql_stmt_init(iter->mysql);
	if (iter->stmt == NULL ||
	    mysql_stmt_prepare(iter->stmt, query->sql, strlen(query->sql)) != 0 ||
	    mysql_stmt_param_count(iter->stmt) != 0 ||
	    mysql_stmt_execute(iter->stmt) != 0) {
		iter->error = iter->stmt == NULL ?
			i_strdup("mysql_stmt_init() failed: out of memory") :
			mysql_stmt_param_count(iter->stmt) != 0 ?
			i_strdup("iterate_query must not use placeholders") :
			i_strdup_printf("%u: %s", mysql_stmt_errno(iter->stmt),
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
	if (iter->meta != NULL)
		mysql_free_result(iter->meta);
	if (iter->stmt != NULL)
		(void)mysql_stmt_close(iter->stmt);
	if (iter->mysql != NULL)
		mysql_close(iter->mysql);
	db_mariadb_unref(&iter->db);
	i_free(iter->error);
	i_free(iter);
	return ret;
}

/* The account's privileges other than reading, one row (NULL if none).
   information_schema shows a user its own grants. */
#define DB_MARIADB_PRIVILEGES_QUERY \
	"SELECT GROUP_CONCAT(DISTINCT privilege_type ORDER BY privilege_type " \
	"SEPARATOR ', ') AS privileges FROM (" \
	"SELECT privilege_type FROM information_schema.user_privileges " \
	"UNION ALL SELECT privilege_type FROM information_schema.schema_privileges " \
	"UNION ALL SELECT privilege_type FROM information_schema.table_privileges " \
	"UNION ALL SELECT privilege_type FROM information_schema.column_privileges" \
	") AS p WHERE privilege_type NOT IN ('SELECT', 'USAGE', 'SHOW VIEW')"

struct db_mariadb_self_check {
	struct db_mariadb *db;
	pool_t pool;
	unsigned int pending;
	bool failed;
};

struct db_mariadb_self_check_query {
	struct db_mariadb_self_check *check;
	const char *name;
};

static void db_mariadb_self_check_done(struct db_mariadb_self_check *check)
{
	struct db_mariadb *db = check->db;

	if (--check->pending > 0)
		return;
	if (!check->failed) {
		e_info(db->event, "Self-check passed: bcrypt works, the "
		       "database answers and the queries run");
	}
	/* blocking = yes: the workers have their own connections */
	if (db->set->blocking)
		db_mariadb_pool_close_idle(db);
	pool_unref(&check->pool);
}

static void
db_mariadb_self_check_privileges(int ret, const struct db_mariadb_row *row,
				 const char *error,
				 struct db_mariadb_self_check *check)
{
	struct db_mariadb *db = check->db;

	if (ret < 0) {
		e_error(db->event, "Self-check: the database can't be used: %s",
			error);
		check->failed = TRUE;
	} else if (ret > 0 && row->count > 0 && row->fields[0].value != NULL) {
		e_warning(db->event, "Self-check: the database account %s can "
			  "change data (%s): it needs SELECT only, see "
			  "sql/03-grants.sql", db->set->user,
			  row->fields[0].value);
	}
	db_mariadb_self_check_done(check);
}

static void
db_mariadb_self_check_query(int ret,
			    const struct db_mariadb_row *row ATTR_UNUSED,
			    const char *error,
			    struct db_mariadb_self_check_query *query)
{
	struct db_mariadb_self_check *check = query->check;

	if (ret < 0) {
		e_error(check->db->event, "Self-check: %s fails: %s",
			query->name, error);
		check->failed = TRUE;
	}
	db_mariadb_self_check_done(check);
}

static void
db_mariadb_self_check_run(struct db_mariadb_self_check *check,
			  const char *name, const struct db_mariadb_query *query,
			  const struct db_mariadb_user *user)
{
	struct db_mariadb_self_check_query *ctx;

	ctx = p_new(check->pool, struct db_mariadb_self_check_query, 1);
	ctx->check = check;
	ctx->name = name;
	check->pending++;
	db_mariadb_lookup_async(check->db, query, user, check->pool,
				db_mariadb_self_check_query, ctx);
}

void db_mariadb_self_check(struct db_mariadb *db)
{
	struct db_mariadb_self_check *check;
	struct db_mariadb_query *privileges;
	struct db_mariadb_user user;
	const char *error;
	pool_t pool;

	if (db->self_check_started)
		return;
	db->self_check_started = TRUE;

	pool = pool_alloconly_create("db_mariadb_self_check", 2048);
	check = p_new(pool, struct db_mariadb_self_check, 1);
	check->db = db;
	check->pool = pool;
	/* db's pool: its statement stays prepared on the connection,
	   keyed by the query's address */
	if (!db_mariadb_query_parse(db->pool, DB_MARIADB_PRIVILEGES_QUERY,
				    &privileges, &error))
		i_panic("mariadb: self-check query: %s", error);

	/* an address no domain can have (RFC 2606) */
	i_zero(&user);
	user.local = "self-check";
	user.domain = "self-check.invalid";
	user.address = "self-check@self-check.invalid";

	/* one more than the checks, so that none finishes the whole */
	check->pending = 1;
	check->pending++;
	db_mariadb_lookup_async(db, privileges, &user, pool,
				db_mariadb_self_check_privileges, check);
	db_mariadb_self_check_run(check, "password_query",
				  db->set->parsed_password_query, &user);
	db_mariadb_self_check_run(check, "user_query",
				  db->set->parsed_user_query, &user);
	db_mariadb_self_check_done(check);
}

struct db_mariadb *db_mariadb_init(const char *config_path)
{
	struct db_mariadb *db;
	const char *warning, *error;
	pool_t pool;

	for (db = db_mariadb_list; db != NULL; db = db->next) {
		if (strcmp(db->config_path, config_path) == 0) {
			db->refcount++;
			return db;
		}
	}

	pool = pool_alloconly_create("db_mariadb", 4096);
	db = p_new(pool, struct db_mariadb, 1);
	db->pool = pool;
	db->refcount = 1;
	db->config_path = p_strdup(pool, config_path);
	db->event = event_create(auth_event);
	event_set_append_log_prefix(db->event, "mariadb: ");
	if (config_path[0] == '\0')
		i_fatal("mariadb: passdb/userdb args must name the "
			"configuration file, e.g. "
			"args = /etc/dovecot/dovecot-mariadb.conf.ext");
	if (db_mariadb_settings_read(pool, config_path, &db->set,
				     &warning, &error) < 0)
		i_fatal("mariadb: %s", error);
	if (warning != NULL && !worker)
		e_warning(db->event, "%s", warning);
	if (db_mariadb_password_self_test(&error) < 0)
		i_fatal("mariadb: %s", error);
	db->host_retry_at = p_new(pool, time_t, db->set->parsed_hosts_count);
	i_array_init(&db->stmts, 4);
	db_mariadb_pool_init(db);
	DLLIST_PREPEND(&db_mariadb_list, db);
	return db;
}

void db_mariadb_unref(struct db_mariadb **_db)
{
	struct db_mariadb *db = *_db;

	*_db = NULL;
	i_assert(db->refcount > 0);
	if (--db->refcount > 0)
		return;

	DLLIST_REMOVE(&db_mariadb_list, db);
	db_mariadb_pool_deinit(db);
	db_mariadb_disconnect(db);
	array_free(&db->stmts);
	i_free(db->last_connect_error);
	if (db->set->password[0] != '\0') {
		/* the database password lives in the pool */
		safe_memset((void *)db->set->password, 0,
			    strlen(db->set->password));
	}
	event_unref(&db->event);
	pool_unref(&db->pool);
}

const struct db_mariadb_settings *db_mariadb_get_settings(struct db_mariadb *db)
{
	return db->set;
}
