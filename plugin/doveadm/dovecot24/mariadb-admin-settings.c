/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* mariadb-admin-settings - mariadb_admin_config, on Dovecot 2.4

     mariadb_admin_config = /etc/dovecot/dovecot-mariadb-admin.conf.ext

   The setting names the file only: Dovecot 2.4 hands its whole
   configuration to every one of its processes, the file's password is for
   doveadm alone. The path is taken as written (no %-variables). */

#include "lib.h"
#include "settings-parser.h"
#include "doveadm-mariadb-settings.h"
#include "mariadb-admin-settings.h"

#undef DEF
#define DEF(key, name) \
	SETTING_DEFINE_STRUCT_STR_NOVARS(key, name, \
		struct mariadb_admin_settings)
static const struct setting_define mariadb_admin_setting_defines[] = {
	DEF("mariadb_admin_config", config),

	SETTING_DEFINE_LIST_END
};

static const struct mariadb_admin_settings mariadb_admin_default_settings = {
	.config = DOVEADM_MARIADB_DEFAULT_CONFIG,
};

const struct setting_parser_info mariadb_admin_setting_parser_info = {
	.name = "mariadb_admin",

	.defines = mariadb_admin_setting_defines,
	.defaults = &mariadb_admin_default_settings,

	.struct_size = sizeof(struct mariadb_admin_settings),
	.pool_offset1 = 1 + offsetof(struct mariadb_admin_settings, pool),
};
