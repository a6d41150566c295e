#ifndef AUTHDB_MARIADB_H
#define AUTHDB_MARIADB_H

extern struct passdb_module_interface passdb_mariadb;
extern struct userdb_module_interface userdb_mariadb;

/* The module's exports: Dovecot finds them by the file's name. */
extern const char *authdb_mariadb_version;
void authdb_mariadb_init(void);
void authdb_mariadb_deinit(void);

#endif
