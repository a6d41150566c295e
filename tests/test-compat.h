#ifndef TEST_COMPAT_H
#define TEST_COMPAT_H

/* Dovecot 2.4 gave str_begins() a third argument and named the
   two-argument test str_begins_with(). */
#if !DOVECOT_PREREQ(2, 4, 0)
#  define str_begins_with(haystack, needle) str_begins(haystack, needle)
#endif

#endif
