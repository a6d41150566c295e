/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

#include "lib.h"
#include "test-common.h"
#include "db-mariadb-user.h"

struct user_valid_test {
	const char *login;
	const char *local;
	const char *domain;
};

struct user_invalid_test {
	const char *login;
	/* 0 for strlen(login); set when the login contains a NUL */
	size_t size;
	const char *error;
};

/* A string of n copies of c. */
static const char *test_repeat(char c, size_t n)
{
	char *str = t_malloc_no0(n + 1);

	memset(str, c, n);
	str[n] = '\0';
	return str;
}

/* Whether str contains the size bytes of data. */
static bool test_contains(const char *str, const void *data, size_t size)
{
	size_t i, len = strlen(str);

	if (size == 0)
		return FALSE;
	for (i = 0; size <= len && i <= len - size; i++) {
		if (memcmp(str + i, data, size) == 0)
			return TRUE;
	}
	return FALSE;
}

/* A domain of exactly n (>= 5) octets made of valid labels (at most
   DB_MARIADB_USER_LABEL_MAX octets each, the last one "net"). */
static const char *test_domain(size_t n)
{
	char *str;
	size_t i;

	i_assert(n >= 5);
	str = t_strdup_noconst(t_strconcat(test_repeat('d', n - 4), ".net",
					   NULL));
	for (i = DB_MARIADB_USER_LABEL_MAX; i < n - 5;
	     i += DB_MARIADB_USER_LABEL_MAX + 1)
		str[i] = '.';
	return str;
}

static void test_user_valid(void)
{
	static const struct user_valid_test tests[] = {
		{ "user@example.com", "user", "example.com" },
		{ "a@b", "a", "b" },
		{ "first.last+tag@sub.example.org",
		  "first.last+tag", "sub.example.org" },
		/* the domain is lower-cased, the local part is kept */
		{ "John.Doe@Example.COM", "John.Doe", "example.com" },
		{ "UPPER@UPPER.NET", "UPPER", "upper.net" },
		/* internationalised addresses (RFC 6531) */
		{ "\xed\x99\x8d\xea\xb8\xb8\xeb\x8f\x99@example.kr",
		  "\xed\x99\x8d\xea\xb8\xb8\xeb\x8f\x99", "example.kr" },
		{ "user@b\xc3\xbc" "cher.example", "user",
		  "b\xc3\xbc" "cher.example" },
		{ "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90."
		  "\xe5\xb9\xbf\xe5\x91\x8a",
		  "\xe7\x94\xa8\xe6\x88\xb7",
		  "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a" },
		/* only ASCII letters are lower-cased (no locale involved) */
		{ "user@B\xc3\x9c" "CHER.Example", "user",
		  "b\xc3\x9c" "cher.example" },
		/* SQL metacharacters are plain bytes: values are bound as
		   parameters, never put into the SQL text */
		{ "x'OR'1'='1@d.net", "x'OR'1'='1", "d.net" },
		{ "a\\'\"`;--%_@d.net", "a\\'\"`;--%_", "d.net" },
		{ "/*x*/#:user?@d.net", "/*x*/#:user?", "d.net" },
		{ "x@d.net';DROP", "x", "d.net';drop" },
	};
	struct user_valid_test test;
	struct db_mariadb_user user;
	const char *error;
	unsigned int i;
	bool ret;

	test_begin("db_mariadb_user_parse() valid");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		test = tests[i];
		error = NULL;
		ret = db_mariadb_user_parse(test.login, &user, &error);
		test_assert_idx(ret, i);
		test_assert_idx(error == NULL, i);
		test_assert_strcmp_idx(user.local, test.local, i);
		test_assert_strcmp_idx(user.domain, test.domain, i);
		test_assert_strcmp_idx(user.address,
			t_strconcat(test.local, "@", test.domain, NULL), i);
	} T_END;
	test_end();
}

static void test_user_limits(void)
{
	static const struct {
		size_t local_len, domain_len;
		const char *error; /* NULL if valid */
	} tests[] = {
		{ DB_MARIADB_USER_LOCAL_MAX, 5, NULL },
		{ DB_MARIADB_USER_LOCAL_MAX + 1, 5,
		  "local part is longer than 64 octets" },
		/* 254 in all: the longest address */
		{ 1, DB_MARIADB_USER_ADDRESS_MAX - 2, NULL },
		{ DB_MARIADB_USER_LOCAL_MAX,
		  DB_MARIADB_USER_ADDRESS_MAX - DB_MARIADB_USER_LOCAL_MAX - 1,
		  NULL },
		/* 255 in all */
		{ 2, DB_MARIADB_USER_ADDRESS_MAX - 2,
		  "is longer than 254 octets" },
		{ DB_MARIADB_USER_LOCAL_MAX,
		  DB_MARIADB_USER_ADDRESS_MAX - DB_MARIADB_USER_LOCAL_MAX,
		  "is longer than 254 octets" },
		/* A 253-octet domain (the DNS limit) never fits: with '@'
		   and a local part the address is over 254 octets, which is
		   what is reported. */
		{ 1, DB_MARIADB_USER_DOMAIN_MAX, "is longer than 254 octets" },
		{ 1, DB_MARIADB_USER_DOMAIN_MAX + 1,
		  "is longer than 254 octets" },
	};
	struct db_mariadb_user user;
	const char *login, *local, *domain, *error;
	unsigned int i;
	bool ret;

	test_begin("db_mariadb_user_parse() length limits");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		local = test_repeat('l', tests[i].local_len);
		domain = test_domain(tests[i].domain_len);
		login = t_strconcat(local, "@", domain, NULL);
		error = NULL;
		ret = db_mariadb_user_parse(login, &user, &error);
		if (tests[i].error == NULL) {
			test_assert_idx(ret, i);
			test_assert_strcmp_idx(user.local, local, i);
			test_assert_strcmp_idx(user.domain, domain, i);
			test_assert_strcmp_idx(user.address, login, i);
		} else {
			test_assert_idx(!ret, i);
			test_assert_strcmp_idx(error, tests[i].error, i);
		}
	} T_END;
	test_end();
}

static void test_user_invalid(void)
{
	static const struct user_invalid_test tests[] = {
		{ "", 0, "is empty" },
		{ "user", 0, "has no '@' (expected local@domain)" },
		{ "user.example.com", 0, "has no '@' (expected local@domain)" },
		{ "a@b@c.net", 0, "has more than one '@'" },
		{ "a@@c.net", 0, "has more than one '@'" },
		{ "@@", 0, "has more than one '@'" },
		{ "@example.com", 0, "has an empty local part" },
		{ "@", 0, "has an empty local part" },
		{ "user@", 0, "has an empty domain" },
		{ "a@.b", 0, "domain has an empty label" },
		{ "a@b.", 0, "domain has an empty label" },
		{ "a@b..c", 0, "domain has an empty label" },
		{ "a@.", 0, "domain has an empty label" },
		/* RFC 1035: labels of at most 63 octets */
		{ "a@dddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		  "dddddddd.net", 0, "domain has a label longer than 63 octets" },
		/* C1 controls (U+0085 NEL, U+009F) */
		{ "a\xc2\x85@d.net", 0, "contains a control character" },
		{ "a@d\xc2\x9f.net", 0, "contains a control character" },
		/* NUL is checked before anything else */
		{ "a\0b@d.net", 9, "contains a NUL byte" },
		{ "ab@d.net\0", 9, "contains a NUL byte" },
		{ "\0", 1, "contains a NUL byte" },
		{ "a\x01@d.net", 0, "contains a control character" },
		{ "a@d.net\x1f", 0, "contains a control character" },
		{ "a\n@d.net", 0, "contains a control character" },
		{ "a\r@d.net", 0, "contains a control character" },
		{ "a\t@d.net", 0, "contains a control character" },
		{ "a\x1b[0m@d.net", 0, "contains a control character" },
		{ "a\x7f@d.net", 0, "contains a control character" },
		{ "a b@d.net", 0, "contains a space" },
		{ " a@d.net", 0, "contains a space" },
		{ "a@d.net ", 0, "contains a space" },
		{ "x' OR '1'='1@d.net", 0, "contains a space" },
		/* overlong '/' */
		{ "\xc0\xaf@d.net", 0, "is not valid UTF-8" },
		{ "\xe0\x80\xaf@d.net", 0, "is not valid UTF-8" },
		/* lone continuation byte */
		{ "\x80@d.net", 0, "is not valid UTF-8" },
		{ "a@d\xbf.net", 0, "is not valid UTF-8" },
		/* truncated sequences, also at the very end */
		{ "\xe2\x82@d.net", 0, "is not valid UTF-8" },
		{ "a@d.net\xe2\x82", 0, "is not valid UTF-8" },
		{ "a@d.net\xf0", 0, "is not valid UTF-8" },
		/* UTF-16 surrogate, beyond U+10FFFF, bytes never in UTF-8 */
		{ "\xed\xa0\x80@d.net", 0, "is not valid UTF-8" },
		{ "\xf4\x90\x80\x80@d.net", 0, "is not valid UTF-8" },
		{ "\xfe\xff@d.net", 0, "is not valid UTF-8" },
	};
	struct user_invalid_test test;
	struct db_mariadb_user user;
	const char *error;
	unsigned int i;
	bool ret;

	test_begin("db_mariadb_user_parse() invalid");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		test = tests[i];
		if (test.size == 0)
			test.size = strlen(test.login);
		error = NULL;
		ret = db_mariadb_user_parse_data(
			(const unsigned char *)test.login, test.size,
			&user, &error);
		test_assert_idx(!ret, i);
		test_assert_strcmp_idx(error, test.error, i);
		/* nothing is returned for a refused login */
		test_assert_idx(user.local == NULL && user.domain == NULL &&
				user.address == NULL, i);
		/* the reason never quotes the input */
		test_assert_idx(!test_contains(error, test.login, test.size),
				i);
		/* the string variant agrees where there is no NUL */
		if (memchr(test.login, '\0', test.size) == NULL) {
			error = NULL;
			ret = db_mariadb_user_parse(test.login, &user, &error);
			test_assert_idx(!ret, i);
			test_assert_strcmp_idx(error, test.error, i);
		}
	} T_END;
	test_end();
}

static void test_user_nul_variant(void)
{
	static const unsigned char login[] = "user@example.com";
	struct db_mariadb_user user;
	const char *error = NULL;

	test_begin("db_mariadb_user_parse_data() takes the given size");
	/* bytes after size are not part of the login */
	test_assert(db_mariadb_user_parse_data(login, 12, &user, &error));
	test_assert_strcmp(user.address, "user@example");
	test_assert(error == NULL);
	test_end();
}

static void test_user_domain(void)
{
	static const struct {
		const char *input, *domain, *error;
	} tests[] = {
		{ "Nahida.NET", "nahida.net", NULL },
		{ "b\xc3\xbc" "cher.example", "b\xc3\xbc" "cher.example", NULL },
		{ "", NULL, "is empty" },
		{ "user@nahida.net", NULL, "contains '@' (expected a domain name)" },
		{ "nahida..net", NULL, "domain has an empty label" },
		{ "nahida.net.", NULL, "domain has an empty label" },
		{ "nahida net", NULL, "contains a space" },
		{ "nahida\tnet", NULL, "contains a control character" },
		{ "\xff.net", NULL, "is not valid UTF-8" },
	};
	const char *domain, *error;
	unsigned int i;

	test_begin("db_mariadb_user_parse_domain()");
	for (i = 0; i < N_ELEMENTS(tests); i++) T_BEGIN {
		error = NULL;
		test_assert_idx(db_mariadb_user_parse_domain(tests[i].input,
				&domain, &error) == (tests[i].error == NULL), i);
		test_assert_strcmp_idx(domain, tests[i].domain, i);
		test_assert_strcmp_idx(tests[i].error == NULL ? NULL : error,
				       tests[i].error, i);
	} T_END;
	/* the limits of a login's domain */
	test_assert(db_mariadb_user_parse_domain(
		test_domain(DB_MARIADB_USER_DOMAIN_MAX), &domain, &error));
	test_assert(!db_mariadb_user_parse_domain(
		test_domain(DB_MARIADB_USER_DOMAIN_MAX + 1), &domain, &error));
	test_assert_strcmp(error, "domain is longer than 253 octets");
	test_assert(!db_mariadb_user_parse_domain(
		t_strconcat(test_repeat('d', DB_MARIADB_USER_LABEL_MAX + 1),
			    ".net", NULL), &domain, &error));
	test_assert_strcmp(error, "domain has a label longer than 63 octets");
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_user_valid,
		test_user_limits,
		test_user_invalid,
		test_user_nul_variant,
		test_user_domain,
		NULL
	};
	return test_run(test_functions);
}
