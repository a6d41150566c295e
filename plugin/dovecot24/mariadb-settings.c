/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* mariadb-settings - the module's settings in Dovecot 2.4

   With Dovecot 2.4 the module is configured like Dovecot's own drivers:

     mariadb_hosts = 127.0.0.1:3306
     mariadb_user = mail_user
     mariadb_password = ...
     passdb mariadb {
     }
     userdb mariadb {
       fields {
         home = /var/vmail/%{user | domain}/%{user | username}
       }
     }

   Every key of the 2.3 settings file becomes mariadb_KEY, at the top level
   or inside a passdb mariadb { } or userdb mariadb { } block (named
   filters); the queries are query in passdb mariadb { } and query and
   iterate_query in userdb mariadb { } (passdb_mariadb_query,
   userdb_mariadb_query, userdb_mariadb_iterate_query), as for Dovecot's
   sql driver, and the rehash query is rehash_query in passdb mariadb { }
   (passdb_mariadb_rehash_query). The 2.3 templates (home, mail, uid,
   gid) are Dovecot's own fields { } now. Values are kept as text (never
   %-expanded: SQL has its own %) and parsed by db-mariadb-settings.c, so
   that a bad value is refused by doveconf with the same message as on
   2.3.

   This file is also linked into the settings module that doveconf and
   the config process load: it may reference libdovecot and the pure
   settings code only. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "str-sanitize.h"
#include "settings-parser.h"
#include "db-mariadb-settings.h"
#include "mariadb-settings.h"

#include <ctype.h>

struct db_mariadb_setting_map {
	/* Dovecot 2.4's key, the settings file's key */
	const char *dovecot_key, *key;
	size_t offset;
};

#undef DEF
#define DEF(key, name) \
	SETTING_DEFINE_STRUCT_STR_NOVARS(key, name, \
		struct db_mariadb_dovecot_settings)
static const struct setting_define db_mariadb_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_mariadb", },
	{ .type = SET_FILTER_NAME, .key = "userdb_mariadb", },

	DEF("mariadb_hosts", hosts),
	DEF("mariadb_user", user),
	DEF("mariadb_password", password),
	DEF("mariadb_dbname", dbname),
	DEF("mariadb_tls", tls),
	DEF("mariadb_tls_ca", tls_ca),
	DEF("mariadb_tls_cert", tls_cert),
	DEF("mariadb_tls_key", tls_key),
	DEF("mariadb_tls_verify", tls_verify),
	DEF("mariadb_connect_timeout", connect_timeout),
	DEF("mariadb_query_timeout", query_timeout),
	DEF("mariadb_blocking", blocking),
	DEF("mariadb_pool_size", pool_size),
	DEF("mariadb_queue_limit", queue_limit),
	DEF("mariadb_unknown_user_cost", unknown_user_cost),
	DEF("mariadb_bcrypt_max_cost", bcrypt_max_cost),
	DEF("mariadb_allow_weak_schemes", allow_weak_schemes),
	DEF("mariadb_rehash", rehash),
	DEF("mariadb_rehash_cost", rehash_cost),
	DEF("mariadb_rehash_user", rehash_user),
	DEF("mariadb_rehash_password", rehash_password),
	DEF("mariadb_login_cache", login_cache),
	DEF("mariadb_login_cache_size", login_cache_size),
	DEF("mariadb_login_cache_ttl", login_cache_ttl),
	DEF("passdb_mariadb_query", password_query),
	DEF("passdb_mariadb_rehash_query", rehash_query),
	DEF("userdb_mariadb_query", user_query),
	DEF("userdb_mariadb_iterate_query", iterate_query),

	SETTING_DEFINE_LIST_END
};

static const struct db_mariadb_dovecot_settings db_mariadb_default_settings = {
	.hosts = DB_MARIADB_DEFAULT_HOSTS,
	.user = DB_MARIADB_DEFAULT_USER,
	.password = DB_MARIADB_DEFAULT_PASSWORD,
	.dbname = DB_MARIADB_DEFAULT_DBNAME,
	.tls = DB_MARIADB_DEFAULT_TLS,
	.tls_ca = DB_MARIADB_DEFAULT_TLS_FILE,
	.tls_cert = DB_MARIADB_DEFAULT_TLS_FILE,
	.tls_key = DB_MARIADB_DEFAULT_TLS_FILE,
	.tls_verify = DB_MARIADB_DEFAULT_TLS_VERIFY,
	.connect_timeout = DB_MARIADB_DEFAULT_CONNECT_TIMEOUT,
	.query_timeout = DB_MARIADB_DEFAULT_QUERY_TIMEOUT,
	.blocking = DB_MARIADB_DEFAULT_BLOCKING,
	.pool_size = DB_MARIADB_DEFAULT_POOL_SIZE,
	.queue_limit = DB_MARIADB_DEFAULT_QUEUE_LIMIT,
	.unknown_user_cost = DB_MARIADB_DEFAULT_UNKNOWN_USER_COST,
	.bcrypt_max_cost = DB_MARIADB_DEFAULT_BCRYPT_MAX_COST,
	.allow_weak_schemes = DB_MARIADB_DEFAULT_ALLOW_WEAK_SCHEMES,
	.rehash = DB_MARIADB_DEFAULT_REHASH,
	.rehash_cost = DB_MARIADB_DEFAULT_REHASH_COST,
	.rehash_user = DB_MARIADB_DEFAULT_REHASH_USER,
	.rehash_password = DB_MARIADB_DEFAULT_REHASH_PASSWORD,
	.login_cache = DB_MARIADB_DEFAULT_LOGIN_CACHE,
	.login_cache_size = DB_MARIADB_DEFAULT_LOGIN_CACHE_SIZE,
	.login_cache_ttl = DB_MARIADB_DEFAULT_LOGIN_CACHE_TTL,
	.password_query = DB_MARIADB_DEFAULT_PASSWORD_QUERY,
	.rehash_query = DB_MARIADB_DEFAULT_REHASH_QUERY,
	.user_query = DB_MARIADB_DEFAULT_USER_QUERY,
	.iterate_query = DB_MARIADB_DEFAULT_ITERATE_QUERY,
};

/* passdbs verify bcrypt hashes: the scheme of a bare stored value */
static const struct setting_keyvalue db_mariadb_default_settings_keyvalue[] = {
	{ "passdb_mariadb/passdb_default_password_scheme", "BLF-CRYPT" },
	{ NULL, NULL }
};

#define MAP(dovecot_key, key, name) \
	{ dovecot_key, key, offsetof(struct db_mariadb_dovecot_settings, name) }
static const struct db_mariadb_setting_map db_mariadb_setting_map[] = {
	MAP("mariadb_hosts", "hosts", hosts),
	MAP("mariadb_user", "user", user),
	MAP("mariadb_password", "password", password),
	MAP("mariadb_dbname", "dbname", dbname),
	MAP("mariadb_tls", "tls", tls),
	MAP("mariadb_tls_ca", "tls_ca", tls_ca),
	MAP("mariadb_tls_cert", "tls_cert", tls_cert),
	MAP("mariadb_tls_key", "tls_key", tls_key),
	MAP("mariadb_tls_verify", "tls_verify", tls_verify),
	MAP("mariadb_connect_timeout", "connect_timeout", connect_timeout),
	MAP("mariadb_query_timeout", "query_timeout", query_timeout),
	MAP("mariadb_blocking", "blocking", blocking),
	MAP("mariadb_pool_size", "pool_size", pool_size),
	MAP("mariadb_queue_limit", "queue_limit", queue_limit),
	MAP("mariadb_unknown_user_cost", "unknown_user_cost", unknown_user_cost),
	MAP("mariadb_bcrypt_max_cost", "bcrypt_max_cost", bcrypt_max_cost),
	MAP("mariadb_allow_weak_schemes", "allow_weak_schemes",
	    allow_weak_schemes),
	MAP("mariadb_rehash", "rehash", rehash),
	MAP("mariadb_rehash_cost", "rehash_cost", rehash_cost),
	MAP("mariadb_rehash_user", "rehash_user", rehash_user),
	MAP("mariadb_rehash_password", "rehash_password", rehash_password),
	MAP("mariadb_login_cache", "login_cache", login_cache),
	MAP("mariadb_login_cache_size", "login_cache_size", login_cache_size),
	MAP("mariadb_login_cache_ttl", "login_cache_ttl", login_cache_ttl),
	MAP("passdb_mariadb_query", "password_query", password_query),
	MAP("passdb_mariadb_rehash_query", "rehash_query", rehash_query),
	MAP("userdb_mariadb_query", "user_query", user_query),
	MAP("userdb_mariadb_iterate_query", "iterate_query", iterate_query),
};

static const char *
db_mariadb_setting_value(const struct db_mariadb_dovecot_settings *in,
			 const struct db_mariadb_setting_map *map)
{
	return *(const char *const *)CONST_PTR_OFFSET(in, map->offset);
}

/* A message of the whole-settings checks names the settings file's key
   ("password_query: ..."): name Dovecot 2.4's. */
static const char *db_mariadb_settings_error_rename(const char *error)
{
	const char *key, *suffix;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(db_mariadb_setting_map); i++) {
		key = db_mariadb_setting_map[i].key;
		if (str_begins(error, key, &suffix) && suffix[0] == ':') {
			return t_strconcat(db_mariadb_setting_map[i].dovecot_key,
					   suffix, NULL);
		}
	}
	return error;
}

int db_mariadb_settings_from_dovecot(pool_t pool,
				     const struct db_mariadb_dovecot_settings *in,
				     struct db_mariadb_settings **set_r,
				     const char **error_r)
{
	struct db_mariadb_settings *set;
	const char *error;
	unsigned int i;

	*set_r = NULL;
	set = db_mariadb_settings_new(pool, "Dovecot's settings");
	for (i = 0; i < N_ELEMENTS(db_mariadb_setting_map); i++) {
		if (db_mariadb_settings_set(pool, set,
				db_mariadb_setting_map[i].key,
				db_mariadb_setting_map[i].dovecot_key,
				db_mariadb_setting_value(in,
					&db_mariadb_setting_map[i]),
				error_r) < 0)
			return -1;
	}
	/* the 2.3 file's userdb templates: fields { } in 2.4 */
	set->home = set->mail = set->uid = set->gid = "";
	if (db_mariadb_settings_finish(pool, set, &error) < 0) {
		*error_r = db_mariadb_settings_error_rename(error);
		return -1;
	}
	*set_r = set;
	return 0;
}

const char *
db_mariadb_settings_db_key(const struct db_mariadb_dovecot_settings *in)
{
	string_t *key = t_str_new(256);
	unsigned int i;

	/* the queries belong to each passdb and userdb */
	for (i = 0; i < N_ELEMENTS(db_mariadb_setting_map); i++) {
		if (str_begins_with(db_mariadb_setting_map[i].dovecot_key,
				    "mariadb_")) {
			str_append(key, db_mariadb_setting_value(in,
				&db_mariadb_setting_map[i]));
			str_append_c(key, '\t');
		}
	}
	return str_c(key);
}

static bool
db_mariadb_settings_check(void *_set, pool_t pool ATTR_UNUSED,
			  const char **error_r)
{
	const struct db_mariadb_dovecot_settings *in = _set;
	struct db_mariadb_settings *set;
	bool ret;

	/* at doveconf time already: the same checks as when the auth
	   process starts */
	T_BEGIN {
		pool_t tmp = pool_datastack_create();
		const char *error;

		ret = db_mariadb_settings_from_dovecot(tmp, in, &set,
						       &error) == 0;
		if (!ret)
			*error_r = error;
	} T_END_PASS_STR_IF(!ret, error_r);
	return ret;
}

const struct setting_parser_info db_mariadb_setting_parser_info = {
	.name = "authdb_mariadb",

	.defines = db_mariadb_setting_defines,
	.defaults = &db_mariadb_default_settings,
	.default_settings = db_mariadb_default_settings_keyvalue,

	.struct_size = sizeof(struct db_mariadb_dovecot_settings),
	.pool_offset1 = 1 + offsetof(struct db_mariadb_dovecot_settings, pool),
	.check_func = db_mariadb_settings_check,
};

/* What a Dovecot 2.3 variable is in 2.4, for the message. */
static const char *db_mariadb_fields_replacement(char var)
{
	switch (var) {
	case 'u':
		return "%{user}";
	case 'n':
		return "%{user | username}";
	case 'd':
		return "%{user | domain}";
	case 'h':
		return "%{home}";
	default:
		return "%{...}";
	}
}

int db_mariadb_fields_check(const char *kind, const char *name,
			    const ARRAY_TYPE(const_string) *fields,
			    const char **error_r)
{
	const char *const *kv, *p;
	unsigned int i, count;
	char var;

	if (!array_is_created(fields))
		return 0;
	kv = array_get(fields, &count);
	for (i = 0; i + 1 < count; i += 2) {
		if (strcmp(kind, "userdb") == 0 && strcmp(kv[i], "mail") == 0) {
			*error_r = t_strdup_printf(
				"%s %s: fields { mail } is ignored by Dovecot "
				"2.4: return mail_driver and mail_path "
				"(e.g. mail_driver = maildir, mail_path = "
				"~/Maildir)", kind, name);
			return -1;
		}
		if (kv[i + 1] == set_value_unknown)
			continue;
		for (p = kv[i + 1]; (p = strchr(p, '%')) != NULL; p++) {
			if (p[1] == '%') {
				/* %% is a literal % */
				p++;
				continue;
			}
			/* %d, and %Ld of 2.3's modifiers */
			var = p[1] == 'L' || p[1] == 'U' ? p[2] : p[1];
			if (!i_isalpha(var))
				continue;
			*error_r = t_strdup_printf(
				"%s %s: fields { %s = %s } uses Dovecot 2.3's "
				"%%%c, which Dovecot 2.4 keeps as it is: write "
				"%s", kind, name, kv[i],
				str_sanitize(kv[i + 1], 100), var,
				db_mariadb_fields_replacement(var));
			return -1;
		}
	}
	return 0;
}

/* The same keys as Dovecot's own passdb and userdb settings, with the same
   types, so that a check sees each block's name, driver and fields. */
struct db_mariadb_fields_settings {
	pool_t pool;
	const char *passdb_name, *passdb_driver;
	ARRAY_TYPE(const_string) passdb_fields;
	const char *userdb_name, *userdb_driver;
	ARRAY_TYPE(const_string) userdb_fields;
};

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, \
		struct db_mariadb_fields_settings)
static const struct setting_define db_mariadb_fields_setting_defines[] = {
	DEF(STR, passdb_name),
	DEF(STR, passdb_driver),
	{ .type = SET_STRLIST, .key = "passdb_fields",
	  .offset = offsetof(struct db_mariadb_fields_settings, passdb_fields) },
	DEF(STR, userdb_name),
	DEF(STR, userdb_driver),
	{ .type = SET_STRLIST, .key = "userdb_fields",
	  .offset = offsetof(struct db_mariadb_fields_settings, userdb_fields) },

	SETTING_DEFINE_LIST_END
};

static const struct db_mariadb_fields_settings db_mariadb_fields_default_settings = {
	.passdb_name = "",
	.passdb_driver = "",
	.passdb_fields = ARRAY_INIT,
	.userdb_name = "",
	.userdb_driver = "",
	.userdb_fields = ARRAY_INIT,
};

static bool db_mariadb_is_ours(const char *name, const char *driver)
{
	/* driver defaults to the block's name */
	return strcmp(driver[0] != '\0' ? driver : name, "mariadb") == 0;
}

static bool
db_mariadb_fields_settings_check(void *_set, pool_t pool ATTR_UNUSED,
				 const char **error_r)
{
	const struct db_mariadb_fields_settings *set = _set;

	if (db_mariadb_is_ours(set->passdb_name, set->passdb_driver) &&
	    db_mariadb_fields_check("passdb", set->passdb_name,
				    &set->passdb_fields, error_r) < 0)
		return FALSE;
	if (db_mariadb_is_ours(set->userdb_name, set->userdb_driver) &&
	    db_mariadb_fields_check("userdb", set->userdb_name,
				    &set->userdb_fields, error_r) < 0)
		return FALSE;
	return TRUE;
}

const struct setting_parser_info db_mariadb_fields_setting_parser_info = {
	.name = "authdb_mariadb_fields",

	.defines = db_mariadb_fields_setting_defines,
	.defaults = &db_mariadb_fields_default_settings,

	.struct_size = sizeof(struct db_mariadb_fields_settings),
	.pool_offset1 = 1 + offsetof(struct db_mariadb_fields_settings, pool),
	.check_func = db_mariadb_fields_settings_check,
};
