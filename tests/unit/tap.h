/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal TAP output for the C unit tests; tests/run-tests.sh counts it. */
#pragma once

#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

/* Evaluates @cond once: it may have side effects. */
#define tap_check(cond, ...) do {					\
	int ok_ = !!(cond);						\
	tap_count++;							\
	if (!ok_)							\
		tap_failed++;						\
	printf("%s %d - ", ok_ ? "ok" : "not ok", tap_count);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!ok_)							\
		printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
} while (0)

#define tap_str_eq(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int same_ = (g_ == NULL && w_ == NULL) ||			\
		(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);	\
	tap_check(same_, __VA_ARGS__);					\
	if (!same_)							\
		printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}
