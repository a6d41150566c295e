/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* passdb-mariadb - passdb { driver = mariadb }

   Two ways to run, sharing the query and row code:

   blocking = no (the default): the lookup runs in the auth master on the
   non-blocking connection pool (db-mariadb-pool.c). The master never runs
   a password hash: a login whose password is in the verified-login cache
   is accepted at once, any other is sent to an auth-worker with the PASSV
   command and checked there (passdb-mariadb-check.c), and remembered on
   success.

   blocking = yes: Dovecot hands the whole request to an auth-worker
   process, where the lookup and the check run with blocking calls.

   Stored passwords of every scheme Dovecot knows are checked (bcrypt and
   the other crypt strings with libxcrypt, the rest with Dovecot's own
   schemes, db-mariadb-scheme.c); weak schemes only with
   allow_weak_schemes = yes, otherwise the account is treated as locked.
   With rehash = yes a login whose stored password is not bcrypt of at
   least rehash_cost gets a new bcrypt hash, made in the auth-worker that
   verified the password and stored with rehash_query as the rehash
   account (through the pool in the master, or the worker's own
   connection with blocking = yes), before the login is answered. A
   failed update is logged and never fails the login; a password changed
   meanwhile stays (the query is a compare-and-swap).

   A login that is not a valid local@domain address is an unknown user
   without a query. An unknown user's password is checked against a dummy
   hash of unknown_user_cost, and so is the password of a locked account
   (stored password empty, '*' or '!'), so that the answer takes as long as
   for a wrong password and response times don't tell which addresses
   exist or are locked. The password query's columns become passdb fields as
   with passdb sql: "user" gives the canonical address, "password" the
   stored password, every other column an extra field. A database failure is
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
#include "hash.h"
#include "passdb-mariadb.h"
#include "passdb-mariadb-check.h"
#include "db-mariadb-conn.h"
#include "db-mariadb.h"
#include "db-mariadb-login-cache.h"
#include "db-mariadb-password.h"
#include "db-mariadb-scheme.h"
#include "db-mariadb-user.h"

/* How often a stored hash whose cost differs from a fixed
   unknown_user_cost is warned about. */
#define PASSDB_MARIADB_COST_WARNING_INTERVAL_SECS 3600
/* allow_weak_schemes = yes: how many users with a weak scheme are
   remembered, to be warned about once each */
#define PASSDB_MARIADB_WEAK_USERS_MAX 10000

struct mariadb_passdb_module {
	struct passdb_module module;

	pool_t pool;
	struct db_mariadb *db;
	const struct db_mariadb_query *query;
	/* rehash = yes: stores a new hash after a login, NULL otherwise */
	const struct db_mariadb_query *rehash_query;
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
	/* allow_weak_schemes = yes: the users with a weak scheme warned
	   about, and how many were seen */
	HASH_TABLE(char *, char *) weak_users;
	unsigned int weak_users_count;
};

struct passdb_mariadb_request {
	struct auth_request *auth_request;
	/* verify_plain (NULL for lookup_credentials) */
	const char *password;
	verify_plain_callback_t *verify_callback;
	lookup_credentials_callback_t *credentials_callback;
	/* the stored password as the query returned it (the key of the
	   login cache, the old hash of a rehash) and its scheme */
	const char *stored;
	const char *scheme;
	/* what the worker checks: the stored password, or a dummy hash */
	struct passdb_mariadb_check check;
	/* check.stored is a dummy hash, checked only to take as long as for
	   a wrong password: the answer is dummy_result whatever it says */
	bool dummy;
	enum passdb_result dummy_result;
	/* why: "unknown_user", "locked" or "weak" (a refused weak scheme) */
	const char *dummy_reason;
	/* the worker made a new hash for rehash_query */
	const char *new_hash;
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

/* The cost of the dummy check, 0 with unknown_user_cost = 0. */
static unsigned int
passdb_mariadb_dummy_cost(struct mariadb_passdb_module *module)
{
	unsigned int cost = db_mariadb_get_settings(module->db)->unknown_user_cost;

	if (cost == DB_MARIADB_COST_AUTO) {
		cost = db_mariadb_cost_tracker_get(&module->costs,
						   DB_MARIADB_BCRYPT_DEFAULT_COST);
	}
	return cost;
}

/* The hash unknown users and locked accounts are checked against, NULL
   with unknown_user_cost = 0. */
static const char *passdb_mariadb_dummy_hash(struct mariadb_passdb_module *module)
{
	unsigned int cost = passdb_mariadb_dummy_cost(module);

	return cost == 0 ? NULL : passdb_mariadb_dummy_hash_cost(module, cost);
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

/* A stored bcrypt hash of a cost was read: the dummy check follows its
   cost (auto), or a fixed cost that differs from it is warned about,
   since unknown users are then answered faster or slower than wrong
   passwords. (Other schemes are padded to the dummy check's cost.) */
static void
passdb_mariadb_saw_bcrypt(struct auth_request *request, unsigned int cost)
{
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	unsigned int fixed = db_mariadb_get_settings(module->db)->unknown_user_cost;

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

/* A stored password that nobody may log in with: a locked account, or a
   weak scheme with allow_weak_schemes = no. */
static bool
passdb_mariadb_password_refused(struct mariadb_passdb_module *module,
				const char *value)
{
	struct db_mariadb_stored_password stored;
	const char *error;
	int ret;

	ret = db_mariadb_stored_password_parse(value, DB_MARIADB_BCRYPT_COST_MAX,
					       &stored, &error);
	return ret == 0 || (ret > 0 && stored.weak &&
		!db_mariadb_get_settings(module->db)->allow_weak_schemes);
}

/* Turn a lookup's outcome into passdb fields and a result. Returns OK with
   the stored password in password_r (the password column's value as the
   query returned it, else the password field with its scheme; NULL if
   there is none), or the failure to report. For a locked account, and
   one whose weak scheme is refused, the password field is a hash no
   password matches (request->passdb_password: what credentials lookups
   and Dovecot's auth cache get). */
static enum passdb_result
passdb_mariadb_handle_row(struct auth_request *request, int ret,
			  const struct db_mariadb_row *row, const char *error,
			  const char **password_r)
{
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	const struct db_mariadb_field *field;
	const char *value, *stored = NULL, *default_scheme;
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
		default_scheme = DB_MARIADB_PASSWORD_SCHEME;
		if (strcasecmp(field->name, "password") == 0) {
			stored = value;
			if (passdb_mariadb_password_refused(module, value)) {
				/* Dovecot's auth cache (if enabled) checks
				   later logins against the password field,
				   where a locked hash would be an error and a
				   weak one accepted: it gets a hash that no
				   password matches instead */
				value = passdb_mariadb_locked_hash(module);
			} else {
				/* a bare $6$ is {CRYPT}, bcrypt {BLF-CRYPT} */
				default_scheme =
					db_mariadb_stored_password_default_scheme(value);
			}
		}
		authdb_row_fields_add(fields, field->name, value);
		if (import_all) {
			auth_request_set_field(request, field->name, value,
					       default_scheme);
		}
	}
	/* fields { } of the passdb (Dovecot 2.4), with %{mariadb:column} */
	if (authdb_passdb_fields_apply(request, fields) < 0)
		return PASSDB_RESULT_INTERNAL_FAILURE;
	if (stored != NULL)
		*password_r = stored;
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

/* A user whose stored password has a weak scheme that
   allow_weak_schemes = yes accepts: named in a warning at its first
   login, with how many such users this process has seen. */
static void
passdb_mariadb_weak_seen(struct auth_request *request, const char *scheme)
{
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	const char *user = request->fields.user;
	char *key;

	if (!hash_table_is_created(module->weak_users)) {
		hash_table_create(&module->weak_users, module->pool, 0,
				  str_hash, strcmp);
	}
	if (hash_table_lookup(module->weak_users, user) != NULL)
		return;
	if (hash_table_count(module->weak_users) < PASSDB_MARIADB_WEAK_USERS_MAX) {
		key = p_strdup(module->pool, user);
		hash_table_insert(module->weak_users, key, key);
	}
	module->weak_users_count++;
	e_warning(authdb_event(request), "Stored password has the weak "
		  "scheme %s, accepted with allow_weak_schemes = yes (%u "
		  "user%s with a weak scheme seen since start-up): %s",
		  scheme, module->weak_users_count,
		  module->weak_users_count == 1 ? "" : "s",
		  db_mariadb_get_settings(module->db)->rehash ?
		  "rehash = yes replaces it at the next successful login" :
		  "rehash = yes would replace it at the next login");
}

/* What to check for a stored password that can be used: the padding of
   schemes other than bcrypt, and whether a rehash is wanted. */
static void
passdb_mariadb_want_check(struct passdb_mariadb_request *preq,
			  const char *stored,
			  const struct db_mariadb_stored_password *sp)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	const struct db_mariadb_settings *set =
		db_mariadb_get_settings(module->db);

	if (sp->weak)
		passdb_mariadb_weak_seen(request, sp->scheme);
	if (sp->method == DB_MARIADB_METHOD_BCRYPT)
		passdb_mariadb_saw_bcrypt(request, sp->cost);
	preq->stored = stored;
	preq->scheme = p_strdup(request->pool, sp->scheme);
	preq->check.stored = stored;
	preq->check.pad_cost = sp->method == DB_MARIADB_METHOD_BCRYPT ? 0 :
		passdb_mariadb_dummy_cost(module);
	if (module->rehash_query != NULL &&
	    (sp->method != DB_MARIADB_METHOD_BCRYPT ||
	     sp->cost < set->rehash_cost))
		preq->check.rehash_cost = set->rehash_cost;
}

/* What is left to do after the row was read, before a password is
   checked. Returns TRUE when the stored password must be checked (filled
   into preq); FALSE with the final result in result_r otherwise. For a
   locked account (or a refused weak scheme) with unknown_user_cost > 0,
   returns TRUE with the dummy hash in preq->check, preq->dummy set and
   PASSWORD_MISMATCH in result_r. */
static bool
passdb_mariadb_want_verify(struct passdb_mariadb_request *preq,
			   const char *stored, enum passdb_result *result_r)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	const struct db_mariadb_settings *set =
		db_mariadb_get_settings(module->db);
	struct db_mariadb_stored_password sp;
	const char *dummy, *error;
	int ret;

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

	ret = passdb_mariadb_check_stored(stored, set->bcrypt_max_cost, &sp,
					  &error);
	if (ret < 0) {
		e_error(authdb_event(request), "Stored password is not "
			"usable: %s", error);
		*result_r = PASSDB_RESULT_INTERNAL_FAILURE;
		return FALSE;
	}
	preq->dummy_reason = "locked";
	if (ret > 0 && sp.weak && !set->allow_weak_schemes) {
		e_error(authdb_event(request), "Stored password has the weak "
			"scheme %s, refused: the account is treated as locked "
			"(allow_weak_schemes = no)", sp.scheme);
		preq->dummy_reason = "weak";
		ret = 0;
	}
	if (ret > 0) {
		passdb_mariadb_want_check(preq, stored, &sp);
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
	preq->check.stored = dummy;
	preq->dummy = TRUE;
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

static const char *passdb_mariadb_result_name(enum passdb_result result)
{
	switch (result) {
	case PASSDB_RESULT_OK:
		return "ok";
	case PASSDB_RESULT_PASSWORD_MISMATCH:
		return "mismatch";
	default:
		return "failed";
	}
}

static void
passdb_mariadb_rehash_callback(int ret,
			       const struct db_mariadb_row *row ATTR_UNUSED,
			       const char *error,
			       struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	struct event_passthrough *e;

	e = event_create_passthrough(authdb_event(request))->
		add_category(&event_category_mariadb)->
		set_name("mariadb_rehash")->
		add_str("scheme", preq->scheme)->
		add_int("cost", preq->check.rehash_cost)->
		add_str("result", ret < 0 ? "failed" :
			ret == 0 ? "changed" : "done");
	if (ret < 0) {
		e_error(e->event(), "Rehashing the stored password failed "
			"(the login goes on): %s", error);
	} else if (ret == 0) {
		e_warning(e->event(), "Not rehashed: rehash_query changed no "
			  "row (the stored password changed since the login "
			  "read it, or the query finds no row)");
	} else {
		e_info(e->event(), "Rehashed the stored %s password to "
		       "bcrypt cost %u", preq->scheme, preq->check.rehash_cost);
		if (module->login_cache != NULL) {
			/* the next login reads the new hash */
			db_mariadb_login_cache_insert(module->login_cache,
				request->fields.user, preq->new_hash,
				preq->password, ioloop_time);
		}
	}
	passdb_mariadb_finish(preq, PASSDB_RESULT_OK);
}

/* After a successful login: store the worker's new hash with rehash_query,
   comparing with the stored password the login read, then answer. */
static void passdb_mariadb_rehash(struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	struct db_mariadb_user user;

	/* the canonical name if the query returned one */
	if (!passdb_mariadb_parse_user(request, &user)) {
		passdb_mariadb_rehash_callback(-1, &db_mariadb_no_row,
			"the login name is not local@domain", preq);
		return;
	}
	user.new_hash = preq->new_hash;
	user.old_hash = preq->stored;
	e_debug(authdb_event(request), "Rehashing the stored %s password",
		preq->scheme);
	db_mariadb_update(module->db, module->rehash_query, &user,
			  authdb_event(request), request->pool,
			  passdb_mariadb_rehash_callback, preq);
}

/* The password check is done, here or in a worker. */
static void
passdb_mariadb_verified(struct passdb_mariadb_request *preq,
			enum passdb_result result)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);

	if (preq->dummy) {
		/* whatever the dummy check said, unless it failed; an
		   unknown user was logged as such */
		if (result != PASSDB_RESULT_INTERNAL_FAILURE)
			result = preq->dummy_result;
		if (result == PASSDB_RESULT_PASSWORD_MISMATCH)
			authdb_log_password_mismatch(request);
		passdb_mariadb_finish(preq, result);
		return;
	}
	e_debug(event_create_passthrough(authdb_event(request))->
		add_category(&event_category_mariadb)->
		set_name("mariadb_password_check")->
		add_str("scheme", preq->scheme)->
		add_str("result", passdb_mariadb_result_name(result))->event(),
		"Checked a %s password: %s", preq->scheme,
		passdb_mariadb_result_name(result));
	if (result == PASSDB_RESULT_PASSWORD_MISMATCH)
		authdb_log_password_mismatch(request);
	if (result == PASSDB_RESULT_OK && preq->new_hash != NULL) {
		passdb_mariadb_rehash(preq);
		return;
	}
	if (result == PASSDB_RESULT_OK && module->login_cache != NULL &&
	    preq->check.rehash_cost == 0) {
		db_mariadb_login_cache_insert(module->login_cache,
					      request->fields.user, preq->stored,
					      preq->password, ioloop_time);
	}
	passdb_mariadb_finish(preq, result);
}

static bool
passdb_mariadb_worker_reply(struct auth_worker_connection *conn ATTR_UNUSED,
			    authdb_worker_reply_t reply, void *context)
{
	struct passdb_mariadb_request *preq = context;
	enum passdb_result result;

	result = passdb_blocking_auth_worker_reply_parse(preq->auth_request,
							 reply);
	/* never to the client */
	preq->new_hash = passdb_mariadb_check_reply_take(preq->auth_request);
	passdb_mariadb_verified(preq, result);
	return TRUE;
}

/* In the auth master: check the password in an auth-worker (PASSV with
   the check's fields, see passdb-mariadb-check.c). */
static void passdb_mariadb_verify_in_worker(struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	string_t *str;

	str = t_str_new(256);
	str_printfa(str, "PASSV\t%u\t", request->passdb->passdb->id);
	str_append_tabescaped(str, preq->password);
	str_append_c(str, '\t');
	auth_request_export(request, str);
	passdb_mariadb_check_export(&preq->check, str);
	if (!preq->dummy)
		e_debug(authdb_event(request), "Verifying the password in a worker");
	auth_worker_call(request->pool, request->fields.user, str_c(str),
			 passdb_mariadb_worker_reply, preq);
	/* it holds the plaintext password (Dovecot keeps its own copy in
	   the request's pool until the request is freed) */
	safe_memset(str_c_modifiable(str), 0, str_len(str));
}

/* In an auth-worker: run a check, logging why a stored password can't be
   checked. */
static enum passdb_result
passdb_mariadb_run_check(struct auth_request *request, const char *password,
			 const struct passdb_mariadb_check *check,
			 const char **new_hash_r)
{
	const char *error;
	int ret;

	ret = passdb_mariadb_check_password(check, password,
					    request->fields.original_username,
					    new_hash_r, &error);
	if (ret < 0) {
		e_error(authdb_event(request), "Stored password is not "
			"usable: %s", error);
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	if (ret > 0 && check->rehash_cost > 0 && *new_hash_r == NULL) {
		e_error(authdb_event(request), "Rehashing: making the new "
			"hash failed (the login goes on): %s", error);
	}
	return ret > 0 ? PASSDB_RESULT_OK : PASSDB_RESULT_PASSWORD_MISMATCH;
}

/* In an auth-worker, blocking = no: a check the master sent with PASSV.
   The answer goes back with the new hash, if any. */
static void
passdb_mariadb_worker_check(struct auth_request *request,
			    const char *password,
			    const struct passdb_mariadb_check *check,
			    verify_plain_callback_t *callback)
{
	enum passdb_result result;
	const char *new_hash;

	result = passdb_mariadb_run_check(request, password, check, &new_hash);
	if (new_hash != NULL)
		passdb_mariadb_check_reply_add(request, new_hash);
	callback(result, request);
}

/* In an auth-worker (blocking = yes): check right here. */
static void passdb_mariadb_verify_here(struct passdb_mariadb_request *preq)
{
	enum passdb_result result;

	result = passdb_mariadb_run_check(preq->auth_request, preq->password,
					  &preq->check, &preq->new_hash);
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
			    const char *dummy, const char *reason,
			    enum passdb_result dummy_result)
{
	struct auth_request *request = preq->auth_request;
	unsigned int cost = db_mariadb_password_cost(dummy);

	i_zero(&preq->check);
	preq->dummy_reason = reason;
	preq->check.stored = dummy;
	preq->dummy = TRUE;
	preq->dummy_result = dummy_result;
	e_debug(event_create_passthrough(authdb_event(request))->
		add_category(&event_category_mariadb)->
		set_name("mariadb_dummy_check")->
		add_str("reason", reason)->
		add_int("cost", cost)->event(),
		"Verifying a dummy hash of cost %u in a worker (%s)", cost,
		strcmp(reason, "unknown_user") == 0 ? "unknown user" :
		strcmp(reason, "locked") == 0 ? "locked account" :
		"refused weak scheme");
	passdb_mariadb_verify(preq);
}

/* The verified-login cache (auth master, blocking = no): TRUE if this
   login was verified before with the same stored password. */
static bool passdb_mariadb_login_cache_hit(struct passdb_mariadb_request *preq)
{
	struct auth_request *request = preq->auth_request;
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	enum db_mariadb_login_cache_result result;

	/* a login that rehashes must reach a worker */
	if (module->login_cache == NULL || preq->check.rehash_cost > 0)
		return FALSE;
	result = db_mariadb_login_cache_lookup(module->login_cache,
					       request->fields.user, preq->stored,
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

	result = passdb_mariadb_handle_row(request, ret, row, error, &stored);
	if (preq->password == NULL) {
		/* lookup_credentials: the password field (always with a
		   scheme, a dummy hash for a locked account); bcrypt can't
		   be converted, so mechanisms other than PLAIN and LOGIN get
		   SCHEME_NOT_AVAILABLE for bcrypt users */
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
		passdb_mariadb_verify_dummy(preq, dummy, "unknown_user", result);
		return;
	}
	if (result != PASSDB_RESULT_OK ||
	    !passdb_mariadb_want_verify(preq, stored, &result)) {
		passdb_mariadb_finish(preq, result);
		return;
	}
	if (preq->dummy) {
		passdb_mariadb_verify_dummy(preq, preq->check.stored,
					    preq->dummy_reason, result);
		return;
	}
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
	struct mariadb_passdb_module *module = passdb_mariadb_module(request);
	struct passdb_mariadb_request *preq;
	struct passdb_mariadb_check check;

	/* in an auth-worker, a check the master sent (never with
	   blocking = yes, where Dovecot sends lookups: fields of another
	   passdb must not choose the hash) */
	if (worker && !module->module.blocking &&
	    passdb_mariadb_check_import(request, &check)) {
		/* this worker only checks passwords for the master: from now
		   on it runs below the master, which answers userdb lookups
		   and cached logins itself. With blocking = yes workers run
		   the lookups too and keep their priority. */
		db_mariadb_password_lower_priority();
		passdb_mariadb_worker_check(request, password, &check, callback);
		return;
	}
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
		      const struct db_mariadb_query *query,
		      const struct db_mariadb_query *rehash_query)
{
	struct mariadb_passdb_module *module;

	module = p_new(pool, struct mariadb_passdb_module, 1);
	module->pool = pool;
	module->db = db;
	module->query = query;
	if (db_mariadb_get_settings(db)->rehash)
		module->rehash_query = rehash_query;
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
		ours = NULL;
		for (passdb = (*authp)->passdbs; passdb != NULL;
		     passdb = passdb->next) {
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

/* allow_weak_schemes = yes: say so at start-up; Dovecot 2.4 refuses its
   weak schemes itself unless auth_allow_weak_schemes = yes. */
static void passdb_mariadb_check_weak(struct mariadb_passdb_module *module)
{
	if (!db_mariadb_get_settings(module->db)->allow_weak_schemes)
		return;
	if (!AUTHDB_DOVECOT_ALLOWS_WEAK_SCHEMES) {
		i_fatal("mariadb: allow_weak_schemes = yes needs Dovecot's "
			"auth_allow_weak_schemes = yes too (Dovecot 2.4 "
			"refuses its weak schemes itself)");
	}
	e_warning(db_mariadb_get_event(module->db), "allow_weak_schemes = "
		  "yes: stored passwords of weak schemes (PLAIN, MD5-CRYPT, "
		  "SHA1, ...) are accepted; each user that has one is named "
		  "at its first login");
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
		passdb_mariadb_check_weak(module);
	}
	if (!worker && !_module->blocking && set->login_cache) {
		module->login_cache = db_mariadb_login_cache_init(
			set->login_cache_size, set->login_cache_ttl_secs);
	}
	if (!worker) {
		db_mariadb_self_check(module->db, "password_query", module->query);
		/* the rehash account's connection and grants */
		if (module->rehash_query != NULL) {
			db_mariadb_self_check(module->db, "rehash_query",
					      module->rehash_query);
		}
	}
}

void passdb_mariadb_deinit(struct passdb_module *_module)
{
	struct mariadb_passdb_module *module =
		(struct mariadb_passdb_module *)_module;

	if (module->login_cache != NULL)
		db_mariadb_login_cache_deinit(&module->login_cache);
	if (hash_table_is_created(module->weak_users))
		hash_table_destroy(&module->weak_users);
	db_mariadb_unref(&module->db);
}
