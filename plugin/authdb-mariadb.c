/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* authdb-mariadb - module entry points

   Dovecot's auth process loads libauthdb_mariadb.so when a passdb or userdb
   says driver = mariadb, checks authdb_mariadb_version against its own ABI
   and calls authdb_mariadb_init(), which registers the passdb, the userdb
   and the password scheme auth-workers use to check bcrypt hashes for the
   master. Nothing else is exported. */

#include "auth-common.h"
#include "passdb.h"
#include "password-scheme.h"
#include "userdb.h"
#include "authdb-mariadb.h"
#include "db-mariadb.h"
#include "db-mariadb-password.h"

const char *authdb_mariadb_version = DOVECOT_ABI_VERSION;

static int
authdb_mariadb_scheme_verify(const char *plaintext,
			     const struct password_generate_params *params ATTR_UNUSED,
			     const unsigned char *raw_password, size_t size,
			     const char **error_r)
{
	/* Only auth-workers verify with this scheme, for an auth master
	   with blocking = no (PASSW): from now on this worker runs below the
	   master, which answers userdb lookups and cached logins itself. With
	   blocking = yes workers check in passdb-mariadb.c instead and keep
	   their priority: they run the lookups too. */
	if (worker)
		db_mariadb_password_lower_priority();
	return db_mariadb_password_verify(plaintext,
					  t_strndup(raw_password, size),
					  error_r);
}

static void
authdb_mariadb_scheme_generate(const char *plaintext,
			       const struct password_generate_params *params,
			       const unsigned char **raw_password_r,
			       size_t *size_r)
{
	unsigned int cost = params->rounds == 0 ?
		DB_MARIADB_BCRYPT_DEFAULT_COST : params->rounds;
	const char *hash, *error;

	if (db_mariadb_password_generate(plaintext, cost, &hash, &error) < 0)
		i_fatal(DB_MARIADB_WORKER_SCHEME": %s", error);
	*raw_password_r = (const unsigned char *)hash;
	*size_r = strlen(hash);
}

/* bcrypt through libxcrypt's crypt_rn(), in auth-workers only */
static const struct password_scheme authdb_mariadb_scheme = {
	.name = DB_MARIADB_WORKER_SCHEME,
	.default_encoding = PW_ENCODING_NONE,
	.password_verify = authdb_mariadb_scheme_verify,
	.password_generate = authdb_mariadb_scheme_generate,
};

void authdb_mariadb_init(void)
{
	password_scheme_register(&authdb_mariadb_scheme);
	passdb_register_module(&passdb_mariadb);
	userdb_register_module(&userdb_mariadb);
}

void authdb_mariadb_deinit(void)
{
	passdb_unregister_module(&passdb_mariadb);
	userdb_unregister_module(&userdb_mariadb);
	password_scheme_unregister(&authdb_mariadb_scheme);
	db_mariadb_self_check_deinit();
}
