#ifndef DB_MARIADB_USER_H
#define DB_MARIADB_USER_H

/* Limits from RFC 5321 section 4.5.3.1 as corrected by RFC 3696 errata:
   a path is at most 256 octets including the angle brackets, so an address
   is at most 254. */
#define DB_MARIADB_USER_LOCAL_MAX 64
#define DB_MARIADB_USER_DOMAIN_MAX 253
#define DB_MARIADB_USER_ADDRESS_MAX 254
/* RFC 1035 section 2.3.4 */
#define DB_MARIADB_USER_LABEL_MAX 63

struct db_mariadb_user {
	/* local part exactly as given (the database collation decides
	   whether case matters) */
	const char *local;
	/* domain, ASCII letters lower-cased */
	const char *domain;
	/* local@domain as it is looked up */
	const char *address;
	/* the rehash query's :new_hash and :old_hash, NULL for lookups */
	const char *new_hash, *old_hash;
};

/* Split and validate a login name of the form local@domain. Returns TRUE
   and fills user_r (allocated from the data stack), or FALSE with a
   human-readable reason in error_r. The reason never contains the input. */
bool db_mariadb_user_parse(const char *login, struct db_mariadb_user *user_r,
			   const char **error_r);
/* Same for arbitrary bytes, which may contain NUL (the fuzzer's entry). */
bool db_mariadb_user_parse_data(const unsigned char *data, size_t size,
				struct db_mariadb_user *user_r,
				const char **error_r);
/* Validate a domain name alone, as the domain of a login is validated.
   Returns TRUE with it as it is looked up (ASCII letters lower-cased) in
   domain_r, or FALSE with the reason in error_r (never the input). */
bool db_mariadb_user_parse_domain(const char *domain, const char **domain_r,
				  const char **error_r);

#endif
