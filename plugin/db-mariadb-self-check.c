/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-self-check - the start-up self-check

   In the auth master, without waiting for it: each passdb's and userdb's
   query runs (with an address no domain can have, so that no row is
   found; rehash_query as the rehash account, changing nothing), and,
   once per database, the account has no privileges it does not need. The
   results are logged; a failure is an error in the log, not a refusal to
   start, since the database may come later than Dovecot. Runs through
   the ordinary lookup path like any request. */

#include "auth-common.h"
#include "array.h"
#include "db-mariadb-query.h"
#include "db-mariadb-user.h"
#include "db-mariadb.h"

/* The account's privileges other than reading, one row (NULL if none).
   information_schema shows a user its own grants. */
#define DB_MARIADB_PRIVILEGES_QUERY \
	"SELECT GROUP_CONCAT(DISTINCT privilege_type ORDER BY privilege_type " \
	"SEPARATOR ', ') AS privileges FROM (" \
	"SELECT privilege_type FROM information_schema.user_privileges " \
	"UNION ALL SELECT privilege_type FROM information_schema.schema_privileges " \
	"UNION ALL SELECT privilege_type FROM information_schema.table_privileges " \
	"UNION ALL SELECT privilege_type FROM information_schema.column_privileges" \
	") AS p WHERE privilege_type NOT IN ('SELECT', 'USAGE', 'SHOW VIEW')"

struct db_mariadb_self_check {
	struct db_mariadb *db;
	pool_t pool;
	const char *name;
	bool privileges;
	unsigned int pending;
	bool failed;
};

/* the databases whose privileges were checked (they live as long as the
   process) */
static ARRAY(struct db_mariadb *) db_mariadb_self_checked = ARRAY_INIT;

static void db_mariadb_self_check_done(struct db_mariadb_self_check *check)
{
	if (--check->pending > 0)
		return;
	if (!check->failed) {
		e_info(db_mariadb_get_event(check->db), "Self-check passed: "
		       "bcrypt works, the database answers and %s runs",
		       check->name);
	}
	db_mariadb_unref(&check->db);
	pool_unref(&check->pool);
}

static void
db_mariadb_self_check_privileges(int ret, const struct db_mariadb_row *row,
				 const char *error,
				 struct db_mariadb_self_check *check)
{
	struct event *event = db_mariadb_get_event(check->db);

	if (ret < 0) {
		e_error(event, "Self-check: the database can't be used: %s",
			error);
		check->failed = TRUE;
	} else if (ret > 0 && row->count > 0 && row->fields[0].value != NULL) {
		e_warning(event, "Self-check: the database account %s can "
			  "change data (%s): it needs SELECT only, see "
			  "sql/03-grants.sql",
			  db_mariadb_get_settings(check->db)->user,
			  row->fields[0].value);
	}
	db_mariadb_self_check_done(check);
}

static void
db_mariadb_self_check_query(int ret,
			    const struct db_mariadb_row *row ATTR_UNUSED,
			    const char *error,
			    struct db_mariadb_self_check *check)
{
	if (ret < 0 && !check->failed) {
		e_error(db_mariadb_get_event(check->db),
			"Self-check: %s fails: %s", check->name, error);
		check->failed = TRUE;
	}
	db_mariadb_self_check_done(check);
}

void db_mariadb_self_check_deinit(void)
{
	if (array_is_created(&db_mariadb_self_checked))
		array_free(&db_mariadb_self_checked);
}

/* Check the account's privileges once per database. */
static bool db_mariadb_self_check_privileges_wanted(struct db_mariadb *db)
{
	struct db_mariadb *checked;

	if (!array_is_created(&db_mariadb_self_checked))
		i_array_init(&db_mariadb_self_checked, 4);
	array_foreach_elem(&db_mariadb_self_checked, checked) {
		if (checked == db)
			return FALSE;
	}
	array_push_back(&db_mariadb_self_checked, &db);
	return TRUE;
}

void db_mariadb_self_check(struct db_mariadb *db, const char *name,
			   const struct db_mariadb_query *query)
{
	struct db_mariadb_self_check *check;
	struct db_mariadb_query *privileges;
	struct db_mariadb_user user;
	const char *error;
	pool_t pool;

	pool = pool_alloconly_create("db_mariadb_self_check", 2048);
	check = p_new(pool, struct db_mariadb_self_check, 1);
	check->db = db;
	check->pool = pool;
	check->name = p_strdup(pool, name);
	/* kept while the queries run */
	db_mariadb_ref(db);

	/* an address no domain can have (RFC 2606) */
	i_zero(&user);
	user.local = "self-check";
	user.domain = "self-check.invalid";
	user.address = "self-check@self-check.invalid";

	/* one more than the checks, so that none finishes the whole */
	check->pending = 1;
	if (db_mariadb_self_check_privileges_wanted(db)) {
		if (!db_mariadb_query_parse(pool, DB_MARIADB_PRIVILEGES_QUERY,
					    &privileges, &error))
			i_panic("mariadb: self-check query: %s", error);
		privileges->name = "privileges";
		check->pending++;
		db_mariadb_lookup(db, privileges, &user, NULL, pool,
				  db_mariadb_self_check_privileges, check);
	}
	check->pending++;
	if (query->update) {
		/* as the rehash account; nothing matches */
		user.new_hash = user.old_hash = "self-check";
		db_mariadb_update(db, query, &user, NULL, pool,
				  db_mariadb_self_check_query, check);
	} else {
		db_mariadb_lookup(db, query, &user, NULL, pool,
				  db_mariadb_self_check_query, check);
	}
	db_mariadb_self_check_done(check);
}
