#ifndef AUTHDB_COMPAT_H
#define AUTHDB_COMPAT_H

/* The auth-process calls whose names or arguments differ between Dovecot
   2.3 and 2.4, under one name each; the rest of the module uses only these.
   Include after "auth-common.h". */

#include "auth-request.h"

#if DOVECOT_PREREQ(2, 4, 0)
#  include "auth-fields.h"
#  include "auth-worker-connection.h"
#  include "auth-worker-server.h"
#  include "auth-settings.h"

/* the worker's reply as auth_worker_call() hands it to the callback */
typedef const char *const *authdb_worker_reply_t;

#  define authdb_log_unknown_user(request) \
	auth_request_db_log_unknown_user(request)
#  define authdb_log_password_mismatch(request) \
	auth_request_db_log_password_mismatch(request)
/* core has set up the reply before calling the userdb */
#  define authdb_userdb_reply_init(request) ((void)(request))
/* an auth-worker tells the master that its database is down or back */
#  define authdb_worker_send_error() auth_worker_server_send_error()
#  define authdb_worker_send_success() auth_worker_server_send_success()
/* t_auth_request_var_expand() succeeded */
#  define AUTHDB_VAR_EXPAND_OK(ret) ((ret) == 0)
/* the cache key of lookups that depend on the login name only (Debian's
   2.4.1 defines it, upstream from 2.4.2) */
#  ifndef AUTH_CACHE_KEY_USER
#    define AUTH_CACHE_KEY_USER "%{user}"
#  endif
#  define AUTHDB_CACHE_KEY_USER AUTH_CACHE_KEY_USER
/* Dovecot verifies its weak schemes only with auth_allow_weak_schemes */
#  define AUTHDB_DOVECOT_ALLOWS_WEAK_SCHEMES \
	(global_auth_settings->allow_weak_schemes)

/* A row's columns: imported as fields directly unless the passdb or
   userdb says fields_import_all = no, and given to its fields { } as
   %{mariadb:column}. */
static inline struct auth_fields *
authdb_row_fields_init(struct auth_request *request)
{
	return auth_fields_init(request->pool);
}
static inline void
authdb_row_fields_add(struct auth_fields *fields, const char *name,
		      const char *value)
{
	auth_fields_add(fields, name, value, 0);
}
static inline bool authdb_passdb_import_all(struct auth_request *request)
{
	return request->passdb->set->fields_import_all;
}
static inline bool authdb_userdb_import_all(struct auth_request *request)
{
	return request->userdb->set->fields_import_all;
}
static inline int
authdb_passdb_fields_apply(struct auth_request *request,
			   struct auth_fields *fields)
{
	return auth_request_set_passdb_fields(request, fields);
}
static inline int
authdb_userdb_fields_apply(struct auth_request *request,
			   struct auth_fields *fields)
{
	return auth_request_set_userdb_fields(request, fields);
}
#else
#  include "auth-worker-server.h"
#  include "auth-worker-client.h"

typedef const char *authdb_worker_reply_t;

#  define authdb_log_unknown_user(request) \
	auth_request_log_unknown_user(request, AUTH_SUBSYS_DB)
#  define authdb_log_password_mismatch(request) \
	auth_request_log_password_mismatch(request, AUTH_SUBSYS_DB)
#  define authdb_userdb_reply_init(request) \
	auth_request_init_userdb_reply(request, TRUE)
#  define authdb_worker_send_error() auth_worker_client_send_error()
#  define authdb_worker_send_success() auth_worker_client_send_success()
#  define AUTHDB_VAR_EXPAND_OK(ret) ((ret) > 0)
#  define AUTHDB_CACHE_KEY_USER "%u"
/* Dovecot 2.3 has no weak schemes */
#  define AUTHDB_DOVECOT_ALLOWS_WEAK_SCHEMES TRUE

/* Dovecot 2.3 has no fields { }: every column is imported. */
static inline struct auth_fields *
authdb_row_fields_init(struct auth_request *request ATTR_UNUSED)
{
	return NULL;
}
static inline void
authdb_row_fields_add(struct auth_fields *fields ATTR_UNUSED,
		      const char *name ATTR_UNUSED,
		      const char *value ATTR_UNUSED)
{
}
static inline bool
authdb_passdb_import_all(struct auth_request *request ATTR_UNUSED)
{
	return TRUE;
}
static inline bool
authdb_userdb_import_all(struct auth_request *request ATTR_UNUSED)
{
	return TRUE;
}
static inline int
authdb_passdb_fields_apply(struct auth_request *request ATTR_UNUSED,
			   struct auth_fields *fields ATTR_UNUSED)
{
	return 0;
}
static inline int
authdb_userdb_fields_apply(struct auth_request *request ATTR_UNUSED,
			   struct auth_fields *fields ATTR_UNUSED)
{
	return 0;
}
#endif

#endif
