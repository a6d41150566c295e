/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* fuzz-db-mariadb-user - login names as a client sends them

   Any bytes must be either refused with a reason or split into a local
   part and a domain that respect every documented limit. */

#include "lib.h"
#include "db-mariadb-user.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_user(const unsigned char *data, size_t size)
{
	struct db_mariadb_user user, user2;
	const char *error = NULL, *error2 = NULL;
	size_t local_len, domain_len, i;
	bool ret;

	ret = db_mariadb_user_parse_data(data, size, &user, &error);
	if (!ret) {
		i_assert(error != NULL);
		i_assert(user.local == NULL && user.domain == NULL &&
			 user.address == NULL);
	} else {
		local_len = strlen(user.local);
		domain_len = strlen(user.domain);
		i_assert(local_len >= 1 &&
			 local_len <= DB_MARIADB_USER_LOCAL_MAX);
		i_assert(domain_len >= 1 &&
			 domain_len <= DB_MARIADB_USER_DOMAIN_MAX);
		i_assert(strlen(user.address) == size);
		i_assert(size <= DB_MARIADB_USER_ADDRESS_MAX);
		i_assert(strcmp(user.address, t_strconcat(user.local, "@",
				user.domain, NULL)) == 0);
		i_assert(memcmp(user.local, data, local_len) == 0);
		i_assert(strchr(user.local, '@') == NULL);
		i_assert(strchr(user.domain, '@') == NULL);
		i_assert(user.domain[0] != '.' &&
			 user.domain[domain_len - 1] != '.' &&
			 strstr(user.domain, "..") == NULL);
		for (i = 0; i < domain_len; i++) {
			i_assert(user.domain[i] < 'A' || user.domain[i] > 'Z');
			i_assert((unsigned char)user.domain[i] > ' ' &&
				 user.domain[i] != 0x7f);
		}
	}

	/* the string variant agrees when there is no NUL */
	if (memchr(data, '\0', size) == NULL) {
		i_assert(db_mariadb_user_parse(t_strndup(data, size), &user2,
					       &error2) == ret);
		i_assert(ret ? strcmp(user.address, user2.address) == 0 :
			 strcmp(error, error2) == 0);
	}
}

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	lib_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* everything is allocated from the data stack */
	T_BEGIN {
		fuzz_user(data, size);
	} T_END;
	return 0;
}
