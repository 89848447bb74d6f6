/* The one include every anyecho .c starts with: config.h, then the system
 * headers the modules share, so no file depends on include order. */
#ifndef AE_COMMON_H
#define AE_COMMON_H

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AE_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Expose a static function to its unit test (STYLE.md: designed-in seams). */
#ifdef UNITTEST
#define AE_STATIC
#else
#define AE_STATIC static
#endif

#if defined(__GNUC__) || defined(__clang__)
#define AE_PRINTF(f, a) __attribute__((format(printf, f, a)))
/* Off the hot path: kept out of line so its callers stay lean. */
#define AE_COLD __attribute__((cold, noinline))
#else
#define AE_PRINTF(f, a)
#define AE_COLD
#endif

#endif
