#ifndef DOVEADM_MARIADB_H
#define DOVEADM_MARIADB_H

#include "doveadm-mariadb-db.h"

struct doveadm_cmd_context;
struct doveadm_cmd_ver2;
struct db_mariadb_user;

/* One run of a command: its settings and its connection. */
struct doveadm_mariadb {
	struct doveadm_cmd_context *cctx;
	pool_t pool;
	struct doveadm_mariadb_settings *set;
	struct doveadm_mariadb_db *db;
};

/* Exit codes, as doveadm's mail commands use them. */
/* bad usage or a value the schema would refuse */
#define DOVEADM_MARIADB_EX_USAGE EX_USAGE
/* no such user */
#define DOVEADM_MARIADB_EX_NOUSER EX_NOUSER
/* no such domain or alias */
#define DOVEADM_MARIADB_EX_NOTFOUND DOVEADM_EX_NOTFOUND
/* exists already, still in use, a loop */
#define DOVEADM_MARIADB_EX_NOTPOSSIBLE DOVEADM_EX_NOTPOSSIBLE
/* the database failed */
#define DOVEADM_MARIADB_EX_TEMPFAIL EX_TEMPFAIL
/* the admin file is missing or wrong */
#define DOVEADM_MARIADB_EX_CONFIG EX_CONFIG

/* Log the error and set doveadm's exit code (the first failure's; a
   temporary failure's wins over the others, as in doveadm's mail
   commands). */
void doveadm_mariadb_fail(int exit_code, const char *format, ...)
	ATTR_FORMAT(2, 3);

/* The positional argument name, or the command's usage (which exits with
   EX_USAGE) if it is missing. */
const char *doveadm_mariadb_arg(struct doveadm_cmd_context *cctx,
				const char *name);

/* Read the admin file and connect. Returns the run, or NULL after
   doveadm_mariadb_fail(). */
struct doveadm_mariadb *doveadm_mariadb_init(struct doveadm_cmd_context *cctx);
/* Roll back what was not committed, disconnect, free. */
void doveadm_mariadb_deinit(struct doveadm_mariadb **adm);

/* Each returns TRUE, or FALSE after doveadm_mariadb_fail() with the exit
   code the database's error means. */
bool doveadm_mariadb_begin(struct doveadm_mariadb *adm);
bool doveadm_mariadb_commit(struct doveadm_mariadb *adm);
bool doveadm_mariadb_exec(struct doveadm_mariadb *adm, const char *sql,
			  const char *const *params, uint64_t *changed_r);
/* The command's last write, and the commit of its transaction. */
bool doveadm_mariadb_exec_commit(struct doveadm_mariadb *adm, const char *sql,
				 const char *const *params);
bool doveadm_mariadb_select(struct doveadm_mariadb *adm, const char *sql,
			    const char *const *params,
			    ARRAY_TYPE(db_mariadb_row) *rows_r);
/* A query that finds at most one row: 1 with it, 0 if it found none,
   -1 after doveadm_mariadb_fail(). */
int doveadm_mariadb_select_row(struct doveadm_mariadb *adm, const char *sql,
			       const char *const *params,
			       struct db_mariadb_row *row_r);
/* The value of a column of a row the commands' own query returned. */
const char *doveadm_mariadb_row_value(const struct db_mariadb_row *row,
				      const char *name);

/* A domain given as input, validated: TRUE, or FALSE after
   doveadm_mariadb_fail(). */
bool doveadm_mariadb_domain_value(const char *input, const char **domain_r);
/* The DOMAIN argument, validated, or NULL if it is optional and missing:
   TRUE, or FALSE after doveadm_mariadb_fail(). */
bool doveadm_mariadb_domain_arg(struct doveadm_cmd_context *cctx,
				bool optional, const char **domain_r);

/* Lookups that several commands need: 1 if found, 0 if not, -1 after
   doveadm_mariadb_fail(). In a transaction the row stays locked (shared)
   until it ends, so that no other admin removes it meanwhile. */
int doveadm_mariadb_domain_exists(struct doveadm_mariadb *adm,
				  const char *domain);
/* The user's address as stored, and its stored password. */
int doveadm_mariadb_user_find(struct doveadm_mariadb *adm,
			      const struct db_mariadb_user *user,
			      const char **address_r, const char **hash_r);

/* Version glue: the admin file Dovecot's configuration names, or NULL
   with the reason in error_r. */
const char *doveadm_mariadb_config_path(struct doveadm_cmd_context *cctx,
					const char **error_r);

/* Read a new password (from the terminal twice, else one line of standard
   input), check it and hash it with bcrypt at the configured cost.
   Returns the hash, or NULL after doveadm_mariadb_fail(). */
const char *doveadm_mariadb_new_password_hash(struct doveadm_mariadb *adm);

/* The definition of a command whose arguments are one or two positional
   strings. */
#define DOVEADM_MARIADB_PARAM(name) \
	DOVEADM_CMD_PARAM('\0', name, CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
#define DOVEADM_MARIADB_CMD1(func, cmd_name, cmd_usage, param) { \
	.cmd = func, \
	.name = "mariadb " cmd_name, \
	.usage = cmd_usage, \
	DOVEADM_CMD_PARAMS_START \
	DOVEADM_MARIADB_PARAM(param) \
	DOVEADM_CMD_PARAMS_END \
}
#define DOVEADM_MARIADB_CMD2(func, cmd_name, cmd_usage, param1, param2) { \
	.cmd = func, \
	.name = "mariadb " cmd_name, \
	.usage = cmd_usage, \
	DOVEADM_CMD_PARAMS_START \
	DOVEADM_MARIADB_PARAM(param1) \
	DOVEADM_MARIADB_PARAM(param2) \
	DOVEADM_CMD_PARAMS_END \
}

extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_domain_add;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_domain_remove;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_domain_list;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_add;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_passwd;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_lock;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_unlock;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_remove;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_user_list;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_alias_add;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_alias_remove;
extern struct doveadm_cmd_ver2 doveadm_mariadb_cmd_alias_list;

#endif
