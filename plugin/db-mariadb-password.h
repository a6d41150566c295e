#ifndef DB_MARIADB_PASSWORD_H
#define DB_MARIADB_PASSWORD_H

/* Dovecot's name for the scheme of the hashes this module verifies. */
#define DB_MARIADB_PASSWORD_SCHEME "BLF-CRYPT"
#define DB_MARIADB_BCRYPT_DEFAULT_COST 10
/* A bcrypt hash: "$2y$" cost "$" 22 salt and 31 hash characters. */
#define DB_MARIADB_BCRYPT_LEN 60
/* bcrypt uses only the first 72 octets of a password: the rest changes
   nothing, whatever it is */
#define DB_MARIADB_BCRYPT_PASSWORD_MAX 72
#define DB_MARIADB_BCRYPT_COST_MIN 4
#define DB_MARIADB_BCRYPT_COST_MAX 31

/* Classify a stored password. Returns 1 with the bare bcrypt hash in
   hash_r (a "{BLF-CRYPT}" or "{CRYPT}" prefix removed), 0 when the account
   has no usable password (empty, or starting with '*' or '!', the usual
   way to lock an account), -1 with the reason in error_r when it is not a
   bcrypt hash this module understands or its cost is above max_cost. The
   reason never quotes the hash. */
int db_mariadb_password_parse(const char *stored, unsigned int max_cost,
			      const char **hash_r, const char **error_r);

/* The cost of a hash that db_mariadb_password_parse() accepted. */
unsigned int db_mariadb_password_cost(const char *hash);

/* Check a plaintext password against a stored one. Returns 1 if it
   matches, 0 if not (also for a locked account, and for a password longer
   than libxcrypt accepts), -1 with the reason in error_r when the stored
   password is malformed. The comparison is timing-safe and every buffer
   that held the password is wiped. */
int db_mariadb_password_verify(const char *plaintext, const char *stored,
			       const char **error_r);

/* Check a plaintext password against any crypt(3) string libxcrypt
   knows ($1$, $5$, $6$, $y$, DES, ...). Returns 1 if it matches, 0 if
   not, -1 with the reason in error_r when libxcrypt rejects the string or
   it is truncated or too long for its method (so a broken hash is never
   a wrong password). Timing-safe, buffers wiped. */
int db_mariadb_crypt_verify(const char *plaintext, const char *hash,
			    const char **error_r);

/* Make a syntactically valid "$2y$" hash of the given cost with a random
   salt that no password matches, without running bcrypt: checking a
   password against it costs as much as against a real hash of that cost
   (for unknown users, so that their answer takes as long as a wrong
   password's). Returns 0, or -1 with the reason in error_r. */
int db_mariadb_password_dummy_hash(unsigned int cost, const char **hash_r,
				   const char **error_r);

/* Check that libxcrypt computes bcrypt right, with a published test
   vector of crypt_blowfish (cost 5: about 1 ms). Returns 0, or -1 with
   the reason in error_r. */
int db_mariadb_password_self_test(const char **error_r);

/* Make a new "$2y$" hash of the plaintext with the given cost (for the
   password scheme's generate function and the tests). Returns 0, or -1
   with the reason in error_r. */
int db_mariadb_password_generate(const char *plaintext, unsigned int cost,
				 const char **hash_r, const char **error_r);

/* Make the rest of this process's life DB_MARIADB_WORKER_NICE_INCREMENT
   nicer than it started (once; for an auth-worker, before its first bcrypt
   check for the master): bcrypt is its heavy work, and the auth master,
   which answers userdb lookups and verified-login cache hits from one
   ioloop, then runs first when logins keep the CPUs busy. Nice values end
   at 19: a process that nice already is left as it is.

   On Linux the process also asks for a longer time slice than any other
   process has by default: since 6.12 a process that wakes up eligible to
   run with a shorter slice than the running one preempts it at once, so
   the master (and MariaDB and the LMTP client, where they are eligible)
   get a CPU at their wake-up instead of at the end of a bcrypt check's
   slice or at the next timer tick, and a worker that wakes up hardly ever
   preempts them. Older kernels ignore the slice and keep the nice value. */
#define DB_MARIADB_WORKER_NICE_INCREMENT 10
void db_mariadb_password_lower_priority(void);

/* The costs of the hashes read most recently, so that the dummy check
   costs what checking the stored hashes costs (unknown_user_cost = auto)
   without the admin matching two numbers by hand. */
#define DB_MARIADB_COST_WINDOW 64
struct db_mariadb_cost_tracker {
	unsigned char window[DB_MARIADB_COST_WINDOW];
	unsigned int pos, filled;
	unsigned int counts[DB_MARIADB_BCRYPT_COST_MAX + 1];
};

void db_mariadb_cost_tracker_add(struct db_mariadb_cost_tracker *tracker,
				 unsigned int cost);
/* The most common cost in the window (the higher one of a tie), or
   default_cost while the window is empty. */
unsigned int
db_mariadb_cost_tracker_get(const struct db_mariadb_cost_tracker *tracker,
			    unsigned int default_cost);

#endif
