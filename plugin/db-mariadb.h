#ifndef DB_MARIADB_H
#define DB_MARIADB_H

#include "db-mariadb-settings.h"

struct db_mariadb_query;
struct db_mariadb_user;

struct db_mariadb_field {
	const char *name;
	/* NULL for SQL NULL */
	const char *value;
};

struct db_mariadb_row {
	const struct db_mariadb_field *fields;
	unsigned int count;
};

/* a row with no fields, for lookups that found nothing */
extern const struct db_mariadb_row db_mariadb_no_row;

/* Get the database for a configuration file, reading the file on first use
   (in preinit, as root). passdb and userdb with the same file share it.
   A bad file is fatal. */
struct db_mariadb *db_mariadb_init(const char *config_path);
void db_mariadb_unref(struct db_mariadb **db);

const struct db_mariadb_settings *db_mariadb_get_settings(struct db_mariadb *db);

/* Run a lookup query with the user's values bound. Returns 1 with the one
   row in row_r (allocated from pool), 0 if there is no row, -1 with the
   reason in error_r if the query failed, the server could not be reached
   or more than one row matched. The connection is opened on demand (hosts
   in order) and, when a connection turns out to be lost (or, with several
   hosts, a new one's server failed), opened again and the query retried
   once. */
int db_mariadb_lookup(struct db_mariadb *db,
		      const struct db_mariadb_query *query,
		      const struct db_mariadb_user *user, pool_t pool,
		      struct db_mariadb_row *row_r, const char **error_r);

/* ret, row and error as db_mariadb_lookup() returns them */
typedef void db_mariadb_lookup_callback_t(int ret,
					  const struct db_mariadb_row *row,
					  const char *error, void *context);

/* The same lookup without blocking (for the auth master): the query runs
   on a pool of non-blocking connections driven by the ioloop, queued while
   all of them are busy. The callback is called exactly once, possibly
   before this function returns (queue full, no host reachable). user's
   strings and the row are allocated from pool, which must live until the
   callback. A request that takes longer than query_timeout, waiting in the
   queue included, fails. */
void db_mariadb_lookup_async(struct db_mariadb *db,
			     const struct db_mariadb_query *query,
			     const struct db_mariadb_user *user, pool_t pool,
			     db_mariadb_lookup_callback_t *callback,
			     void *context);
#define db_mariadb_lookup_async(db, query, user, pool, callback, context) \
	db_mariadb_lookup_async(db, query, user, pool - \
		CALLBACK_TYPECHECK(callback, void (*)( \
			int, const struct db_mariadb_row *, const char *, \
			typeof(context))), \
		(db_mariadb_lookup_callback_t *)callback, context)

/* In the auth master, once per database, without waiting: check that the
   database answers and the configured queries run, and warn when the
   account could change data (it needs SELECT only). The results are
   logged. With blocking = yes the connection is closed afterwards. */
void db_mariadb_self_check(struct db_mariadb *db);

/* Find a field by name, NULL if the row has none. */
const struct db_mariadb_field *
db_mariadb_row_find(const struct db_mariadb_row *row, const char *name);

/* Iterate the "user" column of the iterate query over a connection of its
   own (results are streamed, not held in memory). */
struct db_mariadb_iter *db_mariadb_iter_init(struct db_mariadb *db);
/* Returns 1 with the next user, 0 at the end, -1 on error. */
int db_mariadb_iter_next(struct db_mariadb_iter *iter, const char **user_r);
/* Returns 0, or -1 with the reason in error_r if the iteration failed. */
int db_mariadb_iter_deinit(struct db_mariadb_iter **iter,
			   const char **error_r);

#endif
