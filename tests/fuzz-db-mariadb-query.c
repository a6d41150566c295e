/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* fuzz-db-mariadb-query - named placeholders in configured queries

   Any text must be either refused with a reason or turned into SQL with
   one '?' per recorded parameter and nothing longer than what was
   written. */

#include "lib.h"
#include "db-mariadb-query.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int str_count_char(const char *str, char c)
{
	unsigned int count = 0;

	for (; *str != '\0'; str++) {
		if (*str == c)
			count++;
	}
	return count;
}

static void fuzz_query(pool_t pool, const char *text)
{
	struct db_mariadb_query *query;
	const char *error = NULL;
	unsigned int i;

	if (!db_mariadb_query_parse(pool, text, &query, &error)) {
		i_assert(query == NULL && error != NULL);
		return;
	}
	i_assert(query != NULL && error == NULL);
	i_assert(strcmp(query->text, text) == 0);
	/* placeholders shrink to '?', comments to a single space */
	i_assert(strlen(query->sql) <= strlen(text));
	i_assert((query->params == NULL) == (query->params_count == 0));
	/* each parameter was a ':name'; a '?' that is not one of them can
	   only be inside a quoted string */
	i_assert(query->params_count <= str_count_char(text, ':'));
	i_assert(query->params_count <= str_count_char(query->sql, '?'));
	for (i = 0; i < query->params_count; i++)
		(void)db_mariadb_param_name(query->params[i]);
}

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	lib_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pool_t pool;

	T_BEGIN {
		pool = pool_alloconly_create("fuzz db_mariadb_query", 1024);
		/* the configuration gives a C string: a NUL ends it */
		fuzz_query(pool, t_strndup(data, size));
		pool_unref(&pool);
	} T_END;
	return 0;
}
