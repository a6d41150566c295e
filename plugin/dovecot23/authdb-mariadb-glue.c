/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* authdb-mariadb-glue - Dovecot 2.3's entry points

   Dovecot 2.3 gives a passdb or userdb one free string, args: the path of
   the module's settings file (dovecot-mariadb.conf.ext), read here in
   preinit, as root. Passdbs and userdbs that name the same file share its
   database, queries included. */

#include "auth-common.h"
#include "passdb.h"
#include "userdb.h"
#include "authdb-mariadb.h"
#include "db-mariadb.h"
#include "db-mariadb-settings.h"
#include "passdb-mariadb.h"
#include "userdb-mariadb.h"

/* The database of a settings file, reading the file on first use. A bad
   file is fatal. */
static struct db_mariadb *db_mariadb_init_file(const char *path)
{
	struct db_mariadb_settings *set;
	struct db_mariadb *db;
	const char *warning, *error;
	pool_t pool;

	db = db_mariadb_find(path);
	if (db != NULL)
		return db;
	if (path[0] == '\0') {
		i_fatal("mariadb: passdb/userdb args must name the "
			"configuration file, e.g. "
			"args = /etc/dovecot/dovecot-mariadb.conf.ext");
	}
	pool = pool_alloconly_create("db_mariadb", 4096);
	if (db_mariadb_settings_read(pool, path, &set, &warning, &error) < 0)
		i_fatal("mariadb: %s", error);
	db = db_mariadb_create(pool, path, set);
	if (warning != NULL && !worker)
		e_warning(db_mariadb_get_event(db), "%s", warning);
	return db;
}

static struct passdb_module *
passdb_mariadb_preinit(pool_t pool, const char *args)
{
	struct db_mariadb *db = db_mariadb_init_file(args);
	const struct db_mariadb_settings *set = db_mariadb_get_settings(db);

	return passdb_mariadb_create(pool, db, set->parsed_password_query,
				     set->parsed_rehash_query);
}

static struct userdb_module *
userdb_mariadb_preinit(pool_t pool, const char *args)
{
	struct db_mariadb *db = db_mariadb_init_file(args);
	const struct db_mariadb_settings *set = db_mariadb_get_settings(db);

	return userdb_mariadb_create(pool, db, set->parsed_user_query,
				     set->parsed_iterate_query);
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
