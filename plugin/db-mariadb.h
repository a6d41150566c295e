#ifndef DB_MARIADB_H
#define DB_MARIADB_H

/* The module's database, one per configuration and process, shared by
   its passdbs and userdbs. The layers, calls going down only (as in
   Dovecot's db-sql -> sql-api -> driver-mysql):

     passdb-mariadb.c, userdb-mariadb.c       the auth logic: one result
                                              path for both modes
     db-mariadb.c (this), db-mariadb-self-check.c
                                              registry and refcount; runs
                                              a lookup where it belongs
     db-mariadb-pool.c   db-mariadb-blocking.c
                         siblings: the auth master's non-blocking pool,
                         the auth-workers' blocking connection and
                         iteration
     db-mariadb-conn.c                        the connection leaf: options,
                                              TLS, hosts (skip, back-off,
                                              order), statements, rows,
                                              query events
     db-mariadb-failure.c, -settings.c, -user.c, -query.c, -params.c,
     -password.c, -login-cache.c              pure units, no auth process

   A lookup runs on the pool in the auth master and on a blocking
   connection in an auth-worker; either way its result comes through the
   same callback (in a worker before db_mariadb_lookup() returns). */

#include "db-mariadb-row.h"
#include "db-mariadb-settings.h"

struct db_mariadb_query;
struct db_mariadb_user;

/* ret 1 with the one row, 0 if there is none, -1 with the reason in
   error (the query failed, no host could be reached, more than one row
   matched) */
typedef void db_mariadb_lookup_callback_t(int ret,
					  const struct db_mariadb_row *row,
					  const char *error, void *context);

/* The database of a configuration known by key (the configuration
   file's path), with a new reference, or NULL if there is none yet. */
struct db_mariadb *db_mariadb_find(const char *key);
/* A new database for settings parsed into pool, which the database owns
   from now on. */
struct db_mariadb *db_mariadb_create(pool_t pool, const char *key,
				     struct db_mariadb_settings *set);
void db_mariadb_ref(struct db_mariadb *db);
void db_mariadb_unref(struct db_mariadb **db);

const struct db_mariadb_settings *db_mariadb_get_settings(struct db_mariadb *db);
struct event *db_mariadb_get_event(struct db_mariadb *db);

/* Run a lookup query with the user's values bound. parent_event is the
   request's (its session is then in every line and on the query's
   event). user's strings and the row are allocated from pool, which must
   live until the callback. The callback is called exactly once, in an
   auth-worker before this function returns. */
void db_mariadb_lookup(struct db_mariadb *db,
		       const struct db_mariadb_query *query,
		       const struct db_mariadb_user *user,
		       struct event *parent_event, pool_t pool,
		       db_mariadb_lookup_callback_t *callback, void *context);
#define db_mariadb_lookup(db, query, user, parent_event, pool, callback, context) \
	db_mariadb_lookup(db, query, user, parent_event, pool - \
		CALLBACK_TYPECHECK(callback, void (*)( \
			int, const struct db_mariadb_row *, const char *, \
			typeof(context))), \
		(db_mariadb_lookup_callback_t *)callback, context)

/* Run an update query (query->update: rehash_query) as the rehash
   account, on the first host only: through a pool of its own in the auth
   master, on a blocking connection of its own in an auth-worker. Like
   db_mariadb_lookup(), but the callback's ret is 1 if a row was changed,
   0 if none, -1 with the reason in error. */
void db_mariadb_update(struct db_mariadb *db,
		       const struct db_mariadb_query *query,
		       const struct db_mariadb_user *user,
		       struct event *parent_event, pool_t pool,
		       db_mariadb_lookup_callback_t *callback, void *context);
#define db_mariadb_update(db, query, user, parent_event, pool, callback, context) \
	db_mariadb_update(db, query, user, parent_event, pool - \
		CALLBACK_TYPECHECK(callback, void (*)( \
			int, const struct db_mariadb_row *, const char *, \
			typeof(context))), \
		(db_mariadb_lookup_callback_t *)callback, context)

/* Iterate the "user" column of a query without placeholders (in an
   auth-worker). */
struct db_mariadb_iter *db_mariadb_iterate_init(struct db_mariadb *db,
						const struct db_mariadb_query *query,
						struct event *parent_event);

/* In the auth master, without waiting: check that the database answers
   and a passdb's or userdb's query (named name in messages) runs (an
   update query as the rehash account, changing nothing), and,
   once per database, warn when the account could change data
   (db-mariadb-self-check.c). */
void db_mariadb_self_check(struct db_mariadb *db, const char *name,
			   const struct db_mariadb_query *query);
/* Forget which databases were checked (module deinit). */
void db_mariadb_self_check_deinit(void);

#endif
