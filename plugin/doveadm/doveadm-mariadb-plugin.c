/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-plugin - the doveadm plugin's entry points

   doveadm loads every module in $moduledir/doveadm (lib90_doveadm_mariadb_
   plugin.so), checks doveadm_mariadb_plugin_version against its own ABI and
   calls doveadm_mariadb_plugin_init(), which registers the commands:

     doveadm mariadb domain add|remove <domain>
     doveadm mariadb domain list [<domain>]
     doveadm mariadb user add [-n <display name>] <user>
     doveadm mariadb user passwd|lock|unlock|remove <user>
     doveadm mariadb user list [<domain>]
     doveadm mariadb alias add <source> <destination>
     doveadm mariadb alias remove <source>
     doveadm mariadb alias list [<source>|<domain>]

   Nothing else is exported. */

#include "lib.h"
#include "module-dir.h"
#include "doveadm.h"
#include "doveadm-mariadb.h"

const char *doveadm_mariadb_plugin_version = DOVECOT_ABI_VERSION;

void doveadm_mariadb_plugin_init(struct module *module);
void doveadm_mariadb_plugin_deinit(void);

/* The connection code the plugin shares with the auth module
   (db-mariadb-conn.c) puts its event category below the auth process's
   "auth", which doveadm doesn't have: the plugin brings its own. */
extern struct event_category event_category_auth;
struct event_category event_category_auth = {
	.name = "auth",
};

static struct doveadm_cmd_ver2 *const doveadm_mariadb_commands[] = {
	&doveadm_mariadb_cmd_domain_add,
	&doveadm_mariadb_cmd_domain_remove,
	&doveadm_mariadb_cmd_domain_list,
	&doveadm_mariadb_cmd_user_add,
	&doveadm_mariadb_cmd_user_passwd,
	&doveadm_mariadb_cmd_user_lock,
	&doveadm_mariadb_cmd_user_unlock,
	&doveadm_mariadb_cmd_user_remove,
	&doveadm_mariadb_cmd_user_list,
	&doveadm_mariadb_cmd_alias_add,
	&doveadm_mariadb_cmd_alias_remove,
	&doveadm_mariadb_cmd_alias_list,
};

void doveadm_mariadb_plugin_init(struct module *module ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(doveadm_mariadb_commands); i++)
		doveadm_cmd_register_ver2(doveadm_mariadb_commands[i]);
}

void doveadm_mariadb_plugin_deinit(void)
{
}
