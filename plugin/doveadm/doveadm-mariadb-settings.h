#ifndef DOVEADM_MARIADB_SETTINGS_H
#define DOVEADM_MARIADB_SETTINGS_H

struct db_mariadb_settings;

/* Where the admin file is unless Dovecot's configuration names another
   (mariadb_admin_config). */
#define DOVEADM_MARIADB_DEFAULT_CONFIG \
	"/etc/dovecot/dovecot-mariadb-admin.conf.ext"
/* the database account of sql/03-grants.sql's admin block */
#define DOVEADM_MARIADB_DEFAULT_USER "mail_admin"
#define DOVEADM_MARIADB_DEFAULT_BCRYPT_COST 12

struct doveadm_mariadb_settings {
	/* the connection: the keys it shares with the module's file, the
	   others at their defaults */
	struct db_mariadb_settings *db;
	/* bcrypt cost of the hashes the commands make */
	unsigned int bcrypt_cost;
};

/* Parse the admin file's contents (the syntax of the module's settings
   file). Returns 0, or -1 with "path:line: reason" or "path: reason". */
int doveadm_mariadb_settings_parse(pool_t pool, const char *path,
				   const unsigned char *data, size_t size,
				   struct doveadm_mariadb_settings **set_r,
				   const char **error_r);
/* Read and parse the admin file. It holds the password of an account
   that can change every user: besides the checks of the module's file
   (owned by root, writable by nobody else), a file that every user can
   read is refused. Returns 0, or -1 with the reason in error_r. */
int doveadm_mariadb_settings_read(pool_t pool, const char *path,
				  struct doveadm_mariadb_settings **set_r,
				  const char **error_r);

#endif
