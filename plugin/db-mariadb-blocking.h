#ifndef DB_MARIADB_BLOCKING_H
#define DB_MARIADB_BLOCKING_H

/* Blocking lookups and iteration, for auth-worker processes. A sibling of
   db-mariadb-pool.c on top of the connection leaf. */

struct db_mariadb_hosts;
struct db_mariadb_query;
struct db_mariadb_row;
struct db_mariadb_settings;
struct db_mariadb_user;

struct db_mariadb_blocking *
db_mariadb_blocking_init(const struct db_mariadb_settings *set,
			 struct db_mariadb_hosts *hosts, struct event *event);
void db_mariadb_blocking_deinit(struct db_mariadb_blocking **conn);

/* Run a lookup on the worker's one connection, opened on demand (hosts in
   order). Returns 1 with the one row in row_r (allocated from pool), 0 if
   there is none, -1 with the reason in error_r; unreachable_r tells
   whether that was because no host could be reached. A failed query is
   handled by the failure policy (db-mariadb-failure.c): the connection
   closed, its host skipped, the query retried once, as it says. */
int db_mariadb_blocking_lookup(struct db_mariadb_blocking *conn,
			       const struct db_mariadb_query *query,
			       const struct db_mariadb_user *user,
			       struct event *parent_event, pool_t pool,
			       struct db_mariadb_row *row_r,
			       const char **error_r, bool *unreachable_r);

/* Stream the "user" column of a query without placeholders over a
   connection of its own (hosts in order, skipping those that failed,
   respecting the back-off). */
struct db_mariadb_iter *
db_mariadb_iter_init(const struct db_mariadb_settings *set,
		     struct db_mariadb_hosts *hosts,
		     const struct db_mariadb_query *query,
		     struct event *parent_event);
/* Returns 1 with the next user (valid until the caller's data stack frame
   ends), 0 at the end, -1 on error. */
int db_mariadb_iter_next(struct db_mariadb_iter *iter, const char **user_r);
/* Returns 0, or -1 with the reason in error_r if the iteration failed. */
int db_mariadb_iter_deinit(struct db_mariadb_iter **iter,
			   const char **error_r);

#endif
