/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* passdb-mariadb - passdb { driver = mariadb }

   The passdb is blocking: Dovecot's auth master hands each request to an
   auth-worker process, where the lookup and the bcrypt check run. A login
   that is not a valid local@domain address is an unknown user without a
   query. The password query's columns become passdb fields as with passdb
   sql: "user" gives the canonical address, "password" the stored hash,
   every other column an extra field. A database failure is always an
   internal failure (the client is told to try again later), never an
   unknown user or a password mismatch. */

#include "auth-common.h"
#include "passdb.h"
#include "password-scheme.h"
#include "safe-memset.h"
#include "str-sanitize.h"
#include "authdb-mariadb.h"
#include "db-mariadb.h"
#include "db-mariadb-password.h"
#include "db-mariadb-user.h"

struct mariadb_passdb_module {
	struct passdb_module module;

	struct db_mariadb *db;
};

/* Look the user up and set the passdb fields. Returns OK with the stored
   password (scheme prefix included, NULL if the query returned none) in
   password_r, or the failure to report. */
static enum passdb_result
passdb_mariadb_lookup(struct auth_request *request, const char **password_r)
{
	struct mariadb_passdb_module *module =
		(struct mariadb_passdb_module *)request->passdb->passdb;
	const struct db_mariadb_settings *set = db_mariadb_get_settings(module->db);
	const struct db_mariadb_field *field;
	struct db_mariadb_user user;
	struct db_mariadb_row row;
	const char *error;
	unsigned int i;
	int ret;

	*password_r = NULL;
	if (!db_mariadb_user_parse(request->fields.user, &user, &error)) {
		e_debug(authdb_event(request), "Login name '%s' %s",
			str_sanitize(request->fields.user, 100), error);
		auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
		return PASSDB_RESULT_USER_UNKNOWN;
	}

	ret = db_mariadb_lookup(module->db, set->parsed_password_query, &user,
				request->pool, &row, &error);
	if (ret < 0) {
		e_error(authdb_event(request), "password_query failed: %s",
			error);
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	if (ret == 0) {
		auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
		return PASSDB_RESULT_USER_UNKNOWN;
	}
	if (db_mariadb_row_find(&row, "password") == NULL &&
	    db_mariadb_row_find(&row, "nopassword") == NULL) {
		e_error(authdb_event(request), "password_query must return "
			"a column named 'password' (or 'nopassword')");
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}

	for (i = 0; i < row.count; i++) {
		field = &row.fields[i];
		if (field->name[0] == '\0')
			;
		else if (field->value == NULL)
			auth_request_set_null_field(request, field->name);
		else {
			auth_request_set_field(request, field->name,
					       field->value,
					       DB_MARIADB_PASSWORD_SCHEME);
		}
	}
	if (request->passdb_password != NULL)
		*password_r = t_strdup(request->passdb_password);
	return PASSDB_RESULT_OK;
}

static void
passdb_mariadb_verify_plain(struct auth_request *request,
			    const char *password,
			    verify_plain_callback_t *callback)
{
	enum passdb_result result;
	const char *stored, *scheme, *error;
	int ret;

	result = passdb_mariadb_lookup(request, &stored);
	if (result != PASSDB_RESULT_OK) {
		callback(result, request);
		return;
	}

	/* what auth_request_password_verify() does before any scheme */
	if (request->fields.skip_password_check) {
		callback(PASSDB_RESULT_OK, request);
		return;
	}
	if (request->passdb->set->deny) {
		callback(PASSDB_RESULT_PASSWORD_MISMATCH, request);
		return;
	}
	if (auth_fields_exists(request->fields.extra_fields, "nopassword")) {
		e_debug(authdb_event(request), "Allowing any password");
		callback(PASSDB_RESULT_OK, request);
		return;
	}
	if (stored == NULL) {
		callback(auth_request_password_missing(request), request);
		return;
	}

	scheme = password_get_scheme(&stored);
	if (scheme != NULL && strcasecmp(scheme, DB_MARIADB_PASSWORD_SCHEME) != 0 &&
	    strcasecmp(scheme, "CRYPT") != 0) {
		e_error(authdb_event(request), "Stored password has scheme "
			"%s, this passdb verifies only bcrypt (BLF-CRYPT)",
			str_sanitize(scheme, 32));
		callback(PASSDB_RESULT_INTERNAL_FAILURE, request);
		return;
	}
	ret = db_mariadb_password_verify(password, stored, &error);
	if (ret < 0) {
		e_error(authdb_event(request), "Stored password is not "
			"usable: %s", error);
		result = PASSDB_RESULT_INTERNAL_FAILURE;
	} else if (ret == 0) {
		auth_request_log_password_mismatch(request, AUTH_SUBSYS_DB);
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
	} else {
		result = PASSDB_RESULT_OK;
	}
	callback(result, request);
}

static void
passdb_mariadb_lookup_credentials(struct auth_request *request,
				  lookup_credentials_callback_t *callback)
{
	enum passdb_result result;
	const char *password, *scheme = NULL;

	result = passdb_mariadb_lookup(request, &password);
	if (password != NULL) {
		scheme = password_get_scheme(&password);
		/* auth_request_set_field() always adds a scheme */
		i_assert(scheme != NULL);
	}
	/* converts to the wanted scheme if it can; bcrypt can't be, so
	   mechanisms other than PLAIN and LOGIN get SCHEME_NOT_AVAILABLE */
	passdb_handle_credentials(result, password, scheme, callback, request);
}

static struct passdb_module *
passdb_mariadb_preinit(pool_t pool, const char *args)
{
	struct mariadb_passdb_module *module;

	module = p_new(pool, struct mariadb_passdb_module, 1);
	module->db = db_mariadb_init(args);
	/* the queries depend on the login name only */
	module->module.default_cache_key = "%u";
	module->module.default_pass_scheme = DB_MARIADB_PASSWORD_SCHEME;
	module->module.blocking = TRUE;
	return &module->module;
}

static void passdb_mariadb_deinit(struct passdb_module *_module)
{
	struct mariadb_passdb_module *module =
		(struct mariadb_passdb_module *)_module;

	db_mariadb_unref(&module->db);
}

struct passdb_module_interface passdb_mariadb = {
	.name = "mariadb",

	.preinit = passdb_mariadb_preinit,
	.deinit = passdb_mariadb_deinit,

	.verify_plain = passdb_mariadb_verify_plain,
	.lookup_credentials = passdb_mariadb_lookup_credentials,
};
