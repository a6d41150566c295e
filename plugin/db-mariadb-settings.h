#ifndef DB_MARIADB_SETTINGS_H
#define DB_MARIADB_SETTINGS_H

#include "net.h"

struct db_mariadb_query;

#define DB_MARIADB_SETTINGS_FILE_MAX_SIZE (1024*1024)
/* unknown_user_cost = auto */
#define DB_MARIADB_COST_AUTO UINT_MAX

struct db_mariadb_host {
	/* either a host name or address with a port ... */
	const char *name;
	in_port_t port;
	/* ... or the path of a unix socket (name is then NULL) */
	const char *socket_path;
};

/* The defaults, shared by Dovecot 2.3's settings file and 2.4's settings.
   They fit the schema in sql/: users keyed by (domain, local). */
#define DB_MARIADB_DEFAULT_HOSTS "localhost"
#define DB_MARIADB_DEFAULT_USER "mail_user"
#define DB_MARIADB_DEFAULT_PASSWORD ""
#define DB_MARIADB_DEFAULT_DBNAME "mail_server"
#define DB_MARIADB_DEFAULT_TLS "no"
#define DB_MARIADB_DEFAULT_TLS_FILE ""
#define DB_MARIADB_DEFAULT_TLS_VERIFY "yes"
#define DB_MARIADB_DEFAULT_CONNECT_TIMEOUT "5"
#define DB_MARIADB_DEFAULT_QUERY_TIMEOUT "5"
#define DB_MARIADB_DEFAULT_BLOCKING "no"
#define DB_MARIADB_DEFAULT_POOL_SIZE "2"
#define DB_MARIADB_DEFAULT_QUEUE_LIMIT "1000"
#define DB_MARIADB_DEFAULT_UNKNOWN_USER_COST "auto"
#define DB_MARIADB_DEFAULT_BCRYPT_MAX_COST "15"
#define DB_MARIADB_DEFAULT_ALLOW_WEAK_SCHEMES "no"
#define DB_MARIADB_DEFAULT_REHASH "no"
#define DB_MARIADB_DEFAULT_REHASH_COST "12"
#define DB_MARIADB_DEFAULT_REHASH_USER "mail_rehash"
#define DB_MARIADB_DEFAULT_REHASH_PASSWORD ""
#define DB_MARIADB_DEFAULT_LOGIN_CACHE "yes"
#define DB_MARIADB_DEFAULT_LOGIN_CACHE_SIZE "10000"
#define DB_MARIADB_DEFAULT_LOGIN_CACHE_TTL "3600"
#define DB_MARIADB_DEFAULT_PASSWORD_QUERY \
	"SELECT CONCAT(local, '@', domain) AS user, " \
	"password_hash AS password " \
	"FROM users WHERE domain = :domain AND local = :local"
#define DB_MARIADB_DEFAULT_USER_QUERY \
	"SELECT CONCAT(local, '@', domain) AS user, display_name " \
	"FROM users WHERE domain = :domain AND local = :local"
#define DB_MARIADB_DEFAULT_ITERATE_QUERY \
	"SELECT CONCAT(local, '@', domain) AS user " \
	"FROM users ORDER BY domain, local"
/* compare-and-swap: a password changed since it was read stays */
#define DB_MARIADB_DEFAULT_REHASH_QUERY \
	"UPDATE users SET password_hash = :new_hash " \
	"WHERE domain = :domain AND local = :local " \
	"AND password_hash = :old_hash"

struct db_mariadb_settings {
	/* the file they came from (used in log messages) */
	const char *path;

	const char *hosts;
	const char *user;
	const char *password;
	const char *dbname;

	bool tls;
	const char *tls_ca;
	const char *tls_cert;
	const char *tls_key;
	bool tls_verify;

	unsigned int connect_timeout_secs;
	unsigned int query_timeout_secs;
	bool blocking;
	unsigned int pool_size;
	unsigned int queue_limit;

	/* bcrypt cost of the dummy check for unknown users and locked
	   accounts: 0 = none, DB_MARIADB_COST_AUTO = the cost most common
	   among the hashes read recently */
	unsigned int unknown_user_cost;
	/* stored bcrypt hashes of a higher cost are refused */
	unsigned int bcrypt_max_cost;
	/* stored passwords of weak schemes (PLAIN, MD5-CRYPT, SHA1, ...)
	   are accepted */
	bool allow_weak_schemes;

	/* after a successful login whose stored password is not bcrypt of
	   at least rehash_cost, store a bcrypt hash of rehash_cost with
	   rehash_query, as rehash_user */
	bool rehash;
	unsigned int rehash_cost;
	const char *rehash_user;
	const char *rehash_password;

	bool login_cache;
	unsigned int login_cache_size;
	unsigned int login_cache_ttl_secs;

	const char *password_query;
	const char *user_query;
	const char *iterate_query;
	const char *rehash_query;

	/* userdb field templates (%-variables expanded per user) */
	const char *home;
	const char *mail;
	const char *uid;
	const char *gid;

	/* derived from the above by the parser */
	const struct db_mariadb_host *parsed_hosts;
	unsigned int parsed_hosts_count;
	struct db_mariadb_query *parsed_password_query;
	struct db_mariadb_query *parsed_user_query;
	struct db_mariadb_query *parsed_iterate_query;
	struct db_mariadb_query *parsed_rehash_query;
};

/* Settings with every default (path: where they come from, for
   messages). */
struct db_mariadb_settings *
db_mariadb_settings_new(pool_t pool, const char *path);
/* Set one key ("pool_size") from its text. Returns 0, or -1 with the
   reason in error_r, which names the key as display_key (e.g. the
   setting's name in Dovecot 2.4) and never quotes the password. */
int db_mariadb_settings_set(pool_t pool, struct db_mariadb_settings *set,
			    const char *key, const char *display_key,
			    const char *value, const char **error_r);
/* After every key was set: the checks that concern them together, and
   the parsed hosts and queries. Returns 0, or -1 with the reason. */
int db_mariadb_settings_finish(pool_t pool, struct db_mariadb_settings *set,
			       const char **error_r);

/* The settings of the rehash account's connections: these with user and
   password replaced by rehash_user and rehash_password, the first host
   only (a write must go to the primary, never to a replica) and one
   connection. Allocated from pool, sharing strings with set. */
struct db_mariadb_settings *
db_mariadb_settings_rehash(pool_t pool, const struct db_mariadb_settings *set);

/* Called for each "key = value" of a file in the syntax of the settings
   file (the admin commands' file has its own keys). Returns 0, or -1 with
   the reason in error_r (without file and line). */
typedef int db_mariadb_settings_key_func_t(void *context, const char *key,
					   const char *value,
					   const char **error_r);
/* Split a file's contents into its "key = value" lines (comments,
   continued lines, quoted values) and hand each to key_func; a key given
   twice is refused here. Returns 0, or -1 with "path:line: reason" (or
   "path: reason") in error_r. The copy of the text is wiped. */
int db_mariadb_settings_parse_keys(const char *path,
				   const unsigned char *data, size_t size,
				   db_mariadb_settings_key_func_t *key_func,
				   void *context, const char **error_r);
/* Read a file as db_mariadb_settings_read() does (the same checks of its
   owner and mode, the same warning) and parse it with
   db_mariadb_settings_parse_keys(). */
int db_mariadb_settings_read_keys(const char *path,
				  db_mariadb_settings_key_func_t *key_func,
				  void *context, const char **warning_r,
				  const char **error_r);

/* Parse a configuration file's contents. Every key must be known and given
   at most once, every value valid. Returns 0, or -1 with "path:line:
   reason" (or "path: reason" for problems of the whole file) in error_r.
   Values are never quoted in errors for the password key. */
int db_mariadb_settings_parse(pool_t pool, const char *path,
			      const unsigned char *data, size_t size,
			      struct db_mariadb_settings **set_r,
			      const char **error_r);

/* Read and parse a configuration file. It must be owned by root (or by
   the user reading it) and writable by nobody else, since whoever can
   write it chooses the queries. A file that others can read is reported
   in warning_r (it holds the database password), else warning_r is NULL.
   Returns 0, or -1 with the reason in error_r. */
int db_mariadb_settings_read(pool_t pool, const char *path,
			     struct db_mariadb_settings **set_r,
			     const char **warning_r, const char **error_r);

#endif
