/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* userdb-mariadb - userdb { driver = mariadb }

   Looks a user up for IMAP, LMTP and doveadm. The user query's columns
   become userdb fields ("user" gives the canonical address); the templates
   home, mail, uid and gid from the configuration file fill in what the
   query did not return, with %-variables expanded for the canonical user.
   Lookups run in the auth master without blocking (blocking = no) or in
   auth-workers (blocking = yes), like the passdb's, and come back through
   the same callback either way. Iteration (doveadm user '*', doveadm -A)
   always runs in an auth-worker, whatever the userdb's blocking flag
   (Dovecot's master sends LIST to a worker), and streams the iterate
   query over a connection of its own. */

#include "auth-common.h"
#include "userdb.h"
#include "str-sanitize.h"
#include "authdb-compat.h"
#include "userdb-mariadb.h"
#include "db-mariadb.h"
#include "db-mariadb-blocking.h"
#include "db-mariadb-user.h"

struct mariadb_userdb_module {
	struct userdb_module module;

	struct db_mariadb *db;
	const struct db_mariadb_query *query, *iterate_query;
};

struct mariadb_userdb_iterate_context {
	struct userdb_iterate_context ctx;
	struct db_mariadb_iter *iter;
};

struct userdb_mariadb_request {
	struct auth_request *auth_request;
	userdb_callback_t *callback;
};

static struct mariadb_userdb_module *
userdb_mariadb_module(struct auth_request *request)
{
	return (struct mariadb_userdb_module *)request->userdb->userdb;
}

static int
userdb_mariadb_set_template(struct auth_request *request, const char *name,
			    const char *template)
{
	const char *value, *error;

	if (template[0] == '\0' ||
	    auth_fields_exists(request->fields.userdb_reply, name))
		return 0;
	if (!AUTHDB_VAR_EXPAND_OK(t_auth_request_var_expand(
			template, request, NULL, &value, &error))) {
		e_error(authdb_event(request),
			"Failed to expand %s=%s: %s", name, template, error);
		return -1;
	}
	auth_request_set_userdb_field(request, name, value);
	return 0;
}

/* Turn a lookup's outcome into userdb fields and a result. */
static enum userdb_result
userdb_mariadb_handle_row(struct auth_request *request, int ret,
			  const struct db_mariadb_row *row, const char *error)
{
	const struct db_mariadb_settings *set =
		db_mariadb_get_settings(userdb_mariadb_module(request)->db);
	const struct db_mariadb_field *field;
	struct auth_fields *fields;
	bool import_all;
	unsigned int i;

	if (ret < 0) {
		e_error(authdb_event(request), "user_query failed: %s", error);
		return USERDB_RESULT_INTERNAL_FAILURE;
	}
	if (ret == 0) {
		authdb_log_unknown_user(request);
		return USERDB_RESULT_USER_UNKNOWN;
	}

	authdb_userdb_reply_init(request);
	fields = authdb_row_fields_init(request);
	import_all = authdb_userdb_import_all(request);
	for (i = 0; i < row->count; i++) {
		field = &row->fields[i];
		if (field->name[0] == '\0' || field->value == NULL)
			continue;
		authdb_row_fields_add(fields, field->name, field->value);
		if (import_all) {
			auth_request_set_userdb_field(request, field->name,
						      field->value);
		}
	}
	/* fields { } of the userdb (Dovecot 2.4), with %{mariadb:column} */
	if (authdb_userdb_fields_apply(request, fields) < 0)
		return USERDB_RESULT_INTERNAL_FAILURE;
	/* the settings file's templates (Dovecot 2.3) expand %u, %n and %d
	   for the canonical user */
	if (userdb_mariadb_set_template(request, "home", set->home) < 0 ||
	    userdb_mariadb_set_template(request, "mail", set->mail) < 0 ||
	    userdb_mariadb_set_template(request, "uid", set->uid) < 0 ||
	    userdb_mariadb_set_template(request, "gid", set->gid) < 0)
		return USERDB_RESULT_INTERNAL_FAILURE;
	return USERDB_RESULT_OK;
}

/* The one result path of both modes. */
static void
userdb_mariadb_lookup_callback(int ret, const struct db_mariadb_row *row,
			       const char *error,
			       struct userdb_mariadb_request *ureq)
{
	struct auth_request *request = ureq->auth_request;

	ureq->callback(userdb_mariadb_handle_row(request, ret, row, error),
		       request);
	auth_request_unref(&request);
}

void userdb_mariadb_lookup(struct auth_request *request,
			   userdb_callback_t *callback)
{
	struct mariadb_userdb_module *module = userdb_mariadb_module(request);
	struct userdb_mariadb_request *ureq;
	struct db_mariadb_user user;
	const char *error;

	ureq = p_new(request->pool, struct userdb_mariadb_request, 1);
	ureq->auth_request = request;
	ureq->callback = callback;
	auth_request_ref(request);
	if (!db_mariadb_user_parse(request->fields.user, &user, &error)) {
		/* then handled as a lookup that found no row */
		e_debug(authdb_event(request), "User name '%s' %s",
			str_sanitize(request->fields.user, 100), error);
		userdb_mariadb_lookup_callback(0, &db_mariadb_no_row, NULL,
					       ureq);
		return;
	}
	db_mariadb_lookup(module->db, module->query, &user,
			  authdb_event(request), request->pool,
			  userdb_mariadb_lookup_callback, ureq);
}

struct userdb_iterate_context *
userdb_mariadb_iterate_init(struct auth_request *request,
			    userdb_iter_callback_t *callback, void *context)
{
	struct mariadb_userdb_module *module = userdb_mariadb_module(request);
	struct mariadb_userdb_iterate_context *ctx;

	ctx = i_new(struct mariadb_userdb_iterate_context, 1);
	ctx->ctx.auth_request = request;
	ctx->ctx.callback = callback;
	ctx->ctx.context = context;
	auth_request_ref(request);
	ctx->iter = db_mariadb_iterate_init(module->db, module->iterate_query,
					    authdb_event(request));
	return &ctx->ctx;
}

void userdb_mariadb_iterate_next(struct userdb_iterate_context *_ctx)
{
	struct mariadb_userdb_iterate_context *ctx =
		(struct mariadb_userdb_iterate_context *)_ctx;
	const char *user;
	int ret;

	T_BEGIN {
		/* skip rows whose user is NULL or empty */
		while ((ret = db_mariadb_iter_next(ctx->iter, &user)) > 0 &&
		       user[0] == '\0') ;
		if (ret > 0)
			_ctx->callback(user, _ctx->context);
	} T_END;
	if (ret <= 0) {
		_ctx->failed = ret < 0;
		/* may free the context through iterate_deinit */
		_ctx->callback(NULL, _ctx->context);
	}
}

int userdb_mariadb_iterate_deinit(struct userdb_iterate_context *_ctx)
{
	struct mariadb_userdb_iterate_context *ctx =
		(struct mariadb_userdb_iterate_context *)_ctx;
	struct auth_request *request = _ctx->auth_request;
	const char *error;
	int ret = _ctx->failed ? -1 : 0;

	if (db_mariadb_iter_deinit(&ctx->iter, &error) < 0) {
		e_error(authdb_event(request), "%s", error);
		ret = -1;
	}
	auth_request_unref(&request);
	i_free(ctx);
	return ret;
}

struct userdb_module *
userdb_mariadb_create(pool_t pool, struct db_mariadb *db,
		      const struct db_mariadb_query *query,
		      const struct db_mariadb_query *iterate_query)
{
	struct mariadb_userdb_module *module;

	module = p_new(pool, struct mariadb_userdb_module, 1);
	module->db = db;
	module->query = query;
	module->iterate_query = iterate_query;
	module->module.default_cache_key = AUTHDB_CACHE_KEY_USER;
	module->module.blocking = db_mariadb_get_settings(db)->blocking;
	return &module->module;
}

void userdb_mariadb_init(struct userdb_module *_module)
{
	struct mariadb_userdb_module *module =
		(struct mariadb_userdb_module *)_module;

	/* Dovecot 2.4 sets blocking from the userdb's use_worker after
	   preinit: either asks for auth-workers */
	if (db_mariadb_get_settings(module->db)->blocking)
		_module->blocking = TRUE;
	if (!worker)
		db_mariadb_self_check(module->db, "user_query", module->query);
}

void userdb_mariadb_deinit(struct userdb_module *_module)
{
	struct mariadb_userdb_module *module =
		(struct mariadb_userdb_module *)_module;

	db_mariadb_unref(&module->db);
}
