/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-cmd-user - doveadm mariadb user add|passwd|lock|unlock|
   remove|list

   New passwords are read by doveadm-mariadb-password.c and stored as
   bcrypt hashes. lock puts a '!' in front of the stored hash, as
   usermod -L does: the module refuses such an account like a wrong
   password, and unlock takes the '!' away again, so the old password works
   again. passwd keeps a locked account locked. A hash is only ever
   replaced if it is still the one that was read (compare and swap), so a
   change made meanwhile, by another admin or by the module's rehashing, is
   never overwritten. Removing a user removes the aliases that point to it
   (the schema's ON DELETE CASCADE); the command names them. */

#include "lib.h"
#include "str.h"
#include "doveadm.h"
#include "doveadm-print.h"
#include "doveadm-mariadb-values.h"
#include "doveadm-mariadb.h"

#define SQL_USER_FIND \
	"SELECT CONCAT(local, '@', domain) AS address, password_hash " \
	"FROM users WHERE domain = ? AND local = ? LOCK IN SHARE MODE"
#define SQL_USER_INSERT \
	"INSERT INTO users (local, domain, password_hash, display_name) " \
	"VALUES (?, ?, ?, ?)"
#define SQL_USER_SET_HASH \
	"UPDATE users SET password_hash = ? " \
	"WHERE domain = ? AND local = ? AND password_hash = ?"
#define SQL_USER_DELETE "DELETE FROM users WHERE domain = ? AND local = ?"
#define SQL_USER_ALIASES \
	"SELECT CONCAT(source_local, '@', source_domain) AS source " \
	"FROM aliases WHERE destination_domain = ? AND destination_local = ? " \
	"ORDER BY source_domain, source_local"
#define SQL_USER_LIST \
	"SELECT CONCAT(local, '@', domain) AS address, display_name, " \
	"password_hash FROM users"
#define SQL_USER_LIST_ALL SQL_USER_LIST " ORDER BY domain, local"
#define SQL_USER_LIST_DOMAIN \
	SQL_USER_LIST " WHERE domain = ? ORDER BY local"

int doveadm_mariadb_user_find(struct doveadm_mariadb *adm,
			      const struct db_mariadb_user *user,
			      const char **address_r, const char **hash_r)
{
	const char *params[] = { user->domain, user->local, NULL };
	struct db_mariadb_row row;
	int ret;

	ret = doveadm_mariadb_select_row(adm, SQL_USER_FIND, params, &row);
	if (ret > 0) {
		*address_r = doveadm_mariadb_row_value(&row, "address");
		*hash_r = doveadm_mariadb_row_value(&row, "password_hash");
	}
	return ret;
}

/* The user's stored hash: 1, or 0/-1 after doveadm_mariadb_fail(). */
static int
doveadm_mariadb_user_get(struct doveadm_mariadb *adm,
			 const struct db_mariadb_user *user,
			 const char **hash_r)
{
	const char *address;
	int ret;

	ret = doveadm_mariadb_user_find(adm, user, &address, hash_r);
	if (ret == 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOUSER,
				     "Unknown user %s", user->address);
	}
	return ret;
}

/* The USER argument, validated. */
static bool
doveadm_mariadb_user_arg(struct doveadm_cmd_context *cctx,
			 struct db_mariadb_user *user_r)
{
	const char *error;

	if (!doveadm_mariadb_address_parse(doveadm_mariadb_arg(cctx, "user"),
					   user_r, &error)) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				     "Invalid user: %s", error);
		return FALSE;
	}
	return TRUE;
}

/* Replace the stored hash old_hash with new_hash. */
static bool
doveadm_mariadb_user_set_hash(struct doveadm_mariadb *adm,
			      const struct db_mariadb_user *user,
			      const char *old_hash, const char *new_hash)
{
	const char *params[] = {
		new_hash, user->domain, user->local, old_hash, NULL
	};
	uint64_t changed;

	if (strlen(new_hash) > DOVEADM_MARIADB_HASH_MAX_CHARS) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
			"The stored password of %s is too long to be locked "
			"(%u characters at most)", user->address,
			DOVEADM_MARIADB_HASH_MAX_CHARS);
		return FALSE;
	}
	if (!doveadm_mariadb_exec(adm, SQL_USER_SET_HASH, params, &changed))
		return FALSE;
	if (changed != 1) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_TEMPFAIL,
			"The password of %s changed meanwhile: nothing "
			"changed, try again", user->address);
		return FALSE;
	}
	return doveadm_mariadb_commit(adm);
}

/* Can user be added: its domain exists and it doesn't? */
static bool
doveadm_mariadb_user_add_check(struct doveadm_mariadb *adm,
			       const struct db_mariadb_user *user)
{
	const char *address, *hash;
	int ret;

	ret = doveadm_mariadb_domain_exists(adm, user->domain);
	if (ret == 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
			"Unknown domain %s (doveadm mariadb domain add %s)",
			user->domain, user->domain);
	}
	if (ret <= 0)
		return FALSE;
	ret = doveadm_mariadb_user_find(adm, user, &address, &hash);
	if (ret > 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
				     "User %s exists already", address);
	}
	return ret == 0;
}

static void cmd_mariadb_user_add(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	struct db_mariadb_user user;
	const char *name = "", *hash, *error, *params[5];

	if (!doveadm_mariadb_user_arg(cctx, &user))
		return;
	if (doveadm_cmd_param_str(cctx, "display-name", &name) &&
	    !doveadm_mariadb_display_name_check(name, &error)) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				     "Invalid display name: %s", error);
		return;
	}
	if ((adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	/* before the password is asked for, and again in the transaction,
	   where the domain's row stays locked until the user is in */
	if (doveadm_mariadb_user_add_check(adm, &user) &&
	    (hash = doveadm_mariadb_new_password_hash(adm)) != NULL &&
	    doveadm_mariadb_begin(adm) &&
	    doveadm_mariadb_user_add_check(adm, &user)) {
		params[0] = user.local;
		params[1] = user.domain;
		params[2] = hash;
		params[3] = name;
		params[4] = NULL;
		(void)doveadm_mariadb_exec_commit(adm, SQL_USER_INSERT, params);
	}
	doveadm_mariadb_deinit(&adm);
}

static void cmd_mariadb_user_passwd(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	struct db_mariadb_user user;
	const char *old_hash, *new_hash;

	if (!doveadm_mariadb_user_arg(cctx, &user) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	if (doveadm_mariadb_user_get(adm, &user, &old_hash) > 0 &&
	    (new_hash = doveadm_mariadb_new_password_hash(adm)) != NULL &&
	    doveadm_mariadb_begin(adm) &&
	    doveadm_mariadb_user_get(adm, &user, &old_hash) > 0) {
		if (doveadm_mariadb_hash_is_locked(old_hash)) {
			new_hash = t_strdup_printf("%c%s",
				DOVEADM_MARIADB_LOCK_PREFIX, new_hash);
		}
		if (doveadm_mariadb_user_set_hash(adm, &user, old_hash,
						  new_hash) &&
		    doveadm_mariadb_hash_is_locked(old_hash)) {
			i_info("%s stays locked: doveadm mariadb user unlock "
			       "%s lets it log in with the new password",
			       user.address, user.address);
		}
	}
	doveadm_mariadb_deinit(&adm);
}

static void
doveadm_mariadb_user_lock(struct doveadm_cmd_context *cctx, bool lock)
{
	struct doveadm_mariadb *adm;
	struct db_mariadb_user user;
	const char *hash;

	if (!doveadm_mariadb_user_arg(cctx, &user) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	if (doveadm_mariadb_begin(adm) &&
	    doveadm_mariadb_user_get(adm, &user, &hash) > 0) {
		if (doveadm_mariadb_hash_is_locked(hash) == lock) {
			/* as usermod -L and -U: nothing to do */
			i_info("%s is %s", user.address,
			       lock ? "locked already" : "not locked");
		} else if (lock) {
			(void)doveadm_mariadb_user_set_hash(adm, &user, hash,
				t_strdup_printf("%c%s",
					DOVEADM_MARIADB_LOCK_PREFIX, hash));
		} else if (hash[1] == '\0') {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTPOSSIBLE,
				"Unlocking %s would leave it without a "
				"password: set one with doveadm mariadb user "
				"passwd", user.address);
		} else {
			(void)doveadm_mariadb_user_set_hash(adm, &user, hash,
							    hash + 1);
		}
	}
	doveadm_mariadb_deinit(&adm);
}

static void cmd_mariadb_user_lock(struct doveadm_cmd_context *cctx)
{
	doveadm_mariadb_user_lock(cctx, TRUE);
}

static void cmd_mariadb_user_unlock(struct doveadm_cmd_context *cctx)
{
	doveadm_mariadb_user_lock(cctx, FALSE);
}

static void cmd_mariadb_user_remove(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	struct db_mariadb_user user;
	ARRAY_TYPE(db_mariadb_row) aliases;
	const struct db_mariadb_row *row;
	const char *hash, *params[3];
	string_t *names;

	if (!doveadm_mariadb_user_arg(cctx, &user) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	params[0] = user.domain;
	params[1] = user.local;
	params[2] = NULL;
	if (doveadm_mariadb_begin(adm) &&
	    doveadm_mariadb_user_get(adm, &user, &hash) > 0 &&
	    doveadm_mariadb_select(adm, SQL_USER_ALIASES, params, &aliases) &&
	    doveadm_mariadb_exec_commit(adm, SQL_USER_DELETE, params) &&
	    array_count(&aliases) > 0) {
		names = t_str_new(128);
		array_foreach(&aliases, row) {
			if (str_len(names) > 0)
				str_append(names, ", ");
			str_append(names, doveadm_mariadb_row_value(row, "source"));
		}
		i_info("The aliases that pointed to %s are gone with it: %s",
		       user.address, str_c(names));
	}
	doveadm_mariadb_deinit(&adm);
}

static void cmd_mariadb_user_list(struct doveadm_cmd_context *cctx)
{
	struct doveadm_mariadb *adm;
	ARRAY_TYPE(db_mariadb_row) rows;
	const struct db_mariadb_row *row;
	const char *domain, *hash, *params[2] = { NULL, NULL };
	int ret = 1;

	if (!doveadm_mariadb_domain_arg(cctx, TRUE, &domain) ||
	    (adm = doveadm_mariadb_init(cctx)) == NULL)
		return;
	if (domain != NULL &&
	    (ret = doveadm_mariadb_domain_exists(adm, domain)) == 0) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_NOTFOUND,
				     "Unknown domain %s", domain);
	}
	params[0] = domain;
	if (ret > 0 &&
	    doveadm_mariadb_select(adm, domain == NULL ? SQL_USER_LIST_ALL :
				   SQL_USER_LIST_DOMAIN, params, &rows)) {
		doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
		doveadm_print_header_simple("address");
		doveadm_print_header_simple("display_name");
		doveadm_print_header_simple("scheme");
		doveadm_print_header_simple("locked");
		array_foreach(&rows, row) {
			hash = doveadm_mariadb_row_value(row, "password_hash");
			doveadm_print(doveadm_mariadb_row_value(row, "address"));
			doveadm_print(doveadm_mariadb_row_value(row,
								"display_name"));
			doveadm_print(doveadm_mariadb_hash_scheme(hash));
			doveadm_print(doveadm_mariadb_hash_is_locked(hash) ?
				      "yes" : "no");
		}
	}
	doveadm_mariadb_deinit(&adm);
}

struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_add = {
	.cmd = cmd_mariadb_user_add,
	.name = "mariadb user add",
	.usage = "[-n <display name>] <user>",
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_PARAM('n', "display-name", CMD_PARAM_STR, 0)
DOVEADM_CMD_PARAM('\0', "user", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAMS_END
};

struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_passwd =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_user_passwd, "user passwd",
			     "<user>", "user");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_lock =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_user_lock, "user lock",
			     "<user>", "user");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_unlock =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_user_unlock, "user unlock",
			     "<user>", "user");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_remove =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_user_remove, "user remove",
			     "<user>", "user");
struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_list =
	DOVEADM_MARIADB_CMD1(cmd_mariadb_user_list, "user list",
			     "[<domain>]", "domain");
