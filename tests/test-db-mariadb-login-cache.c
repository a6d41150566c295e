/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "test-common.h"
#include "db-mariadb-login-cache.h"

#define HIT DB_MARIADB_LOGIN_CACHE_HIT
#define MISS DB_MARIADB_LOGIN_CACHE_MISS
#define STALE DB_MARIADB_LOGIN_CACHE_STALE

#define HASH1 "$2y$10$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tnG"
#define HASH2 "$2y$10$abcdefghijklmnopqrstuu5Zf6p9RG0yG3pG4c6sNq1Lkq0U7mHiW"

static void test_login_cache_lookup(void)
{
	struct db_mariadb_login_cache *cache;

	test_begin("login cache: hits only for the same user, hash, password");
	cache = db_mariadb_login_cache_init(10, 60);
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						   "pw", 100) == MISS);
	db_mariadb_login_cache_insert(cache, "a@d.net", HASH1, "pw", 100);
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						  "pw", 100) == HIT);
	/* wrong password */
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						   "pw2", 100) == MISS);
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						   "", 100) == MISS);
	/* the password was changed in the database: a new hash */
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH2,
						   "pw", 100) == MISS);
	/* another user with the same hash and password */
	test_assert(db_mariadb_login_cache_lookup(cache, "b@d.net", HASH1,
						   "pw", 100) == MISS);
	/* a failed lookup doesn't remove the entry */
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						  "pw", 100) == HIT);
	/* a new password replaces the old one for the same hash */
	db_mariadb_login_cache_insert(cache, "a@d.net", HASH1, "pw3", 100);
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						   "pw", 100) == MISS);
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						  "pw3", 100) == HIT);
	test_assert(db_mariadb_login_cache_count(cache) == 1);
	db_mariadb_login_cache_deinit(&cache);
	test_assert(cache == NULL);
	test_end();
}

static void test_login_cache_ttl(void)
{
	struct db_mariadb_login_cache *cache;

	test_begin("login cache: entries expire");
	cache = db_mariadb_login_cache_init(10, 60);
	db_mariadb_login_cache_insert(cache, "a@d.net", HASH1, "pw", 100);
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						  "pw", 159) == HIT);
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						   "pw", 160) == STALE);
	test_assert(db_mariadb_login_cache_count(cache) == 0);
	/* gone: a miss from now on */
	test_assert(db_mariadb_login_cache_lookup(cache, "a@d.net", HASH1,
						  "pw", 161) == MISS);
	test_assert_strcmp(db_mariadb_login_cache_result_name(STALE), "stale");
	test_assert_strcmp(db_mariadb_login_cache_result_name(HIT), "hit");
	test_assert_strcmp(db_mariadb_login_cache_result_name(MISS), "miss");
	db_mariadb_login_cache_deinit(&cache);
	test_end();
}

static void test_login_cache_size(void)
{
	struct db_mariadb_login_cache *cache;
	unsigned int i;

	test_begin("login cache: the least recently used entry goes first");
	cache = db_mariadb_login_cache_init(3, 60);
	for (i = 0; i < 3; i++) {
		db_mariadb_login_cache_insert(cache, t_strdup_printf(
			"u%u@d.net", i), HASH1, "pw", 100);
	}
	/* u0 used again: u1 is now the least recently used */
	test_assert(db_mariadb_login_cache_lookup(cache, "u0@d.net", HASH1,
						  "pw", 100) == HIT);
	db_mariadb_login_cache_insert(cache, "u3@d.net", HASH1, "pw", 100);
	test_assert(db_mariadb_login_cache_count(cache) == 3);
	test_assert(db_mariadb_login_cache_lookup(cache, "u1@d.net", HASH1,
						   "pw", 100) == MISS);
	test_assert(db_mariadb_login_cache_lookup(cache, "u0@d.net", HASH1,
						  "pw", 100) == HIT);
	test_assert(db_mariadb_login_cache_lookup(cache, "u2@d.net", HASH1,
						  "pw", 100) == HIT);
	test_assert(db_mariadb_login_cache_lookup(cache, "u3@d.net", HASH1,
						  "pw", 100) == HIT);
	db_mariadb_login_cache_deinit(&cache);
	test_end();
}

static void test_login_cache_keys(void)
{
	struct db_mariadb_login_cache *cache1, *cache2;

	test_begin("login cache: each cache has its own HMAC key");
	/* the same password in two caches: both work independently */
	cache1 = db_mariadb_login_cache_init(10, 60);
	cache2 = db_mariadb_login_cache_init(10, 60);
	db_mariadb_login_cache_insert(cache1, "a@d.net", HASH1, "pw", 100);
	test_assert(db_mariadb_login_cache_lookup(cache2, "a@d.net", HASH1,
						   "pw", 100) == MISS);
	db_mariadb_login_cache_deinit(&cache1);
	db_mariadb_login_cache_deinit(&cache2);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_login_cache_lookup,
		test_login_cache_ttl,
		test_login_cache_size,
		test_login_cache_keys,
		NULL
	};
	return test_run(test_functions);
}
