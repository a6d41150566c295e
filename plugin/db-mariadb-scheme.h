#ifndef DB_MARIADB_SCHEME_H
#define DB_MARIADB_SCHEME_H

/* How a stored password is checked. */
enum db_mariadb_scheme_method {
	/* bcrypt through libxcrypt, with the module's format and cost
	   checks (db-mariadb-password.c) */
	DB_MARIADB_METHOD_BCRYPT,
	/* another crypt(3) string through libxcrypt ($1$, $5$, $6$, $y$,
	   $gy$, $7$, DES) */
	DB_MARIADB_METHOD_CRYPT,
	/* one of Dovecot's own password schemes (SSHA512, ARGON2ID, PBKDF2,
	   PLAIN-MD5, ...), in an auth-worker */
	DB_MARIADB_METHOD_DOVECOT,
};

struct db_mariadb_stored_password {
	enum db_mariadb_scheme_method method;
	/* the scheme's name as Dovecot spells it, upper case and without an
	   encoding suffix ("BLF-CRYPT", "SHA512-CRYPT", "YESCRYPT",
	   "SSHA512"): for messages, events and the weak-scheme policy */
	const char *scheme;
	/* DB_MARIADB_METHOD_DOVECOT: the scheme as written, with its
	   encoding ("SHA512.HEX"), for password_decode() */
	const char *dovecot_scheme;
	/* the value without its {SCHEME} prefix */
	const char *value;
	/* a scheme that is refused unless allow_weak_schemes = yes */
	bool weak;
	/* DB_MARIADB_METHOD_BCRYPT: its cost */
	unsigned int cost;
};

/* Classify a stored password, as read from the database:

   - empty, or starting with '*' or '!' (also after {BLF-CRYPT} or
     {CRYPT}), or a {SCHEME} with nothing after it: a locked account;
   - a bare bcrypt hash, or one behind {BLF-CRYPT} or {CRYPT}: bcrypt, of
     at most bcrypt_max_cost;
   - a bare crypt string $1$, $5$, $6$, $y$, $gy$ or $7$, or one behind
     {CRYPT} (also DES), {SHA512-CRYPT}, {SHA256-CRYPT}, {MD5-CRYPT},
     {DES-CRYPT} or {MD5} with a $1$ string: libxcrypt;
   - any other {SCHEME}: Dovecot's scheme of that name (whether Dovecot
     knows it is checked where Dovecot is, not here).

   Returns 1 with the classification in stored_r, 0 for a locked account,
   -1 with the reason in error_r (never quoting the value) for a value
   that can't be right: a bare value that is no bcrypt or crypt string, a
   prefix whose value has another format, a bcrypt cost above
   bcrypt_max_cost, a malformed ARGON2 string. */
int db_mariadb_stored_password_parse(const char *stored,
				     unsigned int bcrypt_max_cost,
				     struct db_mariadb_stored_password *stored_r,
				     const char **error_r);

/* The scheme Dovecot's "password" field gets for a stored value without a
   {SCHEME} prefix: BLF-CRYPT for bcrypt (and anything unknown), CRYPT for
   the other crypt strings, which Dovecot's CRYPT scheme verifies too. */
const char *db_mariadb_stored_password_default_scheme(const char *stored);

/* Whether a scheme (Dovecot's name, upper case, no encoding) is weak: the
   plaintext ones (PLAIN, CLEAR, ...), the unsalted and MD5-based ones
   (SHA1, SHA512, PLAIN-MD5, MD5-CRYPT, CRAM-MD5, ...) and DES-CRYPT:
   Dovecot 2.4's list of weak schemes and the unsalted hashes. */
bool db_mariadb_scheme_is_weak(const char *scheme);

#endif
