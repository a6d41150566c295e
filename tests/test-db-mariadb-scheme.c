/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "test-common.h"
#include "db-mariadb-password.h"
#include "db-mariadb-scheme.h"

/* made with doveadm pw -p test1234 (Dovecot 2.3.19.1) and mkpasswd */
#define BCRYPT "$2y$05$cIaIBKXA13j7IfeXRCiL1uem6RYYWLqO1TD.ZG11Jh7P6JhV6Fd8a"
#define SHA512_CRYPT "$6$27awBinfIh9vR91C$gFnYP49AdIYlBVq.o2Oz/ZClL3H4XToO80" \
	"ivvYY/WdxdLipJjcaL3MWDWoGZDk9hzzOQjCmBJsSOL8L3Bh7VG1"
#define SHA256_CRYPT "$5$XheZhCR3ZE2B5b6J$YKdTDnNBcnu2yn2uJlqvWON7TqQAbU04WO2i9wbTN60"
#define MD5_CRYPT "$1$fuV8Rllb$bB5DNGEjVW6D8VMQfIx3f/"
#define YESCRYPT "$y$j9T$Ek4JL3fgIhgp4k8tECwiM.$ZQffqWXchtPEGomaSHXVLMn/5OO6n7vMnC9n5CG7gd9"
#define SCRYPT "$7$CU..../....aY3tpvLEtyEzrhcA.x6oT1$vxeBfPs5/cF7BylGEJZrt/kTRZU6W2EktJ3rUA/g7w8"
#define GOST_YESCRYPT "$gy$j9T$vrTCG18L/cUiEN5qk9Er11$R5HuCf4BMnwgzH2ltFrOMA2KAYoMog3POSQqZnjJc15"
#define DES_CRYPT "hErQvEVJuJQ32"
#define ARGON2ID "$argon2id$v=19$m=65536,t=3,p=1$PQS+zB7PL5X+CrI/SMWA4w$" \
	"DEv9wE5zCjRUwvp/ZGjR5eYi4wEpc0M7yUk55qvHyEA"
#define ARGON2I "$argon2i$v=19$m=32768,t=4,p=1$Z1N/1qV3h9bt2cUqZuVJPQ$" \
	"WduBF92cstyuN4oR35r5KrKQU6JY1M0RWJEyIsOwAQM"

static void test_scheme_classify(void)
{
	static const struct {
		const char *stored;
		enum db_mariadb_scheme_method method;
		const char *scheme;
		const char *value;
		bool weak;
	} tests[] = {
		/* bcrypt as before */
		{ BCRYPT, DB_MARIADB_METHOD_BCRYPT, "BLF-CRYPT", BCRYPT, FALSE },
		{ "{BLF-CRYPT}"BCRYPT, DB_MARIADB_METHOD_BCRYPT, "BLF-CRYPT",
		  BCRYPT, FALSE },
		{ "{CRYPT}"BCRYPT, DB_MARIADB_METHOD_BCRYPT, "BLF-CRYPT",
		  BCRYPT, FALSE },
		{ "{blf-crypt}"BCRYPT, DB_MARIADB_METHOD_BCRYPT, "BLF-CRYPT",
		  BCRYPT, FALSE },
		/* bare crypt strings: libxcrypt */
		{ SHA512_CRYPT, DB_MARIADB_METHOD_CRYPT, "SHA512-CRYPT",
		  SHA512_CRYPT, FALSE },
		{ SHA256_CRYPT, DB_MARIADB_METHOD_CRYPT, "SHA256-CRYPT",
		  SHA256_CRYPT, FALSE },
		{ MD5_CRYPT, DB_MARIADB_METHOD_CRYPT, "MD5-CRYPT", MD5_CRYPT,
		  TRUE },
		{ YESCRYPT, DB_MARIADB_METHOD_CRYPT, "YESCRYPT", YESCRYPT,
		  FALSE },
		{ GOST_YESCRYPT, DB_MARIADB_METHOD_CRYPT, "GOST-YESCRYPT",
		  GOST_YESCRYPT, FALSE },
		{ SCRYPT, DB_MARIADB_METHOD_CRYPT, "SCRYPT", SCRYPT, FALSE },
		/* Dovecot's crypt schemes: libxcrypt too */
		{ "{SHA512-CRYPT}"SHA512_CRYPT, DB_MARIADB_METHOD_CRYPT,
		  "SHA512-CRYPT", SHA512_CRYPT, FALSE },
		{ "{SHA256-CRYPT}"SHA256_CRYPT, DB_MARIADB_METHOD_CRYPT,
		  "SHA256-CRYPT", SHA256_CRYPT, FALSE },
		{ "{MD5-CRYPT}"MD5_CRYPT, DB_MARIADB_METHOD_CRYPT, "MD5-CRYPT",
		  MD5_CRYPT, TRUE },
		{ "{MD5}"MD5_CRYPT, DB_MARIADB_METHOD_CRYPT, "MD5-CRYPT",
		  MD5_CRYPT, TRUE },
		{ "{DES-CRYPT}"DES_CRYPT, DB_MARIADB_METHOD_CRYPT, "DES-CRYPT",
		  DES_CRYPT, TRUE },
		{ "{CRYPT}"DES_CRYPT, DB_MARIADB_METHOD_CRYPT, "DES-CRYPT",
		  DES_CRYPT, TRUE },
		{ "{CRYPT}"YESCRYPT, DB_MARIADB_METHOD_CRYPT, "YESCRYPT",
		  YESCRYPT, FALSE },
		/* Dovecot's other schemes */
		{ "{SSHA512}f4uk0xik1VyPlHBjQBajVUGOp1cZgi3+lB+tBWjsIePmSmkr+LyA"
		  "wZhSiC+r8bkzJV6ASrW8zZNhY5TI7IENnaSfl0g=",
		  DB_MARIADB_METHOD_DOVECOT, "SSHA512", NULL, FALSE },
		{ "{ARGON2ID}"ARGON2ID, DB_MARIADB_METHOD_DOVECOT, "ARGON2ID",
		  ARGON2ID, FALSE },
		{ "{ARGON2I}"ARGON2I, DB_MARIADB_METHOD_DOVECOT, "ARGON2I",
		  ARGON2I, FALSE },
		{ "{PBKDF2}$1$vijFgj49f6nVcyEg$5000$6272cd5e8c15857225dfc75528"
		  "4ff122a575a9eb", DB_MARIADB_METHOD_DOVECOT, "PBKDF2", NULL,
		  FALSE },
		{ "{PLAIN}test1234", DB_MARIADB_METHOD_DOVECOT, "PLAIN",
		  "test1234", TRUE },
		{ "{plain-md5}16d7a4fca7442dda3ad93c9a726597e4",
		  DB_MARIADB_METHOD_DOVECOT, "PLAIN-MD5", NULL, TRUE },
		{ "{SHA1}m8NFSdVl2VBbKH3gzSCsd74dPyw=",
		  DB_MARIADB_METHOD_DOVECOT, "SHA1", NULL, TRUE },
		{ "{SHA512.hex}abc", DB_MARIADB_METHOD_DOVECOT, "SHA512", "abc",
		  TRUE },
		{ "{MD5}16d7a4fca7442dda3ad93c9a726597e4",
		  DB_MARIADB_METHOD_DOVECOT, "MD5", NULL, TRUE },
		{ "{CRAM-MD5}8cef", DB_MARIADB_METHOD_DOVECOT, "CRAM-MD5",
		  "8cef", TRUE },
		{ "{SCRAM-SHA-256}4096,a,b,c", DB_MARIADB_METHOD_DOVECOT,
		  "SCRAM-SHA-256", NULL, FALSE },
		/* encoded crypt strings are Dovecot's to decode */
		{ "{SHA512-CRYPT.B64}JDYkS08z", DB_MARIADB_METHOD_DOVECOT,
		  "SHA512-CRYPT", "JDYkS08z", FALSE },
		{ "{MD5-CRYPT.b64}JDEk", DB_MARIADB_METHOD_DOVECOT, "MD5-CRYPT",
		  "JDEk", TRUE },
		/* unknown to Dovecot: decided where Dovecot is */
		{ "{NO-SUCH}x", DB_MARIADB_METHOD_DOVECOT, "NO-SUCH", "x",
		  FALSE },
	};
	struct db_mariadb_stored_password stored;
	const char *error;
	unsigned int i;

	test_begin("db_mariadb_stored_password_parse() schemes");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		test_assert_idx(db_mariadb_stored_password_parse(tests[i].stored,
				DB_MARIADB_BCRYPT_COST_MAX, &stored,
				&error) == 1, i);
		test_assert_idx(error == NULL, i);
		test_assert_idx(stored.method == tests[i].method, i);
		test_assert_strcmp_idx(stored.scheme, tests[i].scheme, i);
		if (tests[i].value != NULL)
			test_assert_strcmp_idx(stored.value, tests[i].value, i);
		test_assert_idx(stored.weak == tests[i].weak, i);
	}
	/* the encoding stays for Dovecot's decoder */
	test_assert(db_mariadb_stored_password_parse("{SHA512.hex}abc", 31,
						     &stored, &error) == 1);
	test_assert_strcmp(stored.dovecot_scheme, "SHA512.hex");
	test_assert(db_mariadb_stored_password_parse("{CRYPT}"BCRYPT, 31,
						     &stored, &error) == 1);
	test_assert(stored.cost == 5);
	test_end();
}

static void test_scheme_locked(void)
{
	static const char *const locked[] = {
		"", "*", "!", "!"BCRYPT, "*"SHA512_CRYPT, "!{SSHA512}abc",
		"{BLF-CRYPT}", "{BLF-CRYPT}!"BCRYPT, "{CRYPT}*", "{CRYPT}!x",
		"{PLAIN}", "{SHA512-CRYPT}", "{ARGON2ID}",
	};
	struct db_mariadb_stored_password stored;
	const char *error;
	unsigned int i;

	test_begin("db_mariadb_stored_password_parse() locked accounts");
	for (i = 0; i < N_ELEMENTS(locked); i++) {
		error = NULL;
		test_assert_idx(db_mariadb_stored_password_parse(locked[i],
				DB_MARIADB_BCRYPT_COST_MAX, &stored,
				&error) == 0, i);
		test_assert_idx(error == NULL, i);
	}
	test_end();
}

static void test_scheme_broken(void)
{
	static const struct {
		const char *stored, *error;
	} tests[] = {
		{ "test1234", "not a bcrypt hash ($2y$, $2b$, $2a$) nor a "
		  "crypt string ($1$, $5$, $6$, $y$, $gy$, $7$): a value of "
		  "another scheme needs its {SCHEME} prefix" },
		/* a bare DES string could be anything */
		{ DES_CRYPT, NULL },
		{ "$3$abc", NULL },
		{ "{", "'{' without a scheme name and '}'" },
		{ "{}x", "'{' without a scheme name and '}'" },
		{ "{SHA512-CRYPT"SHA512_CRYPT, NULL },
		{ "{BLF-CRYPT}"SHA512_CRYPT, "{BLF-CRYPT} value is not a "
		  "bcrypt hash (expected $2y$, $2b$ or $2a$)" },
		{ "{SHA512-CRYPT}"SHA256_CRYPT,
		  "{SHA512-CRYPT} value is not a SHA512-CRYPT string" },
		{ "{SHA256-CRYPT}"BCRYPT,
		  "{SHA256-CRYPT} value is not a SHA256-CRYPT string" },
		{ "{MD5-CRYPT}"SHA512_CRYPT,
		  "{MD5-CRYPT} value is not a MD5-CRYPT string" },
		{ "{DES-CRYPT}"DES_CRYPT"x",
		  "{DES-CRYPT} value is not a DES-CRYPT string" },
		{ "{CRYPT}$3$abc", "{CRYPT} value is not a crypt string the "
		  "module accepts ($2y$, $1$, $5$, $6$, $y$, $gy$, $7$, DES)" },
		/* bcrypt's own checks */
		{ "$2y$05$cIaIBKXA13j7IfeXRCiL1uem6RYYWLqO1TD.ZG11Jh7P6JhV6Fd8",
		  "bcrypt hash has 59 characters, expected 60" },
		{ "$2y$32$cIaIBKXA13j7IfeXRCiL1uem6RYYWLqO1TD.ZG11Jh7P6JhV6Fd8a",
		  "bcrypt cost 32 is outside 4..31" },
		/* ARGON2 strings that libsodium would call a wrong password */
		{ "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$PQS+zB7PL5X+CrI/SMWA4w$"
		  "DEv9wE5zCjRUwvp/ZGjR5eYi4wEpc0M7yUk",
		  "{ARGON2ID} value has a salt of 22 and a hash of 35 base64 "
		  "characters, expected at least 11 and 22 or 43" },
		{ "{ARGON2ID}"ARGON2I, "{ARGON2ID} value is not an ARGON2ID "
		  "string ($argon2id$v=..$m=..,t=..,p=..$salt$hash)" },
		{ "{ARGON2I}"ARGON2ID, NULL },
		{ "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$PQS+zB7PL5X+CrI/SMWA4w",
		  NULL },
		{ "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$PQS+z$"
		  "DEv9wE5zCjRUwvp/ZGjR5eYi4wEpc0M7yUk55qvHyEA", NULL },
		{ "{ARGON2ID}"ARGON2ID"=", NULL },
		{ "{ARGON2ID}$argon2id$v=x$m=65536,t=3,p=1$PQS+zB7PL5X+CrI/SMWA4w$"
		  "DEv9wE5zCjRUwvp/ZGjR5eYi4wEpc0M7yUk55qvHyEA", NULL },
	};
	struct db_mariadb_stored_password stored;
	const char *error;
	unsigned int i;

	test_begin("db_mariadb_stored_password_parse() broken values");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		test_assert_idx(db_mariadb_stored_password_parse(tests[i].stored,
				DB_MARIADB_BCRYPT_COST_MAX, &stored,
				&error) == -1, i);
		test_assert_idx(error != NULL, i);
		if (tests[i].error != NULL)
			test_assert_strcmp_idx(error, tests[i].error, i);
	}
	/* bcrypt_max_cost applies behind every prefix */
	test_assert(db_mariadb_stored_password_parse("{CRYPT}"BCRYPT, 4,
						     &stored, &error) == -1);
	test_assert_strcmp(error, "bcrypt cost 5 is outside 4..4");
	test_end();
}

static void test_scheme_weak(void)
{
	static const char *const weak[] = {
		"PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC", "MD5",
		"MD5-CRYPT", "SMD5", "PLAIN-MD4", "PLAIN-MD5", "LDAP-MD5",
		"HMAC-MD5", "CRAM-MD5", "DIGEST-MD5", "SHA", "SHA1", "SHA256",
		"SHA512", "DES-CRYPT", "OTP",
	};
	static const char *const strong[] = {
		"BLF-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "SSHA", "SSHA256",
		"SSHA512", "PBKDF2", "ARGON2I", "ARGON2ID", "ARGON2",
		"SCRAM-SHA-1", "SCRAM-SHA-256", "YESCRYPT", "CRYPT",
	};
	unsigned int i;

	test_begin("db_mariadb_scheme_is_weak()");
	for (i = 0; i < N_ELEMENTS(weak); i++)
		test_assert_idx(db_mariadb_scheme_is_weak(weak[i]), i);
	for (i = 0; i < N_ELEMENTS(strong); i++)
		test_assert_idx(!db_mariadb_scheme_is_weak(strong[i]), i);
	test_end();
}

static void test_scheme_default(void)
{
	test_begin("db_mariadb_stored_password_default_scheme()");
	test_assert_strcmp(db_mariadb_stored_password_default_scheme(BCRYPT),
			   "BLF-CRYPT");
	test_assert_strcmp(db_mariadb_stored_password_default_scheme(
				SHA512_CRYPT), "CRYPT");
	test_assert_strcmp(db_mariadb_stored_password_default_scheme(
				YESCRYPT), "CRYPT");
	test_assert_strcmp(db_mariadb_stored_password_default_scheme(
				MD5_CRYPT), "CRYPT");
	/* anything else stays the module's default, and fails as before */
	test_assert_strcmp(db_mariadb_stored_password_default_scheme(
				DES_CRYPT), "BLF-CRYPT");
	test_assert_strcmp(db_mariadb_stored_password_default_scheme("x"),
			   "BLF-CRYPT");
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_scheme_classify,
		test_scheme_locked,
		test_scheme_broken,
		test_scheme_weak,
		test_scheme_default,
		NULL
	};
	return test_run(test_functions);
}
