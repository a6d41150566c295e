#ifndef DOVEADM_MARIADB_VALUES_H
#define DOVEADM_MARIADB_VALUES_H

#include "db-mariadb-user.h"

/* The column widths of sql/01-schema.sql, in characters. */
#define DOVEADM_MARIADB_LOCAL_MAX_CHARS 40
#define DOVEADM_MARIADB_DOMAIN_MAX_CHARS 64
#define DOVEADM_MARIADB_DISPLAY_NAME_MAX_CHARS 40
#define DOVEADM_MARIADB_HASH_MAX_CHARS 256

/* The prefix that locks an account and keeps its hash, as usermod -L. */
#define DOVEADM_MARIADB_LOCK_PREFIX '!'

/* An address as the commands take it: a valid login
   (db_mariadb_user_parse()) whose parts fit the schema's columns.
   Returns TRUE, or FALSE with the reason (never the input). */
bool doveadm_mariadb_address_parse(const char *input,
				   struct db_mariadb_user *user_r,
				   const char **error_r);
/* A domain as the commands take it; domain_r is lower-cased. */
bool doveadm_mariadb_domain_parse(const char *input, const char **domain_r,
				  const char **error_r);
/* A display name: valid UTF-8, no control characters, at most
   DOVEADM_MARIADB_DISPLAY_NAME_MAX_CHARS characters (may be empty). */
bool doveadm_mariadb_display_name_check(const char *name,
					const char **error_r);
/* A new password: not empty, no control characters, at most
   DB_MARIADB_BCRYPT_PASSWORD_MAX octets (bcrypt would ignore the rest:
   the reason says so). The reason never quotes the password. */
bool doveadm_mariadb_password_check(const char *password,
				    const char **error_r);

/* Whether a stored password is locked (DOVEADM_MARIADB_LOCK_PREFIX). */
bool doveadm_mariadb_hash_is_locked(const char *stored);
/* Dovecot's name of the scheme of a stored password, a locked one's
   included: its {SCHEME} prefix, or what a crypt string's $id$ says
   (BLF-CRYPT for bcrypt); "none" for an empty one or a '*' placeholder,
   "unknown" otherwise. Never the hash. */
const char *doveadm_mariadb_hash_scheme(const char *stored);

#endif
