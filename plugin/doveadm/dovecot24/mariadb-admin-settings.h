#ifndef MARIADB_ADMIN_SETTINGS_H
#define MARIADB_ADMIN_SETTINGS_H

/* Dovecot 2.4: where doveadm mariadb finds its admin file. Compiled into
   the doveadm plugin and into the settings module (so that doveconf knows
   the setting). */
struct mariadb_admin_settings {
	pool_t pool;
	/* mariadb_admin_config */
	const char *config;
};

extern const struct setting_parser_info mariadb_admin_setting_parser_info;

#endif
