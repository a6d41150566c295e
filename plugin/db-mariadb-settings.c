/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-settings - the module's configuration file

   The file named by passdb/userdb "args" holds "key = value" lines, as
   Dovecot's dovecot-sql.conf.ext does: '#' starts a comment line, a line
   ending in a backslash continues on the next one (for long queries), and a
   value may be put in double quotes to keep surrounding spaces. All keys,
   their types and defaults are in one table below; doc/configuration.md
   describes each. An unknown key, a key given twice or a bad value is an
   error that names the file and the line, and stops Dovecot's start-up: a
   mistake never silently turns the module off or falls back to a default.
   The admin commands' file (doveadm mariadb) has the same syntax and
   its own keys: db_mariadb_settings_read_keys() hands them to its
   parser. */

#include "lib.h"
#include "array.h"
#include "fd-util.h"
#include "safe-memset.h"
#include "str.h"
#include "str-sanitize.h"
#include "db-mariadb-query.h"
#include "db-mariadb-settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

enum db_mariadb_setting_type {
	DB_MARIADB_SET_STR,
	DB_MARIADB_SET_BOOL,
	DB_MARIADB_SET_SECS,
	DB_MARIADB_SET_UINT,
	/* a number or "auto" (DB_MARIADB_COST_AUTO) */
	DB_MARIADB_SET_UINT_AUTO,
};

struct db_mariadb_setting_def {
	const char *key;
	enum db_mariadb_setting_type type;
	size_t offset;
	const char *default_value;
	/* for DB_MARIADB_SET_SECS and DB_MARIADB_SET_UINT */
	unsigned int min, max;
};

#define DEF(key, type, default_value) \
	{ #key, DB_MARIADB_SET_##type, \
	  offsetof(struct db_mariadb_settings, key), default_value, 0, 0 }
#define DEF_UINT(key, default_value, min, max) \
	{ #key, DB_MARIADB_SET_UINT, \
	  offsetof(struct db_mariadb_settings, key), default_value, min, max }
#define DEF_UINT_AUTO(key, default_value, min, max) \
	{ #key, DB_MARIADB_SET_UINT_AUTO, \
	  offsetof(struct db_mariadb_settings, key), default_value, min, max }
#define DEF_SECS(key, default_value, min, max) \
	{ #key, DB_MARIADB_SET_SECS, \
	  offsetof(struct db_mariadb_settings, key##_secs), default_value, \
	  min, max }

static const struct db_mariadb_setting_def db_mariadb_setting_defs[] = {
	DEF(hosts, STR, DB_MARIADB_DEFAULT_HOSTS),
	DEF(user, STR, DB_MARIADB_DEFAULT_USER),
	DEF(password, STR, DB_MARIADB_DEFAULT_PASSWORD),
	DEF(dbname, STR, DB_MARIADB_DEFAULT_DBNAME),

	DEF(tls, BOOL, DB_MARIADB_DEFAULT_TLS),
	DEF(tls_ca, STR, DB_MARIADB_DEFAULT_TLS_FILE),
	DEF(tls_cert, STR, DB_MARIADB_DEFAULT_TLS_FILE),
	DEF(tls_key, STR, DB_MARIADB_DEFAULT_TLS_FILE),
	DEF(tls_verify, BOOL, DB_MARIADB_DEFAULT_TLS_VERIFY),

	DEF_SECS(connect_timeout, DB_MARIADB_DEFAULT_CONNECT_TIMEOUT, 1, 300),
	DEF_SECS(query_timeout, DB_MARIADB_DEFAULT_QUERY_TIMEOUT, 1, 3600),
	DEF(blocking, BOOL, DB_MARIADB_DEFAULT_BLOCKING),
	DEF_UINT(pool_size, DB_MARIADB_DEFAULT_POOL_SIZE, 1, 64),
	DEF_UINT(queue_limit, DB_MARIADB_DEFAULT_QUEUE_LIMIT, 1, 1000000),

	DEF_UINT_AUTO(unknown_user_cost, DB_MARIADB_DEFAULT_UNKNOWN_USER_COST,
		      0, 31),
	DEF_UINT(bcrypt_max_cost, DB_MARIADB_DEFAULT_BCRYPT_MAX_COST, 4, 31),
	DEF(allow_weak_schemes, BOOL, DB_MARIADB_DEFAULT_ALLOW_WEAK_SCHEMES),

	DEF(rehash, BOOL, DB_MARIADB_DEFAULT_REHASH),
	DEF_UINT(rehash_cost, DB_MARIADB_DEFAULT_REHASH_COST, 4, 31),
	DEF(rehash_user, STR, DB_MARIADB_DEFAULT_REHASH_USER),
	DEF(rehash_password, STR, DB_MARIADB_DEFAULT_REHASH_PASSWORD),

	DEF(login_cache, BOOL, DB_MARIADB_DEFAULT_LOGIN_CACHE),
	DEF_UINT(login_cache_size, DB_MARIADB_DEFAULT_LOGIN_CACHE_SIZE,
		 1, 10000000),
	DEF_SECS(login_cache_ttl, DB_MARIADB_DEFAULT_LOGIN_CACHE_TTL,
		 1, 7*24*3600),

	DEF(password_query, STR, DB_MARIADB_DEFAULT_PASSWORD_QUERY),
	DEF(user_query, STR, DB_MARIADB_DEFAULT_USER_QUERY),
	DEF(iterate_query, STR, DB_MARIADB_DEFAULT_ITERATE_QUERY),
	DEF(rehash_query, STR, DB_MARIADB_DEFAULT_REHASH_QUERY),

	/* userdb templates of the settings file (Dovecot 2.4: fields { }) */
	DEF(home, STR, "/var/vmail/%d/%n"),
	DEF(mail, STR, ""),
	DEF(uid, STR, ""),
	DEF(gid, STR, ""),
};

static const struct db_mariadb_setting_def *
db_mariadb_setting_find(const char *key)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(db_mariadb_setting_defs); i++) {
		if (strcmp(db_mariadb_setting_defs[i].key, key) == 0)
			return &db_mariadb_setting_defs[i];
	}
	return NULL;
}

static int
db_mariadb_setting_set(pool_t pool, struct db_mariadb_settings *set,
		       const struct db_mariadb_setting_def *def,
		       const char *value, const char **error_r)
{
	void *ptr = PTR_OFFSET(set, def->offset);
	unsigned int secs, num;

	switch (def->type) {
	case DB_MARIADB_SET_STR:
		*(const char **)ptr = p_strdup(pool, value);
		return 0;
	case DB_MARIADB_SET_BOOL:
		if (strcmp(value, "yes") == 0)
			*(bool *)ptr = TRUE;
		else if (strcmp(value, "no") == 0)
			*(bool *)ptr = FALSE;
		else {
			*error_r = "expected yes or no";
			return -1;
		}
		return 0;
	case DB_MARIADB_SET_SECS:
		/* "5" or "5s" */
		if (str_to_uint(value, &secs) < 0 &&
		    (value[0] == '\0' || value[strlen(value)-1] != 's' ||
		     str_to_uint(t_strndup(value, strlen(value)-1),
				 &secs) < 0)) {
			*error_r = "expected a number of seconds";
			return -1;
		}
		if (secs < def->min || secs > def->max) {
			*error_r = t_strdup_printf(
				"must be between %u and %u seconds",
				def->min, def->max);
			return -1;
		}
		*(unsigned int *)ptr = secs;
		return 0;
	case DB_MARIADB_SET_UINT_AUTO:
		if (strcmp(value, "auto") == 0) {
			*(unsigned int *)ptr = DB_MARIADB_COST_AUTO;
			return 0;
		}
		if (str_to_uint(value, &num) < 0) {
			*error_r = "expected a number or auto";
			return -1;
		}
		if (num < def->min || num > def->max) {
			*error_r = t_strdup_printf(
				"must be auto or between %u and %u",
				def->min, def->max);
			return -1;
		}
		*(unsigned int *)ptr = num;
		return 0;
	case DB_MARIADB_SET_UINT:
		if (str_to_uint(value, &num) < 0) {
			*error_r = "expected a number";
			return -1;
		}
		if (num < def->min || num > def->max) {
			*error_r = t_strdup_printf("must be between %u and %u",
						   def->min, def->max);
			return -1;
		}
		*(unsigned int *)ptr = num;
		return 0;
	}
	i_unreached();
}

struct db_mariadb_settings *
db_mariadb_settings_new(pool_t pool, const char *path)
{
	struct db_mariadb_settings *set;
	const char *error;
	unsigned int i;

	set = p_new(pool, struct db_mariadb_settings, 1);
	set->path = p_strdup(pool, path);
	for (i = 0; i < N_ELEMENTS(db_mariadb_setting_defs); i++) {
		if (db_mariadb_setting_set(pool, set,
					   &db_mariadb_setting_defs[i],
					   db_mariadb_setting_defs[i].default_value,
					   &error) < 0)
			i_unreached();
	}
	return set;
}

static bool db_mariadb_settings_key_is_secret(const char *key)
{
	return strcmp(key, "password") == 0 ||
		strcmp(key, "rehash_password") == 0;
}

int db_mariadb_settings_set(pool_t pool, struct db_mariadb_settings *set,
			    const char *key, const char *display_key,
			    const char *value, const char **error_r)
{
	const struct db_mariadb_setting_def *def;
	const char *error;

	def = db_mariadb_setting_find(key);
	i_assert(def != NULL);
	if (db_mariadb_setting_set(pool, set, def, value, &error) < 0) {
		/* the passwords' values are never repeated in an error */
		*error_r = db_mariadb_settings_key_is_secret(key) ?
			t_strdup_printf("%s: %s", display_key, error) :
			t_strdup_printf("%s: invalid value '%s': %s",
					display_key, str_sanitize(value, 64),
					error);
		return -1;
	}
	return 0;
}

static int
db_mariadb_host_parse(const char *str, struct db_mariadb_host *host_r,
		      const char **error_r)
{
	const char *port_str = NULL, *end;

	i_zero(host_r);
	if (str[0] == '/') {
		host_r->socket_path = str;
		return 0;
	}
	if (str[0] == '[') {
		/* [IPv6]:port */
		end = strchr(str, ']');
		if (end == NULL) {
			*error_r = "missing ']' after an IPv6 address";
			return -1;
		}
		host_r->name = t_strdup_until(str + 1, end);
		if (end[1] == ':')
			port_str = end + 2;
		else if (end[1] != '\0') {
			*error_r = "expected ':port' after ']'";
			return -1;
		}
	} else {
		end = strchr(str, ':');
		if (end != NULL && strchr(end + 1, ':') != NULL) {
			*error_r = "an IPv6 address must be written as [addr]:port";
			return -1;
		}
		host_r->name = end == NULL ? str : t_strdup_until(str, end);
		if (end != NULL)
			port_str = end + 1;
	}
	if (host_r->name[0] == '\0') {
		*error_r = "empty host name";
		return -1;
	}
	host_r->port = 3306;
	if (port_str != NULL && net_str2port(port_str, &host_r->port) < 0) {
		*error_r = "invalid port (expected 1..65535)";
		return -1;
	}
	return 0;
}

static int
db_mariadb_hosts_parse(pool_t pool, struct db_mariadb_settings *set,
		       const char **error_r)
{
	ARRAY(struct db_mariadb_host) hosts;
	const char *const *names;
	struct db_mariadb_host host;
	const char *error;

	p_array_init(&hosts, pool, 4);
	names = t_strsplit_spaces(set->hosts, " \t,");
	for (; *names != NULL; names++) {
		if (db_mariadb_host_parse(*names, &host, &error) < 0) {
			*error_r = t_strdup_printf("hosts: '%s': %s",
				str_sanitize(*names, 64), error);
			return -1;
		}
		host.name = p_strdup(pool, host.name);
		host.socket_path = p_strdup(pool, host.socket_path);
		array_push_back(&hosts, &host);
	}
	if (array_count(&hosts) == 0) {
		*error_r = "hosts: no host given";
		return -1;
	}
	set->parsed_hosts = array_front(&hosts);
	set->parsed_hosts_count = array_count(&hosts);
	return 0;
}

enum db_mariadb_settings_query_kind {
	/* no placeholders: nothing could be bound */
	DB_MARIADB_QUERY_KIND_ITERATE,
	/* :local, :domain, :user */
	DB_MARIADB_QUERY_KIND_LOOKUP,
	/* those and :new_hash, :old_hash (compare-and-swap) */
	DB_MARIADB_QUERY_KIND_REHASH,
};

static bool db_mariadb_query_uses_user(const struct db_mariadb_query *query)
{
	return db_mariadb_query_uses(query, DB_MARIADB_PARAM_LOCAL) ||
		db_mariadb_query_uses(query, DB_MARIADB_PARAM_DOMAIN) ||
		db_mariadb_query_uses(query, DB_MARIADB_PARAM_USER);
}

static bool db_mariadb_query_uses_hash(const struct db_mariadb_query *query)
{
	return db_mariadb_query_uses(query, DB_MARIADB_PARAM_NEW_HASH) ||
		db_mariadb_query_uses(query, DB_MARIADB_PARAM_OLD_HASH);
}

/* What the query of a kind must and must not use: NULL if it is right. */
static const char *
db_mariadb_settings_query_check(const struct db_mariadb_query *query,
				enum db_mariadb_settings_query_kind kind)
{
	switch (kind) {
	case DB_MARIADB_QUERY_KIND_ITERATE:
		return query->params_count > 0 ?
			"must not use placeholders" : NULL;
	case DB_MARIADB_QUERY_KIND_LOOKUP:
		if (db_mariadb_query_uses_hash(query))
			return ":new_hash and :old_hash are for rehash_query";
		break;
	case DB_MARIADB_QUERY_KIND_REHASH:
		if (!db_mariadb_query_uses(query, DB_MARIADB_PARAM_NEW_HASH))
			return "must use :new_hash";
		/* compare-and-swap */
		if (!db_mariadb_query_uses(query, DB_MARIADB_PARAM_OLD_HASH)) {
			return "must use :old_hash (as in password_hash = "
				":old_hash), or a password changed meanwhile "
				"would be overwritten";
		}
		break;
	}
	/* it would return or change the same row for every login */
	return !db_mariadb_query_uses_user(query) ?
		"uses none of :local, :domain, :user" : NULL;
}

static int
db_mariadb_settings_query_parse(pool_t pool, const char *key,
				const char *text,
				enum db_mariadb_settings_query_kind kind,
				struct db_mariadb_query **query_r,
				const char **error_r)
{
	const char *error;

	if (text[0] == '\0') {
		*error_r = t_strdup_printf("%s: must not be empty", key);
		return -1;
	}
	if (!db_mariadb_query_parse(pool, text, query_r, &error)) {
		*error_r = t_strdup_printf("%s: %s", key, error);
		return -1;
	}
	/* "password_query" -> "password" */
	(*query_r)->name = p_strndup(pool, key, strlen(key) - strlen("_query"));
	(*query_r)->update = kind == DB_MARIADB_QUERY_KIND_REHASH;
	(*query_r)->urgent = strcmp(key, "user_query") == 0;
	error = db_mariadb_settings_query_check(*query_r, kind);
	if (error != NULL) {
		*error_r = t_strdup_printf("%s: %s", key, error);
		return -1;
	}
	return 0;
}

static int
db_mariadb_settings_rehash_check(const struct db_mariadb_settings *set,
				 const char **error_r)
{
	if (!set->rehash)
		return 0;
	if (set->rehash_cost > set->bcrypt_max_cost) {
		*error_r = t_strdup_printf(
			"rehash_cost: must be at most bcrypt_max_cost (%u), "
			"or the new hashes would be refused",
			set->bcrypt_max_cost);
		return -1;
	}
	if (set->rehash_user[0] == '\0') {
		*error_r = "rehash_user: must not be empty with rehash = yes";
		return -1;
	}
	if (strcmp(set->rehash_user, set->user) == 0) {
		*error_r = "rehash_user: must be another account than user, "
			"which stays read-only (see sql/03-grants.sql)";
		return -1;
	}
	return 0;
}

int db_mariadb_settings_finish(pool_t pool, struct db_mariadb_settings *set,
			       const char **error_r)
{
	if (db_mariadb_hosts_parse(pool, set, error_r) < 0)
		return -1;
	if (set->user[0] == '\0') {
		*error_r = "user: must not be empty";
		return -1;
	}
	if (set->dbname[0] == '\0') {
		*error_r = "dbname: must not be empty";
		return -1;
	}
	if (!set->tls && (set->tls_ca[0] != '\0' || set->tls_cert[0] != '\0' ||
			  set->tls_key[0] != '\0')) {
		*error_r = "tls_ca, tls_cert or tls_key is set but tls = no";
		return -1;
	}
	if (set->unknown_user_cost != DB_MARIADB_COST_AUTO &&
	    set->unknown_user_cost > 0 &&
	    (set->unknown_user_cost < 4 ||
	     set->unknown_user_cost > set->bcrypt_max_cost)) {
		*error_r = t_strdup_printf(
			"unknown_user_cost: must be auto, 0 (no dummy check) "
			"or a bcrypt cost of 4..bcrypt_max_cost (%u)",
			set->bcrypt_max_cost);
		return -1;
	}
	if ((set->tls_cert[0] == '\0') != (set->tls_key[0] == '\0')) {
		*error_r = "tls_cert and tls_key must be given together";
		return -1;
	}
	if (db_mariadb_settings_rehash_check(set, error_r) < 0)
		return -1;
	if (db_mariadb_settings_query_parse(pool, "password_query",
			set->password_query, DB_MARIADB_QUERY_KIND_LOOKUP,
			&set->parsed_password_query, error_r) < 0 ||
	    db_mariadb_settings_query_parse(pool, "user_query",
			set->user_query, DB_MARIADB_QUERY_KIND_LOOKUP,
			&set->parsed_user_query, error_r) < 0 ||
	    db_mariadb_settings_query_parse(pool, "iterate_query",
			set->iterate_query, DB_MARIADB_QUERY_KIND_ITERATE,
			&set->parsed_iterate_query, error_r) < 0 ||
	    db_mariadb_settings_query_parse(pool, "rehash_query",
			set->rehash_query, DB_MARIADB_QUERY_KIND_REHASH,
			&set->parsed_rehash_query, error_r) < 0)
		return -1;
	return 0;
}

struct db_mariadb_settings *
db_mariadb_settings_rehash(pool_t pool, const struct db_mariadb_settings *set)
{
	struct db_mariadb_settings *rehash_set;

	rehash_set = p_new(pool, struct db_mariadb_settings, 1);
	*rehash_set = *set;
	rehash_set->user = set->rehash_user;
	rehash_set->password = set->rehash_password;
	rehash_set->parsed_hosts_count = 1;
	rehash_set->pool_size = 1;
	return rehash_set;
}

/* Remove the characters in chars from both ends of s, in place (the
   text holds the database password: no copies that can't be wiped). */
static char *db_mariadb_settings_trim(char *s, const char *chars)
{
	size_t len;

	while (*s != '\0' && strchr(chars, *s) != NULL)
		s++;
	len = strlen(s);
	while (len > 0 && strchr(chars, s[len-1]) != NULL)
		s[--len] = '\0';
	return s;
}

/* Remove surrounding white space (line breaks of continued lines too)
   and, if present, one pair of double quotes, in place. */
static const char *db_mariadb_settings_value(char *value)
{
	size_t len;

	value = db_mariadb_settings_trim(value, " \t\n");
	len = strlen(value);
	if (len >= 2 && value[0] == '"' && value[len-1] == '"') {
		value[len-1] = '\0';
		value++;
	}
	return value;
}

static int
db_mariadb_settings_line(char *line, ARRAY_TYPE(const_string) *seen,
			 db_mariadb_settings_key_func_t *key_func,
			 void *context, const char **error_r)
{
	const char *key, *value, *const *seen_key;
	char *p;

	p = strchr(line, '=');
	if (p == NULL) {
		*error_r = "expected 'key = value'";
		return -1;
	}
	*p = '\0';
	key = db_mariadb_settings_trim(line, " \t\n");
	value = db_mariadb_settings_value(p + 1);
	if (strpbrk(key, " \t") != NULL) {
		/* "password secret=x" lacks its '=': don't quote the value */
		*error_r = "expected 'key = value'";
		return -1;
	}
	array_foreach(seen, seen_key) {
		if (strcmp(*seen_key, key) == 0) {
			*error_r = t_strdup_printf("%s: given more than once",
						   key);
			return -1;
		}
	}
	key = t_strdup(key);
	array_push_back(seen, &key);
	return key_func(context, key, value, error_r);
}

/* Read the lines of text (modified in place), joining continued lines
   in logical. */
static int
db_mariadb_settings_parse_lines(const char *path, char *text,
				string_t *logical,
				db_mariadb_settings_key_func_t *key_func,
				void *context, const char **error_r)
{
	ARRAY_TYPE(const_string) seen;
	unsigned int linenum, first_linenum = 0;
	char *line, *next, *nl;
	const char *error;
	size_t len;

	t_array_init(&seen, 32);
	for (next = text, linenum = 1; next != NULL; linenum++) {
		nl = strchr(next, '\n');
		if (nl != NULL)
			*nl = '\0';
		line = db_mariadb_settings_trim(next, " \t\r");
		next = nl == NULL ? NULL : nl + 1;
		if (str_len(logical) == 0) {
			first_linenum = linenum;
			if (line[0] == '#' || line[0] == '\0')
				continue;
		}
		len = strlen(line);
		if (len > 0 && line[len-1] == '\\') {
			/* continued on the next line; the line break stays,
			   so that a -- or # comment in a query ends with its
			   line instead of swallowing the rest of the query */
			str_append_data(logical, line, len - 1);
			str_append_c(logical, '\n');
			if (next != NULL)
				continue;
		} else {
			str_append(logical, line);
		}
		if (db_mariadb_settings_line(str_c_modifiable(logical), &seen,
					     key_func, context, &error) < 0) {
			*error_r = t_strdup_printf("%s:%u: %s", path,
						   first_linenum, error);
			return -1;
		}
		str_truncate(logical, 0);
	}
	return 0;
}

int db_mariadb_settings_parse_keys(const char *path,
				   const unsigned char *data, size_t size,
				   db_mariadb_settings_key_func_t *key_func,
				   void *context, const char **error_r)
{
	string_t *logical;
	char *text;
	int ret;

	if (memchr(data, '\0', size) != NULL) {
		*error_r = t_strdup_printf("%s: contains a NUL byte", path);
		return -1;
	}
	/* one copy of the text, split in place, and a line buffer large
	   enough never to be moved: both wiped afterwards */
	text = t_malloc_no0(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	logical = t_str_new(size + 2);
	ret = db_mariadb_settings_parse_lines(path, text, logical, key_func,
					      context, error_r);
	safe_memset(text, 0, size);
	safe_memset(buffer_get_modifiable_data(logical, NULL), 0,
		    buffer_get_size(logical));
	return ret;
}

struct db_mariadb_settings_parse_context {
	pool_t pool;
	struct db_mariadb_settings *set;
};

/* A key of the module's settings file. */
static int
db_mariadb_settings_key(void *context, const char *key, const char *value,
			const char **error_r)
{
	struct db_mariadb_settings_parse_context *ctx = context;

	if (db_mariadb_setting_find(key) == NULL) {
		*error_r = t_strdup_printf("unknown setting '%s'",
					   str_sanitize(key, 64));
		return -1;
	}
	return db_mariadb_settings_set(ctx->pool, ctx->set, key, key, value,
				       error_r);
}

/* The file's settings, checked as a whole. */
static int
db_mariadb_settings_finish_file(struct db_mariadb_settings_parse_context *ctx,
				struct db_mariadb_settings **set_r,
				const char **error_r)
{
	const char *error;

	if (db_mariadb_settings_finish(ctx->pool, ctx->set, &error) < 0) {
		*error_r = t_strdup_printf("%s: %s", ctx->set->path, error);
		return -1;
	}
	*set_r = ctx->set;
	return 0;
}

int db_mariadb_settings_parse(pool_t pool, const char *path,
			      const unsigned char *data, size_t size,
			      struct db_mariadb_settings **set_r,
			      const char **error_r)
{
	struct db_mariadb_settings_parse_context ctx = {
		.pool = pool,
		.set = db_mariadb_settings_new(pool, path),
	};

	*set_r = NULL;
	if (db_mariadb_settings_parse_keys(path, data, size,
					   db_mariadb_settings_key, &ctx,
					   error_r) < 0)
		return -1;
	return db_mariadb_settings_finish_file(&ctx, set_r, error_r);
}

int db_mariadb_settings_read_keys(const char *path,
				  db_mariadb_settings_key_func_t *key_func,
				  void *context, const char **warning_r,
				  const char **error_r)
{
	struct stat st;
	unsigned char *data;
	ssize_t ret;
	size_t pos = 0;
	int fd;

	*warning_r = NULL;
	/* O_NONBLOCK: a FIFO must not hang start-up (refused below) */
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd == -1) {
		*error_r = t_strdup_printf("open(%s) failed: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = t_strdup_printf("fstat(%s) failed: %m", path);
		i_close_fd(&fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) ||
	    st.st_size > DB_MARIADB_SETTINGS_FILE_MAX_SIZE) {
		*error_r = t_strdup_printf(
			"%s: not a regular file of at most %d bytes",
			path, DB_MARIADB_SETTINGS_FILE_MAX_SIZE);
		i_close_fd(&fd);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		*error_r = t_strdup_printf(
			"%s is owned by UID %ld: whoever can write it chooses "
			"the queries, it must be owned by root",
			path, (long)st.st_uid);
		i_close_fd(&fd);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		*error_r = t_strdup_printf(
			"%s is writable by %s: whoever can write it chooses "
			"the queries, chmod 0600 or 0640 it", path,
			(st.st_mode & S_IWOTH) != 0 ? "every user" :
			"its group");
		i_close_fd(&fd);
		return -1;
	}
	if ((st.st_mode & S_IROTH) != 0) {
		*warning_r = t_strdup_printf(
			"%s is readable by every user on this host and holds "
			"the database password: chmod 0600 or 0640 it", path);
	}

	data = t_malloc_no0(st.st_size + 1);
	while (pos < (size_t)st.st_size) {
		ret = read(fd, data + pos, st.st_size - pos);
		if (ret < 0) {
			*error_r = t_strdup_printf("read(%s) failed: %m", path);
			i_close_fd(&fd);
			return -1;
		}
		if (ret == 0)
			break;
		pos += ret;
	}
	i_close_fd(&fd);
	ret = db_mariadb_settings_parse_keys(path, data, pos, key_func,
					     context, error_r);
	/* it holds the database password */
	safe_memset(data, 0, pos);
	return ret < 0 ? -1 : 0;
}

int db_mariadb_settings_read(pool_t pool, const char *path,
			     struct db_mariadb_settings **set_r,
			     const char **warning_r, const char **error_r)
{
	struct db_mariadb_settings_parse_context ctx = {
		.pool = pool,
		.set = db_mariadb_settings_new(pool, path),
	};

	*set_r = NULL;
	if (db_mariadb_settings_read_keys(path, db_mariadb_settings_key, &ctx,
					  warning_r, error_r) < 0)
		return -1;
	return db_mariadb_settings_finish_file(&ctx, set_r, error_r);
}
