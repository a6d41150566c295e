/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* passdb-mariadb-check - checking a password against any stored scheme

   Runs in auth-workers only (the auth master serves every login on the
   host and never runs a password hash): bcrypt and the other crypt(3)
   strings through libxcrypt, every other scheme through Dovecot's own
   (password_decode(), password_verify()).

   Timing: a check of a scheme other than bcrypt is followed by a dummy
   bcrypt check of pad_cost, the cost of the dummy check that unknown
   users get. A wrong password of a user whose hash is SSHA512, MD5-CRYPT
   or PLAIN-MD5 (microseconds) then takes as long as a wrong password of a
   bcrypt user and an unknown user, instead of telling an attacker which
   addresses exist and have a cheap hash. Schemes that are themselves
   slow (ARGON2, yescrypt) take their own time on top.

   With blocking = no the auth master sends the check with Dovecot's PASSV
   command: the password, the request's fields and three of the module's
   own (the stored password, the padding cost, the rehash cost), which
   the worker's verify_plain finds among the request's fields. PASSV
   rather than PASSW, because its reply carries fields back: the new
   bcrypt hash of a rehash, made here, where the password was verified,
   so that the plaintext goes nowhere else. PASSV also checks against the
   passdb whose id it carries on Dovecot 2.3 as on 2.4 (PASSW uses the
   first passdb on 2.3). */

#include "auth-common.h"
#include "str.h"
#include "strescape.h"
#include "password-scheme.h"
#include "auth-request.h"
#include "db-mariadb-password.h"
#include "passdb-mariadb-check.h"

/* the request fields that carry a check from the master to a worker
   ("passdb_" makes the worker import them as passdb fields) and a new
   hash back */
#define PASSDB_MARIADB_CHECK_FIELD "mariadb_check"
#define PASSDB_MARIADB_PAD_FIELD "mariadb_pad"
#define PASSDB_MARIADB_REHASH_FIELD "mariadb_rehash"
#define PASSDB_MARIADB_NEW_HASH_FIELD "mariadb_new_hash"

int passdb_mariadb_check_stored(const char *stored, unsigned int max_cost,
				struct db_mariadb_stored_password *stored_r,
				const char **error_r)
{
	const unsigned char *raw;
	const char *error;
	size_t size;
	int ret;

	ret = db_mariadb_stored_password_parse(stored, max_cost, stored_r,
					       error_r);
	if (ret <= 0 || stored_r->method != DB_MARIADB_METHOD_DOVECOT)
		return ret;
	ret = password_decode(stored_r->value, stored_r->dovecot_scheme,
			      &raw, &size, &error);
	if (ret == 0) {
		*error_r = t_strdup_printf("Dovecot knows no password scheme "
					   "%s (doveadm pw -l lists them)",
					   stored_r->scheme);
		return -1;
	}
	if (ret < 0) {
		*error_r = t_strdup_printf("not valid for the scheme %s: %s",
					   stored_r->scheme, error);
		return -1;
	}
	return 1;
}

static int
passdb_mariadb_check_dovecot(const struct db_mariadb_stored_password *stored,
			     const char *password, const char *username,
			     const char **error_r)
{
	struct password_generate_params params = {
		/* some schemes hash it too (DIGEST-MD5) */
		.user = username,
	};
	const unsigned char *raw;
	const char *error;
	size_t size;
	int ret;

	ret = password_decode(stored->value, stored->dovecot_scheme,
			      &raw, &size, &error);
	if (ret <= 0) {
		*error_r = ret == 0 ? "unknown scheme" : error;
		return -1;
	}
	ret = password_verify(password, &params, stored->dovecot_scheme,
			      raw, size, &error);
	if (ret < 0) {
		*error_r = t_strdup_printf("%s: %s", stored->scheme, error);
		return -1;
	}
	return ret > 0 ? 1 : 0;
}

/* A dummy bcrypt check: as slow as a real one of that cost, result
   ignored. */
static void passdb_mariadb_check_pad(const char *password, unsigned int cost)
{
	const char *dummy, *error;

	if (cost == 0 ||
	    db_mariadb_password_dummy_hash(cost, &dummy, &error) < 0)
		return;
	(void)db_mariadb_password_verify(password, dummy, &error);
}

int passdb_mariadb_check_password(const struct passdb_mariadb_check *check,
				  const char *password, const char *username,
				  const char **new_hash_r,
				  const char **error_r)
{
	struct db_mariadb_stored_password stored;
	int ret;

	*new_hash_r = NULL;
	ret = db_mariadb_stored_password_parse(check->stored,
					       DB_MARIADB_BCRYPT_COST_MAX,
					       &stored, error_r);
	if (ret <= 0) {
		/* a locked account is a mismatch: the master sends none */
		return ret;
	}
	switch (stored.method) {
	case DB_MARIADB_METHOD_BCRYPT:
		ret = db_mariadb_password_verify(password, stored.value,
						 error_r);
		break;
	case DB_MARIADB_METHOD_CRYPT:
		ret = db_mariadb_crypt_verify(password, stored.value, error_r);
		break;
	case DB_MARIADB_METHOD_DOVECOT:
		ret = passdb_mariadb_check_dovecot(&stored, password, username,
						   error_r);
		break;
	}
	if (stored.method != DB_MARIADB_METHOD_BCRYPT)
		passdb_mariadb_check_pad(password, check->pad_cost);
	if (ret > 0 && check->rehash_cost > 0 &&
	    db_mariadb_password_generate(password, check->rehash_cost,
					 new_hash_r, error_r) < 0)
		*new_hash_r = NULL;
	return ret;
}

void passdb_mariadb_check_export(const struct passdb_mariadb_check *check,
				 string_t *dest)
{
	str_append(dest, "\tpassdb_"PASSDB_MARIADB_CHECK_FIELD"=");
	str_append_tabescaped(dest, check->stored);
	str_printfa(dest, "\tpassdb_"PASSDB_MARIADB_PAD_FIELD"=%u"
		    "\tpassdb_"PASSDB_MARIADB_REHASH_FIELD"=%u",
		    check->pad_cost, check->rehash_cost);
}

/* Take a field out of the request's (auth_fields_find() returns a copy
   in the fields' pool, which outlives the request's use of it). */
static const char *
passdb_mariadb_field_take(struct auth_request *request, const char *key)
{
	const char *value;

	value = auth_fields_find(request->fields.extra_fields, key);
	if (value != NULL)
		auth_fields_remove(request->fields.extra_fields, key);
	return value;
}

static unsigned int passdb_mariadb_cost_field(const char *value)
{
	unsigned int cost;

	if (value == NULL || str_to_uint(value, &cost) < 0 ||
	    (cost != 0 && (cost < DB_MARIADB_BCRYPT_COST_MIN ||
			   cost > DB_MARIADB_BCRYPT_COST_MAX)))
		return 0;
	return cost;
}

bool passdb_mariadb_check_import(struct auth_request *request,
				 struct passdb_mariadb_check *check_r)
{
	i_zero(check_r);
	check_r->stored = passdb_mariadb_field_take(request,
					PASSDB_MARIADB_CHECK_FIELD);
	check_r->pad_cost = passdb_mariadb_cost_field(
		passdb_mariadb_field_take(request, PASSDB_MARIADB_PAD_FIELD));
	check_r->rehash_cost = passdb_mariadb_cost_field(
		passdb_mariadb_field_take(request, PASSDB_MARIADB_REHASH_FIELD));
	return check_r->stored != NULL;
}

void passdb_mariadb_check_reply_add(struct auth_request *request,
				    const char *new_hash)
{
	/* changed fields go back to the master with the reply */
	auth_fields_add(request->fields.extra_fields,
			PASSDB_MARIADB_NEW_HASH_FIELD, new_hash, 0);
}

const char *passdb_mariadb_check_reply_take(struct auth_request *request)
{
	const char *new_hash;

	new_hash = passdb_mariadb_field_take(request,
					     PASSDB_MARIADB_NEW_HASH_FIELD);
	return new_hash == NULL ? NULL : p_strdup(request->pool, new_hash);
}
