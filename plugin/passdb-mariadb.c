/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* passdb-mariadb - passdb { driver = mariadb }

   Two ways to run, sharing the query and row code:

   blocking = no (the default): the lookup runs in the auth master on the
   non-blocking connection pool (db-mariadb-pool.c). The master never runs
   bcrypt: a login whose password is in the verified-login cache is
   accepted at once, any other is sent to an auth-worker with the PASSW
   command (as Dovecot's own auth cache does with
   auth_cache_verify_password_with_worker), checked there with this
   module's password scheme and remembered on success.

   blocking = yes: Dovecot hands the whole request to an auth-worker
   process, where the lookup and the bcrypt check run with blocking calls.

   A login that is not a valid local@domain address is an unknown user
   without a query. An unknown user's password is checked against a dummy
   hash of unknown_user_cost, and so is the password of a locked account
   (stored password empty, '*' or '!'), so that the answer takes as long as
   for a wrong password and response times don't tell which addresses
   exist or are locked. The password query's columns become passdb fields as
   with passdb sql: "user" gives the canonical address, "password" the
   stored hash, every other column an extra field. A database failure is
   always an internal failure (the client is told to try again later),
   never an unknown user or a password mismatch. */

#include "auth-common.h"
#include "ioloop.h"
#include "passdb.h"
#include "passdb-blocking.h"
#include "password-scheme.h"
#include "str.h"
#include "strescape.h"
#include "str-sanitize.h"
#include "auth-settings.h"
#include "safe-memset.h"
#include "authdb-compat.h"
#include "passdb-mariadb.h"
#include "db-mariadb-conn.h"
#include "db-mariadb.h"
#include "db-mariadb-login-cache.h"
#include "db-mariadb-password.h"
#include "db-mariadb-user.h"

/* How often a stored hash whose cost differs from a fixed
   unknown_user_cost is warned about. */
#define PASSDB_MARIADB_COST_WARNING_INTERVAL_SECS 3600

struct mariadb_passdb_module {
	struct passdb_module module;

	pool_t pool;
	struct db_mariadb *db;
	const struct db_mariadb_query *query;
	/* auth master, blocking = no, login_cache = yes */
	struct db_mariadb_login_cache *login_cache;
	/* unknown_user_cost = auto: the costs of the hashes read */
	struct db_mariadb_cost_tracker costs;
	/* unknown users and locked accounts are checked against a dummy
	   hash of this cost, made when first needed */
	const char *dummy_hashes[DB_MARIADB_BCRYPT_COST_MAX + 1];
	/* a fixed unknown_user_cost: when a hash of another cost may be
	   warned about next */
	time_t cost_warning_at;
};

struct passdb_mariadb_request {
	struct auth_request *auth_request;
	/* verify_plain (NULL for lookup_credentials) */
	const char *password;
	verify_plain_callback_t *verify_callback;
	lookup_credentials_callback_t *credentials_callback;
	/* the bare bcrypt hash sent to the worker */
	const char *hash;
	/* hash is the dummy hash, checked only to take as long as for a
	   wrong password: the answer is dummy_result whatever it says */
	bool dummy;
	enum passdb_result dummy_result;
};

static struct mariadb_passdb_module *
passdb_mariadb_module(struct auth_request *request)
{
	return (struct mariadb_passdb_module *)request->passdb->passdb;
}

/* A dummy hash of the given cost: checking a password against it takes
   as long as against a real hash of that cost, and never matches. */
static const char *
passdb_mariadb_dummy_hash_cost(struct mariadb_passdb_module *module,
			       unsigned int cost)
{
	const char *hash, *error;

	if (module->dummy_hashes[cost] == NULL) {
		if (db_mariadb_password_dummy_hash(cost, &hash, &error) < 0)
			i_fatal("mariadb: %s", error);
		module->dummy_hashes[cost] = p_strdup(module->pool, hash);
	}
	return module->dummy_hashes[cost];
}

/* The hash unknown users and locked accounts are checked against, NULL
   with unknown_user_cost = 0. */
static const char *passdb_mariadb_dummy_hash(struct mariadb_passdb_module *module)
{
	unsigned int cost = db_mariadb_get_settings(module->db)->unknown_user_cost;

	if (cost == 0)
		return NULL;
	if (cost == DB_MARIADB_COST_AUTO) {
		cost = db_mariadb_cost_tracker_get(&module->costs,
						   DB_MARIADB_BCRYPT_DEFAULT_COST);
	}
	return passdb_mariadb_dummy_hash_cost(module, cost);
}

/* What a locked account's password field becomes: a dummy hash, checked
   as slowly as a real one (cost 4 with unknown_user_cost = 0). */
static const char *
passdb_mariadb_locked_hash(struct mariadb_passdb_module *module)
{
	const char *hash = passdb_mariadb_dummy_hash(module);

	return hash != NULL ? hash :
		passdb_mariadb_dummy_hash_cost(module, DB_MARIADB_BCRYPT_COST_MIN);
}

/* A stored hash was read: the dummy check follows its cost (auto), or a
   fixed cost that differs from it is warned about, since unknown users
   are then answered faster or slower than wrong passwords. */
static void
passdb_mariadb_saw_hash(struct auth_request *request, const char *hash)
{
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	unsigned int fixed = db_mariadb_get_settings(module->db)->unknown_user_cost;
	unsigned int cost = db_mariadb_password_cost(hash);

	if (fixed == DB_MARIADB_COST_AUTO) {
		db_mariadb_cost_tracker_add(&module->costs, cost);
		return;
	}
	if (fixed == 0 || cost == fixed ||
	    ioloop_time < module->cost_warning_at)
		return;
	module->cost_warning_at = ioloop_time +
		PASSDB_MARIADB_COST_WARNING_INTERVAL_SECS;
	e_warning(authdb_event(request), "Stored bcrypt hash has cost %u, "
		  "but unknown_user_cost = %u: unknown users are answered %s "
		  "than wrong passwords, which tells which addresses exist "
		  "(unknown_user_cost = auto follows the stored hashes)",
		  cost, fixed, cost > fixed ? "faster" : "slower");
}

/* Dovecot's passdb sql allows any password when the nopassword column is
   not NULL, whatever its value. A value that reads as "no" almost
   certainly means the opposite of what it does: refuse it. */
static bool passdb_mariadb_value_reads_as_no(const char *value)
{
	static const char *const no[] = { "", "0", "n", "no", "false", "off" };
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(no); i++) {
		if (strcasecmp(value, no[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Turn a lookup's outcome into passdb fields and a result. Returns OK with
   the stored password (scheme prefix included, NULL if the query returned
   none) in password_r, or the failure to report. For a locked account
   password_r is the stored value, while the password field is a hash no
   password matches (request->passdb_password: what credentials lookups
   and Dovecot's auth cache get). */
static enum passdb_result
passdb_mariadb_handle_row(struct auth_request *request, int ret,
			  const struct db_mariadb_row *row, const char *error,
			  const char **password_r)
{
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	const struct db_mariadb_field *field;
	const char *value, *hash, *locked = NULL;
	struct auth_fields *fields;
	bool import_all;
	unsigned int i;

	*password_r = NULL;
	if (ret < 0) {
		e_error(authdb_event(request), "password_query failed: %s",
			error);
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	if (ret == 0) {
		authdb_log_unknown_user(request);
		return PASSDB_RESULT_USER_UNKNOWN;
	}
	if (db_mariadb_row_find(row, "password") == NULL &&
	    db_mariadb_row_find(row, "nopassword") == NULL) {
		e_error(authdb_event(request), "password_query must return "
			"a column named 'password' (or 'nopassword')");
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	field = db_mariadb_row_find(row, "nopassword");
	if (field != NULL && field->value != NULL &&
	    passdb_mariadb_value_reads_as_no(field->value)) {
		e_error(authdb_event(request), "password_query returned "
			"nopassword = '%s': any value but NULL allows every "
			"password (as in Dovecot's passdb sql), return NULL for "
			"accounts that need their password",
			str_sanitize(field->value, 16));
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}

	fields = authdb_row_fields_init(request);
	import_all = authdb_passdb_import_all(request);
	for (i = 0; i < row->count; i++) {
		field = &row->fields[i];
		value = field->value;
		if (field->name[0] == '\0')
			continue;
		if (value == NULL) {
			if (import_all)
				auth_request_set_null_field(request, field->name);
			continue;
		}
		if (strcasecmp(field->name, "password") == 0 &&
		    db_mariadb_password_parse(value, DB_MARIADB_BCRYPT_COST_MAX,
					      &hash, &error) == 0) {
			/* a locked account: Dovecot's auth cache (if enabled)
			   checks later logins against the password field,
			   where a locked hash would be an error. It gets a
			   hash that no password matches instead. */
			locked = value;
			value = passdb_mariadb_locked_hash(module);
		}
		authdb_row_fields_add(fields, field->name, value);
		if (import_all) {
			auth_request_set_field(request, field->name, value,
					       DB_MARIADB_PASSWORD_SCHEME);
		}
	}
	/* fields { } of the passdb (Dovecot 2.4), with %{mariadb:column} */
	if (authdb_passdb_fields_apply(request, fields) < 0)
		return PASSDB_RESULT_INTERNAL_FAILURE;
	if (locked != NULL)
		*password_r = locked;
	else if (request->passdb_password != NULL)
		*password_r = t_strdup(request->passdb_password);
	return PASSDB_RESULT_OK;
}

static bool
passdb_mariadb_parse_user(struct auth_request *request,
			  struct db_mariadb_user *user_r)
{
	const char *error;

	if (db_mariadb_user_parse(request->fields.user, user_r, &error))
		return TRUE;
	/* then handled as a lookup that found no row */
	e_debug(authdb_event(request), "Login name '%s' %s",
		str_sanitize(request->fields.user, 100), error);
	return FALSE;
}

/* What is left to do after the row was read, before a hash is checked.
   Returns TRUE with the bare bcrypt hash in hash_r when it must be
   checked; FALSE with the final result in result_r otherwise. For a locked
   account with unknown_user_cost > 0, returns TRUE with the dummy hash,
   dummy_r set and PASSWORD_MISMATCH in result_r. */
static bool
passdb_mariadb_want_verify(struct auth_request *request, const char *stored,
			   const char **hash_r, bool *dummy_r,
			   enum passdb_result *result_r)
{
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	const char *scheme, *dummy, *error;
	int ret;

	*dummy_r = FALSE;
	/* what auth_request_password_verify() does before any scheme */
	if (request->fields.skip_password_check) {
		*result_r = PASSDB_RESULT_OK;
		return FALSE;
	}
	if (request->passdb->set->deny) {
		*result_r = PASSDB_RESULT_PASSWORD_MISMATCH;
		return FALSE;
	}
	if (auth_fields_exists(request->fields.extra_fields, "nopassword")) {
		e_debug(authdb_event(request), "Allowing any password");
		*result_r = PASSDB_RESULT_OK;
		return FALSE;
	}
	if (stored == NULL) {
		*result_r = auth_request_password_missing(request);
		return FALSE;
	}

	scheme = password_get_scheme(&stored);
	if (scheme != NULL &&
	    strcasecmp(scheme, DB_MARIADB_PASSWORD_SCHEME) != 0 &&
	    strcasecmp(scheme, "CRYPT") != 0) {
		e_error(authdb_event(request), "Stored password has scheme "
			"%s, this passdb verifies only bcrypt (BLF-CRYPT)",
			str_sanitize(scheme, 32));
		*result_r = PASSDB_RESULT_INTERNAL_FAILURE;
		return FALSE;
	}
	ret = db_mariadb_password_parse(stored,
		db_mariadb_get_settings(module->db)->bcrypt_max_cost,
		hash_r, &error);
	if (ret < 0) {
		e_error(authdb_event(request), "Stored password is not "
			"usable: %s", error);
		*result_r = PASSDB_RESULT_INTERNAL_FAILURE;
		return FALSE;
	}
	if (ret > 0) {
		passdb_mariadb_saw_hash(request, *hash_r);
		return TRUE;
	}

	/* empty, '*' or '!': a locked account */
	*result_r = PASSDB_RESULT_PASSWORD_MISMATCH;
	dummy = passdb_mariadb_dummy_hash(module);
	if (dummy == NULL) {
		authdb_log_password_mismatch(request);
		return FALSE;
	}
	/* answer as late as for a wrong password */
	e_debug(authdb_event(request), "Account is locked");
	*hash_r = dummy;
	*dummy_r = TRUE;
	return TRUE;
}

static void
passdb_mariadb_finish(struct passdb_mariadb_request *preq,
		      enum passdb_result result)
{
	struct auth_request *request = preq->auth_request;

	preq->verify_callback(result, request);
	auth_request_unref(&request);
}

/* The password check is done, here or in a worker. */
static void
passdb_mariadb_verified(struct passdb_mariadb_request *preq,
			enum passdb_result result)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);

	if (preq->dummy) {
		/* whatever the dummy check said, unless it failed */
		if (result != PASSDB_RESULT_INTERNAL_FAILURE)
			result = preq->dummy_result;
	} else if (result == PASSDB_RESULT_OK && module->login_cache != NULL) {
		db_mariadb_login_cache_insert(module->login_cache,
					      request->fields.user, preq->hash,
					      preq->password, ioloop_time);
	}
	passdb_mariadb_finish(preq, result);
}

static bool
passdb_mariadb_worker_reply(struct auth_worker_connection *conn ATTR_UNUSED,
			    authdb_worker_reply_t reply, void *context)
{
	struct passdb_mariadb_request *preq = context;

	/* a mismatch was logged by the worker */
	passdb_mariadb_verified(preq, passdb_blocking_auth_worker_reply_parse(
					preq->auth_request, reply));
	return TRUE;
}

/* In the auth master: check the password in an auth-worker with this
   module's scheme. */
static void passdb_mariadb_verify_in_worker(struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	string_t *str;

	str = t_str_new(256);
	str_printfa(str, "PASSW\t%u\t", request->passdb->passdb->id);
	str_append_tabescaped(str, preq->password);
	str_append(str, "\t{"DB_MARIADB_WORKER_SCHEME"}");
	str_append_tabescaped(str, preq->hash);
	str_append_c(str, '\t');
	auth_request_export(request, str);
	if (!preq->dummy)
		e_debug(authdb_event(request), "Verifying the password in a worker");
	auth_worker_call(request->pool, request->fields.user, str_c(str),
			 passdb_mariadb_worker_reply, preq);
	/* it holds the plaintext password (Dovecot keeps its own copy in
	   the request's pool until the request is freed) */
	safe_memset(str_c_modifiable(str), 0, str_len(str));
}

/* In an auth-worker (blocking = yes): bcrypt right here. */
static void passdb_mariadb_verify_here(struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	enum passdb_result result;
	const char *error;
	int ret;

	ret = db_mariadb_password_verify(preq->password, preq->hash, &error);
	if (ret < 0) {
		e_error(authdb_event(request), "Stored password is not "
			"usable: %s", error);
		result = PASSDB_RESULT_INTERNAL_FAILURE;
	} else if (ret == 0) {
		/* an unknown user was logged as such */
		if (!preq->dummy ||
		    preq->dummy_result == PASSDB_RESULT_PASSWORD_MISMATCH)
			authdb_log_password_mismatch(request);
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
	} else {
		result = PASSDB_RESULT_OK;
	}
	passdb_mariadb_verified(preq, result);
}

static void passdb_mariadb_verify(struct passdb_mariadb_request *preq)
{
	if (worker)
		passdb_mariadb_verify_here(preq);
	else
		passdb_mariadb_verify_in_worker(preq);
}

/* Check the password against a dummy hash, only to answer as late as for
   a wrong password: the result is dummy_result whatever it says. */
static void
passdb_mariadb_verify_dummy(struct passdb_mariadb_request *preq,
			    const char *dummy, enum passdb_result dummy_result)
{
	struct auth_request *request = preq->auth_request;
	const char *reason = dummy_result == PASSDB_RESULT_USER_UNKNOWN ?
		"unknown user" : "locked account";
	unsigned int cost = db_mariadb_password_cost(dummy);

	preq->hash = dummy;
	preq->dummy = TRUE;
	preq->dummy_result = dummy_result;
	e_debug(event_create_passthrough(authdb_event(request))->
		add_category(&event_category_mariadb)->
		set_name("mariadb_dummy_check")->
		add_str("reason", dummy_result == PASSDB_RESULT_USER_UNKNOWN ?
			"unknown_user" : "locked")->
		add_int("cost", cost)->event(),
		"Verifying a dummy hash of cost %u in a worker (%s)",
		cost, reason);
	passdb_mariadb_verify(preq);
}

/* The verified-login cache (auth master, blocking = no): TRUE if this
   login was verified before with the same stored hash. */
static bool passdb_mariadb_login_cache_hit(struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	enum db_mariadb_login_cache_result result;

	if (module->login_cache == NULL)
		return FALSE;
	result = db_mariadb_login_cache_lookup(module->login_cache,
					       request->fields.user, preq->hash,
					       preq->password, ioloop_time);
	e_debug(event_create_passthrough(authdb_event(request))->
		add_category(&event_category_mariadb)->
		set_name("mariadb_login_cache")->
		add_str("result", db_mariadb_login_cache_result_name(result))->
		event(), "Verified-login cache %s",
		db_mariadb_login_cache_result_name(result));
	return result == DB_MARIADB_LOGIN_CACHE_HIT;
}

/* The one result path of both modes, for both verify_plain and
   lookup_credentials: the lookup's outcome, called by the pool in the
   auth master or before db_mariadb_lookup() returns in an auth-worker. */
static void
passdb_mariadb_lookup_callback(int ret, const struct db_mariadb_row *row,
			       const char *error,
			       struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	enum passdb_result result;
	const char *stored, *scheme = NULL, *dummy;
	bool locked;

	result = passdb_mariadb_handle_row(request, ret, row, error, &stored);
	if (preq->password == NULL) {
		/* lookup_credentials: the password field (always with a
		   scheme, a dummy hash for a locked account); bcrypt can't
		   be converted, so mechanisms other than PLAIN and LOGIN get
		   SCHEME_NOT_AVAILABLE */
		stored = request->passdb_password;
		if (stored != NULL)
			scheme = password_get_scheme(&stored);
		passdb_handle_credentials(result, stored, scheme,
					  preq->credentials_callback, request);
		auth_request_unref(&request);
		return;
	}
	if (result == PASSDB_RESULT_USER_UNKNOWN &&
	    (dummy = passdb_mariadb_dummy_hash(module)) != NULL) {
		/* answer as late as for a wrong password */
		passdb_mariadb_verify_dummy(preq, dummy, result);
		return;
	}
	if (result != PASSDB_RESULT_OK ||
	    !passdb_mariadb_want_verify(request, stored, &preq->hash, &locked,
					&result)) {
		passdb_mariadb_finish(preq, result);
		return;
	}
	if (locked) {
		passdb_mariadb_verify_dummy(preq, preq->hash, result);
		return;
	}
	preq->hash = p_strdup(request->pool, preq->hash);
	if (passdb_mariadb_login_cache_hit(preq)) {
		passdb_mariadb_finish(preq, PASSDB_RESULT_OK);
		return;
	}
	passdb_mariadb_verify(preq);
}

static void passdb_mariadb_lookup(struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	struct db_mariadb_user user;

	auth_request_ref(request);
	if (!passdb_mariadb_parse_user(request, &user)) {
		passdb_mariadb_lookup_callback(0, &db_mariadb_no_row, NULL,
					       preq);
		return;
	}
	db_mariadb_lookup(module->db, module->query, &user,
			  authdb_event(request), request->pool,
			  passdb_mariadb_lookup_callback, preq);
}

void passdb_mariadb_verify_plain(struct auth_request *request,
				 const char *password,
				 verify_plain_callback_t *callback)
{
	struct passdb_mariadb_request *preq;

	preq = p_new(request->pool, struct passdb_mariadb_request, 1);
	preq->auth_request = request;
	preq->password = password;
	preq->verify_callback = callback;
	passdb_mariadb_lookup(preq);
}

void passdb_mariadb_lookup_credentials(struct auth_request *request,
				       lookup_credentials_callback_t *callback)
{
	struct passdb_mariadb_request *preq;

	preq = p_new(request->pool, struct passdb_mariadb_request, 1);
	preq->auth_request = request;
	preq->credentials_callback = callback;
	passdb_mariadb_lookup(preq);
}

struct passdb_module *
passdb_mariadb_create(pool_t pool, struct db_mariadb *db,
		      const struct db_mariadb_query *query)
{
	struct mariadb_passdb_module *module;

	module = p_new(pool, struct mariadb_passdb_module, 1);
	module->pool = pool;
	module->db = db;
	module->query = query;
	/* the queries depend on the login name only */
	module->module.default_cache_key = AUTHDB_CACHE_KEY_USER;
	module->module.default_pass_scheme = DB_MARIADB_PASSWORD_SCHEME;
	module->module.blocking = db_mariadb_get_settings(db)->blocking;
	/* made now, as root, so that a broken libxcrypt stops start-up */
	(void)passdb_mariadb_dummy_hash(module);
	return &module->module;
}

static bool passdb_mariadb_rule_returns(enum auth_db_rule rule)
{
	return rule == AUTH_DB_RULE_RETURN || rule == AUTH_DB_RULE_RETURN_OK;
}

/* Refuse passdb chains in which a deny list is not applied to this
   passdb's users. */
static void passdb_mariadb_check_passdbs(struct mariadb_passdb_module *module)
{
	struct auth *const *authp;
	struct auth_passdb *passdb, *ours;

	array_foreach(&auths, authp) {
		/* Dovecot 2.3's auth-workers check PASSW against the first
		   passdb of the service, whichever passdb sent it, and a
		   deny passdb fails every password */
		passdb = (*authp)->passdbs;
		if (AUTHDB_PASSW_USES_FIRST_PASSDB &&
		    !module->module.blocking && passdb != NULL &&
		    passdb->set->deny) {
			i_fatal("mariadb: blocking = no needs a first passdb "
				"without deny = yes (auth-workers check "
				"passwords against the first passdb): put the "
				"deny passdb after this one and set "
				"result_success = continue-ok on this one, or "
				"use blocking = yes");
		}
		ours = NULL;
		for (; passdb != NULL; passdb = passdb->next) {
			if (ours != NULL && passdb->set->deny &&
			    passdb_mariadb_rule_returns(ours->result_success)) {
				i_fatal("mariadb: the deny passdb after this "
					"one is never asked about users this "
					"one accepts (result_success = %s): "
					"set result_success = continue-ok on "
					"this passdb", ours->set->result_success);
			}
			if (ours == NULL && !passdb->set->deny &&
			    passdb->passdb == &module->module)
				ours = passdb;
		}
	}
}

/* Dovecot's auth cache answers logins from what it cached, which changes
   what the module promises. */
static void
passdb_mariadb_check_auth_cache(struct mariadb_passdb_module *module)
{
	const struct db_mariadb_settings *set =
		db_mariadb_get_settings(module->db);
	const struct auth_settings *auth_set = global_auth_settings;

	if (auth_set->cache_size == 0)
		return;
	/* the master would check cached bcrypt hashes itself, blocking
	   for each cached login */
	if (!module->module.blocking &&
	    !auth_set->cache_verify_password_with_worker) {
		i_fatal("mariadb: blocking = no with auth_cache_size needs "
			"auth_cache_verify_password_with_worker = yes (else "
			"the auth master checks cached bcrypt hashes itself)");
	}
	if (set->unknown_user_cost != 0 && auth_set->cache_negative_ttl > 0) {
		i_fatal("mariadb: auth_cache_negative_ttl = %u answers "
			"unknown users from Dovecot's auth cache at once, while "
			"a wrong password costs a bcrypt check: response times "
			"would tell which addresses exist. Set "
			"auth_cache_negative_ttl = 0 (or unknown_user_cost = 0 "
			"to accept that)", auth_set->cache_negative_ttl);
	}
	e_warning(auth_event, "mariadb: Dovecot's auth cache is on "
		  "(auth_cache_size): a password changed or an account locked "
		  "in the database takes effect for a cached user only after "
		  "auth_cache_ttl = %u s; the module's own login_cache has no "
		  "such delay", auth_set->cache_ttl);
}

void passdb_mariadb_init(struct passdb_module *_module)
{
	struct mariadb_passdb_module *module =
		(struct mariadb_passdb_module *)_module;
	const struct db_mariadb_settings *set =
		db_mariadb_get_settings(module->db);

	/* Dovecot 2.4 sets blocking from the passdb's use_worker after
	   preinit: either asks for auth-workers */
	if (set->blocking)
		_module->blocking = TRUE;

	if (!worker) {
		passdb_mariadb_check_passdbs(module);
		passdb_mariadb_check_auth_cache(module);
	}
	if (!worker && !_module->blocking && set->login_cache) {
		module->login_cache = db_mariadb_login_cache_init(
			set->login_cache_size, set->login_cache_ttl_secs);
	}
	if (!worker)
		db_mariadb_self_check(module->db, "password_query", module->query);
}

void passdb_mariadb_deinit(struct passdb_module *_module)
{
	struct mariadb_passdb_module *module =
		(struct mariadb_passdb_module *)_module;

	if (module->login_cache != NULL)
		db_mariadb_login_cache_deinit(&module->login_cache);
	db_mariadb_unref(&module->db);
}
