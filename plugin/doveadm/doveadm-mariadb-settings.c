/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-settings - the admin commands' own file

   The commands write through a database account of their own, whose
   password must reach doveadm (run by root) and nothing else: Dovecot
   hands its settings to every one of its processes (plugin { } to each
   mail process on 2.3, the whole configuration on 2.4). So the account is
   described in a file of its own, /etc/dovecot/dovecot-mariadb-admin.conf.ext
   by default, mode 0600, named by mariadb_admin_config in Dovecot's
   configuration. Its syntax is the module's settings file's
   (db-mariadb-settings.c, which parses it), with these keys:

     hosts, user, password, dbname        as in the module's file; user
                                          defaults to mail_admin; hosts
                                          should name the primary only
     tls, tls_ca, tls_cert, tls_key,
     tls_verify, connect_timeout,
     query_timeout                        as in the module's file
     bcrypt_cost                          cost of the hashes the commands
                                          make (4..31, default 12)

   Any other key is refused, as is the module's read-only account
   mail_user: the commands never use it. */

#include "lib.h"
#include "str-sanitize.h"
#include "db-mariadb-password.h"
#include "db-mariadb-settings.h"
#include "doveadm-mariadb-settings.h"

/* the keys of the module's file that describe the connection */
static const char *const doveadm_mariadb_db_keys[] = {
	"hosts", "user", "password", "dbname",
	"tls", "tls_ca", "tls_cert", "tls_key", "tls_verify",
	"connect_timeout", "query_timeout",
};

struct doveadm_mariadb_settings_context {
	pool_t pool;
	struct doveadm_mariadb_settings *set;
};

static int
doveadm_mariadb_settings_key(void *context, const char *key,
			     const char *value, const char **error_r)
{
	struct doveadm_mariadb_settings_context *ctx = context;
	unsigned int i, cost;

	for (i = 0; i < N_ELEMENTS(doveadm_mariadb_db_keys); i++) {
		if (strcmp(key, doveadm_mariadb_db_keys[i]) == 0) {
			return db_mariadb_settings_set(ctx->pool, ctx->set->db,
						       key, key, value,
						       error_r);
		}
	}
	if (strcmp(key, "bcrypt_cost") != 0) {
		*error_r = t_strdup_printf(
			"unknown setting '%s' (the admin file takes hosts, "
			"user, password, dbname, tls*, connect_timeout, "
			"query_timeout and bcrypt_cost)",
			str_sanitize(key, 64));
		return -1;
	}
	if (str_to_uint(value, &cost) < 0 ||
	    cost < DB_MARIADB_BCRYPT_COST_MIN ||
	    cost > DB_MARIADB_BCRYPT_COST_MAX) {
		*error_r = t_strdup_printf(
			"bcrypt_cost: invalid value '%s': expected a number "
			"between %u and %u", str_sanitize(value, 64),
			DB_MARIADB_BCRYPT_COST_MIN, DB_MARIADB_BCRYPT_COST_MAX);
		return -1;
	}
	ctx->set->bcrypt_cost = cost;
	return 0;
}

static void
doveadm_mariadb_settings_init(struct doveadm_mariadb_settings_context *ctx,
			      pool_t pool, const char *path)
{
	ctx->pool = pool;
	ctx->set = p_new(pool, struct doveadm_mariadb_settings, 1);
	ctx->set->db = db_mariadb_settings_new(pool, path);
	ctx->set->db->user = DOVEADM_MARIADB_DEFAULT_USER;
	ctx->set->bcrypt_cost = DOVEADM_MARIADB_DEFAULT_BCRYPT_COST;
}

static int
doveadm_mariadb_settings_finish(struct doveadm_mariadb_settings_context *ctx,
				struct doveadm_mariadb_settings **set_r,
				const char **error_r)
{
	struct db_mariadb_settings *db = ctx->set->db;
	const char *error;

	if (strcmp(db->user, DB_MARIADB_DEFAULT_USER) == 0) {
		*error_r = t_strdup_printf(
			"%s: user: %s is the module's read-only account; the "
			"commands write through their own (%s, "
			"sql/03-grants.sql)", db->path, DB_MARIADB_DEFAULT_USER,
			DOVEADM_MARIADB_DEFAULT_USER);
		return -1;
	}
	if (db_mariadb_settings_finish(ctx->pool, db, &error) < 0) {
		*error_r = t_strdup_printf("%s: %s", db->path, error);
		return -1;
	}
	*set_r = ctx->set;
	return 0;
}

int doveadm_mariadb_settings_parse(pool_t pool, const char *path,
				   const unsigned char *data, size_t size,
				   struct doveadm_mariadb_settings **set_r,
				   const char **error_r)
{
	struct doveadm_mariadb_settings_context ctx;

	*set_r = NULL;
	doveadm_mariadb_settings_init(&ctx, pool, path);
	if (db_mariadb_settings_parse_keys(path, data, size,
					   doveadm_mariadb_settings_key, &ctx,
					   error_r) < 0)
		return -1;
	return doveadm_mariadb_settings_finish(&ctx, set_r, error_r);
}

int doveadm_mariadb_settings_read(pool_t pool, const char *path,
				  struct doveadm_mariadb_settings **set_r,
				  const char **error_r)
{
	struct doveadm_mariadb_settings_context ctx;
	const char *warning;

	*set_r = NULL;
	doveadm_mariadb_settings_init(&ctx, pool, path);
	if (db_mariadb_settings_read_keys(path, doveadm_mariadb_settings_key,
					  &ctx, &warning, error_r) < 0)
		return -1;
	if (warning != NULL) {
		/* readable by everyone: the password of an account that
		   can change every user's */
		*error_r = t_strdup_printf("%s is readable by every user on "
			"this host and holds the password of the database "
			"account that changes users: chmod 0600 it", path);
		return -1;
	}
	return doveadm_mariadb_settings_finish(&ctx, set_r, error_r);
}
