#ifndef USERDB_MARIADB_H
#define USERDB_MARIADB_H

/* The userdb's logic, the same for every Dovecot version; see
   passdb-mariadb.h. */

struct db_mariadb;
struct db_mariadb_query;

/* A userdb for a database (the reference is taken over), its user query
   and its iterate query (which must live as long as the userdb). */
struct userdb_module *
userdb_mariadb_create(pool_t pool, struct db_mariadb *db,
		      const struct db_mariadb_query *query,
		      const struct db_mariadb_query *iterate_query);

void userdb_mariadb_init(struct userdb_module *module);
void userdb_mariadb_deinit(struct userdb_module *module);
void userdb_mariadb_lookup(struct auth_request *request,
			   userdb_callback_t *callback);
struct userdb_iterate_context *
userdb_mariadb_iterate_init(struct auth_request *request,
			    userdb_iter_callback_t *callback, void *context);
void userdb_mariadb_iterate_next(struct userdb_iterate_context *ctx);
int userdb_mariadb_iterate_deinit(struct userdb_iterate_context *ctx);

#endif
