#ifndef AUTHDB_COMPAT_H
#define AUTHDB_COMPAT_H

/* The auth-process calls whose names or arguments differ between Dovecot
   versions, under one name each; the rest of the module uses only these.
   Include after "auth-common.h". */

#include "auth-request.h"
#include "auth-worker-server.h"
#include "auth-worker-client.h"

/* the worker's reply as auth_worker_call() hands it to the callback */
typedef const char *authdb_worker_reply_t;

#define authdb_log_unknown_user(request) \
	auth_request_log_unknown_user(request, AUTH_SUBSYS_DB)
#define authdb_log_password_mismatch(request) \
	auth_request_log_password_mismatch(request, AUTH_SUBSYS_DB)
#define authdb_userdb_reply_init(request) \
	auth_request_init_userdb_reply(request, TRUE)
/* an auth-worker tells the master that its database is down or back */
#define authdb_worker_send_error() auth_worker_client_send_error()
#define authdb_worker_send_success() auth_worker_client_send_success()
/* t_auth_request_var_expand() succeeded */
#define AUTHDB_VAR_EXPAND_OK(ret) ((ret) > 0)
/* the cache key of lookups that depend on the login name only */
#define AUTHDB_CACHE_KEY_USER "%u"
/* PASSW is checked against the first passdb of the service, whichever
   passdb sent it */
#define AUTHDB_PASSW_USES_FIRST_PASSDB 1

#endif
