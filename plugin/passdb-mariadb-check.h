#ifndef PASSDB_MARIADB_CHECK_H
#define PASSDB_MARIADB_CHECK_H

/* A password check as an auth-worker runs it (passdb-mariadb-check.c). */

#include "db-mariadb-scheme.h"

struct auth_request;

struct passdb_mariadb_check {
	/* the stored password as the password query returned it */
	const char *stored;
	/* after checking a scheme other than bcrypt: a dummy bcrypt check
	   of this cost, so that the answer takes as long as for bcrypt
	   users and unknown users (0: none) */
	unsigned int pad_cost;
	/* after a match: a new bcrypt hash of the password, of this cost
	   (0: none) */
	unsigned int rehash_cost;
};

/* Classify a stored password (db_mariadb_stored_password_parse()) and,
   for Dovecot's schemes, check that Dovecot knows the scheme and that the
   value decodes. Returns 1, 0 for a locked account, -1 with the reason in
   error_r. Cheap: no password is checked. */
int passdb_mariadb_check_stored(const char *stored, unsigned int max_cost,
				struct db_mariadb_stored_password *stored_r,
				const char **error_r);

/* In an auth-worker: check password against check->stored (username is
   the login as given, for schemes that use it, e.g. DIGEST-MD5). Returns
   1 if it matches, with a new bcrypt hash in new_hash_r if rehash_cost
   asks for one (NULL with the reason in error_r if it could not be made),
   0 if not, -1 with the reason in error_r for a stored password that
   can't be checked. Never a mismatch for a broken stored password. */
int passdb_mariadb_check_password(const struct passdb_mariadb_check *check,
				  const char *password, const char *username,
				  const char **new_hash_r,
				  const char **error_r);

/* The auth master: append the check as fields of a PASSV request. */
void passdb_mariadb_check_export(const struct passdb_mariadb_check *check,
				 string_t *dest);
/* The auth-worker: the check that came with a PASSV request, taken out of
   the request's fields. FALSE if the request has none (a lookup that
   Dovecot sent with blocking = yes). */
bool passdb_mariadb_check_import(struct auth_request *request,
				 struct passdb_mariadb_check *check_r);

/* The auth-worker: hand a new hash to the master with the reply. */
void passdb_mariadb_check_reply_add(struct auth_request *request,
				    const char *new_hash);
/* The auth master: the new hash of a reply, taken out of the request's
   fields (which go to the client), NULL if there is none. */
const char *passdb_mariadb_check_reply_take(struct auth_request *request);

#endif
