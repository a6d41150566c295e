/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-query - named placeholders for prepared statements

   Configured queries name the values they need (:local, :domain, :user;
   the rehash query also :new_hash and :old_hash).
   This parser turns them into '?' markers for mysql_stmt_prepare() and
   records which value goes where, so that a login name is only ever bound
   as a parameter and never becomes part of the SQL text. It understands
   MariaDB's lexical structure far enough to leave quoted strings ('...',
   "...", `...`, with backslash escapes and doubled quotes) and comments
   (-- , #, slash-star) alone. A bare '?' is refused: it would take a
   parameter the module does not bind. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "db-mariadb-query.h"

static const char *const db_mariadb_param_names[] = {
	[DB_MARIADB_PARAM_LOCAL] = "local",
	[DB_MARIADB_PARAM_DOMAIN] = "domain",
	[DB_MARIADB_PARAM_USER] = "user",
	[DB_MARIADB_PARAM_NEW_HASH] = "new_hash",
	[DB_MARIADB_PARAM_OLD_HASH] = "old_hash",
};

const char *db_mariadb_param_name(enum db_mariadb_param param)
{
	i_assert(param < N_ELEMENTS(db_mariadb_param_names));
	return db_mariadb_param_names[param];
}

bool db_mariadb_query_uses(const struct db_mariadb_query *query,
			   enum db_mariadb_param param)
{
	unsigned int i;

	for (i = 0; i < query->params_count; i++) {
		if (query->params[i] == param)
			return TRUE;
	}
	return FALSE;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Returns the position after the quoted string starting at p (which points
   to the opening quote), or NULL when it is not terminated. */
static const char *skip_quoted(const char *p)
{
	char quote = *p++;

	for (; *p != '\0'; p++) {
		if (*p == '\\' && quote != '`') {
			if (p[1] == '\0')
				return NULL;
			p++;
		} else if (*p == quote) {
			if (p[1] != quote)
				return p + 1;
			/* doubled quote stands for itself */
			p++;
		}
	}
	return NULL;
}

/* Returns the position after the comment starting at p, or p itself when
   p doesn't start a comment. *unterminated_r is set for an open slash-star
   comment, *executable_r for a slash-star-! one (not a comment to MariaDB). */
static const char *
skip_comment(const char *p, bool *unterminated_r, bool *executable_r)
{
	const char *end;

	*unterminated_r = FALSE;
	*executable_r = FALSE;
	if (*p == '#' ||
	    (p[0] == '-' && p[1] == '-' &&
	     (p[2] == '\0' || (unsigned char)p[2] <= ' '))) {
		end = strchr(p, '\n');
		return end == NULL ? p + strlen(p) : end + 1;
	}
	if (p[0] == '/' && p[1] == '*') {
		/* MariaDB runs what is in executable comments */
		if (p[2] == '!' || (p[2] == 'M' && p[3] == '!')) {
			*executable_r = TRUE;
			return p;
		}
		end = strstr(p + 2, "*/");
		if (end == NULL) {
			*unterminated_r = TRUE;
			return p + strlen(p);
		}
		return end + 2;
	}
	return p;
}

static bool
db_mariadb_query_param_lookup(const char *name, size_t len,
			      enum db_mariadb_param *param_r)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(db_mariadb_param_names); i++) {
		if (strlen(db_mariadb_param_names[i]) == len &&
		    strncasecmp(db_mariadb_param_names[i], name, len) == 0) {
			*param_r = (enum db_mariadb_param)i;
			return TRUE;
		}
	}
	return FALSE;
}

bool db_mariadb_query_parse(pool_t pool, const char *text,
			    struct db_mariadb_query **query_r,
			    const char **error_r)
{
	ARRAY(enum db_mariadb_param) params;
	struct db_mariadb_query *query;
	enum db_mariadb_param param;
	const char *p, *next, *name;
	string_t *sql;
	bool unterminated, executable;
	size_t len;

	*query_r = NULL;
	sql = t_str_new(strlen(text) + 1);
	t_array_init(&params, 4);
	for (p = text; *p != '\0'; ) {
		if (*p == '\'' || *p == '"' || *p == '`') {
			next = skip_quoted(p);
			if (next == NULL) {
				*error_r = "unterminated quoted string";
				return FALSE;
			}
			str_append_data(sql, p, next - p);
			p = next;
			continue;
		}
		next = skip_comment(p, &unterminated, &executable);
		if (unterminated) {
			*error_r = "unterminated comment";
			return FALSE;
		}
		if (executable) {
			*error_r = "executable comments (/*! */, /*M! */) "
				"are not allowed";
			return FALSE;
		}
		if (next != p) {
			/* comments are dropped, a space keeps tokens apart */
			str_append_c(sql, ' ');
			p = next;
			continue;
		}
		if (*p == '?') {
			*error_r = "'?' is not allowed: use the named "
				"placeholders :local, :domain or :user";
			return FALSE;
		}
		if (*p == ':' && is_ident_start(p[1])) {
			name = p + 1;
			for (len = 1; is_ident_char(name[len]); len++) ;
			if (!db_mariadb_query_param_lookup(name, len, &param)) {
				*error_r = t_strdup_printf(
					"unknown placeholder ':%s' (known: "
					":local, :domain, :user, :new_hash, "
					":old_hash)",
					t_strndup(name, I_MIN(len, 32)));
				return FALSE;
			}
			if (array_count(&params) == DB_MARIADB_QUERY_MAX_PARAMS) {
				*error_r = t_strdup_printf(
					"more than %u placeholders",
					DB_MARIADB_QUERY_MAX_PARAMS);
				return FALSE;
			}
			array_push_back(&params, &param);
			str_append_c(sql, '?');
			p = name + len;
			continue;
		}
		str_append_c(sql, *p);
		p++;
	}

	query = p_new(pool, struct db_mariadb_query, 1);
	query->name = "query";
	query->text = p_strdup(pool, text);
	query->sql = p_strdup(pool, str_c(sql));
	query->params_count = array_count(&params);
	query->params = query->params_count == 0 ? NULL :
		p_memdup(pool, array_front(&params),
			 sizeof(param) * query->params_count);
	*query_r = query;
	return TRUE;
}
