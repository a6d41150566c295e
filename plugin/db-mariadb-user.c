/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-user - split and validate a login name

   A login reaches the database only after it passed these checks, so that
   no query runs for input that cannot be an address: exactly one '@', a
   local part of 1..64 octets, a domain of 1..253 octets made of non-empty
   dot-separated labels of at most 63 octets, at most 254 octets in all, no NUL, control
   character (C0 or C1), space or DEL, and valid UTF-8 (internationalised addresses
   are allowed, RFC 6531). The domain's ASCII letters are lower-cased so
   that it matches the primary key; the local part is left alone. */

#include "lib.h"
#include "unichar.h"
#include "db-mariadb-user.h"

static bool
db_mariadb_user_check_bytes(const unsigned char *data, size_t size,
			    const char **error_r)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (data[i] == '\0') {
			*error_r = "contains a NUL byte";
			return FALSE;
		}
		if (data[i] < 0x20 || data[i] == 0x7f) {
			*error_r = "contains a control character";
			return FALSE;
		}
		if (data[i] == ' ') {
			*error_r = "contains a space";
			return FALSE;
		}
		/* C1 controls U+0080..U+009F are 0xC2 0x80..0x9F in UTF-8 */
		if (data[i] == 0xc2 && i + 1 < size &&
		    data[i+1] >= 0x80 && data[i+1] <= 0x9f) {
			*error_r = "contains a control character";
			return FALSE;
		}
	}
	if (!uni_utf8_data_is_valid(data, size)) {
		*error_r = "is not valid UTF-8";
		return FALSE;
	}
	return TRUE;
}

static bool
db_mariadb_user_check_domain(const unsigned char *domain, size_t size,
			     const char **error_r)
{
	size_t i, label_len = 0;

	if (size > DB_MARIADB_USER_DOMAIN_MAX) {
		*error_r = t_strdup_printf("domain is longer than %u octets",
					   DB_MARIADB_USER_DOMAIN_MAX);
		return FALSE;
	}
	for (i = 0; i < size; i++) {
		if (domain[i] != '.') {
			if (++label_len > DB_MARIADB_USER_LABEL_MAX) {
				*error_r = t_strdup_printf(
					"domain has a label longer than %u "
					"octets", DB_MARIADB_USER_LABEL_MAX);
				return FALSE;
			}
			continue;
		}
		if (label_len == 0) {
			*error_r = "domain has an empty label";
			return FALSE;
		}
		label_len = 0;
	}
	if (label_len == 0) {
		*error_r = "domain has an empty label";
		return FALSE;
	}
	return TRUE;
}

/* The domain as it is looked up: its ASCII letters lower-cased. */
static const char *
db_mariadb_user_lower_domain(const unsigned char *data, size_t size)
{
	char *domain;
	size_t i;

	domain = t_malloc_no0(size + 1);
	memcpy(domain, data, size);
	domain[size] = '\0';
	/* ASCII only: tolower() would depend on the locale */
	for (i = 0; i < size; i++) {
		if (domain[i] >= 'A' && domain[i] <= 'Z')
			domain[i] += 'a' - 'A';
	}
	return domain;
}

bool db_mariadb_user_parse_data(const unsigned char *data, size_t size,
				struct db_mariadb_user *user_r,
				const char **error_r)
{
	const unsigned char *at;
	size_t local_len, domain_len;

	i_zero(user_r);
	if (size == 0) {
		*error_r = "is empty";
		return FALSE;
	}
	if (size > DB_MARIADB_USER_ADDRESS_MAX) {
		*error_r = t_strdup_printf("is longer than %u octets",
					   DB_MARIADB_USER_ADDRESS_MAX);
		return FALSE;
	}
	if (!db_mariadb_user_check_bytes(data, size, error_r))
		return FALSE;

	at = memchr(data, '@', size);
	if (at == NULL) {
		*error_r = "has no '@' (expected local@domain)";
		return FALSE;
	}
	if (memchr(at + 1, '@', size - (at + 1 - data)) != NULL) {
		*error_r = "has more than one '@'";
		return FALSE;
	}
	local_len = at - data;
	domain_len = size - local_len - 1;
	if (local_len == 0) {
		*error_r = "has an empty local part";
		return FALSE;
	}
	if (local_len > DB_MARIADB_USER_LOCAL_MAX) {
		*error_r = t_strdup_printf("local part is longer than %u octets",
					   DB_MARIADB_USER_LOCAL_MAX);
		return FALSE;
	}
	if (domain_len == 0) {
		*error_r = "has an empty domain";
		return FALSE;
	}
	if (!db_mariadb_user_check_domain(at + 1, domain_len, error_r))
		return FALSE;

	user_r->local = t_strndup(data, local_len);
	user_r->domain = db_mariadb_user_lower_domain(at + 1, domain_len);
	user_r->address = t_strconcat(user_r->local, "@", user_r->domain, NULL);
	return TRUE;
}

bool db_mariadb_user_parse(const char *login, struct db_mariadb_user *user_r,
			   const char **error_r)
{
	return db_mariadb_user_parse_data((const unsigned char *)login,
					  strlen(login), user_r, error_r);
}

bool db_mariadb_user_parse_domain(const char *domain, const char **domain_r,
				  const char **error_r)
{
	const unsigned char *data = (const unsigned char *)domain;
	size_t size = strlen(domain);

	*domain_r = NULL;
	if (size == 0) {
		*error_r = "is empty";
		return FALSE;
	}
	if (!db_mariadb_user_check_bytes(data, size, error_r))
		return FALSE;
	if (memchr(data, '@', size) != NULL) {
		*error_r = "contains '@' (expected a domain name)";
		return FALSE;
	}
	if (!db_mariadb_user_check_domain(data, size, error_r))
		return FALSE;
	*domain_r = db_mariadb_user_lower_domain(data, size);
	return TRUE;
}
