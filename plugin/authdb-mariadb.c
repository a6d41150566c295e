/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* authdb-mariadb - module entry points

   Dovecot's auth process loads libauthdb_mariadb.so when a passdb or userdb
   says driver = mariadb, checks authdb_mariadb_version against its own ABI
   and calls authdb_mariadb_init(), which registers the passdb and the
   userdb. Nothing else is exported. */

#include "auth-common.h"
#include "passdb.h"
#include "userdb.h"
#include "authdb-mariadb.h"
#include "db-mariadb.h"

const char *authdb_mariadb_version = DOVECOT_ABI_VERSION;

void authdb_mariadb_init(void)
{
	passdb_register_module(&passdb_mariadb);
	userdb_register_module(&userdb_mariadb);
}

void authdb_mariadb_deinit(void)
{
	passdb_unregister_module(&passdb_mariadb);
	userdb_unregister_module(&userdb_mariadb);
	db_mariadb_self_check_deinit();
}
