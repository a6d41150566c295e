#ifndef DOVEADM_MARIADB_DB_H
#define DOVEADM_MARIADB_DB_H

#include "array.h"
#include "db-mariadb-row.h"

struct db_mariadb_settings;

ARRAY_DEFINE_TYPE(db_mariadb_row, struct db_mariadb_row);

/* One blocking connection of the admin commands. */
struct doveadm_mariadb_db;

/* Connect to the first host that answers, in the configured order.
   Returns the connection, or NULL with the reason in error_r. */
struct doveadm_mariadb_db *
doveadm_mariadb_db_connect(const struct db_mariadb_settings *set,
			   const char **error_r);
/* Roll back what was not committed, and close. */
void doveadm_mariadb_db_close(struct doveadm_mariadb_db **db);

/* Every function below returns 0, or -1 with MariaDB's error number
   (0 if none applies) in errno_r and the reason in error_r. */
int doveadm_mariadb_db_begin(struct doveadm_mariadb_db *db,
			     unsigned int *errno_r, const char **error_r);
int doveadm_mariadb_db_commit(struct doveadm_mariadb_db *db,
			      unsigned int *errno_r, const char **error_r);

/* Run a statement, its parameters (a NULL-terminated list of strings)
   bound to its '?'s, and return how many rows it changed. */
int doveadm_mariadb_db_exec(struct doveadm_mariadb_db *db, const char *sql,
			    const char *const *params, uint64_t *changed_r,
			    unsigned int *errno_r, const char **error_r);
/* Run a query the same way and return its rows (strings from pool). */
int doveadm_mariadb_db_select(struct doveadm_mariadb_db *db, const char *sql,
			      const char *const *params, pool_t pool,
			      ARRAY_TYPE(db_mariadb_row) *rows_r,
			      unsigned int *errno_r, const char **error_r);

#endif
