/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* db-mariadb-password - bcrypt (and other crypt strings) through libxcrypt

   The module's own stored passwords are bcrypt hashes ("$2y$", "$2b$" or
   "$2a$", as written by PHP's password_hash() or doveadm pw -s BLF-CRYPT),
   optionally behind a "{BLF-CRYPT}" or "{CRYPT}" scheme prefix. The
   format is checked before libxcrypt sees it, so a truncated or foreign
   hash is reported as such instead of as a wrong password. crypt_rn()
   works in a struct crypt_data of 32 KiB: it is heap-allocated (never on
   Dovecot's data stack) and wiped after use, like every copy of the
   plaintext. Other crypt(3) strings ($6$, $y$, ... of accounts taken over
   from other systems, see db-mariadb-scheme.c) are checked the same way,
   and a result of another length than the stored string tells a broken
   one from a wrong password.

   bcrypt only uses the first 72 octets of a password; libxcrypt refuses
   passphrases of CRYPT_MAX_PASSPHRASE_SIZE (512) octets or more, which
   are therefore reported as a mismatch. */

#include "lib.h"
#include "safe-memset.h"
#include "db-mariadb-password.h"

#include <crypt.h>
#include <sched.h>
#include <sys/resource.h>
#ifdef __linux__
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

/* the highest nice value Linux and the BSDs know */
#define DB_MARIADB_NICE_MAX 19

#if defined(__linux__) && defined(SYS_sched_setattr)
/* The first version of the kernel's struct sched_attr (Linux 3.14 and
   later), declared here under another name: <linux/sched/types.h> and
   glibc 2.41's <sched.h> both declare it, and not compatibly. */
struct db_mariadb_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

/* The time slice a worker asks for (sched_runtime of the normal policy,
   honoured since Linux 6.12, ignored before): about twice the longest default
   (0.7 ms times 1 + log2 of the CPUs, up to 8 of them: 2.8 ms), so longer
   than any other process's, and not much longer: on 6.12 (until the
   kernel bounded the protected part of a slice by the shortest slice
   queued) the running task keeps its whole slice against a process that
   wakes up not yet eligible to run, and a slice of 100 ms would keep that
   one waiting for as long. */
#define DB_MARIADB_WORKER_SLICE_NSECS (6ULL * 1000 * 1000)

static bool set_nice_and_long_slice(int nice)
{
	struct db_mariadb_sched_attr attr;

	/* leave a policy the admin chose (SCHED_BATCH, SCHED_IDLE) alone */
	if (sched_getscheduler(0) != SCHED_OTHER)
		return FALSE;
	i_zero(&attr);
	attr.size = sizeof(attr);
	attr.sched_policy = SCHED_OTHER;
	attr.sched_nice = nice;
	attr.sched_runtime = DB_MARIADB_WORKER_SLICE_NSECS;
	/* fails on kernels before 3.14 and where a seccomp filter refuses
	   the call with an error: the nice value alone then */
	return syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}
#else
static bool set_nice_and_long_slice(int nice ATTR_UNUSED)
{
	return FALSE;
}
#endif

static bool is_bcrypt_char(char c)
{
	return c == '.' || c == '/' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9');
}

static const char *db_mariadb_password_strip_scheme(const char *stored)
{
	static const char *const prefixes[] = { "{BLF-CRYPT}", "{CRYPT}" };
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(prefixes); i++) {
		size_t len = strlen(prefixes[i]);

		if (strncasecmp(stored, prefixes[i], len) == 0)
			return stored + len;
	}
	return stored;
}

static int
db_mariadb_password_check_cost(unsigned int cost, unsigned int max_cost,
			       const char **error_r)
{
	if (cost < DB_MARIADB_BCRYPT_COST_MIN || cost > max_cost) {
		*error_r = t_strdup_printf("bcrypt cost %u is outside %u..%u",
					   cost, DB_MARIADB_BCRYPT_COST_MIN,
					   max_cost);
		return -1;
	}
	return 0;
}

unsigned int db_mariadb_password_cost(const char *hash)
{
	/* "$2y$NN$" */
	return (hash[4] - '0') * 10 + (hash[5] - '0');
}

int db_mariadb_password_parse(const char *stored, unsigned int max_cost,
			      const char **hash_r, const char **error_r)
{
	const char *hash;
	unsigned int i, cost;

	*hash_r = NULL;
	hash = db_mariadb_password_strip_scheme(stored);
	if (hash[0] == '\0' || hash[0] == '*' || hash[0] == '!')
		return 0;
	if (hash[0] == '{') {
		*error_r = "unsupported password scheme prefix "
			"(expected {BLF-CRYPT} or {CRYPT})";
		return -1;
	}
	if (hash[0] != '$' || hash[1] != '2' ||
	    (hash[2] != 'y' && hash[2] != 'b' && hash[2] != 'a') ||
	    hash[3] != '$') {
		*error_r = "not a bcrypt hash (expected $2y$, $2b$ or $2a$)";
		return -1;
	}
	if (strlen(hash) != DB_MARIADB_BCRYPT_LEN) {
		*error_r = t_strdup_printf(
			"bcrypt hash has %zu characters, expected %u",
			strlen(hash), DB_MARIADB_BCRYPT_LEN);
		return -1;
	}
	if (hash[4] < '0' || hash[4] > '9' ||
	    hash[5] < '0' || hash[5] > '9' || hash[6] != '$') {
		*error_r = "bcrypt hash has a malformed cost field";
		return -1;
	}
	cost = db_mariadb_password_cost(hash);
	if (db_mariadb_password_check_cost(cost, max_cost, error_r) < 0)
		return -1;
	for (i = 7; i < DB_MARIADB_BCRYPT_LEN; i++) {
		if (!is_bcrypt_char(hash[i])) {
			*error_r = "bcrypt hash contains a character "
				"outside its alphabet";
			return -1;
		}
	}
	*hash_r = hash;
	return 1;
}

/* crypt_rn() the plaintext with a whole stored crypt string as its
   setting: the result is the stored string exactly when the password is
   right. A result of another length means that the stored string is
   truncated or has extra characters (libxcrypt reads only the setting
   part of it), which is reported as such, never as a wrong password. */
static int
db_mariadb_crypt_check(const char *plaintext, const char *hash,
		       const char *what, const char **error_r)
{
	struct crypt_data *data;
	const char *result;
	size_t len = strlen(hash);
	int ret;

	/* libxcrypt refuses passphrases of CRYPT_MAX_PASSPHRASE_SIZE octets
	   and more: such a password can't match */
	if (strlen(plaintext) >= CRYPT_MAX_PASSPHRASE_SIZE)
		return 0;

	data = i_new(struct crypt_data, 1);
	result = crypt_rn(plaintext, hash, data, sizeof(*data));
	if (result == NULL || result[0] == '*') {
		/* e.g. a salt or a parameter it considers invalid, or a
		   method this libxcrypt was built without */
		*error_r = t_strdup_printf("libxcrypt rejected the %s", what);
		ret = -1;
	} else if (strlen(result) != len) {
		*error_r = t_strdup_printf("the %s is truncated or has extra "
					   "characters", what);
		ret = -1;
	} else {
		ret = mem_equals_timing_safe(result, hash, len) ? 1 : 0;
	}
	safe_memset(data, 0, sizeof(*data));
	i_free(data);
	return ret;
}

int db_mariadb_password_verify(const char *plaintext, const char *stored,
			       const char **error_r)
{
	const char *hash;
	int ret;

	ret = db_mariadb_password_parse(stored, DB_MARIADB_BCRYPT_COST_MAX,
					&hash, error_r);
	if (ret <= 0)
		return ret;
	return db_mariadb_crypt_check(plaintext, hash, "bcrypt hash", error_r);
}

int db_mariadb_crypt_verify(const char *plaintext, const char *hash,
			    const char **error_r)
{
	return db_mariadb_crypt_check(plaintext, hash, "crypt string", error_r);
}

int db_mariadb_password_self_test(const char **error_r)
{
	/* from crypt_blowfish's test suite (Openwall) */
	static const struct {
		const char *password, *hash;
		int result;
	} vectors[] = {
		{ "U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 1 },
		{ "U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 1 },
		{ "U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 1 },
		{ "U*V", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", 0 },
	};
	const char *error = "wrong result";
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(vectors); i++) {
		if (db_mariadb_password_verify(vectors[i].password,
					       vectors[i].hash, &error) !=
		    vectors[i].result) {
			*error_r = t_strdup_printf(
				"libxcrypt fails bcrypt test vector %u (%s)",
				i + 1, error);
			return -1;
		}
	}
	return 0;
}

int db_mariadb_password_dummy_hash(unsigned int cost, const char **hash_r,
				   const char **error_r)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (db_mariadb_password_check_cost(cost, DB_MARIADB_BCRYPT_COST_MAX,
					   error_r) < 0)
		return -1;
	/* "$2y$NN$" and 22 random salt characters; the 31 characters of
	   the hash itself are made up and match no password */
	if (crypt_gensalt_rn("$2y$", cost, NULL, 0,
			     setting, sizeof(setting)) == NULL) {
		*error_r = t_strdup_printf("crypt_gensalt_rn() failed: %m");
		return -1;
	}
	*hash_r = t_strconcat(setting, "...............................",
			      NULL);
	i_assert(strlen(*hash_r) == DB_MARIADB_BCRYPT_LEN);
	return 0;
}

int db_mariadb_password_generate(const char *plaintext, unsigned int cost,
				 const char **hash_r, const char **error_r)
{
	struct crypt_data *data;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *result;
	int ret = 0;

	if (db_mariadb_password_check_cost(cost, DB_MARIADB_BCRYPT_COST_MAX,
					   error_r) < 0)
		return -1;
	if (crypt_gensalt_rn("$2y$", cost, NULL, 0,
			     setting, sizeof(setting)) == NULL) {
		*error_r = t_strdup_printf("crypt_gensalt_rn() failed: %m");
		return -1;
	}
	data = i_new(struct crypt_data, 1);
	result = crypt_rn(plaintext, setting, data, sizeof(*data));
	if (result == NULL || result[0] == '*') {
		*error_r = "crypt_rn() failed to hash the password";
		ret = -1;
	} else {
		*hash_r = t_strdup(result);
	}
	safe_memset(data, 0, sizeof(*data));
	i_free(data);
	return ret;
}

void db_mariadb_password_lower_priority(void)
{
	static bool lowered = FALSE;
	int current, nicer;

	if (lowered)
		return;
	lowered = TRUE;
	/* getpriority() may return -1 as a value: errno tells */
	errno = 0;
	current = getpriority(PRIO_PROCESS, 0);
	if (errno != 0) {
		i_error("getpriority() failed: %m");
		return;
	}
	nicer = I_MIN(current + DB_MARIADB_WORKER_NICE_INCREMENT,
		      DB_MARIADB_NICE_MAX);
	if (nicer <= current)
		return;
	/* lowering one's own priority needs no privilege, nor does a
	   longer slice */
	if (set_nice_and_long_slice(nicer))
		return;
	if (setpriority(PRIO_PROCESS, 0, nicer) < 0)
		i_error("setpriority(%d) failed: %m", nicer);
}

void db_mariadb_cost_tracker_add(struct db_mariadb_cost_tracker *tracker,
				 unsigned int cost)
{
	i_assert(cost <= DB_MARIADB_BCRYPT_COST_MAX);
	if (tracker->filled == DB_MARIADB_COST_WINDOW)
		tracker->counts[tracker->window[tracker->pos]]--;
	else
		tracker->filled++;
	tracker->window[tracker->pos] = cost;
	tracker->counts[cost]++;
	tracker->pos = (tracker->pos + 1) % DB_MARIADB_COST_WINDOW;
}

unsigned int
db_mariadb_cost_tracker_get(const struct db_mariadb_cost_tracker *tracker,
			    unsigned int default_cost)
{
	unsigned int cost, best = default_cost, best_count = 0;

	for (cost = 0; cost <= DB_MARIADB_BCRYPT_COST_MAX; cost++) {
		if (tracker->counts[cost] >= best_count &&
		    tracker->counts[cost] > 0) {
			best = cost;
			best_count = tracker->counts[cost];
		}
	}
	return best;
}
