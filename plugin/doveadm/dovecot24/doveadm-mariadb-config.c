/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-config - where the admin file is, on Dovecot 2.4: the
   setting mariadb_admin_config (mariadb-admin-settings.c). */

#include "lib.h"
#include "settings.h"
#include "doveadm.h"
#include "doveadm-mariadb.h"
#include "mariadb-admin-settings.h"

const char *
doveadm_mariadb_config_path(struct doveadm_cmd_context *cctx,
			    const char **error_r)
{
	const struct mariadb_admin_settings *set;
	const char *path;

	if (settings_get(cctx->set_event, &mariadb_admin_setting_parser_info,
			 0, &set, error_r) < 0)
		return NULL;
	path = t_strdup(set->config);
	settings_free(set);
	return path;
}
