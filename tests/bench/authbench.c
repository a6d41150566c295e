/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* authbench: a load client for Dovecot's auth protocol.

   Opens -c connections to the auth-client socket (as login processes do)
   and -u connections to the auth-userdb socket (as LMTP does), one thread
   and at most one outstanding request per connection. The client
   connections send "AUTH ... PLAIN" requests, picked by weight from the mix
   (-x valid=W,wrong=W,unknown=W): a user's right password, a wrong one, or
   a user that does not exist. The userdb connections send "USER" lookups,
   paced at -r lookups per second each (0: back to back).

   Users are PREFIX<n>@DOMAIN with n drawn uniformly from -n FIRST-LAST;
   unknown users are PREFIX-none<n>@DOMAIN. After -w seconds of warm-up,
   every answer that arrives within the next -d seconds is counted and its
   latency (send to answer, CLOCK_MONOTONIC) kept; a request still
   outstanding at the end is not counted. Prints one line per request kind
   that was sent:

     kind=valid conns=8 answers=412 ok=412 tempfail=0 unexpected=0
       errors=0 seconds=10.000 rate=41.20 p50_ms=... p90_ms=... p99_ms=...
       max_ms=... all=...

   ok counts the expected answers (OK for valid, a non-temporary FAIL for
   wrong and unknown, USER for lookups); tempfail counts temporary failures;
   unexpected any other answer; errors broken or timed-out connections
   (reconnected). Percentiles are nearest-rank over every counted answer of
   the kind; all counts every answer, warm-up included. Exits 1 when a
   connection cannot be made at the start.

   Build: cc -O2 -Wall -Wextra -Werror -pthread -o authbench authbench.c */

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum kind { KIND_VALID, KIND_WRONG, KIND_UNKNOWN, KIND_USER, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {
	"valid", "wrong", "unknown", "user"
};

enum outcome { OUTCOME_OK, OUTCOME_TEMPFAIL, OUTCOME_UNEXPECTED };

#define LINE_MAX_LEN 65536
#define IO_TIMEOUT_SECS 60
#define MAX_CONNECTIONS 4096

struct samples {
	uint64_t *ns;
	size_t count, size;
	uint64_t outcomes[3];
	uint64_t errors;
	/* every answer, warm-up and end included */
	uint64_t all;
};

struct options {
	const char *auth_path, *userdb_path;
	unsigned int auth_conns, userdb_conns;
	double userdb_rate;
	double duration, warmup;
	unsigned int mix[3];
	unsigned long first, last;
	const char *prefix, *domain, *password;
};

struct conn {
	const struct options *opt;
	bool userdb;
	unsigned int index;
	int fd;
	char buf[LINE_MAX_LEN];
	size_t buf_len, buf_pos;
	unsigned long next_id;
	uint64_t rng;
	struct samples samples[KIND_COUNT];
};

static struct timespec start_ts;
static uint64_t measure_start_ns, end_ns;
static pthread_barrier_t barrier;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / 1000000000u),
		.tv_nsec = (long)(t % 1000000000u),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fputs("authbench: ", stderr);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
	va_end(args);
	exit(1);
}

/* xorshift64*: per-thread, good enough to pick users */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void samples_add(struct samples *s, uint64_t ns, enum outcome outcome)
{
	if (s->count == s->size) {
		size_t size = s->size == 0 ? 4096 : s->size * 2;
		uint64_t *ns_new = realloc(s->ns, size * sizeof(*ns_new));

		if (ns_new == NULL)
			die("out of memory");
		s->ns = ns_new;
		s->size = size;
	}
	s->ns[s->count++] = ns;
	s->outcomes[outcome]++;
}

static int conn_connect(struct conn *c)
{
	const char *path = c->userdb ? c->opt->userdb_path : c->opt->auth_path;
	struct sockaddr_un addr;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_SECS };

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path))
		die("socket path too long: %s", path);
	strcpy(addr.sun_path, path);

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket(): %s", strerror(errno));
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		die("setsockopt(): %s", strerror(errno));
	if (connect(c->fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "authbench: connect(%s): %s\n",
			path, strerror(errno));
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->buf_len = c->buf_pos = 0;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int conn_send(struct conn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t ret = send(c->fd, data, len, MSG_NOSIGNAL);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += ret;
		len -= (size_t)ret;
	}
	return 0;
}

/* Returns the next line without its LF (NUL-terminated in the buffer), or
   NULL on EOF, error or timeout. */
static char *conn_read_line(struct conn *c)
{
	for (;;) {
		char *start = c->buf + c->buf_pos;
		char *lf = memchr(start, '\n', c->buf_len - c->buf_pos);
		ssize_t ret;

		if (lf != NULL) {
			*lf = '\0';
			c->buf_pos = (size_t)(lf - c->buf) + 1;
			return start;
		}
		if (c->buf_pos > 0) {
			memmove(c->buf, start, c->buf_len - c->buf_pos);
			c->buf_len -= c->buf_pos;
			c->buf_pos = 0;
		}
		if (c->buf_len == sizeof(c->buf) - 1)
			return NULL;
		ret = recv(c->fd, c->buf + c->buf_len,
			   sizeof(c->buf) - 1 - c->buf_len, 0);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return NULL;
		c->buf_len += (size_t)ret;
	}
}

static int conn_handshake(struct conn *c)
{
	char line[64];
	const char *reply;
	int len;

	if (c->userdb) {
		if (conn_send(c, "VERSION\t1\t0\n", 12) < 0)
			return -1;
		/* VERSION, then SPID */
		for (int i = 0; i < 2; i++) {
			if (conn_read_line(c) == NULL)
				return -1;
		}
		return 0;
	}
	len = snprintf(line, sizeof(line), "VERSION\t1\t2\nCPID\t%ld\n",
		       (long)getpid());
	if (conn_send(c, line, (size_t)len) < 0)
		return -1;
	/* VERSION, MECH..., SPID, CUID, COOKIE, DONE */
	do {
		reply = conn_read_line(c);
		if (reply == NULL)
			return -1;
	} while (strcmp(reply, "DONE") != 0);
	return 0;
}

static int conn_open(struct conn *c)
{
	if (conn_connect(c) < 0)
		return -1;
	if (conn_handshake(c) < 0) {
		fprintf(stderr, "authbench: handshake on %s failed\n",
			c->userdb ? c->opt->userdb_path : c->opt->auth_path);
		conn_close(c);
		return -1;
	}
	return 0;
}

static void base64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char table[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*out++ = table[in[i] >> 2];
		*out++ = table[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*out++ = table[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*out++ = table[in[i + 2] & 63];
	}
	if (i < len) {
		*out++ = table[in[i] >> 2];
		if (i + 1 < len) {
			*out++ = table[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*out++ = table[(in[i + 1] & 15) << 2];
		} else {
			*out++ = table[(in[i] & 3) << 4];
			*out++ = '=';
		}
		*out++ = '=';
	}
	*out = '\0';
}

static enum kind pick_kind(struct conn *c)
{
	const unsigned int *mix = c->opt->mix;
	unsigned int total = mix[0] + mix[1] + mix[2];
	unsigned int r = (unsigned int)(rng_next(&c->rng) % total);

	if (r < mix[0])
		return KIND_VALID;
	if (r < mix[0] + mix[1])
		return KIND_WRONG;
	return KIND_UNKNOWN;
}

/* Builds the request into req; returns its length. */
static size_t
build_request(struct conn *c, enum kind kind, unsigned long id,
	      char *req, size_t size)
{
	const struct options *opt = c->opt;
	unsigned long n = opt->first +
		(unsigned long)(rng_next(&c->rng) % (opt->last - opt->first + 1));
	char user[256], plain[600], b64[820];
	const char *password = opt->password;
	int user_len, plain_len, len;

	user_len = snprintf(user, sizeof(user), "%s%s%lu@%s", opt->prefix,
			    kind == KIND_UNKNOWN ? "-none" : "", n, opt->domain);
	if (user_len < 0 || (size_t)user_len >= sizeof(user))
		die("user name too long");
	if (kind == KIND_USER) {
		len = snprintf(req, size, "USER\t%lu\t%s\tservice=lmtp\n",
			       id, user);
		return (size_t)len;
	}
	if (kind == KIND_WRONG)
		password = "wrong-password";
	plain_len = snprintf(plain, sizeof(plain), "%c%s%c%s",
			     '\0', user, '\0', password);
	if (plain_len < 0 || (size_t)plain_len >= sizeof(plain))
		die("password too long");
	base64_encode((const unsigned char *)plain, (size_t)plain_len, b64);
	len = snprintf(req, size,
		       "AUTH\t%lu\tPLAIN\tservice=imap\tsecured\tno-penalty\t"
		       "lip=127.0.0.1\trip=127.0.0.1\tresp=%s\n", id, b64);
	return (size_t)len;
}

/* Classifies a reply line; returns -1 if it does not answer request id. */
static int
classify_reply(enum kind kind, unsigned long id, const char *line,
	       enum outcome *outcome_r)
{
	const char *tab = strchr(line, '\t');
	char *end;
	size_t cmd_len;
	unsigned long reply_id;

	if (tab == NULL)
		return -1;
	cmd_len = (size_t)(tab - line);
	errno = 0;
	reply_id = strtoul(tab + 1, &end, 10);
	if (errno != 0 || end == tab + 1 || (*end != '\t' && *end != '\0'))
		return -1;
	if (reply_id != id)
		return -1;

#define IS_CMD(name) \
	(cmd_len == strlen(name) && memcmp(line, name, cmd_len) == 0)
	if (IS_CMD("FAIL")) {
		/* auth-client: "code=temp_fail" (2.3) or "temp";
		   auth-userdb: FAIL is always an internal failure */
		if (kind == KIND_USER || strstr(end, "\tcode=temp_fail") != NULL ||
		    strstr(end, "\ttemp") != NULL)
			*outcome_r = OUTCOME_TEMPFAIL;
		else if (kind == KIND_WRONG || kind == KIND_UNKNOWN)
			*outcome_r = OUTCOME_OK;
		else
			*outcome_r = OUTCOME_UNEXPECTED;
	} else if (IS_CMD("OK")) {
		*outcome_r = kind == KIND_VALID ?
			OUTCOME_OK : OUTCOME_UNEXPECTED;
	} else if (IS_CMD("USER")) {
		*outcome_r = kind == KIND_USER ?
			OUTCOME_OK : OUTCOME_UNEXPECTED;
	} else {
		/* NOTFOUND, CONT, anything else */
		*outcome_r = OUTCOME_UNEXPECTED;
	}
#undef IS_CMD
	return 0;
}

static void *conn_thread(void *context)
{
	struct conn *c = context;
	const struct options *opt = c->opt;
	uint64_t interval_ns = 0, next_send = 0;
	char req[1024];

	pthread_barrier_wait(&barrier);
	if (c->userdb && opt->userdb_rate > 0) {
		interval_ns = (uint64_t)(1e9 / opt->userdb_rate);
		/* spread the connections over one interval */
		next_send = now_ns() + interval_ns * c->index / opt->userdb_conns;
	}

	while (now_ns() < end_ns) {
		enum kind kind = c->userdb ? KIND_USER : pick_kind(c);
		unsigned long id = c->next_id++;
		size_t len = build_request(c, kind, id, req, sizeof(req));
		enum outcome outcome = OUTCOME_UNEXPECTED;
		const char *line;
		uint64_t t0, t1;

		if (interval_ns > 0) {
			sleep_until_ns(next_send);
			next_send += interval_ns;
			if (now_ns() >= end_ns)
				break;
		}
		if (c->fd < 0 && conn_open(c) < 0) {
			c->samples[kind].errors++;
			usleep(100000);
			continue;
		}
		t0 = now_ns();
		if (conn_send(c, req, len) < 0) {
			c->samples[kind].errors++;
			conn_close(c);
			continue;
		}
		while ((line = conn_read_line(c)) != NULL &&
		       classify_reply(kind, id, line, &outcome) < 0)
			;	/* skip lines that answer nothing we sent */
		t1 = now_ns();
		if (line == NULL) {
			if (t1 <= end_ns)
				c->samples[kind].errors++;
			conn_close(c);
			continue;
		}
		c->samples[kind].all++;
		if (t1 >= measure_start_ns && t1 <= end_ns)
			samples_add(&c->samples[kind], t1 - t0, outcome);
	}
	conn_close(c);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double percentile_ms(const uint64_t *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	/* nearest rank: ceil(p * n) */
	rank = (size_t)(p * (double)n);
	if ((double)rank < p * (double)n)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)sorted[rank - 1] / 1e6;
}

static void
report(enum kind kind, struct conn *conns, unsigned int conn_count,
       unsigned int kind_conns, double seconds)
{
	struct samples all;
	size_t pos = 0;

	memset(&all, 0, sizeof(all));
	for (unsigned int i = 0; i < conn_count; i++) {
		const struct samples *s = &conns[i].samples[kind];

		all.count += s->count;
		all.errors += s->errors;
		all.all += s->all;
		for (int o = 0; o < 3; o++)
			all.outcomes[o] += s->outcomes[o];
	}
	all.ns = malloc((all.count > 0 ? all.count : 1) * sizeof(*all.ns));
	if (all.ns == NULL)
		die("out of memory");
	for (unsigned int i = 0; i < conn_count; i++) {
		const struct samples *s = &conns[i].samples[kind];

		if (s->count > 0)
			memcpy(all.ns + pos, s->ns, s->count * sizeof(*s->ns));
		pos += s->count;
	}
	qsort(all.ns, all.count, sizeof(*all.ns), cmp_u64);
	printf("kind=%s conns=%u answers=%zu ok=%" PRIu64 " tempfail=%" PRIu64
	       " unexpected=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f"
	       " rate=%.2f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f"
	       " all=%" PRIu64 "\n",
	       kind_names[kind], kind_conns, all.count,
	       all.outcomes[OUTCOME_OK], all.outcomes[OUTCOME_TEMPFAIL],
	       all.outcomes[OUTCOME_UNEXPECTED], all.errors, seconds,
	       (double)all.count / seconds,
	       percentile_ms(all.ns, all.count, 0.50),
	       percentile_ms(all.ns, all.count, 0.90),
	       percentile_ms(all.ns, all.count, 0.99),
	       all.count > 0 ? (double)all.ns[all.count - 1] / 1e6 : 0.0,
	       all.all);
	free(all.ns);
}

static void __attribute__((noreturn)) usage(void)
{
	fputs(
"usage: authbench [-a auth-client-socket] [-c conns] [-x mix]\n"
"                 [-m auth-userdb-socket] [-u conns] [-r lookups/s/conn]\n"
"                 [-d seconds] [-w warmup-seconds] [-n first-last]\n"
"                 [-P user-prefix] [-D domain] [-p password]\n"
"  mix: valid=W,wrong=W,unknown=W (default valid=1)\n", stderr);
	exit(2);
}

static double parse_double(const char *s, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min))
		usage();
	return v;
}

static unsigned long parse_ulong(const char *s, char **end_r)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		usage();
	errno = 0;
	v = strtoul(s, end_r, 10);
	if (errno != 0)
		usage();
	return v;
}

static void parse_mix(const char *s, unsigned int mix[3])
{
	mix[0] = mix[1] = mix[2] = 0;
	while (*s != '\0') {
		const char *eq = strchr(s, '=');
		char *end;
		unsigned long w;
		int i;

		if (eq == NULL)
			usage();
		for (i = 0; i < 3; i++) {
			if ((size_t)(eq - s) == strlen(kind_names[i]) &&
			    strncmp(s, kind_names[i], (size_t)(eq - s)) == 0)
				break;
		}
		if (i == 3)
			usage();
		w = parse_ulong(eq + 1, &end);
		if (w > 1000000 || (*end != ',' && *end != '\0'))
			usage();
		mix[i] = (unsigned int)w;
		s = *end == ',' ? end + 1 : end;
	}
	if (mix[0] + mix[1] + mix[2] == 0)
		usage();
}

int main(int argc, char *argv[])
{
	struct options opt = {
		.auth_conns = 1, .duration = 10, .warmup = 2,
		.mix = { 1, 0, 0 }, .first = 1, .last = 1000,
		.prefix = "u", .domain = "bench.test",
		.password = "bench-password",
	};
	struct conn *conns;
	pthread_t *threads;
	unsigned int count;
	char *end;
	int ch;

	while ((ch = getopt(argc, argv, "a:c:x:m:u:r:d:w:n:P:D:p:")) != -1) {
		switch (ch) {
		case 'a': opt.auth_path = optarg; break;
		case 'm': opt.userdb_path = optarg; break;
		case 'c':
			opt.auth_conns = (unsigned int)parse_double(optarg, 0);
			break;
		case 'u':
			opt.userdb_conns = (unsigned int)parse_double(optarg, 0);
			break;
		case 'r': opt.userdb_rate = parse_double(optarg, 0); break;
		case 'd': opt.duration = parse_double(optarg, 0.1); break;
		case 'w': opt.warmup = parse_double(optarg, 0); break;
		case 'x': parse_mix(optarg, opt.mix); break;
		case 'n':
			opt.first = parse_ulong(optarg, &end);
			if (*end != '-')
				usage();
			opt.last = parse_ulong(end + 1, &end);
			if (*end != '\0' || opt.last < opt.first)
				usage();
			break;
		case 'P': opt.prefix = optarg; break;
		case 'D': opt.domain = optarg; break;
		case 'p': opt.password = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (opt.auth_conns > 0 && opt.auth_path == NULL)
		die("-c needs the auth-client socket (-a)");
	if (opt.userdb_conns > 0 && opt.userdb_path == NULL)
		die("-u needs the auth-userdb socket (-m)");
	count = opt.auth_conns + opt.userdb_conns;
	if (count == 0 || count > MAX_CONNECTIONS)
		die("between 1 and %d connections", MAX_CONNECTIONS);

	conns = calloc(count, sizeof(*conns));
	threads = calloc(count, sizeof(*threads));
	if (conns == NULL || threads == NULL)
		die("out of memory");
	clock_gettime(CLOCK_REALTIME, &start_ts);
	for (unsigned int i = 0; i < count; i++) {
		struct conn *c = &conns[i];

		c->opt = &opt;
		c->userdb = i >= opt.auth_conns;
		c->index = c->userdb ? i - opt.auth_conns : i;
		c->next_id = 1;
		c->rng = ((uint64_t)start_ts.tv_nsec << 20) ^
			((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL);
		if (c->rng == 0)
			c->rng = 1;
		/* every connection is made before the clock starts */
		if (conn_open(c) < 0)
			die("connection %u of %u failed", i + 1, count);
	}

	if (pthread_barrier_init(&barrier, NULL, count + 1) != 0)
		die("pthread_barrier_init() failed");
	for (unsigned int i = 0; i < count; i++) {
		int ret = pthread_create(&threads[i], NULL, conn_thread, &conns[i]);

		if (ret != 0)
			die("pthread_create(): %s", strerror(ret));
	}
	measure_start_ns = now_ns() + (uint64_t)(opt.warmup * 1e9);
	end_ns = measure_start_ns + (uint64_t)(opt.duration * 1e9);
	pthread_barrier_wait(&barrier);
	for (unsigned int i = 0; i < count; i++)
		pthread_join(threads[i], NULL);

	for (int kind = 0; kind < KIND_COUNT; kind++) {
		bool sent = kind == KIND_USER ? opt.userdb_conns > 0 :
			opt.auth_conns > 0 && opt.mix[kind] > 0;

		if (sent) {
			report((enum kind)kind, conns, count,
			       kind == KIND_USER ? opt.userdb_conns :
			       opt.auth_conns, opt.duration);
		}
	}
	for (unsigned int i = 0; i < count; i++) {
		for (int kind = 0; kind < KIND_COUNT; kind++)
			free(conns[i].samples[kind].ns);
	}
	free(conns);
	free(threads);
	return 0;
}
