/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-params - a query's named parameters, bound for one user

   Every value is bound as a string parameter of a prepared statement,
   never put into the SQL text. libmariadb keeps the pointers of the bind
   array (not the array itself) until the statement has been executed:
   the lengths live in struct db_mariadb_params, which the caller keeps
   for as long as the execution runs. */

#include "lib.h"
#include "db-mariadb-user.h"
#include "db-mariadb-params.h"

const char *db_mariadb_param_value(const struct db_mariadb_user *user,
				   enum db_mariadb_param param)
{
	switch (param) {
	case DB_MARIADB_PARAM_LOCAL:
		return user->local;
	case DB_MARIADB_PARAM_DOMAIN:
		return user->domain;
	case DB_MARIADB_PARAM_USER:
		return user->address;
	case DB_MARIADB_PARAM_NEW_HASH:
		return user->new_hash;
	case DB_MARIADB_PARAM_OLD_HASH:
		return user->old_hash;
	}
	i_unreached();
}

int db_mariadb_params_bind(struct db_mariadb_params *params, MYSQL_STMT *st,
			   const struct db_mariadb_query *query,
			   const struct db_mariadb_user *user)
{
	MYSQL_BIND *bind;
	const char *value;
	unsigned int i;

	if (query->params_count == 0)
		return 0;
	/* the query parser refuses more */
	i_assert(query->params_count <= DB_MARIADB_QUERY_MAX_PARAMS);
	memset(params->binds, 0, sizeof(params->binds[0]) * query->params_count);
	for (i = 0; i < query->params_count; i++) {
		value = db_mariadb_param_value(user, query->params[i]);
		/* the settings refuse the hashes in other queries */
		i_assert(value != NULL);
		bind = &params->binds[i];
		params->lengths[i] = strlen(value);
		bind->buffer_type = MYSQL_TYPE_STRING;
		bind->buffer = (void *)value;
		bind->buffer_length = params->lengths[i];
		bind->length = &params->lengths[i];
	}
	return mysql_stmt_bind_param(st, params->binds) ? -1 : 0;
}
