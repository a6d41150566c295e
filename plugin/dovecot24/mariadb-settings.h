#ifndef MARIADB_SETTINGS_H
#define MARIADB_SETTINGS_H

/* Dovecot 2.4: the module's settings in Dovecot's settings system.
   Compiled into the auth module and into the settings module that
   doveconf and the config process load (which may reference nothing of
   the auth process). */

#include "array.h"

struct db_mariadb_settings;

/* Every value as text, parsed by db-mariadb-settings.c like the 2.3
   settings file's, so that both versions accept the same values and say
   the same about bad ones. */
struct db_mariadb_dovecot_settings {
	pool_t pool;

	const char *hosts, *user, *password, *dbname;
	const char *tls, *tls_ca, *tls_cert, *tls_key, *tls_verify;
	const char *connect_timeout, *query_timeout;
	const char *blocking, *pool_size, *queue_limit;
	const char *unknown_user_cost, *bcrypt_max_cost, *allow_weak_schemes;
	const char *rehash, *rehash_cost, *rehash_user, *rehash_password;
	const char *login_cache, *login_cache_size, *login_cache_ttl;

	/* passdb_mariadb_query, passdb_mariadb_rehash_query,
	   userdb_mariadb_query and userdb_mariadb_iterate_query: query and
	   rehash_query inside the passdb mariadb { } block, query and
	   iterate_query inside userdb mariadb { } */
	const char *password_query, *rehash_query, *user_query, *iterate_query;
};

/* "authdb_mariadb": the settings above */
extern const struct setting_parser_info db_mariadb_setting_parser_info;
/* "authdb_mariadb_fields": for checking only, never read: the name,
   driver and fields { } of every passdb and userdb, so that doveconf
   refuses Dovecot 2.3 templates in those of the mariadb driver */
extern const struct setting_parser_info db_mariadb_fields_setting_parser_info;

/* Convert them to the module's own settings, checked as a whole, with
   the queries parsed. Returns 0, or -1 with the reason (naming the
   setting) in error_r. */
int db_mariadb_settings_from_dovecot(pool_t pool,
				     const struct db_mariadb_dovecot_settings *in,
				     struct db_mariadb_settings **set_r,
				     const char **error_r);
/* The same for two settings that may share one database (their
   connections and caches: everything but the queries). */
const char *
db_mariadb_settings_db_key(const struct db_mariadb_dovecot_settings *in);

/* Refuse what Dovecot 2.4 would ignore or misread in the fields { } of a
   passdb or userdb (kind) named name: a Dovecot 2.3 variable (%d) that
   stays literal, and the userdb field "mail" that is gone. Returns 0, or
   -1 with a message that says what to write instead. */
int db_mariadb_fields_check(const char *kind, const char *name,
			    const ARRAY_TYPE(const_string) *fields,
			    const char **error_r);

#endif
