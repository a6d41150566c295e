/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-config - where the admin file is, on Dovecot 2.3

     plugin {
       mariadb_admin_config = /etc/dovecot/dovecot-mariadb-admin.conf.ext
     }

   The setting names the file only: Dovecot passes plugin { } to every mail
   process, the file's password is for doveadm alone. */

#include "lib.h"
#include "doveadm.h"
#include "doveadm-mariadb-settings.h"
#include "doveadm-mariadb.h"

const char *
doveadm_mariadb_config_path(struct doveadm_cmd_context *cctx ATTR_UNUSED,
			    const char **error_r ATTR_UNUSED)
{
	const char *path = doveadm_plugin_getenv("mariadb_admin_config");

	return path != NULL && path[0] != '\0' ? path :
		DOVEADM_MARIADB_DEFAULT_CONFIG;
}
