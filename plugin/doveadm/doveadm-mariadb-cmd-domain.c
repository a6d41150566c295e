/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-cmd-domain - doveadm mariadb domain add|remove|list

   The domains table is the list of domains the server receives mail for
   (Postfix's virtual_mailbox_domains). A domain is removed only when no
   user and no alias is in it any more. */

#include "lib.h"
#include "doveadm.h"
#include "doveadm-print.h"
#include "doveadm-mariadb-values.h"
#include "doveadm-mariadb.h"

#define SQL_DOMAIN_FIND \
	"SELECT domain FROM domains WHERE domain = ? LOCK IN SHARE MODE"
#define SQL_DOMAIN_INSERT "INSERT INTO domains (domain) VALUES (?)"
#define SQL_DOMAIN_DELETE "DELETE FROM domains WHERE domain = ?"
#define SQL_DOMAIN_LIST \
	"SELECT domain, " \
	"(SELECT COUNT(*) FROM users u WHERE u.domain = d.domain) AS users, " \
	"(SELECT COUNT(*) FROM aliases a " \
	" WHERE a.source_domain = d.domain) AS aliases " \
	"FROM domains d"
#define SQL_DOMAIN_LIST_ALL SQL_DOMAIN_LIST " ORDER BY domain"
#define SQL_DOMAIN_LIST_ONE SQL_DOMAIN_LIST " WHERE domain = ?"
/* with the domain's row locked until the transaction ends */
#define SQL_DOMAIN_LIST_ONE_LOCKED SQL_DOMAIN_LIST_ONE " LOCK IN SHARE MODE"

int doveadm_mariadb_domain_exists(struct doveadm_mariadb *adm,
				  const char *domain)
{
	const char *params[] = { domain, NULL };
	struct db_mariadb_row row;

	return doveadm_mariadb_select_row(adm, SQL_DOMAIN_FIND, params, &row);
}

bool doveadm_mariadb_domain_value(const char *input, const char **domain_r)
{
	const char *error;

	if (!doveadm_mariadb_domain_parse(input, domain_r, &error)) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				     "Invalid domain: %s", error);
		return FALSE;
	}
	return TRUE;
}

bool doveadm_mariadb_domain_arg(struct doveadm_cmd_context *cctx,
				bool optional, const char **domain_r)
{
	const char *input;

	*domain_r = NULL;
	if (!optional)
		input = doveadm_mariadb_arg(cctx, "domain");
	else if (!doveadm_cmd_param_str(cctx, "domain", &input))
		return TRUE;
	return doveadm_mariadb_domain_value(input, domain_r);
}

/* The domain's row (its users and aliases counted): 1, 0 if there is no
   such domain, -1 on failure. */
static int
doveadm_mariadb_domain_find(struct doveadm_mariadb *adm, const char *domain,
			    struct db_mariadb_row *row_r)
{
	const char *params[] = { domain, NULL };

	return doveadm_mariadb_select_row(adm, SQL_DOMAIN_LIST_ONE_LOCKED,
					  params, row_r);
}

static void cmd_mariadb_domain_add(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	const char *domain, *params[2] = { NULL, NULL };
	int ret;

	if (!doveadm_mariadb_domain_arg(cctx, FALSE, &domain) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	params[0] = domain;
	if (doveadm_mariadb_begin(adm) &&
	    (ret = doveadm_mariadb_domain_exists(adm, domain)) >= 0) {
		if (ret > 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
				"Domain %s exists already", domain);
		} else {
			(void)doveadm_mariadb_exec_commit(adm,
				SQL_DOMAIN_INSERT, params);
		}
	}
	doveadm_mariadb_deinit(&adm);
}

static void cmd_mariadb_domain_remove(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	struct db_mariadb_row row;
	const char *domain, *users, *aliases, *params[2] = { NULL, NULL };
	int ret;

	if (!doveadm_mariadb_domain_arg(cctx, FALSE, &domain) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	params[0] = domain;
	if (!doveadm_mariadb_begin(adm) ||
	    (ret = doveadm_mariadb_domain_find(adm, domain, &row)) < 0) {
		doveadm_mariadb_deinit(&adm);
		return;
	}
	users = ret == 0 ? "0" : doveadm_mariadb_row_value(&row, "users");
	aliases = ret == 0 ? "0" : doveadm_mariadb_row_value(&row, "aliases");
	if (ret == 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
				     "Unknown domain %s", domain);
	} else if (strcmp(users, "0") != 0 || strcmp(aliases, "0") != 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
			"Domain %s still has %s users and %s aliases: remove "
			"them first", domain, users, aliases);
	} else {
		(void)doveadm_mariadb_exec_commit(adm, SQL_DOMAIN_DELETE, params);
	}
	doveadm_mariadb_deinit(&adm);
}

static void cmd_mariadb_domain_list(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	ARRAY_TYPE(db_mariadb_row) rows;
	const struct db_mariadb_row *row;
	const char *domain, *params[2] = { NULL, NULL };
	bool ok;

	if (!doveadm_mariadb_domain_arg(cctx, TRUE, &domain) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	params[0] = domain;
	ok = doveadm_mariadb_select(adm, domain == NULL ? SQL_DOMAIN_LIST_ALL :
				    SQL_DOMAIN_LIST_ONE, params, &rows);
	if (ok && domain != NULL && array_count(&rows) == 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
				     "Unknown domain %s", domain);
		ok = FALSE;
	}
	if (ok) {
		doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
		doveadm_print_header_simple("domain");
		doveadm_print_header("users", "users",
				     DOVEADM_PRINT_HEADER_FLAG_NUMBER);
		doveadm_print_header("aliases", "aliases",
				     DOVEADM_PRINT_HEADER_FLAG_NUMBER);
		array_foreach(&rows, row) {
			/* cppcheck can't see into Dovecot's array macros */
			/* cppcheck-suppress uninitvar */
			doveadm_print(doveadm_mariadb_row_value(row, "domain"));
			doveadm_print(doveadm_mariadb_row_value(row, "users"));
			doveadm_print(doveadm_mariadb_row_value(row, "aliases"));
		}
	}
	doveadm_mariadb_deinit(&adm);
}

struct doveadm_cmd_ver2 doveadm_mariadb_cmd_domain_add =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_domain_add, "domain add",
			     "<domain>", "domain");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_domain_remove =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_domain_remove, "domain remove",
			     "<domain>", "domain");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_domain_list =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_domain_list, "domain list",
			     "[<domain>]", "domain");
