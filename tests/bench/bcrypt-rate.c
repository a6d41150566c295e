/* Copyright (c) 2026 dovecot-mariadb-auth authors, see the included COPYING file */

/* bcrypt-rate: how many bcrypt verifications per second this machine can
   do, the physical limit of any password check against such hashes.

   Makes one "$2y$<cost>$" hash (libxcrypt, as the module uses) and then
   verifies a password against it with crypt_rn() in -t threads (default:
   one per online CPU) for -d seconds. Prints

     threads=2 cost=10 seconds=5.000 hashes=231 rate=46.20 cpu_ms=43.1

   cpu_ms is the CPU time (user + system) per verification, which other
   processes on the machine hardly change.

   Build: cc -O2 -Wall -Wextra -Werror -pthread -o bcrypt-rate bcrypt-rate.c \
	  -lcrypt */

#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PASSWORD "bench-password"

static char hash[CRYPT_OUTPUT_SIZE];
static uint64_t end_ns;

struct worker {
	pthread_t thread;
	uint64_t count;
	bool failed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *worker_thread(void *context)
{
	struct worker *w = context;
	/* 32 KiB: on the heap, not the thread's stack */
	struct crypt_data *data = calloc(1, sizeof(*data));

	if (data == NULL) {
		w->failed = true;
		return NULL;
	}
	while (now_ns() < end_ns) {
		const char *out = crypt_rn(PASSWORD, hash, data, sizeof(*data));

		if (out == NULL || strcmp(out, hash) != 0) {
			w->failed = true;
			break;
		}
		w->count++;
	}
	free(data);
	return NULL;
}

static double rusage_secs(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
		(double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

static void __attribute__((noreturn)) usage(void)
{
	fputs("usage: bcrypt-rate [-t threads] [-d seconds] [-c cost]\n", stderr);
	exit(2);
}

static long parse_long(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

int main(int argc, char *argv[])
{
	long threads = sysconf(_SC_NPROCESSORS_ONLN), seconds = 5, cost = 10;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	struct worker *workers;
	uint64_t start, total = 0;
	struct rusage ru_start, ru;
	double elapsed, cpu;
	bool failed = false;
	int ch;

	while ((ch = getopt(argc, argv, "t:d:c:")) != -1) {
		switch (ch) {
		case 't': threads = parse_long(optarg, 1, 1024); break;
		case 'd': seconds = parse_long(optarg, 1, 3600); break;
		case 'c': cost = parse_long(optarg, 4, 31); break;
		default: usage();
		}
	}
	if (optind != argc || threads < 1)
		usage();

	data = calloc(1, sizeof(*data));
	if (data == NULL ||
	    crypt_gensalt_rn("$2y$", (unsigned long)cost, NULL, 0,
			     setting, sizeof(setting)) == NULL ||
	    crypt_rn(PASSWORD, setting, data, sizeof(*data)) == NULL ||
	    strncmp(data->output, "$2y$", 4) != 0) {
		fprintf(stderr, "bcrypt-rate: libxcrypt cannot make a bcrypt hash\n");
		return 1;
	}
	memcpy(hash, data->output, sizeof(hash));
	free(data);

	workers = calloc((size_t)threads, sizeof(*workers));
	if (workers == NULL || getrusage(RUSAGE_SELF, &ru_start) < 0)
		return 1;
	start = now_ns();
	end_ns = start + (uint64_t)seconds * 1000000000u;
	for (long i = 0; i < threads; i++) {
		if (pthread_create(&workers[i].thread, NULL, worker_thread,
				   &workers[i]) != 0) {
			fprintf(stderr, "bcrypt-rate: pthread_create() failed\n");
			return 1;
		}
	}
	for (long i = 0; i < threads; i++) {
		pthread_join(workers[i].thread, NULL);
		total += workers[i].count;
		failed = failed || workers[i].failed;
	}
	if (failed) {
		fprintf(stderr, "bcrypt-rate: a verification failed\n");
		return 1;
	}
	/* the last hash of each thread ends after end_ns: count real time */
	elapsed = (double)(now_ns() - start) / 1e9;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 1;
	cpu = rusage_secs(&ru) - rusage_secs(&ru_start);
	printf("threads=%ld cost=%ld seconds=%.3f hashes=%llu rate=%.2f"
	       " cpu_ms=%.2f\n", threads, cost, elapsed,
	       (unsigned long long)total, (double)total / elapsed,
	       total > 0 ? 1000 * cpu / (double)total : 0.0);
	free(workers);
	return 0;
}
