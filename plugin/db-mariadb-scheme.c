/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-scheme - what kind of stored password a value is

   Accounts come from other systems with their stored passwords:
   "{SHA512-CRYPT}$6$...", "{SSHA512}...", "{ARGON2ID}$argon2id$...", bare
   "$1$" or "$y$" strings from /etc/shadow, bcrypt at any cost. This pure
   unit decides, without checking any password, how a value is checked
   (bcrypt or another crypt string through libxcrypt, or one of Dovecot's
   own schemes in an auth-worker), whether its scheme is weak, and whether
   it can be right at all: a value that can't be is reported as an error
   (a temporary failure for the login) rather than ever answering "wrong
   password" for a broken hash.

   Crypt strings go through libxcrypt even behind Dovecot's {SHA512-CRYPT}
   and friends (the same algorithm Dovecot's crypt schemes reach through
   crypt(3)): libxcrypt's result tells a truncated hash from a wrong
   password (db_mariadb_crypt_verify()), Dovecot's comparison does not. */

#include "lib.h"
#include "db-mariadb-password.h"
#include "db-mariadb-scheme.h"

struct db_mariadb_crypt_method {
	/* the crypt string's prefix, NULL for DES (no prefix) */
	const char *prefix;
	const char *scheme;
	bool weak;
	/* accepted without a {SCHEME} prefix */
	bool bare;
};

static const struct db_mariadb_crypt_method db_mariadb_crypt_methods[] = {
	{ "$1$", "MD5-CRYPT", TRUE, TRUE },
	{ "$5$", "SHA256-CRYPT", FALSE, TRUE },
	{ "$6$", "SHA512-CRYPT", FALSE, TRUE },
	{ "$y$", "YESCRYPT", FALSE, TRUE },
	{ "$gy$", "GOST-YESCRYPT", FALSE, TRUE },
	{ "$7$", "SCRYPT", FALSE, TRUE },
	/* 2 salt and 11 hash characters, only behind {CRYPT} or
	   {DES-CRYPT}: a bare 13-character value could be anything */
	{ NULL, "DES-CRYPT", TRUE, FALSE },
};
#define DB_MARIADB_DES_CRYPT_LEN 13

/* Dovecot's crypt schemes and the crypt method their values must have */
static const struct {
	const char *scheme, *crypt_scheme;
} db_mariadb_crypt_schemes[] = {
	{ "SHA512-CRYPT", "SHA512-CRYPT" },
	{ "SHA256-CRYPT", "SHA256-CRYPT" },
	{ "MD5-CRYPT", "MD5-CRYPT" },
	{ "DES-CRYPT", "DES-CRYPT" },
};

/* Dovecot 2.4 marks MD5, MD5-CRYPT, SMD5, HMAC-MD5, PLAIN-MD4, PLAIN-MD5,
   LDAP-MD5 and DES-CRYPT weak; the plaintext and the unsalted ones are
   no better. */
static const char *const db_mariadb_weak_schemes[] = {
	"PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC",
	"MD5", "MD5-CRYPT", "SMD5", "PLAIN-MD4", "PLAIN-MD5", "LDAP-MD5",
	"HMAC-MD5", "CRAM-MD5", "DIGEST-MD5",
	"SHA", "SHA1", "SHA256", "SHA512",
	"DES-CRYPT", "OTP", "SKEY", "LANMAN", "NTLM", "RPA",
};

bool db_mariadb_scheme_is_weak(const char *scheme)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(db_mariadb_weak_schemes); i++) {
		if (strcmp(db_mariadb_weak_schemes[i], scheme) == 0)
			return TRUE;
	}
	return FALSE;
}

/* TRUE with *p moved past prefix if *p starts with it (the same on
   Dovecot 2.3 and 2.4, whose str_begins() differ). */
static bool db_mariadb_skip(const char **p, const char *prefix)
{
	size_t len = strlen(prefix);

	if (strncmp(*p, prefix, len) != 0)
		return FALSE;
	*p += len;
	return TRUE;
}

static bool db_mariadb_begins(const char *str, const char *prefix)
{
	return db_mariadb_skip(&str, prefix);
}

static bool is_crypt64_char(char c)
{
	return c == '.' || c == '/' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9');
}

static bool is_base64_char(char c)
{
	return c == '+' || c == '/' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9');
}

static bool db_mariadb_is_bcrypt(const char *value)
{
	return value[0] == '$' && value[1] == '2' &&
		(value[2] == 'y' || value[2] == 'b' || value[2] == 'a') &&
		value[3] == '$';
}

static bool db_mariadb_is_des(const char *value)
{
	unsigned int i;

	for (i = 0; i < DB_MARIADB_DES_CRYPT_LEN; i++) {
		if (!is_crypt64_char(value[i]))
			return FALSE;
	}
	return value[i] == '\0';
}

/* The crypt method of a value, NULL if it has none the module accepts. */
static const struct db_mariadb_crypt_method *
db_mariadb_crypt_method_find(const char *value)
{
	const struct db_mariadb_crypt_method *method;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(db_mariadb_crypt_methods); i++) {
		method = &db_mariadb_crypt_methods[i];
		if (method->prefix == NULL ? db_mariadb_is_des(value) :
		    db_mariadb_begins(value, method->prefix))
			return method;
	}
	return NULL;
}

static int
db_mariadb_stored_bcrypt(const char *value, unsigned int bcrypt_max_cost,
			 struct db_mariadb_stored_password *stored_r,
			 const char **error_r)
{
	const char *hash;
	int ret;

	ret = db_mariadb_password_parse(value, bcrypt_max_cost, &hash,
					error_r);
	if (ret <= 0)
		return ret;
	stored_r->method = DB_MARIADB_METHOD_BCRYPT;
	stored_r->scheme = DB_MARIADB_PASSWORD_SCHEME;
	stored_r->value = hash;
	stored_r->cost = db_mariadb_password_cost(hash);
	return 1;
}

static void
db_mariadb_stored_crypt(const char *value,
			const struct db_mariadb_crypt_method *method,
			struct db_mariadb_stored_password *stored_r)
{
	stored_r->method = DB_MARIADB_METHOD_CRYPT;
	stored_r->scheme = method->scheme;
	stored_r->value = value;
	stored_r->weak = method->weak;
}

/* A value without a {SCHEME} prefix. */
static int
db_mariadb_stored_bare(const char *value, unsigned int bcrypt_max_cost,
		       struct db_mariadb_stored_password *stored_r,
		       const char **error_r)
{
	const struct db_mariadb_crypt_method *method;

	if (value[0] == '\0' || value[0] == '*' || value[0] == '!')
		return 0;
	if (db_mariadb_is_bcrypt(value))
		return db_mariadb_stored_bcrypt(value, bcrypt_max_cost,
						stored_r, error_r);
	method = db_mariadb_crypt_method_find(value);
	if (method == NULL || !method->bare) {
		*error_r = "not a bcrypt hash ($2y$, $2b$, $2a$) nor a crypt "
			"string ($1$, $5$, $6$, $y$, $gy$, $7$): a value of "
			"another scheme needs its {SCHEME} prefix";
		return -1;
	}
	db_mariadb_stored_crypt(value, method, stored_r);
	return 1;
}

/* A value behind {CRYPT}: bcrypt or any crypt string, DES included. */
static int
db_mariadb_stored_any_crypt(const char *value, unsigned int bcrypt_max_cost,
			    struct db_mariadb_stored_password *stored_r,
			    const char **error_r)
{
	const struct db_mariadb_crypt_method *method;

	if (value[0] == '*' || value[0] == '!')
		return 0;
	if (db_mariadb_is_bcrypt(value))
		return db_mariadb_stored_bcrypt(value, bcrypt_max_cost,
						stored_r, error_r);
	method = db_mariadb_crypt_method_find(value);
	if (method == NULL) {
		*error_r = "{CRYPT} value is not a crypt string the module "
			"accepts ($2y$, $1$, $5$, $6$, $y$, $gy$, $7$, DES)";
		return -1;
	}
	db_mariadb_stored_crypt(value, method, stored_r);
	return 1;
}

/* A value behind one of Dovecot's crypt schemes: it must be a crypt
   string of that method. FALSE if scheme is no crypt scheme. */
static bool
db_mariadb_stored_crypt_scheme(const char *scheme, const char *value,
			       struct db_mariadb_stored_password *stored_r,
			       int *ret_r, const char **error_r)
{
	const struct db_mariadb_crypt_method *method;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(db_mariadb_crypt_schemes); i++) {
		if (strcmp(db_mariadb_crypt_schemes[i].scheme, scheme) == 0)
			break;
	}
	if (i == N_ELEMENTS(db_mariadb_crypt_schemes))
		return FALSE;
	method = db_mariadb_crypt_method_find(value);
	if (method == NULL ||
	    strcmp(method->scheme, db_mariadb_crypt_schemes[i].crypt_scheme) != 0) {
		*error_r = t_strdup_printf("{%s} value is not a %s string",
					   scheme, scheme);
		*ret_r = -1;
		return TRUE;
	}
	db_mariadb_stored_crypt(value, method, stored_r);
	*ret_r = 1;
	return TRUE;
}

/* Characters of unpadded base64 from p on; *end_r after them. */
static size_t db_mariadb_base64_span(const char *p, const char **end_r)
{
	size_t n = 0;

	while (is_base64_char(p[n]))
		n++;
	*end_r = p + n;
	return n;
}

/* "$argon2id$v=19$m=65536,t=3,p=1$SALT$HASH": libsodium answers a
   truncated one as a wrong password, so its shape is checked here. The
   hash part must be 16 or 32 octets, as every common tool writes it. */
static int
db_mariadb_argon2_check(const char *scheme, const char *value,
			const char **error_r)
{
	const char *p, *end;
	size_t salt_len, hash_len;

	p = value;
	if (db_mariadb_skip(&p, "$argon2id$")) {
		if (strcmp(scheme, "ARGON2I") == 0)
			p = NULL;
	} else if (db_mariadb_skip(&p, "$argon2i$")) {
		if (strcmp(scheme, "ARGON2ID") == 0)
			p = NULL;
	} else {
		p = NULL;
	}
	if (p != NULL && db_mariadb_skip(&p, "v=")) {
		while (*p >= '0' && *p <= '9')
			p++;
		p = *p == '$' ? p + 1 : NULL;
	}
	if (p != NULL && (p = strchr(p, '$')) != NULL) {
		/* after the parameters: salt and hash */
		salt_len = db_mariadb_base64_span(p + 1, &end);
		if (*end != '$')
			p = NULL;
		else {
			hash_len = db_mariadb_base64_span(end + 1, &end);
			if (*end != '\0' || salt_len < 11 ||
			    (hash_len != 22 && hash_len != 43)) {
				*error_r = t_strdup_printf(
					"{%s} value has a salt of %zu and a "
					"hash of %zu base64 characters, "
					"expected at least 11 and 22 or 43",
					scheme, salt_len, hash_len);
				return -1;
			}
			return 0;
		}
	}
	*error_r = t_strdup_printf("{%s} value is not an %s string "
				   "($argon2%s$v=..$m=..,t=..,p=..$salt$hash)",
				   scheme, scheme,
				   strcmp(scheme, "ARGON2I") == 0 ? "i" : "id");
	return -1;
}

/* A value behind {name}, if name is one of the crypt schemes: FALSE if
   not, else TRUE with the result in ret_r (1, 0 locked, -1 error). */
static bool
db_mariadb_stored_crypt_prefixed(const char *name, const char *value,
				 unsigned int bcrypt_max_cost,
				 struct db_mariadb_stored_password *stored_r,
				 int *ret_r, const char **error_r)
{
	if (strcmp(name, "BLF-CRYPT") == 0) {
		if (value[0] == '*' || value[0] == '!')
			*ret_r = 0;
		else if (!db_mariadb_is_bcrypt(value)) {
			*error_r = "{BLF-CRYPT} value is not a bcrypt hash "
				"(expected $2y$, $2b$ or $2a$)";
			*ret_r = -1;
		} else {
			*ret_r = db_mariadb_stored_bcrypt(value, bcrypt_max_cost,
							  stored_r, error_r);
		}
		return TRUE;
	}
	if (strcmp(name, "CRYPT") == 0) {
		*ret_r = db_mariadb_stored_any_crypt(value, bcrypt_max_cost,
						     stored_r, error_r);
		return TRUE;
	}
	if (strcmp(name, "MD5") == 0 && db_mariadb_begins(value, "$1$")) {
		/* Dovecot's MD5 is MD5-CRYPT for such values */
		db_mariadb_stored_crypt(value, &db_mariadb_crypt_methods[0],
					stored_r);
		*ret_r = 1;
		return TRUE;
	}
	return db_mariadb_stored_crypt_scheme(name, value, stored_r, ret_r,
					      error_r);
}

int db_mariadb_stored_password_parse(const char *stored,
				     unsigned int bcrypt_max_cost,
				     struct db_mariadb_stored_password *stored_r,
				     const char **error_r)
{
	const char *end, *name, *value, *dot;
	int ret;

	i_zero(stored_r);
	if (stored[0] != '{')
		return db_mariadb_stored_bare(stored, bcrypt_max_cost,
					      stored_r, error_r);
	end = strchr(stored, '}');
	if (end == NULL || end == stored + 1) {
		*error_r = "'{' without a scheme name and '}'";
		return -1;
	}
	value = end + 1;
	if (value[0] == '\0') {
		/* nothing stored: locked, whatever the scheme ({PLAIN}
		   would otherwise accept an empty password) */
		return 0;
	}
	stored_r->dovecot_scheme = t_strdup_until(stored + 1, end);
	dot = strchr(stored_r->dovecot_scheme, '.');
	name = t_str_ucase(dot == NULL ? stored_r->dovecot_scheme :
			   t_strdup_until(stored_r->dovecot_scheme, dot));

	/* an encoded value ({SHA512-CRYPT.B64}, as postfixadmin's
	   sha512.b64 writes it) is Dovecot's to decode and check */
	if (dot == NULL &&
	    db_mariadb_stored_crypt_prefixed(name, value, bcrypt_max_cost,
					     stored_r, &ret, error_r))
		return ret;
	if (db_mariadb_begins(name, "ARGON2") &&
	    db_mariadb_argon2_check(name, value, error_r) < 0)
		return -1;

	stored_r->method = DB_MARIADB_METHOD_DOVECOT;
	stored_r->scheme = name;
	stored_r->value = value;
	stored_r->weak = db_mariadb_scheme_is_weak(name);
	return 1;
}

const char *db_mariadb_stored_password_default_scheme(const char *stored)
{
	const struct db_mariadb_crypt_method *method;

	if (db_mariadb_is_bcrypt(stored))
		return DB_MARIADB_PASSWORD_SCHEME;
	method = db_mariadb_crypt_method_find(stored);
	return method != NULL && method->bare ? "CRYPT" :
		DB_MARIADB_PASSWORD_SCHEME;
}
