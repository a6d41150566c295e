/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* fuzz-db-mariadb-settings - the configuration file

   Any file must be either refused with "path:line: reason" or "path:
   reason", or give settings that passed every whole-file check. */

#include "lib.h"
#include "test-compat.h"
#include "db-mariadb-query.h"
#include "db-mariadb-settings.h"

#define FUZZ_PATH "fuzz.conf"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_settings(pool_t pool, const unsigned char *data, size_t size)
{
	struct db_mariadb_settings *set;
	const struct db_mariadb_host *host;
	const char *error = NULL;
	unsigned int i;

	if (db_mariadb_settings_parse(pool, FUZZ_PATH, data, size,
				      &set, &error) < 0) {
		i_assert(set == NULL && error != NULL);
		i_assert(str_begins_with(error, FUZZ_PATH ":"));
		return;
	}
	i_assert(set != NULL && error == NULL);
	i_assert(strcmp(set->path, FUZZ_PATH) == 0);
	i_assert(set->user[0] != '\0' && set->dbname[0] != '\0');
	i_assert(set->tls || (set->tls_ca[0] == '\0' &&
			      set->tls_cert[0] == '\0' &&
			      set->tls_key[0] == '\0'));
	i_assert((set->tls_cert[0] == '\0') == (set->tls_key[0] == '\0'));
	i_assert(set->pool_size >= 1 && set->pool_size <= 64);
	i_assert(set->queue_limit >= 1);
	i_assert(set->login_cache_size >= 1 && set->login_cache_ttl_secs >= 1);
	i_assert(set->connect_timeout_secs >= 1 &&
		 set->connect_timeout_secs <= 300);
	i_assert(set->query_timeout_secs >= 1 &&
		 set->query_timeout_secs <= 3600);
	i_assert(set->parsed_password_query != NULL &&
		 set->parsed_user_query != NULL &&
		 set->parsed_iterate_query != NULL);

	i_assert(set->parsed_hosts_count > 0);
	for (i = 0; i < set->parsed_hosts_count; i++) {
		host = &set->parsed_hosts[i];
		if (host->socket_path != NULL) {
			i_assert(host->name == NULL);
			i_assert(host->socket_path[0] == '/');
		} else {
			i_assert(host->name != NULL && host->name[0] != '\0');
			i_assert(host->port != 0);
		}
	}
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
		pool = pool_alloconly_create("fuzz db_mariadb_settings", 1024);
		fuzz_settings(pool, data, size);
		pool_unref(&pool);
	} T_END;
	return 0;
}
