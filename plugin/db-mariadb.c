/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb - the database of one configuration

   One struct db_mariadb exists per configuration and process; passdbs and
   userdbs with the same configuration share it. It owns the settings and
   the hosts' state, and runs each lookup where it belongs: on the
   non-blocking pool in the auth master (db-mariadb-pool.c), on the
   worker's blocking connection in an auth-worker (db-mariadb-blocking.c).
   With blocking = yes the master only looks up for the self-check, and
   its pool keeps no connection when nothing waits.

   In an auth-worker, a database that can't be reached is reported to the
   auth master, as Dovecot's own sql driver does, so that the master stops
   starting workers into an outage; the first lookup that reaches it again
   reports the recovery.

   Updates (rehash_query) run as the rehash account, on connections of
   their own to the first host only (a write must not reach a replica),
   opened when first needed: a pool of one connection in the master,
   closed while idle, and one blocking connection in a worker. Their
   failures are not reported to the master: lookups may work. */

#include "auth-common.h"
#include "llist.h"
#include "safe-memset.h"
#include "authdb-compat.h"
#include "db-mariadb-conn.h"
#include "db-mariadb-blocking.h"
#include "db-mariadb-password.h"
#include "db-mariadb-pool.h"
#include "db-mariadb-query.h"
#include "db-mariadb-settings.h"
#include "db-mariadb.h"

struct db_mariadb {
	struct db_mariadb *prev, *next;
	int refcount;

	pool_t pool;
	struct event *event;
	const char *key;
	struct db_mariadb_settings *set;
	struct db_mariadb_hosts *hosts;

	/* the auth master: non-blocking lookups */
	struct db_mariadb_pool *conn_pool;
	/* an auth-worker: blocking lookups */
	struct db_mariadb_blocking *blocking;

	/* updates as the rehash account: its settings and host, and its
	   connections in the master or in a worker */
	struct db_mariadb_settings *rehash_set;
	struct db_mariadb_hosts *rehash_hosts;
	struct db_mariadb_pool *rehash_pool;
	struct db_mariadb_blocking *rehash_blocking;
};

static struct db_mariadb *db_mariadb_list = NULL;

struct db_mariadb *db_mariadb_find(const char *key)
{
	struct db_mariadb *db;

	for (db = db_mariadb_list; db != NULL; db = db->next) {
		if (strcmp(db->key, key) == 0) {
			db->refcount++;
			return db;
		}
	}
	return NULL;
}

struct db_mariadb *db_mariadb_create(pool_t pool, const char *key,
				     struct db_mariadb_settings *set)
{
	struct db_mariadb *db;
	const char *error;

	/* known answers first: a libxcrypt without bcrypt must stop start-up */
	if (db_mariadb_password_self_test(&error) < 0)
		i_fatal("mariadb: %s", error);
	db = p_new(pool, struct db_mariadb, 1);
	db->pool = pool;
	db->refcount = 1;
	db->key = p_strdup(pool, key);
	db->set = set;
	db->event = event_create(auth_event);
	event_add_category(db->event, &event_category_mariadb);
	event_set_append_log_prefix(db->event, "mariadb: ");
	db->hosts = db_mariadb_hosts_init(pool, set, db->event);
	/* once, not in every auth-worker that starts */
	if (!worker)
		db_mariadb_conn_settings_warn(set, db->event);
	DLLIST_PREPEND(&db_mariadb_list, db);
	return db;
}

void db_mariadb_ref(struct db_mariadb *db)
{
	i_assert(db->refcount > 0);
	db->refcount++;
}

void db_mariadb_unref(struct db_mariadb **_db)
{
	struct db_mariadb *db = *_db;

	*_db = NULL;
	i_assert(db->refcount > 0);
	if (--db->refcount > 0)
		return;

	DLLIST_REMOVE(&db_mariadb_list, db);
	if (db->conn_pool != NULL)
		db_mariadb_pool_deinit(&db->conn_pool);
	if (db->blocking != NULL)
		db_mariadb_blocking_deinit(&db->blocking);
	if (db->rehash_pool != NULL)
		db_mariadb_pool_deinit(&db->rehash_pool);
	if (db->rehash_blocking != NULL)
		db_mariadb_blocking_deinit(&db->rehash_blocking);
	if (db->rehash_hosts != NULL)
		db_mariadb_hosts_deinit(&db->rehash_hosts);
	db_mariadb_hosts_deinit(&db->hosts);
	/* the database passwords live in the pool */
	safe_memset((void *)db->set->password, 0, strlen(db->set->password));
	safe_memset((void *)db->set->rehash_password, 0,
		    strlen(db->set->rehash_password));
	event_unref(&db->event);
	pool_unref(&db->pool);
}

const struct db_mariadb_settings *db_mariadb_get_settings(struct db_mariadb *db)
{
	return db->set;
}

struct event *db_mariadb_get_event(struct db_mariadb *db)
{
	return db->event;
}

/* An auth-worker tells the master whether the database can be reached
   (Dovecot sends the recovery only after an error). */
static void db_mariadb_worker_report(bool unreachable)
{
	if (unreachable)
		authdb_worker_send_error();
	else
		authdb_worker_send_success();
}

#undef db_mariadb_lookup
void db_mariadb_lookup(struct db_mariadb *db,
		       const struct db_mariadb_query *query,
		       const struct db_mariadb_user *user,
		       struct event *parent_event, pool_t pool,
		       db_mariadb_lookup_callback_t *callback, void *context)
{
	struct db_mariadb_row row;
	const char *error = NULL;
	bool unreachable;
	int ret;

	if (!worker) {
		if (db->conn_pool == NULL) {
			db->conn_pool = db_mariadb_pool_init(db->set, db->hosts,
							     db->event,
							     !db->set->blocking);
		}
		db_mariadb_pool_lookup(db->conn_pool, query, user,
				       parent_event, pool, callback, context);
		return;
	}
	if (db->blocking == NULL) {
		db->blocking = db_mariadb_blocking_init(db->set, db->hosts,
							db->event);
	}
	ret = db_mariadb_blocking_lookup(db->blocking, query, user,
					 parent_event, pool, &row, &error,
					 &unreachable);
	db_mariadb_worker_report(unreachable);
	callback(ret, ret > 0 ? &row : &db_mariadb_no_row, error, context);
}

#undef db_mariadb_update
void db_mariadb_update(struct db_mariadb *db,
		       const struct db_mariadb_query *query,
		       const struct db_mariadb_user *user,
		       struct event *parent_event, pool_t pool,
		       db_mariadb_lookup_callback_t *callback, void *context)
{
	struct db_mariadb_row row;
	const char *error = NULL;
	bool unreachable;
	int ret;

	i_assert(query->update);
	if (db->rehash_set == NULL) {
		db->rehash_set = db_mariadb_settings_rehash(db->pool, db->set);
		db->rehash_hosts = db_mariadb_hosts_init(db->pool,
							 db->rehash_set,
							 db->event);
	}
	if (!worker) {
		if (db->rehash_pool == NULL) {
			db->rehash_pool = db_mariadb_pool_init(db->rehash_set,
				db->rehash_hosts, db->event, FALSE);
		}
		db_mariadb_pool_lookup(db->rehash_pool, query, user,
				       parent_event, pool, callback, context);
		return;
	}
	if (db->rehash_blocking == NULL) {
		db->rehash_blocking = db_mariadb_blocking_init(db->rehash_set,
			db->rehash_hosts, db->event);
	}
	ret = db_mariadb_blocking_lookup(db->rehash_blocking, query, user,
					 parent_event, pool, &row, &error,
					 &unreachable);
	callback(ret, &db_mariadb_no_row, error, context);
}

struct db_mariadb_iter *db_mariadb_iterate_init(struct db_mariadb *db,
						const struct db_mariadb_query *query,
						struct event *parent_event)
{
	return db_mariadb_iter_init(db->set, db->hosts, query,
				    parent_event != NULL ? parent_event :
				    db->event);
}
