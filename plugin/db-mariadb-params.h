#ifndef DB_MARIADB_PARAMS_H
#define DB_MARIADB_PARAMS_H

#include "db-mariadb-query.h"

#include <mysql.h>

struct db_mariadb_user;

/* The bound parameters of one statement execution. libmariadb copies the
   MYSQL_BIND array but keeps its pointers (to the lengths and the values)
   and reads them during execute, so this must live until the execution
   has finished: in the struct of whoever runs the execution, never in
   the frame of the function that binds. */
struct db_mariadb_params {
	MYSQL_BIND binds[DB_MARIADB_QUERY_MAX_PARAMS];
	unsigned long lengths[DB_MARIADB_QUERY_MAX_PARAMS];
};

/* The user's value for a placeholder. */
const char *db_mariadb_param_value(const struct db_mariadb_user *user,
				   enum db_mariadb_param param);

/* Bind the user's values for the query into params and the statement.
   The user's strings too must live until the execution has finished.
   Returns 0, or -1 (mysql_stmt_errno() and _error() tell why). */
int db_mariadb_params_bind(struct db_mariadb_params *params, MYSQL_STMT *st,
			   const struct db_mariadb_query *query,
			   const struct db_mariadb_user *user);

#endif
