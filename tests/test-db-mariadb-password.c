/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "test-common.h"
#include "test-compat.h"
#include "db-mariadb-password.h"

#include <sys/resource.h>

/* The example in the installation guide (cost 10, so used sparingly: each
   check takes seconds under valgrind). Everything else uses cost 4. */
#define GUIDE_HASH "$2y$10$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tnG"
#define GUIDE_PASSWORD "test1234"
#define TEST_COST 4

/* 22 salt and 31 hash characters that form a well-formed bcrypt tail */
#define TAIL "T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tnG"

static const char *test_generate(const char *plaintext)
{
	const char *hash, *error;

	if (db_mariadb_password_generate(plaintext, TEST_COST,
					 &hash, &error) < 0)
		i_fatal("db_mariadb_password_generate() failed: %s", error);
	return hash;
}

/* The hash with its "$2y$" replaced by prefix. */
static const char *test_with_prefix(const char *hash, const char *prefix)
{
	i_assert(str_begins_with(hash, "$2y$"));
	return t_strconcat(prefix, hash + 4, NULL);
}

static const char *test_repeat(char c, size_t n)
{
	char *str = t_malloc_no0(n + 1);

	memset(str, c, n);
	str[n] = '\0';
	return str;
}

static void test_password_guide_hash(void)
{
	static const struct {
		const char *plaintext;
		int ret;
	} tests[] = {
		{ GUIDE_PASSWORD, 1 },
		{ "test1235", 0 },
		{ "", 0 },
		{ "Test1234", 0 },
	};
	const char *error;
	unsigned int i;

	test_begin("db_mariadb_password_verify() guide's hash");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		test_assert_idx(db_mariadb_password_verify(tests[i].plaintext,
				GUIDE_HASH, &error) == tests[i].ret, i);
		test_assert_idx(error == NULL, i);
	}
	test_end();
}

static void test_password_prefixes(void)
{
	static const char *const variants[] = { "$2y$", "$2b$", "$2a$" };
	static const char *const schemes[] = {
		"", "{BLF-CRYPT}", "{blf-crypt}", "{Blf-Crypt}",
		"{CRYPT}", "{crypt}",
	};
	const char *bare_hash, *hash, *stored, *parsed, *error;
	unsigned int i, j, n = 0;

	test_begin("db_mariadb_password_verify() $2y$/$2b$/$2a$, {schemes}");
	bare_hash = test_generate(GUIDE_PASSWORD);
	for (i = 0; i < N_ELEMENTS(variants); i++) {
		hash = test_with_prefix(bare_hash, variants[i]);
		for (j = 0; j < N_ELEMENTS(schemes); j++, n++) T_BEGIN {
			stored = t_strconcat(schemes[j], hash, NULL);
			error = NULL;
			test_assert_idx(db_mariadb_password_parse(stored,
					DB_MARIADB_BCRYPT_COST_MAX,
					&parsed, &error) == 1, n);
			test_assert_strcmp_idx(parsed, hash, n);
			test_assert_idx(db_mariadb_password_verify(
				GUIDE_PASSWORD, stored, &error) == 1, n);
			test_assert_idx(db_mariadb_password_verify(
				"test1235", stored, &error) == 0, n);
			test_assert_idx(error == NULL, n);
		} T_END;
	}
	test_end();
}

static void test_password_locked(void)
{
	static const char *const tests[] = {
		"", "*", "!", "*LK*", "!!",
		"!$2y$04$" TAIL, "*$2y$04$" TAIL,
		"{BLF-CRYPT}", "{CRYPT}", "{BLF-CRYPT}!", "{crypt}*",
		"{BLF-CRYPT}!$2y$04$" TAIL,
	};
	const char *hash, *error;
	unsigned int i;

	test_begin("db_mariadb_password_verify() locked accounts");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		hash = "";
		test_assert_idx(db_mariadb_password_parse(tests[i],
				DB_MARIADB_BCRYPT_COST_MAX, &hash,
				&error) == 0, i);
		test_assert_idx(hash == NULL, i);
		/* no password matches, not even an empty one */
		test_assert_idx(db_mariadb_password_verify("", tests[i],
							   &error) == 0, i);
		test_assert_idx(db_mariadb_password_verify(tests[i],
				tests[i], &error) == 0, i);
		test_assert_idx(error == NULL, i);
	}
	test_end();
}

static void test_password_malformed(void)
{
#define NOT_BCRYPT "not a bcrypt hash (expected $2y$, $2b$ or $2a$)"
#define BAD_COST "bcrypt hash has a malformed cost field"
#define BAD_CHAR "bcrypt hash contains a character outside its alphabet"
#define BAD_SCHEME \
	"unsupported password scheme prefix (expected {BLF-CRYPT} or {CRYPT})"
	static const struct {
		const char *stored;
		const char *error;
	} tests[] = {
		/* truncated, too long */
		{ "$2y$04$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tn",
		  "bcrypt hash has 59 characters, expected 60" },
		{ "$2y$04$" TAIL "G",
		  "bcrypt hash has 61 characters, expected 60" },
		{ "$2y$04$", "bcrypt hash has 7 characters, expected 60" },
		{ "{BLF-CRYPT}$2y$",
		  "bcrypt hash has 4 characters, expected 60" },
		{ "$2y$04$" TAIL " ",
		  "bcrypt hash has 61 characters, expected 60" },
		/* other variants and schemes */
		{ "$2x$04$" TAIL, NOT_BCRYPT },
		{ "$2$04$" TAIL, NOT_BCRYPT },
		{ "$2Y$04$" TAIL, NOT_BCRYPT },
		{ "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", NOT_BCRYPT },
		{ "$6$rounds=5000$saltsalt$" TAIL, NOT_BCRYPT },
		{ "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", NOT_BCRYPT },
		{ "$2", NOT_BCRYPT },
		{ "2y$04$" TAIL "x", NOT_BCRYPT },
		{ " $2y$04$" TAIL, NOT_BCRYPT },
		{ GUIDE_PASSWORD, NOT_BCRYPT },
		{ "{CRYPT}$6$saltsalt$" TAIL, NOT_BCRYPT },
		{ "{SHA512-CRYPT}$6$saltsalt$" TAIL, BAD_SCHEME },
		{ "{PLAIN}" GUIDE_PASSWORD, BAD_SCHEME },
		{ "{BLF-CRYPT}{BLF-CRYPT}$2y$04$" TAIL, BAD_SCHEME },
		{ "{BLF-CRYPT", BAD_SCHEME },
		/* cost */
		{ "$2y$03$" TAIL, "bcrypt cost 3 is outside 4..31" },
		{ "$2y$00$" TAIL, "bcrypt cost 0 is outside 4..31" },
		{ "$2y$32$" TAIL, "bcrypt cost 32 is outside 4..31" },
		{ "$2y$99$" TAIL, "bcrypt cost 99 is outside 4..31" },
		{ "$2y$1a$" TAIL, BAD_COST },
		{ "$2y$-1$" TAIL, BAD_COST },
		{ "$2y$ 4$" TAIL, BAD_COST },
		{ "$2y$4$" TAIL "x", BAD_COST },
		{ "$2y$100" TAIL, BAD_COST },
		/* alphabet: ./A-Za-z0-9 (not base64's + and =) */
		{ "$2y$04$+03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tnG",
		  BAD_CHAR },
		{ "$2y$04$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tn=",
		  BAD_CHAR },
		{ "$2y$04$T03RmF8PZVdEGvqMBA7JD$7kleiWmA8Acpoz7iUm7N44P1yiS5tnG",
		  BAD_CHAR },
		{ "$2y$04$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tn\xc3",
		  BAD_CHAR },
	};
#undef NOT_BCRYPT
#undef BAD_COST
#undef BAD_CHAR
#undef BAD_SCHEME
	const char *hash, *error;
	unsigned int i;

	test_begin("db_mariadb_password_verify() malformed hashes");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		test_assert_idx(db_mariadb_password_parse(tests[i].stored,
				DB_MARIADB_BCRYPT_COST_MAX, &hash,
				&error) == -1, i);
		test_assert_idx(hash == NULL, i);
		test_assert_strcmp_idx(error, tests[i].error, i);
		error = NULL;
		test_assert_idx(db_mariadb_password_verify(GUIDE_PASSWORD,
				tests[i].stored, &error) == -1, i);
		test_assert_strcmp_idx(error, tests[i].error, i);
		/* the reason never quotes the hash */
		test_assert_idx(error == NULL ||
				strstr(error, TAIL) == NULL, i);
	}
	test_end();
}

static void test_password_max_cost(void)
{
	const char *hash, *error = NULL;

	test_begin("db_mariadb_password_parse() max_cost");
	test_assert(db_mariadb_password_parse("$2y$15$" TAIL, 15,
					      &hash, &error) == 1);
	test_assert(db_mariadb_password_cost(hash) == 15);
	test_assert(db_mariadb_password_parse("{BLF-CRYPT}$2y$04$" TAIL, 4,
					      &hash, &error) == 1);
	test_assert(db_mariadb_password_cost(hash) == 4);
	/* one more would keep a worker busy twice as long */
	test_assert(db_mariadb_password_parse("$2y$16$" TAIL, 15,
					      &hash, &error) == -1);
	test_assert(hash == NULL);
	test_assert_strcmp(error, "bcrypt cost 16 is outside 4..15");
	test_assert(db_mariadb_password_parse("$2y$31$" TAIL, 10,
					      &hash, &error) == -1);
	test_assert_strcmp(error, "bcrypt cost 31 is outside 4..10");
	test_end();
}

static void test_password_cost_tracker(void)
{
	struct db_mariadb_cost_tracker tracker;
	unsigned int i;

	test_begin("db_mariadb_cost_tracker");
	i_zero(&tracker);
	/* nothing seen yet */
	test_assert(db_mariadb_cost_tracker_get(&tracker, 10) == 10);
	db_mariadb_cost_tracker_add(&tracker, 5);
	test_assert(db_mariadb_cost_tracker_get(&tracker, 10) == 5);
	/* the most common one; a tie goes to the higher cost */
	db_mariadb_cost_tracker_add(&tracker, 12);
	test_assert(db_mariadb_cost_tracker_get(&tracker, 10) == 12);
	db_mariadb_cost_tracker_add(&tracker, 5);
	test_assert(db_mariadb_cost_tracker_get(&tracker, 10) == 5);
	/* a window: old costs leave it */
	for (i = 0; i < DB_MARIADB_COST_WINDOW; i++)
		db_mariadb_cost_tracker_add(&tracker, 11);
	test_assert(db_mariadb_cost_tracker_get(&tracker, 10) == 11);
	test_assert(tracker.filled == DB_MARIADB_COST_WINDOW);
	test_assert(tracker.counts[5] == 0 && tracker.counts[12] == 0);
	test_assert(tracker.counts[11] == DB_MARIADB_COST_WINDOW);
	for (i = 0; i < DB_MARIADB_COST_WINDOW / 2 + 1; i++)
		db_mariadb_cost_tracker_add(&tracker, 4);
	test_assert(db_mariadb_cost_tracker_get(&tracker, 10) == 4);
	db_mariadb_cost_tracker_add(&tracker, DB_MARIADB_BCRYPT_COST_MAX);
	test_assert(tracker.counts[DB_MARIADB_BCRYPT_COST_MAX] == 1);
	test_end();
}

static void test_password_length(void)
{
	const char *pw72, *hash, *error = NULL;

	test_begin("db_mariadb_password_verify() long passwords");
	/* bcrypt uses the first 72 octets only: a 73rd doesn't count */
	pw72 = test_repeat('p', 72);
	hash = test_generate(pw72);
	test_assert(db_mariadb_password_verify(pw72, hash, &error) == 1);
	test_assert(db_mariadb_password_verify(t_strconcat(pw72, "X", NULL),
					       hash, &error) == 1);
	test_assert(db_mariadb_password_verify(test_repeat('p', 100),
					       hash, &error) == 1);
	/* ... but each of the 72 does */
	test_assert(db_mariadb_password_verify(t_strconcat(
		test_repeat('p', 71), "X", NULL), hash, &error) == 0);
	test_assert(db_mariadb_password_verify(test_repeat('p', 71),
					       hash, &error) == 0);
	/* libxcrypt refuses 512 octets and more: never a match (not an
	   error either), although bcrypt alone would say it is */
	test_assert(db_mariadb_password_verify(test_repeat('p', 512),
					       hash, &error) == 0);
	test_assert(db_mariadb_password_verify(test_repeat('p', 513),
					       hash, &error) == 0);
	test_assert(db_mariadb_password_verify(test_repeat('p', 4096),
					       hash, &error) == 0);
	test_assert(error == NULL);
	test_end();
}

static void test_password_generate(void)
{
	static const char *const passwords[] = {
		GUIDE_PASSWORD, "", "p\xc3\xa4ssw\xc3\xb6rd", "a b\tc'\"\\",
	};
	const char *hash, *hash2, *error;
	unsigned int i;

	test_begin("db_mariadb_password_generate()");
	for (i = 0; i < N_ELEMENTS(passwords); i++) T_BEGIN {
		error = NULL;
		test_assert_idx(db_mariadb_password_generate(passwords[i],
				TEST_COST, &hash, &error) == 0, i);
		test_assert_idx(error == NULL, i);
		test_assert_idx(str_begins_with(hash, "$2y$04$"), i);
		test_assert_idx(strlen(hash) == DB_MARIADB_BCRYPT_LEN, i);
		test_assert_idx(db_mariadb_password_verify(passwords[i],
				hash, &error) == 1, i);
		test_assert_idx(db_mariadb_password_verify(
			t_strconcat(passwords[i], "x", NULL),
			hash, &error) == 0, i);
		/* $2b$ is the same algorithm */
		test_assert_idx(db_mariadb_password_verify(passwords[i],
			test_with_prefix(hash, "$2b$"), &error) == 1, i);
		/* a new salt every time */
		test_assert_idx(db_mariadb_password_generate(passwords[i],
				TEST_COST, &hash2, &error) == 0, i);
		test_assert_idx(strcmp(hash, hash2) != 0, i);
	} T_END;

	test_assert(db_mariadb_password_generate(GUIDE_PASSWORD, 3,
						 &hash, &error) == -1);
	test_assert_strcmp(error, "bcrypt cost 3 is outside 4..31");
	test_assert(db_mariadb_password_generate(GUIDE_PASSWORD, 32,
						 &hash, &error) == -1);
	test_assert_strcmp(error, "bcrypt cost 32 is outside 4..31");
	test_assert(db_mariadb_password_generate(GUIDE_PASSWORD, 0,
						 &hash, &error) == -1);
	test_assert_strcmp(error, "bcrypt cost 0 is outside 4..31");
	test_end();
}

static void test_password_dummy_hash(void)
{
	const char *hash1, *hash2, *hash, *error = NULL;

	test_begin("db_mariadb_password_dummy_hash()");
	test_assert(db_mariadb_password_dummy_hash(4, &hash1, &error) == 0);
	test_assert(db_mariadb_password_dummy_hash(4, &hash2, &error) == 0);
	/* a valid hash of that cost, with its own random salt */
	test_assert(db_mariadb_password_parse(hash1, DB_MARIADB_BCRYPT_COST_MAX,
					      &hash, &error) == 1);
	test_assert(str_begins_with(hash1, "$2y$04$"));
	test_assert(strcmp(hash1, hash2) != 0);
	/* which no password matches */
	test_assert(db_mariadb_password_verify("", hash1, &error) == 0);
	test_assert(db_mariadb_password_verify("test1234", hash1, &error) == 0);
	test_assert(db_mariadb_password_dummy_hash(3, &hash, &error) == -1);
	test_assert(db_mariadb_password_dummy_hash(32, &hash, &error) == -1);
	test_end();
}

static void test_crypt_verify(void)
{
	/* test1234, made with doveadm pw (Dovecot 2.3.19.1) and mkpasswd */
	static const char *const hashes[] = {
		"$6$27awBinfIh9vR91C$gFnYP49AdIYlBVq.o2Oz/ZClL3H4XToO80ivvYY/"
		"WdxdLipJjcaL3MWDWoGZDk9hzzOQjCmBJsSOL8L3Bh7VG1",
		"$5$XheZhCR3ZE2B5b6J$YKdTDnNBcnu2yn2uJlqvWON7TqQAbU04WO2i9wbTN60",
		"$1$fuV8Rllb$bB5DNGEjVW6D8VMQfIx3f/",
		"$y$j9T$Ek4JL3fgIhgp4k8tECwiM.$ZQffqWXchtPEGomaSHXVLMn/5OO6n7vMn"
		"C9n5CG7gd9",
		"hErQvEVJuJQ32",
	};
	const char *error;
	size_t len;
	unsigned int i;

	test_begin("db_mariadb_crypt_verify()");
	for (i = 0; i < N_ELEMENTS(hashes); i++) T_BEGIN {
		len = strlen(hashes[i]);
		error = NULL;
		test_assert_idx(db_mariadb_crypt_verify(GUIDE_PASSWORD,
				hashes[i], &error) == 1, i);
		test_assert_idx(db_mariadb_crypt_verify("test1235",
				hashes[i], &error) == 0, i);
		test_assert_idx(error == NULL, i);
		/* a broken hash is never a wrong password */
		test_assert_idx(db_mariadb_crypt_verify(GUIDE_PASSWORD,
				t_strndup(hashes[i], len - 1), &error) == -1, i);
		test_assert_idx(error != NULL, i);
		test_assert_idx(db_mariadb_crypt_verify(GUIDE_PASSWORD,
				t_strconcat(hashes[i], "A", NULL),
				&error) == -1, i);
	} T_END;
	test_assert(db_mariadb_crypt_verify(GUIDE_PASSWORD,
		"$6$27awBinfIh9vR91C$gFnYP49AdI", &error) == -1);
	test_assert_strcmp(error, "the crypt string is truncated or has "
			   "extra characters");
	test_assert(db_mariadb_crypt_verify(GUIDE_PASSWORD, "$y$j9T$abc$def",
					    &error) == -1);
	test_assert_strcmp(error, "libxcrypt rejected the crypt string");
	/* bcrypt too, as the passdb's bcrypt check does it */
	test_assert(db_mariadb_crypt_verify(GUIDE_PASSWORD, GUIDE_HASH,
					    &error) == 1);
	test_end();
}

static void test_password_self_test(void)
{
	const char *error = NULL;

	test_begin("db_mariadb_password_self_test()");
	test_assert(db_mariadb_password_self_test(&error) == 0);
	test_end();
}

static void test_password_lower_priority(void)
{
	int before, expected;

	test_begin("db_mariadb_password_lower_priority()");
	/* runs last: the rest of this process is nicer (up to 19, e.g. when
	   make check itself runs under nice) */
	errno = 0;
	before = getpriority(PRIO_PROCESS, 0);
	test_assert(errno == 0);
	expected = I_MIN(before + DB_MARIADB_WORKER_NICE_INCREMENT, 19);
	db_mariadb_password_lower_priority();
	test_assert(getpriority(PRIO_PROCESS, 0) == expected);
	/* once is enough: a second call changes nothing */
	db_mariadb_password_lower_priority();
	test_assert(getpriority(PRIO_PROCESS, 0) == expected);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_password_guide_hash,
		test_password_prefixes,
		test_password_locked,
		test_password_malformed,
		test_password_max_cost,
		test_password_cost_tracker,
		test_password_length,
		test_password_dummy_hash,
		test_password_self_test,
		test_password_generate,
		test_password_lower_priority,
		test_crypt_verify,
		NULL
	};
	return test_run(test_functions);
}
