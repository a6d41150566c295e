/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* authdb-mariadb-glue - Dovecot 2.4's entry points

   preinit reads the module's settings from Dovecot's settings system
   (mariadb-settings.c) through the event Dovecot gives it, which carries
   the passdb's or userdb's named filters: the top-level mariadb_* keys,
   overridden inside passdb mariadb { } or userdb mariadb { }. Passdbs and
   userdbs whose connection settings are the same share one database;
   each keeps its own queries. Their fields { } are checked for what
   Dovecot 2.4 would silently misread, and become part of the cache key,
   as for Dovecot's own drivers.

   Dovecot overwrites a module's blocking flag with use_worker after
   preinit: init() adds mariadb_blocking to it (passdb-mariadb.c). */

#include "auth-common.h"
#include "auth-cache.h"
#include "auth-settings.h"
#include "settings.h"
#include "passdb.h"
#include "userdb.h"
#include "authdb-compat.h"
#include "authdb-mariadb.h"
#include "db-mariadb.h"
#include "db-mariadb-settings.h"
#include "passdb-mariadb.h"
#include "userdb-mariadb.h"
#include "mariadb-settings.h"

/* This passdb's or userdb's view of the settings (its queries), and the
   database for its connection settings, shared when they are the same. */
static int
authdb_mariadb_settings(pool_t pool, struct event *event,
			struct db_mariadb_settings **set_r,
			struct db_mariadb **db_r, const char **error_r)
{
	const struct db_mariadb_dovecot_settings *in;
	struct db_mariadb_settings *db_set;
	const char *key;
	pool_t db_pool;
	int ret = 0;

	if (settings_get(event, &db_mariadb_setting_parser_info,
			 SETTINGS_GET_FLAG_NO_EXPAND, &in, error_r) < 0)
		return -1;
	if (db_mariadb_settings_from_dovecot(pool, in, set_r, error_r) < 0) {
		settings_free(in);
		return -1;
	}
	key = db_mariadb_settings_db_key(in);
	*db_r = db_mariadb_find(key);
	if (*db_r == NULL) {
		db_pool = pool_alloconly_create("db_mariadb", 4096);
		if (db_mariadb_settings_from_dovecot(db_pool, in, &db_set,
						     error_r) < 0) {
			pool_unref(&db_pool);
			ret = -1;
		} else {
			*db_r = db_mariadb_create(db_pool, key, db_set);
		}
	}
	settings_free(in);
	return ret;
}

static const char *authdb_mariadb_name(struct event *event, const char *kind)
{
	const char *name = event_find_field_recursive_str(event, kind);

	return name != NULL ? name : "mariadb";
}

static int
passdb_mariadb_preinit(pool_t pool, struct event *event,
#if DOVECOT_PREREQ(2, 4, 3)
		       const struct passdb_parameters *params ATTR_UNUSED,
#endif
		       struct passdb_module **module_r, const char **error_r)
{
	const struct auth_passdb_post_settings *post_set;
	struct db_mariadb_settings *set;
	struct passdb_module *module;
	struct db_mariadb *db;

	if (settings_get(event, &auth_passdb_post_setting_parser_info,
			 SETTINGS_GET_FLAG_NO_CHECK |
			 SETTINGS_GET_FLAG_NO_EXPAND, &post_set, error_r) < 0)
		return -1;
	if (db_mariadb_fields_check("passdb",
				    authdb_mariadb_name(event, "passdb"),
				    &post_set->fields, error_r) < 0 ||
	    authdb_mariadb_settings(pool, event, &set, &db, error_r) < 0) {
		settings_free(post_set);
		return -1;
	}
	module = passdb_mariadb_create(pool, db, set->parsed_password_query,
				       set->parsed_rehash_query);
	module->default_cache_key =
		auth_cache_parse_key_and_fields(pool, AUTHDB_CACHE_KEY_USER,
						&post_set->fields, "mariadb");
	settings_free(post_set);
	*module_r = module;
	return 0;
}

static int
userdb_mariadb_preinit(pool_t pool, struct event *event,
#if DOVECOT_PREREQ(2, 4, 3)
		       const struct userdb_parameters *params ATTR_UNUSED,
#endif
		       struct userdb_module **module_r, const char **error_r)
{
	const struct auth_userdb_post_settings *post_set;
	struct db_mariadb_settings *set;
	struct userdb_module *module;
	struct db_mariadb *db;

	if (settings_get(event, &auth_userdb_post_setting_parser_info,
			 SETTINGS_GET_FLAG_NO_CHECK |
			 SETTINGS_GET_FLAG_NO_EXPAND, &post_set, error_r) < 0)
		return -1;
	if (db_mariadb_fields_check("userdb",
				    authdb_mariadb_name(event, "userdb"),
				    &post_set->fields, error_r) < 0 ||
	    authdb_mariadb_settings(pool, event, &set, &db, error_r) < 0) {
		settings_free(post_set);
		return -1;
	}
	module = userdb_mariadb_create(pool, db, set->parsed_user_query,
				       set->parsed_iterate_query);
	module->default_cache_key =
		auth_cache_parse_key_and_fields(pool, AUTHDB_CACHE_KEY_USER,
						&post_set->fields, "mariadb");
	settings_free(post_set);
	*module_r = module;
	return 0;
}

struct passdb_module_interface passdb_mariadb = {
	.name = "mariadb",

	.preinit = passdb_mariadb_preinit,
	.init = passdb_mariadb_init,
	.deinit = passdb_mariadb_deinit,

	.verify_plain = passdb_mariadb_verify_plain,
	.lookup_credentials = passdb_mariadb_lookup_credentials,
};

struct userdb_module_interface userdb_mariadb = {
	.name = "mariadb",

	.preinit = userdb_mariadb_preinit,
	.init = userdb_mariadb_init,
	.deinit = userdb_mariadb_deinit,

	.lookup = userdb_mariadb_lookup,

	.iterate_init = userdb_mariadb_iterate_init,
	.iterate_next = userdb_mariadb_iterate_next,
	.iterate_deinit = userdb_mariadb_iterate_deinit,
};
