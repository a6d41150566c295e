/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-pool - non-blocking lookups in the auth master

   The auth master is one single-threaded ioloop serving every login on the
   host, so with blocking = no nothing here may wait: each connection uses
   libmariadb's non-blocking API (MYSQL_OPT_NONBLOCK, the _start() and _cont()
   calls) driven by io_add() and timeout_add(). A lookup takes the steps
   connect (if needed) -> prepare (once per connection) -> execute ->
   store_result; the stored result is then read without waiting.

   pool_size connections are opened on demand, hosts tried in order. Requests
   wait in a FIFO queue of at most queue_limit entries while every connection
   is busy; each has one deadline (query_timeout) that covers the wait and
   the query. A connection whose query runs into the deadline is closed
   (its result could still arrive later; the server ends the query itself
   through max_statement_time). A host that failed is skipped for
   DB_MARIADB_HOST_RETRY_SECS, so that the next connection goes elsewhere
   at once; a connection serving a replica is closed after that long, so
   that the next one tries the primary first again.

   libmariadb may close the socket inside a _cont() call on errors, so the
   io and the timeout are removed before every _cont() and set again after
   it, for whatever socket and wait the library asks for next. */

#include "auth-common.h"
#include "array.h"
#include "ioloop.h"
#include "llist.h"
#include "str.h"
#include "db-mariadb-query.h"
#include "db-mariadb-user.h"
#include "db-mariadb-params.h"
#include "db-mariadb-private.h"

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

struct db_mariadb_conn {
	struct db_mariadb *db;
	enum db_mariadb_conn_state state;
	enum db_mariadb_step step;

	MYSQL *mysql;
	unsigned int host_idx, hosts_tried;
	time_t connected_at;
	/* served a query since it was opened */
	bool used;
	string_t *connect_errors;
	ARRAY_TYPE(db_mariadb_stmt) stmts;

	struct io *io_read, *io_write;
	struct timeout *to_wait;

	struct db_mariadb_request *request;
	MYSQL_STMT *stmt;
	/* the running request's parameters, read by libmariadb until its
	   execution has finished */
	struct db_mariadb_params params;
	MYSQL *ret_mysql;
	int ret_int;
};

struct db_mariadb_request {
	struct db_mariadb_request *prev, *next;
	struct db_mariadb *db;
	const struct db_mariadb_query *query;
	struct db_mariadb_user user;
	pool_t pool;
	struct timeout *to;
	struct db_mariadb_conn *conn;
	bool retried;

	db_mariadb_lookup_callback_t *callback;
	void *context;
};

static void db_mariadb_pool_dispatch(struct db_mariadb *db);
static void db_mariadb_conn_run(struct db_mariadb_conn *conn, bool start,
				int ready);

static void
db_mariadb_request_finish(struct db_mariadb_request *req, int ret,
			  const struct db_mariadb_row *row, const char *error)
{
	db_mariadb_lookup_callback_t *callback = req->callback;
	void *context = req->context;

	i_assert(req->conn == NULL);
	timeout_remove(&req->to);
	i_free(req);
	callback(ret, row, error, context);
}

static void
db_mariadb_queue_remove(struct db_mariadb *db, struct db_mariadb_request *req)
{
	DLLIST2_REMOVE(&db->queue_head, &db->queue_tail, req);
	db->queue_len--;
}

static void db_mariadb_conn_unwait(struct db_mariadb_conn *conn)
{
	io_remove(&conn->io_read);
	io_remove(&conn->io_write);
	timeout_remove(&conn->to_wait);
}

static void db_mariadb_conn_close(struct db_mariadb_conn *conn)
{
	int fd;

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
}

/* Detach the running request from a connection that failed it. */
static struct db_mariadb_request *
db_mariadb_conn_take_request(struct db_mariadb_conn *conn)
{
	struct db_mariadb_request *req = conn->request;

	conn->request = NULL;
	if (req != NULL)
		req->conn = NULL;
	return req;
}

static void db_mariadb_conn_io(struct db_mariadb_conn *conn)
{
	int ready = 0;

	/* whichever io fired: libmariadb retries what isn't ready */
	if (conn->io_read != NULL)
		ready |= MYSQL_WAIT_READ;
	if (conn->io_write != NULL)
		ready |= MYSQL_WAIT_WRITE;
	db_mariadb_conn_run(conn, FALSE, ready);
}

static void db_mariadb_conn_wait_timeout(struct db_mariadb_conn *conn)
{
	db_mariadb_conn_run(conn, FALSE, MYSQL_WAIT_TIMEOUT);
}

static void db_mariadb_conn_wait(struct db_mariadb_conn *conn, int status)
{
	int fd = mysql_get_socket(conn->mysql);

	if ((status & (MYSQL_WAIT_READ | MYSQL_WAIT_EXCEPT)) != 0)
		conn->io_read = io_add(fd, IO_READ, db_mariadb_conn_io, conn);
	if ((status & MYSQL_WAIT_WRITE) != 0)
		conn->io_write = io_add(fd, IO_WRITE, db_mariadb_conn_io, conn);
	if ((status & MYSQL_WAIT_TIMEOUT) != 0) {
		conn->to_wait = timeout_add_short(
			mysql_get_timeout_value_ms(conn->mysql),
			db_mariadb_conn_wait_timeout, conn);
	}
}

static void db_mariadb_conn_connect_host(struct db_mariadb_conn *conn)
{
	conn->mysql = db_mariadb_mysql_init(conn->db, TRUE);
	conn->state = DB_MARIADB_CONN_CONNECTING;
	conn->step = DB_MARIADB_STEP_CONNECT;
	db_mariadb_conn_run(conn, TRUE, 0);
}

static void db_mariadb_conn_connect(struct db_mariadb_conn *conn)
{
	/* the primary first, unless it failed recently */
	conn->host_idx = db_mariadb_first_host(conn->db);
	conn->hosts_tried = 0;
	str_truncate(conn->connect_errors, 0);
	if (conn->host_idx != 0)
		str_append(conn->connect_errors, "the primary failed recently");
	db_mariadb_conn_connect_host(conn);
}

static void db_mariadb_conn_connected(struct db_mariadb_conn *conn)
{
	struct db_mariadb *db = conn->db;
	const struct db_mariadb_host *host =
		&db->set->parsed_hosts[conn->host_idx];

	conn->state = DB_MARIADB_CONN_IDLE;
	conn->connected_at = ioloop_time;
	conn->used = FALSE;
	db_mariadb_backoff_reset(db);
	if (db->set->blocking && db->queue_head == NULL) {
		/* blocking = yes: the self-check's request timed out while
		   this connected; the master keeps no connection */
		db_mariadb_conn_close(conn);
		return;
	}
	if (conn->host_idx == 0)
		e_debug(db->event, "Connected to %s", db_mariadb_host_str(host));
	else {
		e_warning(db->event, "Connected to %s, not to the primary: %s",
			  db_mariadb_host_str(host),
			  str_c(conn->connect_errors));
	}
	db_mariadb_pool_dispatch(db);
}

static void db_mariadb_conn_connect_failed(struct db_mariadb_conn *conn)
{
	struct db_mariadb *db = conn->db;
	const struct db_mariadb_host *host =
		&db->set->parsed_hosts[conn->host_idx];

	if (str_len(conn->connect_errors) > 0)
		str_append(conn->connect_errors, ", ");
	str_printfa(conn->connect_errors, "%s: %u: %s",
		    db_mariadb_host_str(host), mysql_errno(conn->mysql),
		    mysql_error(conn->mysql));
	db_mariadb_conn_close(conn);
	db_mariadb_host_failed(db, conn->host_idx);

	/* the next host in order, wrapping around to those before the
	   first one tried */
	if (++conn->hosts_tried < db->set->parsed_hosts_count) {
		conn->host_idx = (conn->host_idx + 1) %
			db->set->parsed_hosts_count;
		db_mariadb_conn_connect_host(conn);
		return;
	}
	e_error(db->event, "Could not connect to any database host: %s",
		str_c(conn->connect_errors));
	db_mariadb_backoff_start(db, str_c(conn->connect_errors));
	db_mariadb_pool_dispatch(db);
}

static void db_mariadb_pool_close_idle_to(struct db_mariadb *db,
					  unsigned int host_idx)
{
	unsigned int i;

	for (i = 0; i < db->set->pool_size; i++) {
		if (db->conns[i].state == DB_MARIADB_CONN_IDLE &&
		    db->conns[i].host_idx == host_idx)
			db_mariadb_conn_close(&db->conns[i]);
	}
}

static void
db_mariadb_conn_request_failed(struct db_mariadb_conn *conn,
			       unsigned int err, const char *error)
{
	struct db_mariadb *db = conn->db;
	struct db_mariadb_request *req = db_mariadb_conn_take_request(conn);
	bool was_used = conn->used;

	if (!db_mariadb_errno_is_connection_lost(err)) {
		conn->state = DB_MARIADB_CONN_IDLE;
		conn->used = TRUE;
		db_mariadb_request_finish(req, -1, NULL, error);
		db_mariadb_pool_dispatch(db);
		return;
	}

	e_warning(db->event, "Lost connection to %s: %s",
		  db_mariadb_host_str(&db->set->parsed_hosts[conn->host_idx]),
		  error);
	/* e.g. a Galera node that isn't ready (1047): look elsewhere; but a
	   connection that worked and was then closed by the server (idle
	   timeout, KILL, a restart) says nothing about the host yet:
	   reconnecting finds out */
	if (!was_used || !db_mariadb_errno_is_dropped(err)) {
		db_mariadb_host_failed(db, conn->host_idx);
		/* the other idle connections to it would fail the retry */
		db_mariadb_pool_close_idle_to(db, conn->host_idx);
	}
	db_mariadb_conn_close(conn);
	if ((was_used || (db->set->parsed_hosts_count > 1 &&
			  db_mariadb_errno_is_server_failure(err))) &&
	    !req->retried) {
		/* the server may just have closed an idle connection, or
		   with several hosts the next one may answer (the failed
		   one is skipped now): try once more, first in line */
		req->retried = TRUE;
		DLLIST2_PREPEND(&db->queue_head, &db->queue_tail, req);
		db->queue_len++;
	} else {
		db_mariadb_request_finish(req, -1, NULL, t_strdup_printf(
			"Connection lost: %s", error));
	}
	db_mariadb_pool_dispatch(db);
}

static void db_mariadb_conn_execute(struct db_mariadb_conn *conn)
{
	struct db_mariadb_request *req = conn->request;

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
db_mariadb_conn_start_request(struct db_mariadb_conn *conn,
			      struct db_mariadb_request *req)
{
	struct db_mariadb_stmt *stmt;

	conn->state = DB_MARIADB_CONN_BUSY;
	conn->request = req;
	req->conn = conn;

	stmt = db_mariadb_stmt_find(&conn->stmts, req->query);
	if (stmt != NULL) {
		conn->stmt = stmt->stmt;
		db_mariadb_conn_execute(conn);
		return;
	}
	conn->stmt = mysql_stmt_init(conn->mysql);
	if (conn->stmt == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "mysql_stmt_init() failed");
	conn->step = DB_MARIADB_STEP_PREPARE;
	db_mariadb_conn_run(conn, TRUE, 0);
}

static void db_mariadb_conn_stored(struct db_mariadb_conn *conn)
{
	struct db_mariadb *db = conn->db;
	struct db_mariadb_request *req = conn->request;
	struct db_mariadb_row row;
	const char *error = NULL;
	unsigned int err;
	int ret;

	ret = db_mariadb_stmt_read_row(conn->stmt, req->pool, &row,
				       &err, &error);
	if (ret < 0 && db_mariadb_errno_is_connection_lost(err)) {
		db_mariadb_conn_request_failed(conn, err, error);
		return;
	}
	req = db_mariadb_conn_take_request(conn);
	conn->used = TRUE;
	conn->state = DB_MARIADB_CONN_IDLE;
	if (conn->host_idx > 0 && !db_mariadb_host_is_skipped(db, 0) &&
	    ioloop_time - conn->connected_at >= DB_MARIADB_HOST_RETRY_SECS) {
		/* reconnect (primary first) when next needed */
		db_mariadb_conn_close(conn);
	}
	db_mariadb_request_finish(req, ret, ret > 0 ? &row : NULL, error);
	db_mariadb_pool_dispatch(db);
}

/* A step finished: look at its result and take the next one. */
static void db_mariadb_conn_step_done(struct db_mariadb_conn *conn)
{
	const char *error;

	switch (conn->step) {
	case DB_MARIADB_STEP_CONNECT:
		if (conn->ret_mysql == NULL)
			db_mariadb_conn_connect_failed(conn);
		else
			db_mariadb_conn_connected(conn);
		return;
	case DB_MARIADB_STEP_PREPARE:
		if (conn->ret_int != 0) {
			unsigned int err = mysql_stmt_errno(conn->stmt);

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
			unsigned int err = mysql_stmt_errno(conn->stmt);

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

static void db_mariadb_conn_run(struct db_mariadb_conn *conn, bool start,
				int ready)
{
	const struct db_mariadb_settings *set = conn->db->set;
	const struct db_mariadb_host *host;
	int status = 0;

	/* libmariadb may close the socket in here */
	db_mariadb_conn_unwait(conn);
	switch (conn->step) {
	case DB_MARIADB_STEP_CONNECT:
		host = &set->parsed_hosts[conn->host_idx];
		status = start ?
			mysql_real_connect_start(&conn->ret_mysql, conn->mysql,
				host->socket_path != NULL ? NULL : host->name,
				set->user, set->password, set->dbname,
				host->socket_path != NULL ? 0 : host->port,
				host->socket_path, 0) :
			mysql_real_connect_cont(&conn->ret_mysql, conn->mysql,
						ready);
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
	if (status != 0)
		db_mariadb_conn_wait(conn, status);
	else T_BEGIN {
		db_mariadb_conn_step_done(conn);
	} T_END;
}

static void db_mariadb_request_timeout(struct db_mariadb_request *req)
{
	struct db_mariadb *db = req->db;
	struct db_mariadb_conn *conn = req->conn;
	const char *error;

	error = t_strdup_printf("Query timed out after %u s (%s)",
				db->set->query_timeout_secs,
				conn == NULL ? "waiting for a free connection" :
				conn->state == DB_MARIADB_CONN_CONNECTING ?
				"connecting" : "waiting for the server");
	if (conn != NULL) {
		/* its answer may still come: this connection is done */
		(void)db_mariadb_conn_take_request(conn);
		db_mariadb_conn_close(conn);
	} else {
		db_mariadb_queue_remove(db, req);
	}
	db_mariadb_request_finish(req, -1, NULL, error);
	db_mariadb_pool_dispatch(db);
}

/* Fail everything queued (nothing can serve it before the back-off ends). */
static void db_mariadb_pool_fail_queue(struct db_mariadb *db,
				       const char *error)
{
	struct db_mariadb_request *req;

	while ((req = db->queue_head) != NULL) {
		db_mariadb_queue_remove(db, req);
		db_mariadb_request_finish(req, -1, NULL, error);
	}
}

static void db_mariadb_pool_dispatch(struct db_mariadb *db)
{
	struct db_mariadb_request *req;
	struct db_mariadb_conn *conn, *closed = NULL;
	unsigned int i, connecting = 0, idle_or_busy = 0;
	const char *error;

	for (i = 0; i < db->set->pool_size && db->queue_head != NULL; i++) {
		conn = &db->conns[i];
		if (conn->state == DB_MARIADB_CONN_IDLE) {
			req = db->queue_head;
			db_mariadb_queue_remove(db, req);
			db_mariadb_conn_start_request(conn, req);
		}
	}
	if (db->queue_head == NULL)
		return;

	/* requests are waiting: open another connection if allowed */
	for (i = 0; i < db->set->pool_size; i++) {
		conn = &db->conns[i];
		if (conn->state == DB_MARIADB_CONN_CONNECTING)
			connecting++;
		else if (conn->state != DB_MARIADB_CONN_DISCONNECTED)
			idle_or_busy++;
		else if (closed == NULL)
			closed = conn;
	}
	if (closed == NULL || connecting >= db->queue_len)
		return;
	if (!db_mariadb_backoff_allows_connect(db, &error)) {
		if (connecting == 0 && idle_or_busy == 0)
			db_mariadb_pool_fail_queue(db, error);
		return;
	}
	/* this may connect (or fail) at once and dispatch by itself;
	   otherwise see whether yet another connection is wanted */
	db_mariadb_conn_connect(closed);
	if (closed->state == DB_MARIADB_CONN_CONNECTING)
		db_mariadb_pool_dispatch(db);
}

#undef db_mariadb_lookup_async
void db_mariadb_lookup_async(struct db_mariadb *db,
			     const struct db_mariadb_query *query,
			     const struct db_mariadb_user *user, pool_t pool,
			     db_mariadb_lookup_callback_t *callback,
			     void *context)
{
	struct db_mariadb_request *req;

	req = i_new(struct db_mariadb_request, 1);
	req->db = db;
	req->query = query;
	req->pool = pool;
	req->user.local = p_strdup(pool, user->local);
	req->user.domain = p_strdup(pool, user->domain);
	req->user.address = p_strdup(pool, user->address);
	req->callback = callback;
	req->context = context;
	if (db->queue_len >= db->set->queue_limit) {
		db_mariadb_request_finish(req, -1, NULL, t_strdup_printf(
			"Too many lookups waiting for the database "
			"(queue_limit = %u)", db->set->queue_limit));
		return;
	}
	req->to = timeout_add(db->set->query_timeout_secs * 1000,
			      db_mariadb_request_timeout, req);
	DLLIST2_APPEND(&db->queue_head, &db->queue_tail, req);
	db->queue_len++;
	db_mariadb_pool_dispatch(db);
}

void db_mariadb_pool_init(struct db_mariadb *db)
{
	unsigned int i;

	db->conns = p_new(db->pool, struct db_mariadb_conn,
			  db->set->pool_size);
	for (i = 0; i < db->set->pool_size; i++) {
		db->conns[i].db = db;
		db->conns[i].connect_errors = str_new(db->pool, 128);
		p_array_init(&db->conns[i].stmts, db->pool, 4);
	}
}

void db_mariadb_pool_close_idle(struct db_mariadb *db)
{
	unsigned int i;

	for (i = 0; i < db->set->pool_size; i++) {
		if (db->conns[i].state == DB_MARIADB_CONN_IDLE)
			db_mariadb_conn_close(&db->conns[i]);
	}
}

void db_mariadb_pool_deinit(struct db_mariadb *db)
{
	struct db_mariadb_request *req;
	unsigned int i;

	for (i = 0; i < db->set->pool_size; i++) {
		req = db_mariadb_conn_take_request(&db->conns[i]);
		db_mariadb_conn_close(&db->conns[i]);
		if (req != NULL) {
			db_mariadb_request_finish(req, -1, NULL,
				"Auth process is shutting down");
		}
	}
	db_mariadb_pool_fail_queue(db, "Auth process is shutting down");
}
