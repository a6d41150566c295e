/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-conn - the connection leaf

   What one MariaDB connection needs, shared by the auth master's
   non-blocking pool (db-mariadb-pool.c) and the auth-workers' blocking
   connections (db-mariadb-blocking.c), which are siblings on top of it:

   - the MYSQL handle's options: timeouts, character set, TLS, and the
     session's max_statement_time;
   - the hosts: the order to try them in, the ones that failed recently
     (skipped for DB_MARIADB_HOST_RETRY_SECS), and a back-off when every
     host failed (1 s doubling up to 8 s, during which lookups fail at once
     instead of each waiting for connect_timeout);
   - host names: resolved by the module (in the auth master through
     Dovecot's dns-client service, never waiting for a name server;
     blocking in auth-workers), which then connects to the addresses in
     order. libmariadb would resolve a name with blocking calls, and it
     checks a TLS certificate against the host it is given: here that is
     the address, in both modes;
   - what a failed connect means, in words (TLS above all: tls = yes never
     falls back to a connection without it);
   - prepared statements, kept per connection and per query, and reading
     their rows as strings;
   - the query event, mariadb_query_finished, as lib-sql emits
     sql_query_finished.

   Nothing here calls the layers above it. */

#include "auth-common.h"
#include "array.h"
#include "ioloop.h"
#include "net.h"
#include "str.h"
#include "time-util.h"
#include "db-mariadb-query.h"
#include "db-mariadb-row.h"
#include "db-mariadb-conn.h"

#include <errmsg.h>

#define DB_MARIADB_BACKOFF_MIN_MSECS 1000
#define DB_MARIADB_BACKOFF_MAX_MSECS 8000

struct event_category event_category_mariadb = {
	.name = "mariadb",
	.parent = &event_category_auth,
};

const struct db_mariadb_row db_mariadb_no_row = { NULL, 0 };

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

static const char *db_mariadb_host_str(const struct db_mariadb_host *host)
{
	if (host->socket_path != NULL)
		return host->socket_path;
	if (strchr(host->name, ':') != NULL)
		return t_strdup_printf("[%s]:%u", host->name, host->port);
	return t_strdup_printf("%s:%u", host->name, host->port);
}

void db_mariadb_conn_settings_warn(const struct db_mariadb_settings *set,
				   struct event *event)
{
	if (set->tls && !set->tls_verify) {
		e_warning(event, "%s: tls_verify = no: the database "
			  "server's certificate is not checked, so whoever "
			  "can redirect the connection can read and forge "
			  "the database's answers", set->path);
	}
}

struct db_mariadb_hosts *
db_mariadb_hosts_init(pool_t pool, const struct db_mariadb_settings *set,
		      struct event *event)
{
	struct db_mariadb_hosts *hosts;
	unsigned int i;

	hosts = p_new(pool, struct db_mariadb_hosts, 1);
	hosts->set = set;
	hosts->event = event;
	hosts->retry_at = p_new(pool, time_t, set->parsed_hosts_count);
	hosts->names = p_new(pool, const char *, set->parsed_hosts_count);
	for (i = 0; i < set->parsed_hosts_count; i++) {
		hosts->names[i] = p_strdup(pool,
			db_mariadb_host_str(&set->parsed_hosts[i]));
	}
	return hosts;
}

void db_mariadb_hosts_deinit(struct db_mariadb_hosts **_hosts)
{
	struct db_mariadb_hosts *hosts = *_hosts;

	*_hosts = NULL;
	i_free(hosts->last_connect_error);
}

const struct db_mariadb_host *
db_mariadb_host(struct db_mariadb_hosts *hosts, unsigned int host_idx)
{
	i_assert(host_idx < hosts->set->parsed_hosts_count);
	return &hosts->set->parsed_hosts[host_idx];
}

const char *db_mariadb_hosts_name(struct db_mariadb_hosts *hosts,
				  unsigned int host_idx)
{
	i_assert(host_idx < hosts->set->parsed_hosts_count);
	return hosts->names[host_idx];
}

const char *db_mariadb_host_addr_str(const struct db_mariadb_host *host,
				     const struct ip_addr *ip)
{
	if (ip == NULL)
		return db_mariadb_host_str(host);
	return t_strdup_printf("%s (%s)", db_mariadb_host_str(host),
			       net_ip2addr(ip));
}

bool db_mariadb_host_is_skipped(struct db_mariadb_hosts *hosts,
				unsigned int host_idx)
{
	return hosts->retry_at[host_idx] > ioloop_time;
}

void db_mariadb_host_failed(struct db_mariadb_hosts *hosts,
			    unsigned int host_idx, const char *reason)
{
	const char *host = db_mariadb_hosts_name(hosts, host_idx);

	hosts->retry_at[host_idx] = ioloop_time + DB_MARIADB_HOST_RETRY_SECS;
	e_debug(event_create_passthrough(hosts->event)->
		set_name("mariadb_host_failed")->
		add_str("host", host)->add_str("error", reason)->event(),
		"Skipping %s for %u s: %s", host, DB_MARIADB_HOST_RETRY_SECS,
		reason);
}

void db_mariadb_hosts_iter_init(struct db_mariadb_hosts *hosts,
				struct db_mariadb_host_iter *iter_r)
{
	unsigned int i;

	i_zero(iter_r);
	for (i = 0; i < hosts->set->parsed_hosts_count; i++) {
		if (!db_mariadb_host_is_skipped(hosts, i)) {
			iter_r->first = i;
			break;
		}
	}
}

bool db_mariadb_hosts_iter_next(struct db_mariadb_hosts *hosts,
				struct db_mariadb_host_iter *iter,
				unsigned int *host_idx_r)
{
	unsigned int count = hosts->set->parsed_hosts_count;

	if (iter->n == count)
		return FALSE;
	*host_idx_r = (iter->first + iter->n++) % count;
	return TRUE;
}

const char *db_mariadb_hosts_iter_reason(const struct db_mariadb_host_iter *iter)
{
	return iter->first == 0 ? "" : "the primary failed recently";
}

bool db_mariadb_hosts_backoff_allows(struct db_mariadb_hosts *hosts,
				     const char **error_r)
{
	/* a blocking worker's ioloop time is that of the request's arrival,
	   while connecting may have taken a while since */
	io_loop_time_refresh();
	if (timeval_cmp(&ioloop_timeval, &hosts->backoff_until) >= 0)
		return TRUE;
	*error_r = t_strdup_printf(
		"Not connected to any database host, next attempt in "
		"%lld ms (last error: %s)",
		(long long)timeval_diff_msecs(&hosts->backoff_until,
					      &ioloop_timeval),
		hosts->last_connect_error);
	return FALSE;
}

void db_mariadb_hosts_backoff_start(struct db_mariadb_hosts *hosts,
				    const char *errors,
				    unsigned int error_code)
{
	io_loop_time_refresh();
	hosts->backoff_msecs = hosts->backoff_msecs == 0 ?
		DB_MARIADB_BACKOFF_MIN_MSECS :
		I_MIN(hosts->backoff_msecs * 2, DB_MARIADB_BACKOFF_MAX_MSECS);
	hosts->backoff_until = ioloop_timeval;
	timeval_add_msecs(&hosts->backoff_until, hosts->backoff_msecs);
	i_free(hosts->last_connect_error);
	hosts->last_connect_error = i_strdup(errors);
	hosts->last_connect_errno = error_code;
}

void db_mariadb_hosts_backoff_reset(struct db_mariadb_hosts *hosts)
{
	hosts->backoff_msecs = 0;
}

MYSQL *db_mariadb_mysql_init(const struct db_mariadb_settings *set,
			     bool nonblocking)
{
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

bool db_mariadb_host_needs_lookup(const struct db_mariadb_host *host)
{
	struct ip_addr ip;

	return host->socket_path == NULL &&
		strcmp(host->name, "localhost") != 0 &&
		net_addr2ip(host->name, &ip) < 0;
}

void db_mariadb_host_lookup_settings(const struct db_mariadb_settings *set,
				     struct event *event,
				     struct dns_lookup_settings *dns_set_r)
{
	i_zero(dns_set_r);
	/* relative to base_dir, as the auth process's own lookups */
	dns_set_r->dns_client_socket_path = DNS_CLIENT_SOCKET_NAME;
	dns_set_r->timeout_msecs = set->connect_timeout_secs * 1000;
	dns_set_r->event_parent = event;
}

int db_mariadb_host_resolve(const struct db_mariadb_host *host,
			    const struct ip_addr **ips_r,
			    unsigned int *ips_count_r, const char **error_r)
{
	struct ip_addr *ips;
	int ret;

	ret = net_gethostbyname(host->name, &ips, ips_count_r);
	if (ret != 0) {
		*error_r = net_gethosterror(ret);
		return -1;
	}
	if (*ips_count_r == 0) {
		*error_r = "no address";
		return -1;
	}
	*ips_r = ips;
	return 0;
}

const char *db_mariadb_host_lookup_error(const struct db_mariadb_host *host,
					 const char *reason,
					 unsigned int *error_code_r)
{
	*error_code_r = CR_UNKNOWN_HOST;
	return t_strdup_printf("%s: %u: Could not resolve %s: %s",
			       db_mariadb_host_str(host), CR_UNKNOWN_HOST,
			       host->name, reason);
}

void db_mariadb_connect_args(const struct db_mariadb_settings *set,
			     const struct db_mariadb_host *host,
			     const char *address,
			     struct db_mariadb_connect_args *args_r)
{
	i_zero(args_r);
	args_r->user = set->user;
	args_r->password = set->password;
	args_r->dbname = set->dbname;
	if (host->socket_path != NULL)
		args_r->unix_socket = host->socket_path;
	else {
		args_r->host = address != NULL ? address : host->name;
		args_r->port = host->port;
	}
}

const char *db_mariadb_connect_error(const struct db_mariadb_settings *set,
				     const struct db_mariadb_host *host,
				     const struct ip_addr *ip, MYSQL *mysql)
{
	string_t *str = t_str_new(128);

	str_printfa(str, "%s: %u: %s", db_mariadb_host_addr_str(host, ip),
		    mysql_errno(mysql), mysql_error(mysql));
	if (set->tls && mysql_errno(mysql) == CR_SSL_CONNECTION_ERROR) {
		str_append(str, " (tls = yes: only over TLS");
		if (set->tls_verify) {
			str_printfa(str, ", to a server whose certificate is "
				    "signed by %s and valid for %s",
				    set->tls_ca[0] != '\0' ? set->tls_ca :
				    "a CA the system trusts",
				    ip != NULL ? net_ip2addr(ip) : host->name);
		}
		str_append_c(str, ')');
	}
	return str_c(str);
}

MYSQL_STMT *db_mariadb_stmt_find(ARRAY_TYPE(db_mariadb_stmt) *stmts,
				 const struct db_mariadb_query *query)
{
	struct db_mariadb_stmt *stmt;

	array_foreach_modifiable(stmts, stmt) {
		/* cppcheck can't see into Dovecot's array macros */
		/* cppcheck-suppress uninitvar */
		if (stmt->query == query)
			return stmt->stmt;
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

void db_mariadb_stmts_close(ARRAY_TYPE(db_mariadb_stmt) *stmts)
{
	struct db_mariadb_stmt *stmt;

	array_foreach_modifiable(stmts, stmt)
		(void)mysql_stmt_close(stmt->stmt);
	array_clear(stmts);
}

int db_mariadb_stmt_fetch_row(MYSQL_STMT *st, MYSQL_RES *meta, pool_t pool,
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

	/* used by the fetch calls below only, all in this frame */
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

int db_mariadb_stmt_read_result(MYSQL_STMT *st,
				const struct db_mariadb_query *query,
				pool_t pool, struct db_mariadb_row *row_r,
				unsigned int *errno_r, const char **error_r)
{
	my_ulonglong rows;

	if (!query->update)
		return db_mariadb_stmt_read_row(st, pool, row_r, errno_r,
						error_r);
	*errno_r = 0;
	*row_r = db_mariadb_no_row;
	rows = mysql_stmt_affected_rows(st);
	(void)mysql_stmt_free_result(st);
	return rows != (my_ulonglong)-1 && rows > 0 ? 1 : 0;
}

struct event *db_mariadb_query_event_begin(struct event *parent,
					   const struct db_mariadb_query *query)
{
	struct event *event;

	event = event_create(parent);
	event_add_category(event, &event_category_mariadb);
	event_add_str(event, "query", query->name);
	return event;
}

void db_mariadb_query_event_end(struct event **_event, const char *host,
				unsigned int error_code, const char *error)
{
	struct event *event = *_event;

	*_event = NULL;
	/* the query's own event, not a passthrough child: it ends here, and
	   a second event would cost as much again for every login */
	event_set_name(event, "mariadb_query_finished");
	if (host != NULL)
		event_add_str(event, "host", host);
	if (error != NULL) {
		event_add_int(event, "error_code", error_code);
		event_add_str(event, "error", error);
		e_debug(event, "Query %s failed: %s",
			event_find_field_recursive_str(event, "query"), error);
	} else {
		e_debug(event, "Finished query %s",
			event_find_field_recursive_str(event, "query"));
	}
	event_unref(&event);
}
