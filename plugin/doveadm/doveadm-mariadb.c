/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb - what every admin command does around its work

   A command reads the admin file (doveadm-mariadb-settings.c), connects
   with the write account, runs its statements, writes in one transaction,
   and reports a failure as an error on standard error and doveadm's exit
   code: 64 bad usage or a value the schema would refuse, 67 no such user,
   68 no such domain or alias, 65 not possible (exists already, still in
   use, a loop), 75 the database failed (a temporary failure: try again),
   78 the admin file. The commands run only on doveadm's command line, not
   through doveadm-server: they read passwords from the terminal and the
   admin file is for root. */

#include "lib.h"
#include "safe-memset.h"
#include "doveadm.h"
#include "db-mariadb-settings.h"
#include "doveadm-mariadb-settings.h"
#include "doveadm-mariadb.h"

#include <mysqld_error.h>

void doveadm_mariadb_fail(int exit_code, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	i_error("%s", t_strdup_vprintf(format, args));
	va_end(args);
	if (doveadm_exit_code == 0 || exit_code == EX_TEMPFAIL)
		doveadm_exit_code = exit_code;
}

const char *doveadm_mariadb_arg(struct doveadm_cmd_context *cctx,
				const char *name)
{
	const char *value;

	if (!doveadm_cmd_param_str(cctx, name, &value))
		help_ver2(cctx->cmd);
	return value;
}

struct doveadm_mariadb *doveadm_mariadb_init(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	const char *path, *error;
	pool_t pool;

	if (cctx->conn_type != DOVEADM_CONNECTION_TYPE_CLI) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
			"doveadm %s runs only on the command line",
			cctx->cmd->name);
		return NULL;
	}
	path = doveadm_mariadb_config_path(cctx, &error);
	if (path == NULL) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_CONFIG, "%s", error);
		return NULL;
	}
	pool = pool_alloconly_create("doveadm mariadb", 4096);
	adm = p_new(pool, struct doveadm_mariadb, 1);
	adm->cctx = cctx;
	adm->pool = pool;
	if (doveadm_mariadb_settings_read(pool, path, &adm->set, &error) < 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_CONFIG, "%s", error);
		pool_unref(&pool);
		return NULL;
	}
	adm->db = doveadm_mariadb_db_connect(adm->set->db, &error);
	if (adm->db == NULL) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_TEMPFAIL, "%s", error);
		doveadm_mariadb_deinit(&adm);
		return NULL;
	}
	return adm;
}

void doveadm_mariadb_deinit(struct doveadm_mariadb **_adm)
{
	struct doveadm_mariadb *adm = *_adm;
	pool_t pool = adm->pool;

	*_adm = NULL;
	doveadm_mariadb_db_close(&adm->db);
	/* the settings hold the database password */
	if (adm->set != NULL && adm->set->db->password[0] != '\0') {
		safe_memset((void *)adm->set->db->password, 0,
			    strlen(adm->set->db->password));
	}
	pool_unref(&pool);
}

/* A statement the database refused: what it means for the admin. The
   commands check all this first; these are the races with another
   admin. */
static int doveadm_mariadb_db_exit_code(unsigned int error)
{
	switch (error) {
	case ER_DUP_ENTRY:
	case ER_ROW_IS_REFERENCED:
	case ER_ROW_IS_REFERENCED_2:
	case ER_NO_REFERENCED_ROW:
	case ER_NO_REFERENCED_ROW_2:
		return DOVEADM_MARIADB_EX_NOTPOSSIBLE;
	case ER_CONSTRAINT_FAILED:
	case ER_DATA_TOO_LONG:
		return DOVEADM_MARIADB_EX_USAGE;
	default:
		/* connection lost, deadlock, lock wait timeout, a
		   read-only server, missing privileges: try again, or
		   have a look */
		return DOVEADM_MARIADB_EX_TEMPFAIL;
	}
}

static bool
doveadm_mariadb_db_failed(unsigned int error_code, const char *error)
{
	doveadm_mariadb_fail(doveadm_mariadb_db_exit_code(error_code),
			     "Database: %s", error);
	return FALSE;
}

bool doveadm_mariadb_begin(struct doveadm_mariadb *adm)
{
	const char *error;
	unsigned int error_code;

	if (doveadm_mariadb_db_begin(adm->db, &error_code, &error) < 0)
		return doveadm_mariadb_db_failed(error_code, error);
	return TRUE;
}

bool doveadm_mariadb_commit(struct doveadm_mariadb *adm)
{
	const char *error;
	unsigned int error_code;

	if (doveadm_mariadb_db_commit(adm->db, &error_code, &error) < 0)
		return doveadm_mariadb_db_failed(error_code, error);
	return TRUE;
}

bool doveadm_mariadb_exec(struct doveadm_mariadb *adm, const char *sql,
			  const char *const *params, uint64_t *changed_r)
{
	const char *error;
	unsigned int error_code;

	if (doveadm_mariadb_db_exec(adm->db, sql, params, changed_r,
				    &error_code, &error) < 0)
		return doveadm_mariadb_db_failed(error_code, error);
	return TRUE;
}

bool doveadm_mariadb_exec_commit(struct doveadm_mariadb *adm, const char *sql,
				 const char *const *params)
{
	uint64_t changed;

	return doveadm_mariadb_exec(adm, sql, params, &changed) &&
		doveadm_mariadb_commit(adm);
}

bool doveadm_mariadb_select(struct doveadm_mariadb *adm, const char *sql,
			    const char *const *params,
			    ARRAY_TYPE(db_mariadb_row) *rows_r)
{
	const char *error;
	unsigned int error_code;

	if (doveadm_mariadb_db_select(adm->db, sql, params, adm->pool, rows_r,
				      &error_code, &error) < 0)
		return doveadm_mariadb_db_failed(error_code, error);
	return TRUE;
}

int doveadm_mariadb_select_row(struct doveadm_mariadb *adm, const char *sql,
			       const char *const *params,
			       struct db_mariadb_row *row_r)
{
	ARRAY_TYPE(db_mariadb_row) rows;

	if (!doveadm_mariadb_select(adm, sql, params, &rows))
		return -1;
	/* every such query reads a primary key */
	i_assert(array_count(&rows) <= 1);
	if (array_count(&rows) == 0)
		return 0;
	*row_r = *array_front(&rows);
	return 1;
}

const char *doveadm_mariadb_row_value(const struct db_mariadb_row *row,
				      const char *name)
{
	const struct db_mariadb_field *field = db_mariadb_row_find(row, name);

	/* the commands' own queries name their columns */
	i_assert(field != NULL);
	return field->value == NULL ? "" : field->value;
}
