#ifndef DB_MARIADB_QUERY_H
#define DB_MARIADB_QUERY_H

/* The values a query can ask for, by name. */
enum db_mariadb_param {
	DB_MARIADB_PARAM_LOCAL,	/* :local  - local part of the login */
	DB_MARIADB_PARAM_DOMAIN,	/* :domain - its domain, lower-cased */
	DB_MARIADB_PARAM_USER,	/* :user   - local@domain */
	/* rehash_query only */
	DB_MARIADB_PARAM_NEW_HASH,	/* :new_hash - the new bcrypt hash */
	DB_MARIADB_PARAM_OLD_HASH,	/* :old_hash - the stored value it replaces */
};

/* A query binds at most this many parameters. */
#define DB_MARIADB_QUERY_MAX_PARAMS 32

struct db_mariadb_query {
	/* what it is for ("password", "user", "iterate", ...): the query
	   field of its events; set by whoever parses it */
	const char *name;
	/* as written in the configuration (used in log messages) */
	const char *text;
	/* what is sent to the server: every placeholder replaced by '?' */
	const char *sql;
	/* which value is bound to each '?', in order */
	const enum db_mariadb_param *params;
	unsigned int params_count;
	/* a statement that changes rows and returns none (rehash_query):
	   its result is whether it changed a row; set by whoever parses it */
	bool update;
	/* waits ahead of the others for a connection of the pool (the user
	   query: a userdb lookup is all of its request, a delivery or the
	   start of a session, while a cold login's password lookup is
	   followed by a bcrypt check that takes far longer than the wait);
	   set by whoever parses it */
	bool urgent;
};

/* Parse a query with named placeholders (:local, :domain, :user, and
   :new_hash, :old_hash, which only the rehash query may use) outside
   of quoted strings and comments. Values are never put into the SQL text:
   each placeholder becomes a '?' bound as a parameter. Returns TRUE, or
   FALSE with the reason in error_r (an unknown placeholder, a bare '?',
   an unterminated string or comment, more than
   DB_MARIADB_QUERY_MAX_PARAMS placeholders). */
bool db_mariadb_query_parse(pool_t pool, const char *text,
			    struct db_mariadb_query **query_r,
			    const char **error_r);

const char *db_mariadb_param_name(enum db_mariadb_param param);
/* Whether a query uses the placeholder. */
bool db_mariadb_query_uses(const struct db_mariadb_query *query,
			   enum db_mariadb_param param);

#endif
