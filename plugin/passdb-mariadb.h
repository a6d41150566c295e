#ifndef PASSDB_MARIADB_H
#define PASSDB_MARIADB_H

/* The passdb's logic, the same for every Dovecot version. The version's
   entry points (dovecot23/, dovecot24/) create it in preinit and put
   these functions into their passdb_module_interface. */

struct db_mariadb;
struct db_mariadb_query;

/* A passdb for a database (the reference is taken over), its password
   query and its rehash query (used with rehash = yes; both must live as
   long as the passdb). */
struct passdb_module *
passdb_mariadb_create(pool_t pool, struct db_mariadb *db,
		      const struct db_mariadb_query *query,
		      const struct db_mariadb_query *rehash_query);

void passdb_mariadb_init(struct passdb_module *module);
void passdb_mariadb_deinit(struct passdb_module *module);
void passdb_mariadb_verify_plain(struct auth_request *request,
				 const char *password,
				 verify_plain_callback_t *callback);
void passdb_mariadb_lookup_credentials(struct auth_request *request,
				       lookup_credentials_callback_t *callback);

#endif
