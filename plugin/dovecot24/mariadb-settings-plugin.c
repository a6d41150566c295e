/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* mariadb-settings-plugin - the settings module

   libauthdb_mariadb_settings.so in Dovecot's settings module directory
   ($moduledir/settings): doveconf and the config process load every module
   there and take <name>_set_infos from it, so that they know the mariadb_*
   settings, show them (the password hidden) and refuse a misspelled key or
   a bad value. The auth process finds the same infos in the auth module,
   doveadm the admin commands' (mariadb_admin) in the doveadm plugin. */

#include "lib.h"
#include "settings-parser.h"
#include "mariadb-settings.h"
#include "mariadb-admin-settings.h"

/* checked against Dovecot's own ABI when the module is loaded */
const char *authdb_mariadb_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *authdb_mariadb_settings_set_infos[] = {
	&db_mariadb_setting_parser_info,
	&db_mariadb_fields_setting_parser_info,
	/* doveadm mariadb's mariadb_admin_config */
	&mariadb_admin_setting_parser_info,
	NULL
};
