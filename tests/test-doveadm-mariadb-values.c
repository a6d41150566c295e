/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "doveadm-mariadb-values.h"

#define BCRYPT_HASH "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
/* 3 octets, 1 character */
#define HANGUL "\xea\xb0\x80"

/* A string of n copies of s. */
static const char *test_repeat(const char *s, unsigned int n)
{
	string_t *str = t_str_new(128);
	unsigned int i;

	for (i = 0; i < n; i++)
		str_append(str, s);
	return str_c(str);
}

static void test_address_parse(void)
{
	struct db_mariadb_user user;
	const char *domain, *error;

	test_begin("doveadm_mariadb_address_parse()");
	test_assert(doveadm_mariadb_address_parse("Alice@Example.ORG", &user,
						  &error));
	test_assert_strcmp(user.local, "Alice");
	test_assert_strcmp(user.domain, "example.org");
	/* the module's checks first */
	test_assert(!doveadm_mariadb_address_parse("alice", &user, &error));
	test_assert_strcmp(error, "has no '@' (expected local@domain)");
	/* then the schema's column widths, in characters */
	test_assert(doveadm_mariadb_address_parse(
		t_strconcat(test_repeat("a", 40), "@example.org", NULL),
		&user, &error));
	test_assert(!doveadm_mariadb_address_parse(
		t_strconcat(test_repeat("a", 41), "@example.org", NULL),
		&user, &error));
	test_assert_strcmp(error, "local part is longer than 40 characters "
			   "(the schema's limit)");
	test_assert(doveadm_mariadb_address_parse(
		t_strconcat(test_repeat(HANGUL, 20), "@example.org", NULL),
		&user, &error));
	domain = t_strconcat(test_repeat("d", 60), ".org", NULL);
	test_assert(doveadm_mariadb_address_parse(
		t_strconcat("a@", domain, NULL), &user, &error));
	test_assert(!doveadm_mariadb_address_parse(
		t_strconcat("a@d", domain, NULL), &user, &error));
	test_assert_strcmp(error, "domain is longer than 64 characters "
			   "(the schema's limit)");
	test_end();
}

static void test_domain_parse(void)
{
	const char *domain, *error;

	test_begin("doveadm_mariadb_domain_parse()");
	test_assert(doveadm_mariadb_domain_parse("Example.ORG", &domain,
						 &error));
	test_assert_strcmp(domain, "example.org");
	test_assert(!doveadm_mariadb_domain_parse("a@example.org", &domain,
						  &error));
	test_assert_strcmp(error, "contains '@' (expected a domain name)");
	test_assert(doveadm_mariadb_domain_parse(
		t_strconcat(test_repeat("d", 60), ".org", NULL), &domain,
		&error));
	test_assert(!doveadm_mariadb_domain_parse(
		t_strconcat(test_repeat("d", 61), ".org", NULL), &domain,
		&error));
	test_assert_strcmp(error, "is longer than 64 characters "
			   "(the schema's limit)");
	test_end();
}

static void test_display_name_check(void)
{
	static const struct {
		const char *name, *error;
	} tests[] = {
		{ "", NULL },
		{ "Alice Liddell", NULL },
		{ "a\tb", "contains a control character" },
		{ "a\x7f", "contains a control character" },
		{ "a\xc2\x85", "contains a control character" },
		{ "a\xff", "is not valid UTF-8" },
	};
	const char *error;
	unsigned int i;

	test_begin("doveadm_mariadb_display_name_check()");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		test_assert_idx(doveadm_mariadb_display_name_check(
			tests[i].name, &error) == (tests[i].error == NULL), i);
		test_assert_strcmp_idx(error, tests[i].error, i);
	}
	/* characters, not octets */
	test_assert(doveadm_mariadb_display_name_check(
		test_repeat(HANGUL, 40), &error));
	test_assert(!doveadm_mariadb_display_name_check(
		test_repeat(HANGUL, 41), &error));
	test_assert_strcmp(error, "is longer than 40 characters "
			   "(the schema's limit)");
	test_end();
}

static void test_password_check(void)
{
	const char *password, *error;

	test_begin("doveadm_mariadb_password_check()");
	test_assert(doveadm_mariadb_password_check("test1234", &error));
	test_assert(doveadm_mariadb_password_check(test_repeat(HANGUL, 24),
						   &error));
	test_assert(!doveadm_mariadb_password_check("", &error));
	test_assert_strcmp(error, "The password is empty");
	test_assert(!doveadm_mariadb_password_check("pass\tword", &error));
	test_assert_strcmp(error, "The password contains a control character");
	/* bcrypt uses 72 octets: the 73rd is refused, and the reason says
	   why without quoting the password */
	password = test_repeat("p", 72);
	test_assert(doveadm_mariadb_password_check(password, &error));
	password = t_strconcat(test_repeat(HANGUL, 24), "X", NULL);
	test_assert(!doveadm_mariadb_password_check(password, &error));
	test_assert(strstr(error, "73 octets long, but bcrypt uses only its "
			   "first 72") != NULL);
	test_assert(strstr(error, HANGUL) == NULL);
	test_end();
}

static void test_hash_scheme(void)
{
	static const struct {
		const char *stored, *scheme;
		bool locked;
	} tests[] = {
		{ BCRYPT_HASH, "BLF-CRYPT", FALSE },
		{ "!" BCRYPT_HASH, "BLF-CRYPT", TRUE },
		{ "$2b$05$x", "BLF-CRYPT", FALSE },
		{ "$2a$05$x", "BLF-CRYPT", FALSE },
		{ "{BLF-CRYPT}" BCRYPT_HASH, "BLF-CRYPT", FALSE },
		{ "{sha512-crypt}$6$salt$hash", "SHA512-CRYPT", FALSE },
		{ "!{SSHA512}abc", "SSHA512", TRUE },
		{ "$6$salt$hash", "SHA512-CRYPT", FALSE },
		{ "$5$salt$hash", "SHA256-CRYPT", FALSE },
		{ "$1$salt$hash", "MD5-CRYPT", FALSE },
		{ "$y$j9T$salt$hash", "YESCRYPT", FALSE },
		{ "$argon2id$v=19$m=65536", "ARGON2ID", FALSE },
		{ "$argon2i$v=19$m=65536", "ARGON2I", FALSE },
		{ "", "none", FALSE },
		{ "!", "none", TRUE },
		{ "*", "none", FALSE },
		{ "plaintext", "unknown", FALSE },
		{ "{BLF-CRYPT", "unknown", FALSE },
		{ "{}x", "unknown", FALSE },
		{ "{A B}x", "unknown", FALSE },
		{ "{0123456789012345678901234567890123}x", "unknown", FALSE },
	};
	unsigned int i;

	test_begin("doveadm_mariadb_hash_scheme()");
	for (i = 0; i < N_ELEMENTS(tests); i++) {
		test_assert_strcmp_idx(doveadm_mariadb_hash_scheme(
			tests[i].stored), tests[i].scheme, i);
		test_assert_idx(doveadm_mariadb_hash_is_locked(
			tests[i].stored) == tests[i].locked, i);
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_address_parse,
		test_domain_parse,
		test_display_name_check,
		test_password_check,
		test_hash_scheme,
		NULL
	};
	return test_run(test_functions);
}
