/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-cmd-alias - doveadm mariadb alias add|remove|list

   An alias forwards the mail of its source address to one user (the
   schema's foreign key: the destination must be a user). A source that is
   also a user's address forwards that user's mail, and that is how chains
   form: an alias whose chain leads back to its source would make Postfix
   loop, so alias add follows the chain from the destination (in the
   database, whose collation decides which addresses are equal) and
   refuses a loop. */

#include "lib.h"
#include "str.h"
#include "doveadm.h"
#include "doveadm-print.h"
#include "doveadm-mariadb-values.h"
#include "doveadm-mariadb.h"

/* longer chains are refused too: no real forwarding needs them */
#define DOVEADM_MARIADB_ALIAS_CHAIN_MAX 32

#define SQL_ALIAS_FIND \
	"SELECT CONCAT(destination_local, '@', destination_domain) " \
	"AS destination FROM aliases " \
	"WHERE source_domain = ? AND source_local = ? LOCK IN SHARE MODE"
#define SQL_ALIAS_INSERT \
	"INSERT INTO aliases (source_local, source_domain, " \
	"destination_local, destination_domain) VALUES (?, ?, ?, ?)"
#define SQL_ALIAS_DELETE \
	"DELETE FROM aliases WHERE source_domain = ? AND source_local = ?"
/* One step along a chain: the user at it (is it the new alias's
   source?) and where an alias with its address forwards to. */
#define SQL_ALIAS_STEP \
	"SELECT (u.local = ? AND u.domain = ?) AS is_source, " \
	"a.destination_local, a.destination_domain " \
	"FROM users u LEFT JOIN aliases a " \
	"ON a.source_domain = u.domain AND a.source_local = u.local " \
	"WHERE u.domain = ? AND u.local = ? LOCK IN SHARE MODE"
#define SQL_ALIAS_LIST \
	"SELECT CONCAT(source_local, '@', source_domain) AS source, " \
	"CONCAT(destination_local, '@', destination_domain) AS destination " \
	"FROM aliases"
#define SQL_ALIAS_LIST_ALL SQL_ALIAS_LIST \
	" ORDER BY source_domain, source_local"
#define SQL_ALIAS_LIST_DOMAIN SQL_ALIAS_LIST \
	" WHERE source_domain = ? ORDER BY source_local"
#define SQL_ALIAS_LIST_ONE SQL_ALIAS_LIST \
	" WHERE source_domain = ? AND source_local = ?"

/* An address argument, validated. */
static bool
doveadm_mariadb_alias_arg(struct doveadm_cmd_context *cctx, const char *name,
			  struct db_mariadb_user *address_r)
{
	const char *error;

	if (!doveadm_mariadb_address_parse(doveadm_mariadb_arg(cctx, name),
					   address_r, &error)) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				     "Invalid %s: %s", name, error);
		return FALSE;
	}
	return TRUE;
}

/* Follow the chain from the user destination: TRUE if it doesn't lead
   back to source; else FALSE after doveadm_mariadb_fail() (67 if
   destination is no user). */
static bool
doveadm_mariadb_alias_chain_check(struct doveadm_mariadb *adm,
				  const struct db_mariadb_user *source,
				  const struct db_mariadb_user *destination)
{
	struct db_mariadb_row row;
	const char *local = destination->local, *domain = destination->domain;
	const char *params[5];
	string_t *chain = t_str_new(128);
	unsigned int i;
	int ret;

	str_printfa(chain, "%s -> %s", source->address, destination->address);
	for (i = 0; i < DOVEADM_MARIADB_ALIAS_CHAIN_MAX; i++) {
		params[0] = source->local;
		params[1] = source->domain;
		params[2] = domain;
		params[3] = local;
		params[4] = NULL;
		ret = doveadm_mariadb_select_row(adm, SQL_ALIAS_STEP, params,
						 &row);
		if (ret < 0)
			return FALSE;
		if (ret == 0 && i == 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOUSER,
				"Unknown user %s: an alias must point to a "
				"user", destination->address);
			return FALSE;
		}
		/* a user that is gone since an alias pointed to it ends the
		   chain (the schema deletes such aliases) */
		if (ret == 0)
			return TRUE;
		if (strcmp(doveadm_mariadb_row_value(&row, "is_source"),
			   "1") == 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
				"Alias loop: %s", str_c(chain));
			return FALSE;
		}
		if (db_mariadb_row_find(&row, "destination_local")->value == NULL)
			return TRUE;
		local = doveadm_mariadb_row_value(&row, "destination_local");
		domain = doveadm_mariadb_row_value(&row, "destination_domain");
		str_printfa(chain, " -> %s@%s", local, domain);
	}
	doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
		"The aliases from %s lead on for more than %u steps: %s...",
		destination->address, DOVEADM_MARIADB_ALIAS_CHAIN_MAX,
		str_c(chain));
	return FALSE;
}

/* Can the alias source -> destination be added? */
static bool
doveadm_mariadb_alias_add_check(struct doveadm_mariadb *adm,
				const struct db_mariadb_user *source,
				const struct db_mariadb_user *destination)
{
	const char *params[] = { source->domain, source->local, NULL };
	struct db_mariadb_row row;
	const char *address, *hash;
	int ret;

	if ((ret = doveadm_mariadb_domain_exists(adm, source->domain)) <= 0) {
		if (ret == 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
				"Unknown domain %s (doveadm mariadb domain "
				"add %s)", source->domain, source->domain);
		}
		return FALSE;
	}
	if ((ret = doveadm_mariadb_select_row(adm, SQL_ALIAS_FIND, params,
					      &row)) != 0) {
		if (ret > 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
				"Alias %s exists already (-> %s)",
				source->address,
				doveadm_mariadb_row_value(&row, "destination"));
		}
		return FALSE;
	}
	if (!doveadm_mariadb_alias_chain_check(adm, source, destination))
		return FALSE;
	if ((ret = doveadm_mariadb_user_find(adm, source, &address,
					     &hash)) < 0)
		return FALSE;
	if (ret > 0) {
		i_warning("%s is a user too: its mail will go to %s instead "
			  "of its mailbox", address, destination->address);
	}
	return TRUE;
}

static void cmd_mariadb_alias_add(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	struct db_mariadb_user source, destination;
	const char *params[5];

	if (!doveadm_mariadb_alias_arg(cctx, "source", &source) ||
	    !doveadm_mariadb_alias_arg(cctx, "destination", &destination) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	if (doveadm_mariadb_begin(adm) &&
	    doveadm_mariadb_alias_add_check(adm, &source, &destination)) {
		params[0] = source.local;
		params[1] = source.domain;
		params[2] = destination.local;
		params[3] = destination.domain;
		params[4] = NULL;
		(void)doveadm_mariadb_exec_commit(adm, SQL_ALIAS_INSERT, params);
	}
	doveadm_mariadb_deinit(&adm);
}

static void cmd_mariadb_alias_remove(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	struct db_mariadb_user source;
	struct db_mariadb_row row;
	const char *params[3];
	int ret;

	if (!doveadm_mariadb_alias_arg(cctx, "source", &source) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	params[0] = source.domain;
	params[1] = source.local;
	params[2] = NULL;
	if (doveadm_mariadb_begin(adm) &&
	    (ret = doveadm_mariadb_select_row(adm, SQL_ALIAS_FIND, params,
					      &row)) >= 0) {
		if (ret == 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
					     "Unknown alias %s", source.address);
		} else {
			(void)doveadm_mariadb_exec_commit(adm,
				SQL_ALIAS_DELETE, params);
		}
	}
	doveadm_mariadb_deinit(&adm);
}

/* What alias list lists. */
enum doveadm_mariadb_alias_list {
	DOVEADM_MARIADB_ALIAS_LIST_ALL,
	/* the aliases of a domain */
	DOVEADM_MARIADB_ALIAS_LIST_DOMAIN,
	/* one alias */
	DOVEADM_MARIADB_ALIAS_LIST_ONE,
};

/* alias list's argument: an alias's source address, or a domain. Returns
   FALSE after doveadm_mariadb_fail() if it is neither. */
static bool
doveadm_mariadb_alias_list_arg(struct doveadm_cmd_context *cctx,
			       enum doveadm_mariadb_alias_list *list_r,
			       const char **params, const char **what_r)
{
	struct db_mariadb_user source;
	const char *input, *domain, *error;

	params[0] = params[1] = params[2] = NULL;
	*list_r = DOVEADM_MARIADB_ALIAS_LIST_ALL;
	*what_r = NULL;
	if (!doveadm_cmd_param_str(cctx, "source", &input))
		return TRUE;
	if (strchr(input, '@') == NULL) {
		if (!doveadm_mariadb_domain_value(input, &domain))
			return FALSE;
		params[0] = domain;
		*list_r = DOVEADM_MARIADB_ALIAS_LIST_DOMAIN;
		*what_r = t_strconcat("domain ", domain, NULL);
		return TRUE;
	}
	if (!doveadm_mariadb_address_parse(input, &source, &error)) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				     "Invalid source: %s", error);
		return FALSE;
	}
	params[0] = source.domain;
	params[1] = source.local;
	*list_r = DOVEADM_MARIADB_ALIAS_LIST_ONE;
	*what_r = t_strconcat("alias ", source.address, NULL);
	return TRUE;
}

static void
doveadm_mariadb_alias_print(const ARRAY_TYPE(db_mariadb_row) *rows)
{
	const struct db_mariadb_row *row;

	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	doveadm_print_header_simple("source");
	doveadm_print_header_simple("destination");
	array_foreach(rows, row) {
		/* cppcheck can't see into Dovecot's array macros */
		/* cppcheck-suppress uninitvar */
		doveadm_print(doveadm_mariadb_row_value(row, "source"));
		doveadm_print(doveadm_mariadb_row_value(row, "destination"));
	}
}

static void cmd_mariadb_alias_list(struct doveadm_cmd_context *cctx)
{
	static const char *const queries[] = {
		[DOVEADM_MARIADB_ALIAS_LIST_ALL] = SQL_ALIAS_LIST_ALL,
		[DOVEADM_MARIADB_ALIAS_LIST_DOMAIN] = SQL_ALIAS_LIST_DOMAIN,
		[DOVEADM_MARIADB_ALIAS_LIST_ONE] = SQL_ALIAS_LIST_ONE,
	};
	struct doveadm_mariadb *adm;
	enum doveadm_mariadb_alias_list list;
	ARRAY_TYPE(db_mariadb_row) rows;
	const char *what, *params[3];
	int ret = 1;

	if (!doveadm_mariadb_alias_list_arg(cctx, &list, params, &what) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	/* an unknown domain, not just one without aliases */
	if (list == DOVEADM_MARIADB_ALIAS_LIST_DOMAIN &&
	    (ret = doveadm_mariadb_domain_exists(adm, params[0])) == 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
				     "Unknown %s", what);
	}
	if (ret > 0 &&
	    doveadm_mariadb_select(adm, queries[list], params, &rows)) {
		if (list == DOVEADM_MARIADB_ALIAS_LIST_ONE &&
		    array_count(&rows) == 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
					     "Unknown %s", what);
		} else {
			doveadm_mariadb_alias_print(&rows);
		}
	}
	doveadm_mariadb_deinit(&adm);
}

struct doveadm_cmd_ver2 doveadm_mariadb_cmd_alias_add =
	DOVEADM_MARIADB_CMD2(cmd_mariadb_alias_add, "alias add",
			     "<source> <destination>", "source", "destination");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_alias_remove =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_alias_remove, "alias remove",
			     "<source>", "source");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_alias_list =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_alias_list, "alias list",
			     "[<source>|<domain>]", "source");
