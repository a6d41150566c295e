/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-pool - non-blocking lookups in the auth master

   The auth master is one single-threaded ioloop serving every login on the
   host, so with blocking = no nothing here may wait: each connection uses
   libmariadb's non-blocking API (MYSQL_OPT_NONBLOCK, the _start() and _cont()
   calls) driven by io_add() and timeout_add(). A lookup takes the steps
   connect (if needed) -> prepare (once per connection) -> execute ->
   store_result; the stored result is then read without waiting.

   pool_size connections are opened on demand, hosts tried in order (the
   connection leaf, db-mariadb-conn.c). A host given by name is resolved
   first, through Dovecot's dns-client service (dns_lookup(): the name
   server's answer is awaited like the database's), and its addresses are
   tried in order. Requests wait in a queue of at most queue_limit
   entries while every connection is busy, userdb lookups ahead of the
   others (struct db_mariadb_query's urgent), each kind in order of
   arrival; each has one
   deadline (query_timeout) that covers the wait and the query. A
   connection whose query runs into the deadline is closed (its result
   could still arrive later; the server ends the query itself through
   max_statement_time). What any other failed query means is decided by the
   failure policy (db-mariadb-failure.c). A connection serving a replica is
   closed once it has been open for DB_MARIADB_HOST_RETRY_SECS, so that the
   next one tries the primary first again.

   The read io of a connection's socket stays from the first wait for it
   until the connection is closed, also while the connection is idle: a
   login then costs no epoll_ctl() calls, and an idle socket becomes
   readable only when the server ends the connection (a restart, KILL,
   wait_timeout), which closes it at once instead of failing the next
   query. The write io and the wait timeout are set for each wait.
   libmariadb may close the socket inside a _start() or _cont() call on
   errors: after every call, a read io whose socket is gone is removed
   without touching the fd (io_remove_closed()). */

#include "auth-common.h"
#include "array.h"
#include "ioloop.h"
#include "llist.h"
#include "net.h"
#include "str.h"
#include "db-mariadb-failure.h"
#include "db-mariadb-params.h"
#include "db-mariadb-query.h"
#include "db-mariadb-user.h"
#include "db-mariadb-conn.h"
#include "db-mariadb-pool.h"

#include <sys/socket.h>

enum db_mariadb_conn_state {
	DB_MARIADB_CONN_DISCONNECTED,
	DB_MARIADB_CONN_CONNECTING,
	DB_MARIADB_CONN_IDLE,
	DB_MARIADB_CONN_BUSY,
};

enum db_mariadb_step {
	DB_MARIADB_STEP_CONNECT,
	DB_MARIADB_STEP_PREPARE,
	DB_MARIADB_STEP_EXECUTE,
	DB_MARIADB_STEP_STORE,
};

struct db_mariadb_pool_conn {
	struct db_mariadb_pool *pool;
	enum db_mariadb_conn_state state;
	enum db_mariadb_step step;

	MYSQL *mysql;
	struct db_mariadb_host_iter host_iter;
	unsigned int host_idx;
	/* a host given by name: its lookup, then its addresses and the one
	   being connected to */
	struct dns_lookup *dns_lookup;
	/* dns_lookup_abort() is running: Dovecot 2.4 calls the callback
	   from there (2.3 does not), which must then do nothing */
	bool dns_aborting;
	struct ip_addr *ips;
	unsigned int ips_count, ip_idx;
	/* the current address as text, which libmariadb reads while it
	   connects */
	char *address;
	time_t connected_at;
	/* served a query since it was opened */
	bool used;
	/* its host was marked failed while it was connecting or busy: it is
	   closed when that is done, so that no request (a retry least of
	   all) goes to the failed host on it */
	bool host_failed;
	string_t *connect_errors;
	unsigned int connect_errno;
	ARRAY_TYPE(db_mariadb_stmt) stmts;

	struct io *io_read, *io_write;
	/* the socket io_read watches */
	int io_read_fd;
	struct timeout *to_wait;

	struct db_mariadb_pool_request *request;
	MYSQL_STMT *stmt;
	/* the running request's parameters, read by libmariadb until its
	   execution has finished */
	struct db_mariadb_params params;
	MYSQL *ret_mysql;
	int ret_int;
};

struct db_mariadb_pool_request {
	struct db_mariadb_pool_request *prev, *next;
	struct db_mariadb_pool *pool;
	const struct db_mariadb_query *query;
	struct db_mariadb_user user;
	pool_t result_pool;
	/* the query's event: a child of the request's */
	struct event *event;
	struct timeout *to;
	struct db_mariadb_pool_conn *conn;
	/* the host the query last ran on (db_mariadb_hosts_name()), NULL
	   before it ran */
	const char *host;
	bool retried;

	db_mariadb_pool_callback_t *callback;
	void *context;
};

struct db_mariadb_pool {
	const struct db_mariadb_settings *set;
	struct db_mariadb_hosts *hosts;
	struct event *event;
	bool keep_idle;

	struct db_mariadb_pool_conn *conns;
	/* the urgent requests (see struct db_mariadb_query) first, each
	   kind in order of arrival; queue_urgent_tail is the last urgent
	   one, NULL if none waits */
	struct db_mariadb_pool_request *queue_head, *queue_tail;
	struct db_mariadb_pool_request *queue_urgent_tail;
	unsigned int queue_len;
};

static void db_mariadb_pool_dispatch(struct db_mariadb_pool *pool);
static void db_mariadb_conn_run(struct db_mariadb_pool_conn *conn, bool start,
				int ready);

static void
db_mariadb_request_finish(struct db_mariadb_pool_request *req, int ret,
			  const struct db_mariadb_row *row,
			  unsigned int error_code, const char *error)
{
	db_mariadb_pool_callback_t *callback = req->callback;
	void *context = req->context;

	i_assert(req->conn == NULL);
	timeout_remove(&req->to);
	db_mariadb_query_event_end(&req->event, req->host, error_code,
				   ret < 0 ? error : NULL);
	i_free(req);
	callback(ret, row, error, context);
}

static void
db_mariadb_queue_remove(struct db_mariadb_pool *pool,
			struct db_mariadb_pool_request *req)
{
	if (pool->queue_urgent_tail == req) {
		pool->queue_urgent_tail = req->prev != NULL &&
			req->prev->query->urgent ? req->prev : NULL;
	}
	DLLIST2_REMOVE(&pool->queue_head, &pool->queue_tail, req);
	pool->queue_len--;
}

static void
db_mariadb_queue_add(struct db_mariadb_pool *pool,
		     struct db_mariadb_pool_request *req)
{
	if (!req->query->urgent)
		DLLIST2_APPEND(&pool->queue_head, &pool->queue_tail, req);
	else {
		if (pool->queue_urgent_tail == NULL) {
			DLLIST2_PREPEND(&pool->queue_head, &pool->queue_tail,
					req);
		} else {
			DLLIST2_INSERT_AFTER(&pool->queue_head,
					     &pool->queue_tail,
					     pool->queue_urgent_tail, req);
		}
		pool->queue_urgent_tail = req;
	}
	pool->queue_len++;
}

/* A retried request: first in line, whatever its kind. */
static void
db_mariadb_queue_add_first(struct db_mariadb_pool *pool,
			   struct db_mariadb_pool_request *req)
{
	DLLIST2_PREPEND(&pool->queue_head, &pool->queue_tail, req);
	if (req->query->urgent && pool->queue_urgent_tail == NULL)
		pool->queue_urgent_tail = req;
	pool->queue_len++;
}

static void db_mariadb_conn_unwait(struct db_mariadb_pool_conn *conn)
{
	io_remove(&conn->io_read);
	io_remove(&conn->io_write);
	timeout_remove(&conn->to_wait);
}

static void db_mariadb_conn_close(struct db_mariadb_pool_conn *conn)
{
	int fd;

	if (conn->dns_lookup != NULL) {
		conn->dns_aborting = TRUE;
		dns_lookup_abort(&conn->dns_lookup);
		conn->dns_aborting = FALSE;
	}
	db_mariadb_conn_unwait(conn);
	if (conn->mysql != NULL && conn->state != DB_MARIADB_CONN_IDLE) {
		/* in the middle of a step, or failed: a dead or hung server
		   must not make closing block, so shut the socket down first
		   and the goodbye messages fail at once. An idle connection
		   says goodbye (COM_QUIT: a few bytes into an empty socket
		   buffer, no answer awaited), so that the server doesn't
		   count and log it as an aborted client. */
		fd = mysql_get_socket(conn->mysql);
		if (fd >= 0)
			(void)shutdown(fd, SHUT_RDWR);
	}
	if (conn->mysql != NULL) {
		/* a statement being prepared isn't in the list yet */
		if (conn->step == DB_MARIADB_STEP_PREPARE && conn->stmt != NULL)
			(void)mysql_stmt_close(conn->stmt);
		db_mariadb_stmts_close(&conn->stmts);
		mysql_close(conn->mysql);
		conn->mysql = NULL;
	}
	conn->stmt = NULL;
	conn->state = DB_MARIADB_CONN_DISCONNECTED;
	conn->host_failed = FALSE;
}

static const char *db_mariadb_conn_host(struct db_mariadb_pool_conn *conn)
{
	return db_mariadb_hosts_name(conn->pool->hosts, conn->host_idx);
}

/* the address being connected to of a host given by name, else NULL */
static const struct ip_addr *
db_mariadb_conn_ip(struct db_mariadb_pool_conn *conn)
{
	return conn->ip_idx < conn->ips_count ? &conn->ips[conn->ip_idx] : NULL;
}

/* Detach the running request from a connection that failed it. */
static struct db_mariadb_pool_request *
db_mariadb_conn_take_request(struct db_mariadb_pool_conn *conn)
{
	struct db_mariadb_pool_request *req = conn->request;

	conn->request = NULL;
	if (req != NULL)
		req->conn = NULL;
	return req;
}

/* The socket of an idle connection is readable: the server has ended the
   connection (or sent the error it ends it with). */
static void db_mariadb_conn_idle_readable(struct db_mariadb_pool_conn *conn)
{
	char c;
	ssize_t ret;

	ret = recv(conn->io_read_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	e_debug(conn->pool->event, "%s ended the idle connection",
		db_mariadb_conn_host(conn));
	db_mariadb_conn_close(conn);
}

static void db_mariadb_conn_io(struct db_mariadb_pool_conn *conn)
{
	int ready = 0;

	if (conn->state == DB_MARIADB_CONN_IDLE) {
		db_mariadb_conn_idle_readable(conn);
		return;
	}
	/* whichever io fired: libmariadb retries what isn't ready */
	if (conn->io_read != NULL)
		ready |= MYSQL_WAIT_READ;
	if (conn->io_write != NULL)
		ready |= MYSQL_WAIT_WRITE;
	db_mariadb_conn_run(conn, FALSE, ready);
}

static void db_mariadb_conn_wait_timeout(struct db_mariadb_pool_conn *conn)
{
	db_mariadb_conn_run(conn, FALSE, MYSQL_WAIT_TIMEOUT);
}

/* After a libmariadb call, which may have closed the socket. */
static void db_mariadb_conn_check_socket(struct db_mariadb_pool_conn *conn)
{
	if (conn->io_read != NULL &&
	    mysql_get_socket(conn->mysql) != conn->io_read_fd)
		io_remove_closed(&conn->io_read);
}

static void db_mariadb_conn_watch_read(struct db_mariadb_pool_conn *conn)
{
	if (conn->io_read != NULL)
		return;
	conn->io_read_fd = mysql_get_socket(conn->mysql);
	conn->io_read = io_add(conn->io_read_fd, IO_READ,
			       db_mariadb_conn_io, conn);
}

/* Between requests the socket is watched too (see the top). */
static void db_mariadb_conn_set_idle(struct db_mariadb_pool_conn *conn)
{
	conn->state = DB_MARIADB_CONN_IDLE;
	db_mariadb_conn_watch_read(conn);
}

static void db_mariadb_conn_wait(struct db_mariadb_pool_conn *conn, int status)
{
	int fd = mysql_get_socket(conn->mysql);

	if ((status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT)) != 0)
		db_mariadb_conn_watch_read(conn);
	else {
		/* a socket that can be read while only a write may go on
		   would wake the ioloop over and over */
		io_remove(&conn->io_read);
	}
	if ((status & MYSQL_WAIT_WRITE) != 0)
		conn->io_write = io_add(fd, IO_WRITE, db_mariadb_conn_io, conn);
	if ((status & MYSQL_WAIT_TIMEOUT) != 0) {
		conn->to_wait = timeout_add_short(
			mysql_get_timeout_value_ms(conn->mysql),
			db_mariadb_conn_wait_timeout, conn);
	}
}

/* Connect to the current host at its current address (if it has one). */
static void db_mariadb_conn_connect_ip(struct db_mariadb_pool_conn *conn)
{
	const struct ip_addr *ip = db_mariadb_conn_ip(conn);

	i_free(conn->address);
	if (ip != NULL)
		conn->address = i_strdup(net_ip2addr(ip));
	conn->mysql = db_mariadb_mysql_init(conn->pool->set, TRUE);
	db_mariadb_conn_run(conn, TRUE, 0);
}

static void db_mariadb_conn_connect_failed(struct db_mariadb_pool_conn *conn,
					   unsigned int err,
					   const char *error);

static void
db_mariadb_conn_resolved(const struct dns_lookup_result *result,
			 struct db_mariadb_pool_conn *conn)
{
	const struct db_mariadb_host *host =
		db_mariadb_host(conn->pool->hosts, conn->host_idx);
	unsigned int err;
	const char *error;

	conn->dns_lookup = NULL;
	if (conn->dns_aborting)
		return;
	if (result->ret != 0) {
		error = db_mariadb_host_lookup_error(host, result->error, &err);
		db_mariadb_conn_connect_failed(conn, err, error);
		return;
	}
	e_debug(conn->pool->event, "Resolved %s to %s (%u ms)", host->name,
		net_ip2addr(&result->ips[0]), result->msecs);
	conn->ips = i_new(struct ip_addr, result->ips_count);
	memcpy(conn->ips, result->ips, sizeof(*conn->ips) * result->ips_count);
	conn->ips_count = result->ips_count;
	db_mariadb_conn_connect_ip(conn);
}

/* Connect to the next host in line; FALSE when none is left. */
static bool db_mariadb_conn_connect_next(struct db_mariadb_pool_conn *conn)
{
	struct dns_lookup_settings dns_set;
	const struct db_mariadb_host *host;

	if (!db_mariadb_hosts_iter_next(conn->pool->hosts, &conn->host_iter,
					&conn->host_idx))
		return FALSE;
	conn->state = DB_MARIADB_CONN_CONNECTING;
	conn->step = DB_MARIADB_STEP_CONNECT;
	i_free(conn->ips);
	conn->ips_count = conn->ip_idx = 0;
	host = db_mariadb_host(conn->pool->hosts, conn->host_idx);
	if (!db_mariadb_host_needs_lookup(host)) {
		db_mariadb_conn_connect_ip(conn);
		return TRUE;
	}
	/* on failure the callback has been called already */
	db_mariadb_host_lookup_settings(conn->pool->set, conn->pool->event,
					&dns_set);
	(void)dns_lookup(host->name, &dns_set, db_mariadb_conn_resolved, conn,
			 &conn->dns_lookup);
	return TRUE;
}

static void db_mariadb_conn_connect(struct db_mariadb_pool_conn *conn)
{
	db_mariadb_hosts_iter_init(conn->pool->hosts, &conn->host_iter);
	str_truncate(conn->connect_errors, 0);
	str_append(conn->connect_errors,
		   db_mariadb_hosts_iter_reason(&conn->host_iter));
	if (!db_mariadb_conn_connect_next(conn))
		i_unreached();
}

/* No lookup waits: with keep_idle = FALSE the pool holds no connection. */
static void db_mariadb_pool_close_unneeded(struct db_mariadb_pool *pool)
{
	unsigned int i;

	if (pool->keep_idle || pool->queue_head != NULL)
		return;
	for (i = 0; i < pool->set->pool_size; i++) {
		if (pool->conns[i].state == DB_MARIADB_CONN_IDLE)
			db_mariadb_conn_close(&pool->conns[i]);
	}
}

static void db_mariadb_conn_connected(struct db_mariadb_pool_conn *conn)
{
	struct db_mariadb_pool *pool = conn->pool;
	const char *host = db_mariadb_host_addr_str(
		db_mariadb_host(pool->hosts, conn->host_idx),
		db_mariadb_conn_ip(conn));

	if (conn->host_failed) {
		/* its host failed while it connected */
		db_mariadb_conn_close(conn);
		db_mariadb_pool_dispatch(pool);
		return;
	}
	db_mariadb_conn_set_idle(conn);
	conn->connected_at = ioloop_time;
	conn->used = FALSE;
	db_mariadb_hosts_backoff_reset(pool->hosts);
	if (conn->host_idx != 0) {
		e_warning(pool->event, "Connected to %s, not to the primary: %s",
			  host, str_c(conn->connect_errors));
	} else if (str_len(conn->connect_errors) > 0) {
		/* another of the primary's addresses failed */
		e_warning(pool->event, "Connected to %s after: %s", host,
			  str_c(conn->connect_errors));
	} else {
		e_debug(pool->event, "Connected to %s", host);
	}
	db_mariadb_pool_dispatch(pool);
}

static void db_mariadb_conn_connect_failed(struct db_mariadb_pool_conn *conn,
					   unsigned int err, const char *error)
{
	struct db_mariadb_pool *pool = conn->pool;

	conn->connect_errno = err;
	if (str_len(conn->connect_errors) > 0)
		str_append(conn->connect_errors, ", ");
	str_append(conn->connect_errors, error);
	db_mariadb_conn_close(conn);
	if (++conn->ip_idx < conn->ips_count) {
		/* the name's next address */
		conn->state = DB_MARIADB_CONN_CONNECTING;
		conn->step = DB_MARIADB_STEP_CONNECT;
		db_mariadb_conn_connect_ip(conn);
		return;
	}
	db_mariadb_host_failed(pool->hosts, conn->host_idx, error);

	if (db_mariadb_conn_connect_next(conn))
		return;
	e_error(pool->event, "Could not connect to any database host: %s",
		str_c(conn->connect_errors));
	db_mariadb_hosts_backoff_start(pool->hosts, str_c(conn->connect_errors),
				       conn->connect_errno);
	db_mariadb_pool_dispatch(pool);
}

/* A host just failed: close the idle connections to it, which would fail
   the retry too, and the others when they are done with it. */
static void
db_mariadb_pool_leave_host(struct db_mariadb_pool *pool,
			   unsigned int host_idx)
{
	struct db_mariadb_pool_conn *conn;
	unsigned int i;

	for (i = 0; i < pool->set->pool_size; i++) {
		conn = &pool->conns[i];
		if (conn->state == DB_MARIADB_CONN_DISCONNECTED ||
		    conn->host_idx != host_idx)
			continue;
		if (conn->state == DB_MARIADB_CONN_IDLE)
			db_mariadb_conn_close(conn);
		else
			conn->host_failed = TRUE;
	}
}

static void
db_mariadb_conn_request_failed(struct db_mariadb_pool_conn *conn,
			       unsigned int err, const char *error)
{
	struct db_mariadb_pool *pool = conn->pool;
	struct db_mariadb_pool_request *req = db_mariadb_conn_take_request(conn);
	struct db_mariadb_failure failure;
	enum db_mariadb_failure_action action;

	i_zero(&failure);
	failure.error = err;
	failure.connection_used = conn->used;
	failure.hosts_count = pool->set->parsed_hosts_count;
	failure.retried = req->retried;
	action = db_mariadb_failure_action(&failure);
	if (action == DB_MARIADB_FAILURE_FAIL) {
		/* the server answered: the connection works */
		db_mariadb_conn_set_idle(conn);
		conn->used = TRUE;
		if (conn->host_failed)
			db_mariadb_conn_close(conn);
		db_mariadb_request_finish(req, -1, NULL, err, error);
		db_mariadb_pool_dispatch(pool);
		return;
	}

	e_warning(req->event, "Lost connection to %s: %s",
		  db_mariadb_conn_host(conn), error);
	if (action == DB_MARIADB_FAILURE_HOST_FAIL ||
	    action == DB_MARIADB_FAILURE_HOST_RETRY) {
		db_mariadb_host_failed(pool->hosts, conn->host_idx, error);
		db_mariadb_pool_leave_host(pool, conn->host_idx);
	}
	db_mariadb_conn_close(conn);
	if (action == DB_MARIADB_FAILURE_RETRY ||
	    action == DB_MARIADB_FAILURE_HOST_RETRY) {
		req->retried = TRUE;
		db_mariadb_queue_add_first(pool, req);
	} else {
		db_mariadb_request_finish(req, -1, NULL, err, t_strdup_printf(
			"Connection lost: %s", error));
	}
	db_mariadb_pool_dispatch(pool);
}

static void db_mariadb_conn_execute(struct db_mariadb_pool_conn *conn)
{
	struct db_mariadb_pool_request *req = conn->request;

	/* the statement is in the list now: closing the connection
	   closes it */
	conn->step = DB_MARIADB_STEP_EXECUTE;
	if (db_mariadb_params_bind(&conn->params, conn->stmt, req->query,
				   &req->user) < 0) {
		db_mariadb_conn_request_failed(conn,
			mysql_stmt_errno(conn->stmt), t_strdup_printf(
			"Binding parameters failed: %s",
			mysql_stmt_error(conn->stmt)));
		return;
	}
	db_mariadb_conn_run(conn, TRUE, 0);
}

static void
db_mariadb_conn_start_request(struct db_mariadb_pool_conn *conn,
			      struct db_mariadb_pool_request *req)
{
	conn->state = DB_MARIADB_CONN_BUSY;
	conn->request = req;
	req->conn = conn;
	req->host = db_mariadb_conn_host(conn);

	conn->stmt = db_mariadb_stmt_find(&conn->stmts, req->query);
	if (conn->stmt != NULL) {
		db_mariadb_conn_execute(conn);
		return;
	}
	conn->stmt = mysql_stmt_init(conn->mysql);
	if (conn->stmt == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "mysql_stmt_init() failed");
	conn->step = DB_MARIADB_STEP_PREPARE;
	db_mariadb_conn_run(conn, TRUE, 0);
}

static void db_mariadb_conn_stored(struct db_mariadb_pool_conn *conn)
{
	struct db_mariadb_pool *pool = conn->pool;
	struct db_mariadb_pool_request *req = conn->request;
	struct db_mariadb_row row;
	const char *error = NULL;
	unsigned int err;
	int ret;

	ret = db_mariadb_stmt_read_result(conn->stmt, req->query,
					  req->result_pool, &row, &err, &error);
	if (ret < 0 && db_mariadb_error_is_connection_lost(err)) {
		db_mariadb_conn_request_failed(conn, err, error);
		return;
	}
	req = db_mariadb_conn_take_request(conn);
	conn->used = TRUE;
	db_mariadb_conn_set_idle(conn);
	if (conn->host_failed) {
		/* its host failed meanwhile */
		db_mariadb_conn_close(conn);
	} else if (conn->host_idx > 0 &&
		   !db_mariadb_host_is_skipped(pool->hosts, 0) &&
		   ioloop_time - conn->connected_at >=
		   DB_MARIADB_HOST_RETRY_SECS) {
		/* reconnect (primary first) when next needed */
		db_mariadb_conn_close(conn);
	}
	db_mariadb_request_finish(req, ret, ret > 0 ? &row : NULL, err, error);
	db_mariadb_pool_dispatch(pool);
}

/* A step finished: look at its result and take the next one. */
static void db_mariadb_conn_step_done(struct db_mariadb_pool_conn *conn)
{
	unsigned int err;
	const char *error;

	switch (conn->step) {
	case DB_MARIADB_STEP_CONNECT:
		if (conn->ret_mysql == NULL) {
			db_mariadb_conn_connect_failed(conn,
				mysql_errno(conn->mysql),
				db_mariadb_connect_error(conn->pool->set,
					db_mariadb_host(conn->pool->hosts,
							conn->host_idx),
					db_mariadb_conn_ip(conn), conn->mysql));
		} else
			db_mariadb_conn_connected(conn);
		return;
	case DB_MARIADB_STEP_PREPARE:
		if (conn->ret_int != 0) {
			err = mysql_stmt_errno(conn->stmt);
			error = t_strdup_printf(
				"Preparing the query failed: %u: %s", err,
				mysql_stmt_error(conn->stmt));
			(void)mysql_stmt_close(conn->stmt);
			conn->stmt = NULL;
			db_mariadb_conn_request_failed(conn, err, error);
			return;
		}
		if (db_mariadb_stmt_add(&conn->stmts, conn->request->query,
					conn->stmt, &error) < 0) {
			conn->stmt = NULL;
			db_mariadb_conn_request_failed(conn, 0, error);
			return;
		}
		db_mariadb_conn_execute(conn);
		return;
	case DB_MARIADB_STEP_EXECUTE:
	case DB_MARIADB_STEP_STORE:
		if (conn->ret_int != 0) {
			err = mysql_stmt_errno(conn->stmt);
			error = t_strdup_printf("%u: %s", err,
						mysql_stmt_error(conn->stmt));
			(void)mysql_stmt_free_result(conn->stmt);
			db_mariadb_conn_request_failed(conn, err, error);
			return;
		}
		if (conn->step == DB_MARIADB_STEP_EXECUTE) {
			conn->step = DB_MARIADB_STEP_STORE;
			db_mariadb_conn_run(conn, TRUE, 0);
		} else {
			db_mariadb_conn_stored(conn);
		}
		return;
	}
	i_unreached();
}

static void db_mariadb_conn_run(struct db_mariadb_pool_conn *conn, bool start,
				int ready)
{
	struct db_mariadb_connect_args args;
	int status = 0;

	io_remove(&conn->io_write);
	timeout_remove(&conn->to_wait);
	switch (conn->step) {
	case DB_MARIADB_STEP_CONNECT:
		if (start) {
			db_mariadb_connect_args(conn->pool->set,
				db_mariadb_host(conn->pool->hosts,
						conn->host_idx),
				conn->address, &args);
			status = mysql_real_connect_start(&conn->ret_mysql,
				conn->mysql, args.host, args.user,
				args.password, args.dbname, args.port,
				args.unix_socket, 0);
		} else {
			status = mysql_real_connect_cont(&conn->ret_mysql,
							 conn->mysql, ready);
		}
		break;
	case DB_MARIADB_STEP_PREPARE:
		status = start ?
			mysql_stmt_prepare_start(&conn->ret_int, conn->stmt,
				conn->request->query->sql,
				strlen(conn->request->query->sql)) :
			mysql_stmt_prepare_cont(&conn->ret_int, conn->stmt,
						ready);
		break;
	case DB_MARIADB_STEP_EXECUTE:
		status = start ?
			mysql_stmt_execute_start(&conn->ret_int, conn->stmt) :
			mysql_stmt_execute_cont(&conn->ret_int, conn->stmt,
						ready);
		break;
	case DB_MARIADB_STEP_STORE:
		status = start ?
			mysql_stmt_store_result_start(&conn->ret_int,
						      conn->stmt) :
			mysql_stmt_store_result_cont(&conn->ret_int,
						     conn->stmt, ready);
		break;
	}
	db_mariadb_conn_check_socket(conn);
	if (status != 0)
		db_mariadb_conn_wait(conn, status);
	else T_BEGIN {
		db_mariadb_conn_step_done(conn);
	} T_END;
}

static void db_mariadb_request_timeout(struct db_mariadb_pool_request *req)
{
	struct db_mariadb_pool *pool = req->pool;
	struct db_mariadb_pool_conn *conn = req->conn;
	const char *error;

	error = t_strdup_printf("Query timed out after %u s (%s)",
				pool->set->query_timeout_secs,
				conn == NULL ? "waiting for a free connection" :
				conn->state == DB_MARIADB_CONN_CONNECTING ?
				"connecting" : "waiting for the server");
	if (conn != NULL) {
		/* its answer may still come: this connection is done */
		(void)db_mariadb_conn_take_request(conn);
		db_mariadb_conn_close(conn);
	} else {
		db_mariadb_queue_remove(pool, req);
	}
	db_mariadb_request_finish(req, -1, NULL, 0, error);
	db_mariadb_pool_dispatch(pool);
}

/* Fail everything queued (nothing can serve it before the back-off ends). */
static void db_mariadb_pool_fail_queue(struct db_mariadb_pool *pool,
				       const char *error)
{
	struct db_mariadb_pool_request *req;

	while ((req = pool->queue_head) != NULL) {
		db_mariadb_queue_remove(pool, req);
		db_mariadb_request_finish(req, -1, NULL,
					  pool->hosts->last_connect_errno,
					  error);
	}
}

static void db_mariadb_pool_dispatch(struct db_mariadb_pool *pool)
{
	struct db_mariadb_pool_request *req;
	struct db_mariadb_pool_conn *conn, *closed = NULL;
	unsigned int i, connecting = 0, idle_or_busy = 0;
	const char *error;

	for (i = 0; i < pool->set->pool_size && pool->queue_head != NULL; i++) {
		conn = &pool->conns[i];
		if (conn->state == DB_MARIADB_CONN_IDLE) {
			req = pool->queue_head;
			db_mariadb_queue_remove(pool, req);
			db_mariadb_conn_start_request(conn, req);
		}
	}
	if (pool->queue_head == NULL) {
		db_mariadb_pool_close_unneeded(pool);
		return;
	}

	/* requests are waiting: open another connection if allowed */
	for (i = 0; i < pool->set->pool_size; i++) {
		conn = &pool->conns[i];
		if (conn->state == DB_MARIADB_CONN_CONNECTING)
			connecting++;
		else if (conn->state != DB_MARIADB_CONN_DISCONNECTED)
			idle_or_busy++;
		else if (closed == NULL)
			closed = conn;
	}
	if (closed == NULL || connecting >= pool->queue_len)
		return;
	if (!db_mariadb_hosts_backoff_allows(pool->hosts, &error)) {
		if (connecting == 0 && idle_or_busy == 0)
			db_mariadb_pool_fail_queue(pool, error);
		return;
	}
	/* this may connect (or fail) at once and dispatch by itself;
	   otherwise see whether yet another connection is wanted */
	db_mariadb_conn_connect(closed);
	if (closed->state == DB_MARIADB_CONN_CONNECTING)
		db_mariadb_pool_dispatch(pool);
}

void db_mariadb_pool_lookup(struct db_mariadb_pool *pool,
			    const struct db_mariadb_query *query,
			    const struct db_mariadb_user *user,
			    struct event *parent_event, pool_t result_pool,
			    db_mariadb_pool_callback_t *callback,
			    void *context)
{
	struct db_mariadb_pool_request *req;

	req = i_new(struct db_mariadb_pool_request, 1);
	req->pool = pool;
	req->query = query;
	req->result_pool = result_pool;
	req->event = db_mariadb_query_event_begin(parent_event != NULL ?
						  parent_event : pool->event,
						  query);
	req->user.local = p_strdup(result_pool, user->local);
	req->user.domain = p_strdup(result_pool, user->domain);
	req->user.address = p_strdup(result_pool, user->address);
	req->user.new_hash = p_strdup(result_pool, user->new_hash);
	req->user.old_hash = p_strdup(result_pool, user->old_hash);
	req->callback = callback;
	req->context = context;
	if (pool->queue_len >= pool->set->queue_limit) {
		e_debug(event_create_passthrough(req->event)->
			set_name("mariadb_pool_queue_full")->
			add_int("queue_limit", pool->set->queue_limit)->event(),
			"Lookup queue full");
		db_mariadb_request_finish(req, -1, NULL, 0, t_strdup_printf(
			"Too many lookups waiting for the database "
			"(queue_limit = %u)", pool->set->queue_limit));
		return;
	}
	req->to = timeout_add(pool->set->query_timeout_secs * 1000,
			      db_mariadb_request_timeout, req);
	db_mariadb_queue_add(pool, req);
	db_mariadb_pool_dispatch(pool);
}

struct db_mariadb_pool *
db_mariadb_pool_init(const struct db_mariadb_settings *set,
		     struct db_mariadb_hosts *hosts, struct event *event,
		     bool keep_idle)
{
	struct db_mariadb_pool *pool;
	unsigned int i;

	pool = i_new(struct db_mariadb_pool, 1);
	pool->set = set;
	pool->hosts = hosts;
	pool->event = event;
	pool->keep_idle = keep_idle;
	pool->conns = i_new(struct db_mariadb_pool_conn, set->pool_size);
	for (i = 0; i < set->pool_size; i++) {
		pool->conns[i].pool = pool;
		pool->conns[i].connect_errors = str_new(default_pool, 128);
		i_array_init(&pool->conns[i].stmts, 4);
	}
	return pool;
}

void db_mariadb_pool_deinit(struct db_mariadb_pool **_pool)
{
	struct db_mariadb_pool *pool = *_pool;
	struct db_mariadb_pool_request *req;
	unsigned int i;

	*_pool = NULL;
	for (i = 0; i < pool->set->pool_size; i++) {
		req = db_mariadb_conn_take_request(&pool->conns[i]);
		db_mariadb_conn_close(&pool->conns[i]);
		if (req != NULL) {
			db_mariadb_request_finish(req, -1, NULL, 0,
				"Auth process is shutting down");
		}
	}
	db_mariadb_pool_fail_queue(pool, "Auth process is shutting down");
	for (i = 0; i < pool->set->pool_size; i++) {
		str_free(&pool->conns[i].connect_errors);
		array_free(&pool->conns[i].stmts);
		i_free(pool->conns[i].ips);
		i_free(pool->conns[i].address);
	}
	i_free(pool->conns);
	i_free(pool);
}
