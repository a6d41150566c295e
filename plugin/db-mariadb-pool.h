#ifndef DB_MARIADB_POOL_H
#define DB_MARIADB_POOL_H

/* Non-blocking lookups in the auth master: a pool of connections driven
   by the ioloop. A sibling of db-mariadb-blocking.c on top of the
   connection leaf. */

#include "db-mariadb-row.h"

struct db_mariadb_hosts;
struct db_mariadb_query;
struct db_mariadb_settings;
struct db_mariadb_user;

/* ret 1 with the one row, 0 if there is none, -1 with the reason */
typedef void db_mariadb_pool_callback_t(int ret,
					const struct db_mariadb_row *row,
					const char *error, void *context);

/* keep_idle = FALSE: close connections as soon as no lookup waits (for a
   master that only looks up now and then, as with blocking = yes). */
struct db_mariadb_pool *
db_mariadb_pool_init(const struct db_mariadb_settings *set,
		     struct db_mariadb_hosts *hosts, struct event *event,
		     bool keep_idle);
/* Fail every request still queued or running, close the connections. */
void db_mariadb_pool_deinit(struct db_mariadb_pool **pool);

/* Queue a lookup. The callback is called exactly once, possibly before
   this function returns (queue full, no host reachable). user's strings
   are copied into pool, which must live until the callback; so is the
   row. A request that takes longer than query_timeout, waiting in the
   queue included, fails. */
void db_mariadb_pool_lookup(struct db_mariadb_pool *pool,
			    const struct db_mariadb_query *query,
			    const struct db_mariadb_user *user,
			    struct event *parent_event, pool_t result_pool,
			    db_mariadb_pool_callback_t *callback,
			    void *context);

#endif
