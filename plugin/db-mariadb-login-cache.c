/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-login-cache - verified-login cache

   IMAP clients reconnect all day and webmail logs in for every request;
   each login would cost a bcrypt check (~40 ms of CPU at cost 10). After a
   successful check the cache keeps, for the pair (canonical user, stored
   hash as read from the database on this login), an HMAC-SHA256 of the
   password under a key drawn at random when the cache is created. A later
   login whose database row still has the same hash and whose password has
   the same HMAC is accepted without bcrypt. The hash is read from the
   database on every login, so a changed password takes effect at once; the
   plaintext is never stored, and the HMAC key never leaves the process.
   Entries expire after ttl seconds; beyond max_entries the least recently
   used one is dropped.

   The HMAC key is hashed into the inner and outer SHA-256 states once, when
   the cache is created; each login then copies that keyed context, so that
   a MAC costs two SHA-256 blocks instead of four (it is most of the auth
   master's own work for a repeat login). */

#include "lib.h"
#include "hash.h"
#include "hmac.h"
#include "llist.h"
#include "randgen.h"
#include "safe-memset.h"
#include "sha2.h"
#include "db-mariadb-login-cache.h"

#define DB_MARIADB_LOGIN_CACHE_KEY_SIZE 32

struct db_mariadb_login_cache_entry {
	struct db_mariadb_login_cache_entry *prev, *next;
	/* "user\nhash": a bcrypt hash contains no '\n', so this is
	   unambiguous */
	char *key;
	unsigned char mac[SHA256_RESULTLEN];
	time_t expires;
};

struct db_mariadb_login_cache {
	HASH_TABLE(char *, struct db_mariadb_login_cache_entry *) entries;
	/* most recently used first */
	struct db_mariadb_login_cache_entry *head, *tail;
	unsigned int count, max_entries, ttl_secs;
	/* HMAC-SHA256 with the random key already hashed in */
	struct hmac_context keyed;
};

struct db_mariadb_login_cache *
db_mariadb_login_cache_init(unsigned int max_entries, unsigned int ttl_secs)
{
	struct db_mariadb_login_cache *cache;
	unsigned char key[DB_MARIADB_LOGIN_CACHE_KEY_SIZE];

	i_assert(max_entries > 0);
	cache = i_new(struct db_mariadb_login_cache, 1);
	cache->max_entries = max_entries;
	cache->ttl_secs = ttl_secs;
	random_fill(key, sizeof(key));
	hmac_init(&cache->keyed, key, sizeof(key), &hash_method_sha256);
	safe_memset(key, 0, sizeof(key));
	hash_table_create(&cache->entries, default_pool, 0, str_hash, strcmp);
	return cache;
}

static void
db_mariadb_login_cache_free(struct db_mariadb_login_cache *cache,
			    struct db_mariadb_login_cache_entry *entry)
{
	hash_table_remove(cache->entries, entry->key);
	DLLIST2_REMOVE(&cache->head, &cache->tail, entry);
	cache->count--;
	safe_memset(entry->mac, 0, sizeof(entry->mac));
	i_free(entry->key);
	i_free(entry);
}

void db_mariadb_login_cache_deinit(struct db_mariadb_login_cache **_cache)
{
	struct db_mariadb_login_cache *cache = *_cache;

	*_cache = NULL;
	while (cache->head != NULL)
		db_mariadb_login_cache_free(cache, cache->head);
	hash_table_destroy(&cache->entries);
	safe_memset(&cache->keyed, 0, sizeof(cache->keyed));
	i_free(cache);
}

static void
db_mariadb_login_cache_mac(struct db_mariadb_login_cache *cache,
			   const char *password,
			   unsigned char mac_r[SHA256_RESULTLEN])
{
	struct hmac_context ctx = cache->keyed;

	hmac_update(&ctx, password, strlen(password));
	hmac_final(&ctx, mac_r);
	safe_memset(&ctx, 0, sizeof(ctx));
}

static struct db_mariadb_login_cache_entry *
db_mariadb_login_cache_find(struct db_mariadb_login_cache *cache,
			    const char *user, const char *stored_hash)
{
	struct db_mariadb_login_cache_entry *entry;

	T_BEGIN {
		entry = hash_table_lookup(cache->entries,
			t_strconcat(user, "\n", stored_hash, NULL));
	} T_END;
	return entry;
}

enum db_mariadb_login_cache_result
db_mariadb_login_cache_lookup(struct db_mariadb_login_cache *cache,
			      const char *user, const char *stored_hash,
			      const char *password, time_t now)
{
	struct db_mariadb_login_cache_entry *entry;
	unsigned char mac[SHA256_RESULTLEN];
	bool match;

	entry = db_mariadb_login_cache_find(cache, user, stored_hash);
	if (entry == NULL)
		return DB_MARIADB_LOGIN_CACHE_MISS;
	if (entry->expires <= now) {
		db_mariadb_login_cache_free(cache, entry);
		return DB_MARIADB_LOGIN_CACHE_STALE;
	}
	db_mariadb_login_cache_mac(cache, password, mac);
	match = mem_equals_timing_safe(mac, entry->mac, sizeof(mac));
	safe_memset(mac, 0, sizeof(mac));
	if (!match)
		return DB_MARIADB_LOGIN_CACHE_MISS;
	DLLIST2_REMOVE(&cache->head, &cache->tail, entry);
	DLLIST2_PREPEND(&cache->head, &cache->tail, entry);
	return DB_MARIADB_LOGIN_CACHE_HIT;
}

const char *
db_mariadb_login_cache_result_name(enum db_mariadb_login_cache_result result)
{
	switch (result) {
	case DB_MARIADB_LOGIN_CACHE_MISS:
		return "miss";
	case DB_MARIADB_LOGIN_CACHE_HIT:
		return "hit";
	case DB_MARIADB_LOGIN_CACHE_STALE:
		return "stale";
	}
	i_unreached();
}

void db_mariadb_login_cache_insert(struct db_mariadb_login_cache *cache,
				   const char *user, const char *stored_hash,
				   const char *password, time_t now)
{
	struct db_mariadb_login_cache_entry *entry;

	entry = db_mariadb_login_cache_find(cache, user, stored_hash);
	if (entry != NULL)
		DLLIST2_REMOVE(&cache->head, &cache->tail, entry);
	else {
		if (cache->count >= cache->max_entries)
			db_mariadb_login_cache_free(cache, cache->tail);
		entry = i_new(struct db_mariadb_login_cache_entry, 1);
		entry->key = i_strconcat(user, "\n", stored_hash, NULL);
		hash_table_insert(cache->entries, entry->key, entry);
		cache->count++;
	}
	DLLIST2_PREPEND(&cache->head, &cache->tail, entry);
	db_mariadb_login_cache_mac(cache, password, entry->mac);
	entry->expires = now + cache->ttl_secs;
}

unsigned int db_mariadb_login_cache_count(struct db_mariadb_login_cache *cache)
{
	return cache->count;
}
