/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* doveadm-mariadb-password - a new password, and its hash

   A password never comes from the command line (every local user can read
   a process's arguments). On a terminal it is asked twice with echo off,
   as passwd(1) does; otherwise it is the first line of standard input
   (echo "$PW" | doveadm mariadb user passwd ...). It is checked
   (doveadm-mariadb-values.c: not empty, at most the 72 octets bcrypt
   uses) and hashed with the module's own bcrypt code
   (db-mariadb-password.c) at the admin file's bcrypt_cost.

   Dovecot's askpass() is not used: it panics when the input is longer
   than its buffer, and t_askpass() leaves copies of the password on the
   data stack. Here the password lives in one buffer that is wiped. */

#include "lib.h"
#include "safe-memset.h"
#include "doveadm.h"
#include "db-mariadb-password.h"
#include "doveadm-mariadb-settings.h"
#include "doveadm-mariadb-values.h"
#include "doveadm-mariadb.h"

#include <stdio.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

/* longer input is refused (bcrypt uses 72 octets of it anyway) */
#define DOVEADM_MARIADB_PASSWORD_BUF_SIZE 1024

enum doveadm_mariadb_line_result {
	DOVEADM_MARIADB_LINE_OK,
	DOVEADM_MARIADB_LINE_TOO_LONG,
	DOVEADM_MARIADB_LINE_ERROR,
};

/* Read one line from fd into buf without its line end (\n, \r\n or \r);
   the rest of a line that doesn't fit is read and dropped. */
static enum doveadm_mariadb_line_result
doveadm_mariadb_read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	bool too_long = FALSE;
	ssize_t ret;
	char c;

	while ((ret = read(fd, &c, 1)) > 0) {
		if (c == '\n' || c == '\r')
			break;
		if (len + 1 < size)
			buf[len++] = c;
		else
			too_long = TRUE;
	}
	buf[len] = '\0';
	c = '\0';
	if (ret < 0)
		return DOVEADM_MARIADB_LINE_ERROR;
	return too_long ? DOVEADM_MARIADB_LINE_TOO_LONG :
		DOVEADM_MARIADB_LINE_OK;
}

/* Ask on the terminal with echo off. */
static enum doveadm_mariadb_line_result
doveadm_mariadb_read_tty(const char *prompt, char *buf, size_t size)
{
	struct termios old_tio, tio;
	enum doveadm_mariadb_line_result ret;
	bool restore;
	int fd;

	fd = open("/dev/tty", O_RDONLY);
	if (fd == -1) {
		i_error("open(/dev/tty) failed: %m");
		return DOVEADM_MARIADB_LINE_ERROR;
	}
	restore = tcgetattr(fd, &old_tio) == 0;
	if (restore) {
		tio = old_tio;
		tio.c_lflag &= ~(ECHO | ECHONL);
		(void)tcsetattr(fd, TCSAFLUSH, &tio);
	}
	fputs(prompt, stderr);
	fflush(stderr);
	ret = doveadm_mariadb_read_line(fd, buf, size);
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old_tio);
	fputs("\n", stderr);
	fflush(stderr);
	i_close_fd(&fd);
	return ret;
}

/* Read the password into buf (size octets) and check it. */
static bool doveadm_mariadb_password_read(char *buf, char *repeat, size_t size)
{
	enum doveadm_mariadb_line_result ret;
	const char *error;

	if (isatty(STDIN_FILENO) == 0)
		ret = doveadm_mariadb_read_line(STDIN_FILENO, buf, size);
	else {
		ret = doveadm_mariadb_read_tty("New password: ", buf, size);
		if (ret == DOVEADM_MARIADB_LINE_OK) {
			ret = doveadm_mariadb_read_tty("Repeat the new password: ",
						       repeat, size);
		}
		if (ret == DOVEADM_MARIADB_LINE_OK &&
		    !str_equals_timing_almost_safe(buf, repeat)) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				"The two passwords differ: nothing changed");
			return FALSE;
		}
	}
	switch (ret) {
	case DOVEADM_MARIADB_LINE_OK:
		break;
	case DOVEADM_MARIADB_LINE_TOO_LONG:
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
			"The password is longer than %u octets, but bcrypt "
			"uses only its first %u. Choose one of at most %u "
			"octets: nothing changed",
			(unsigned int)size - 1, DB_MARIADB_BCRYPT_PASSWORD_MAX,
			DB_MARIADB_BCRYPT_PASSWORD_MAX);
		return FALSE;
	case DOVEADM_MARIADB_LINE_ERROR:
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				     "Reading the password failed: %m");
		return FALSE;
	}
	if (!doveadm_mariadb_password_check(buf, &error)) {
		doveadm_mariadb_fail(DOVEADM_MARIADB_EX_USAGE,
				     "%s: nothing changed", error);
		return FALSE;
	}
	return TRUE;
}

const char *doveadm_mariadb_new_password_hash(struct doveadm_mariadb *adm)
{
	char *buf, *repeat;
	const char *hash = NULL, *error;

	buf = i_malloc(DOVEADM_MARIADB_PASSWORD_BUF_SIZE);
	repeat = i_malloc(DOVEADM_MARIADB_PASSWORD_BUF_SIZE);
	if (doveadm_mariadb_password_read(buf, repeat,
					  DOVEADM_MARIADB_PASSWORD_BUF_SIZE)) {
		if (db_mariadb_password_generate(buf, adm->set->bcrypt_cost,
						 &hash, &error) < 0) {
			doveadm_mariadb_fail(DOVEADM_MARIADB_EX_TEMPFAIL,
					     "%s", error);
			hash = NULL;
		}
	}
	safe_memset(buf, 0, DOVEADM_MARIADB_PASSWORD_BUF_SIZE);
	safe_memset(repeat, 0, DOVEADM_MARIADB_PASSWORD_BUF_SIZE);
	i_free(buf);
	i_free(repeat);
	return hash;
}
