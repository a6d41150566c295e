#ifndef DB_MARIADB_LOGIN_CACHE_H
#define DB_MARIADB_LOGIN_CACHE_H

/* Remembers logins whose password was verified, so that a client logging
   in again with the same password skips the bcrypt check. */
struct db_mariadb_login_cache;

struct db_mariadb_login_cache *
db_mariadb_login_cache_init(unsigned int max_entries, unsigned int ttl_secs);
void db_mariadb_login_cache_deinit(struct db_mariadb_login_cache **cache);

enum db_mariadb_login_cache_result {
	/* no entry for this user and stored hash, or another password */
	DB_MARIADB_LOGIN_CACHE_MISS,
	/* verified: this user logged in with this password while the stored
	   hash was this one, less than ttl seconds ago */
	DB_MARIADB_LOGIN_CACHE_HIT,
	/* there was an entry, but older than ttl (now removed) */
	DB_MARIADB_LOGIN_CACHE_STALE,
};

/* Look a login up. The stored hash is part of the key: a changed password
   (a new hash) never matches old entries. */
enum db_mariadb_login_cache_result
db_mariadb_login_cache_lookup(struct db_mariadb_login_cache *cache,
			      const char *user, const char *stored_hash,
			      const char *password, time_t now);
/* "hit", "miss" or "stale" (the result field of mariadb_login_cache) */
const char *
db_mariadb_login_cache_result_name(enum db_mariadb_login_cache_result result);
/* Remember a successful verification. */
void db_mariadb_login_cache_insert(struct db_mariadb_login_cache *cache,
				   const char *user, const char *stored_hash,
				   const char *password, time_t now);

unsigned int db_mariadb_login_cache_count(struct db_mariadb_login_cache *cache);

#endif
