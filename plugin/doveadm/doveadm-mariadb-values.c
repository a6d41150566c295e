/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-values - what the admin commands check before asking the
   database

   Everything the schema's CHECK constraints and column widths would refuse
   is refused here first, with a reason the admin can act on: addresses
   and domains as the module validates logins (db-mariadb-user.c), then
   the widths of sql/01-schema.sql's columns (varchar counts characters);
   display names; new passwords, with bcrypt's 72-octet limit explained.
   And what the listing says about a stored password: its scheme and
   whether it is locked, never the hash itself. */

#include "lib.h"
#include "unichar.h"
#include "db-mariadb-password.h"
#include "doveadm-mariadb-values.h"

#include <ctype.h>

static bool doveadm_mariadb_has_control(const char *str)
{
	const unsigned char *p;

	for (p = (const unsigned char *)str; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return TRUE;
		/* C1 controls U+0080..U+009F */
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return TRUE;
	}
	return FALSE;
}

bool doveadm_mariadb_address_parse(const char *input,
				   struct db_mariadb_user *user_r,
				   const char **error_r)
{
	if (!db_mariadb_user_parse(input, user_r, error_r))
		return FALSE;
	if (uni_utf8_strlen(user_r->local) > DOVEADM_MARIADB_LOCAL_MAX_CHARS) {
		*error_r = t_strdup_printf(
			"local part is longer than %u characters (the schema's "
			"limit)", DOVEADM_MARIADB_LOCAL_MAX_CHARS);
		return FALSE;
	}
	if (uni_utf8_strlen(user_r->domain) > DOVEADM_MARIADB_DOMAIN_MAX_CHARS) {
		*error_r = t_strdup_printf(
			"domain is longer than %u characters (the schema's "
			"limit)", DOVEADM_MARIADB_DOMAIN_MAX_CHARS);
		return FALSE;
	}
	return TRUE;
}

bool doveadm_mariadb_domain_parse(const char *input, const char **domain_r,
				  const char **error_r)
{
	if (!db_mariadb_user_parse_domain(input, domain_r, error_r))
		return FALSE;
	if (uni_utf8_strlen(*domain_r) > DOVEADM_MARIADB_DOMAIN_MAX_CHARS) {
		*error_r = t_strdup_printf(
			"is longer than %u characters (the schema's limit)",
			DOVEADM_MARIADB_DOMAIN_MAX_CHARS);
		return FALSE;
	}
	return TRUE;
}

bool doveadm_mariadb_display_name_check(const char *name,
					const char **error_r)
{
	if (!uni_utf8_str_is_valid(name)) {
		*error_r = "is not valid UTF-8";
		return FALSE;
	}
	if (doveadm_mariadb_has_control(name)) {
		*error_r = "contains a control character";
		return FALSE;
	}
	if (uni_utf8_strlen(name) > DOVEADM_MARIADB_DISPLAY_NAME_MAX_CHARS) {
		*error_r = t_strdup_printf(
			"is longer than %u characters (the schema's limit)",
			DOVEADM_MARIADB_DISPLAY_NAME_MAX_CHARS);
		return FALSE;
	}
	return TRUE;
}

bool doveadm_mariadb_password_check(const char *password,
				    const char **error_r)
{
	size_t len = strlen(password);

	if (len == 0) {
		*error_r = "The password is empty";
		return FALSE;
	}
	if (doveadm_mariadb_has_control(password)) {
		*error_r = "The password contains a control character";
		return FALSE;
	}
	if (len > DB_MARIADB_BCRYPT_PASSWORD_MAX) {
		*error_r = t_strdup_printf(
			"The password is %zu octets long, but bcrypt uses only "
			"its first %u: whatever follows them would be ignored "
			"(any text there would log in). Choose one of at most "
			"%u octets", len, DB_MARIADB_BCRYPT_PASSWORD_MAX,
			DB_MARIADB_BCRYPT_PASSWORD_MAX);
		return FALSE;
	}
	return TRUE;
}

bool doveadm_mariadb_hash_is_locked(const char *stored)
{
	return stored[0] == DOVEADM_MARIADB_LOCK_PREFIX;
}

/* The scheme of a crypt(3) string by its "$id$", as Dovecot names it. */
static const char *doveadm_mariadb_crypt_scheme(const char *hash)
{
	static const struct {
		const char *prefix, *scheme;
	} crypt_ids[] = {
		{ "$2y$", "BLF-CRYPT" },
		{ "$2b$", "BLF-CRYPT" },
		{ "$2a$", "BLF-CRYPT" },
		{ "$1$", "MD5-CRYPT" },
		{ "$5$", "SHA256-CRYPT" },
		{ "$6$", "SHA512-CRYPT" },
		{ "$y$", "YESCRYPT" },
		{ "$argon2id$", "ARGON2ID" },
		{ "$argon2i$", "ARGON2I" },
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(crypt_ids); i++) {
		if (strncmp(hash, crypt_ids[i].prefix,
			    strlen(crypt_ids[i].prefix)) == 0)
			return crypt_ids[i].scheme;
	}
	return "unknown";
}

const char *doveadm_mariadb_hash_scheme(const char *stored)
{
	const char *end, *p;

	if (doveadm_mariadb_hash_is_locked(stored))
		stored++;
	if (stored[0] == '\0' || stored[0] == '*')
		return "none";
	if (stored[0] != '{')
		return doveadm_mariadb_crypt_scheme(stored);
	end = strchr(stored, '}');
	if (end == NULL || end == stored + 1 || end - stored > 33)
		return "unknown";
	for (p = stored + 1; p < end; p++) {
		if (!i_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
			return "unknown";
	}
	return t_str_ucase(t_strdup_until(stored + 1, end));
}
