/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-db - the admin commands' database connection

   doveadm runs one command and exits: a plain blocking connection, with
   the options of the module's connections (db-mariadb-conn.c: timeouts,
   utf8mb4, TLS, max_statement_time) to the first host that answers.
   Every statement is prepared with '?' placeholders and its values are
   bound as strings, never put into the SQL text. A command's writes are
   one transaction: what is not committed when the connection is closed is
   rolled back. */

#include "lib.h"
#include "str.h"
#include "db-mariadb-settings.h"
#include "db-mariadb-conn.h"
#include "doveadm-mariadb-db.h"

#define DOVEADM_MARIADB_DB_MAX_PARAMS 8

struct doveadm_mariadb_db {
	MYSQL *mysql;
	bool in_transaction;
};

struct doveadm_mariadb_db *
doveadm_mariadb_db_connect(const struct db_mariadb_settings *set,
			   const char **error_r)
{
	struct doveadm_mariadb_db *db;
	struct db_mariadb_connect_args args;
	string_t *errors = t_str_new(128);
	unsigned int i;
	MYSQL *mysql;

	for (i = 0; i < set->parsed_hosts_count; i++) {
		/* a host name is resolved by libmariadb: doveadm may block */
		db_mariadb_connect_args(set, &set->parsed_hosts[i], NULL,
					&args);
		mysql = db_mariadb_mysql_init(set, FALSE);
		if (mysql_real_connect(mysql, args.host, args.user,
				       args.password, args.dbname, args.port,
				       args.unix_socket, 0) != NULL) {
			db = i_new(struct doveadm_mariadb_db, 1);
			db->mysql = mysql;
			return db;
		}
		if (str_len(errors) > 0)
			str_append(errors, ", ");
		str_append(errors, db_mariadb_connect_error(
			set, &set->parsed_hosts[i], NULL, mysql));
		mysql_close(mysql);
	}
	*error_r = t_strdup_printf("Could not connect to the database: %s",
				   str_c(errors));
	return NULL;
}

void doveadm_mariadb_db_close(struct doveadm_mariadb_db **_db)
{
	struct doveadm_mariadb_db *db = *_db;

	if (db == NULL)
		return;
	*_db = NULL;
	if (db->in_transaction)
		(void)mysql_rollback(db->mysql);
	mysql_close(db->mysql);
	i_free(db);
}

static int
doveadm_mariadb_db_fail(struct doveadm_mariadb_db *db, const char *what,
			unsigned int *errno_r, const char **error_r)
{
	*errno_r = mysql_errno(db->mysql);
	*error_r = t_strdup_printf("%s failed: %u: %s", what,
				   mysql_errno(db->mysql),
				   mysql_error(db->mysql));
	return -1;
}

int doveadm_mariadb_db_begin(struct doveadm_mariadb_db *db,
			     unsigned int *errno_r, const char **error_r)
{
	i_assert(!db->in_transaction);
	if (mysql_query(db->mysql, "START TRANSACTION") != 0)
		return doveadm_mariadb_db_fail(db, "START TRANSACTION",
					       errno_r, error_r);
	db->in_transaction = TRUE;
	return 0;
}

int doveadm_mariadb_db_commit(struct doveadm_mariadb_db *db,
			      unsigned int *errno_r, const char **error_r)
{
	i_assert(db->in_transaction);
	db->in_transaction = FALSE;
	if (mysql_commit(db->mysql) != 0)
		return doveadm_mariadb_db_fail(db, "COMMIT", errno_r, error_r);
	return 0;
}

static int
doveadm_mariadb_stmt_fail(MYSQL_STMT *st, const char *what,
			  unsigned int *errno_r, const char **error_r)
{
	*errno_r = mysql_stmt_errno(st);
	*error_r = t_strdup_printf("%s failed: %u: %s", what,
				   mysql_stmt_errno(st), mysql_stmt_error(st));
	(void)mysql_stmt_close(st);
	return -1;
}

/* Prepare sql and run it with the parameters. Returns the statement, or
   NULL with the reason (the statement closed). */
static MYSQL_STMT *
doveadm_mariadb_db_run(struct doveadm_mariadb_db *db, const char *sql,
		       const char *const *params, unsigned int *errno_r,
		       const char **error_r)
{
	MYSQL_BIND binds[DOVEADM_MARIADB_DB_MAX_PARAMS];
	unsigned long lengths[DOVEADM_MARIADB_DB_MAX_PARAMS];
	unsigned int i, count = str_array_length(params);
	MYSQL_STMT *st;

	i_assert(count <= DOVEADM_MARIADB_DB_MAX_PARAMS);
	st = mysql_stmt_init(db->mysql);
	if (st == NULL)
		i_fatal_status(FATAL_OUTOFMEM, "mysql_stmt_init() failed");
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		(void)doveadm_mariadb_stmt_fail(st, "Preparing a query",
						errno_r, error_r);
		return NULL;
	}
	/* the statements are the commands' own: a mismatch is a bug */
	i_assert(mysql_stmt_param_count(st) == count);
	memset(binds, 0, sizeof(binds));
	for (i = 0; i < count; i++) {
		lengths[i] = strlen(params[i]);
		binds[i].buffer_type = MYSQL_TYPE_STRING;
		binds[i].buffer = (void *)params[i];
		binds[i].buffer_length = lengths[i];
		binds[i].length = &lengths[i];
	}
	/* the binds and lengths are read until execute returns */
	if ((count > 0 && mysql_stmt_bind_param(st, binds)) ||
	    mysql_stmt_execute(st) != 0) {
		(void)doveadm_mariadb_stmt_fail(st, "The query", errno_r,
						error_r);
		return NULL;
	}
	return st;
}

int doveadm_mariadb_db_exec(struct doveadm_mariadb_db *db, const char *sql,
			    const char *const *params, uint64_t *changed_r,
			    unsigned int *errno_r, const char **error_r)
{
	MYSQL_STMT *st;

	st = doveadm_mariadb_db_run(db, sql, params, errno_r, error_r);
	if (st == NULL)
		return -1;
	*changed_r = mysql_stmt_affected_rows(st);
	(void)mysql_stmt_close(st);
	return 0;
}

int doveadm_mariadb_db_select(struct doveadm_mariadb_db *db, const char *sql,
			      const char *const *params, pool_t pool,
			      ARRAY_TYPE(db_mariadb_row) *rows_r,
			      unsigned int *errno_r, const char **error_r)
{
	struct db_mariadb_row row;
	MYSQL_STMT *st;
	MYSQL_RES *meta;
	int ret;

	st = doveadm_mariadb_db_run(db, sql, params, errno_r, error_r);
	if (st == NULL)
		return -1;
	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL || mysql_stmt_store_result(st) != 0) {
		if (meta != NULL)
			mysql_free_result(meta);
		return doveadm_mariadb_stmt_fail(st, "Reading the result",
						 errno_r, error_r);
	}
	p_array_init(rows_r, pool, 16);
	while ((ret = db_mariadb_stmt_fetch_row(st, meta, pool, &row)) > 0)
		array_push_back(rows_r, &row);
	mysql_free_result(meta);
	if (ret < 0) {
		return doveadm_mariadb_stmt_fail(st, "Fetching a row",
						 errno_r, error_r);
	}
	(void)mysql_stmt_close(st);
	return 0;
}
