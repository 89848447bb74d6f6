/* make check's side of the fuzz targets: feed the target every file of its
 * corpus (tests/fuzz/corpus/NAME for a program named replay-NAME), then a
 * fixed number of seeded mutations of each, so a sanitizer build checks
 * more than the corpus and every run checks the same inputs. A broken
 * invariant aborts, which fails the test. --enable-fuzzing builds the same
 * targets for libFuzzer, which searches far wider (make fuzz). */
#include "common.h"

#include <dirent.h>
#include <signal.h>

#include "fuzz.h"

#define MAXIN 4096

static uint64_t rng = 0x2545f4914f6cdd1dull;
static const uint8_t *cur; /* the input under test, shown if it aborts */
static size_t curlen;

/* Prints the input that broke an invariant, printable bytes as they are,
 * others as \xNN, before the abort ends the run. */
static void
on_abort(int sig)
{
	static const char hex[] = "0123456789abcdef", intro[] = "input that broke an invariant: \"";
	char out[sizeof(intro) + 4 * MAXIN + 2];
	size_t o = sizeof(intro) - 1;

	(void)sig;
	memcpy(out, intro, o);
	for (size_t i = 0; i < curlen; i++) {
		uint8_t c = cur[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o++] = '"';
	out[o++] = '\n';
	(void)!write(2, out, o);
}

static void
run(const uint8_t *b, size_t n)
{
	cur = b;
	curlen = n;
	LLVMFuzzerTestOneInput(b, n);
}

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The bytes that separate the parts of what our parsers read. */
static const char seps[] = ":[]%@/.0123456789-xXsmu \t";

static size_t
mutate(uint8_t *b, size_t n)
{
	for (int k = 1 + (int)(rnd() % 4); k > 0; k--) {
		size_t at = n > 0 ? rnd() % n : 0;
		switch (rnd() % 5) {
		case 0: /* flip a bit */
			if (n > 0)
				b[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* any byte */
			if (n > 0)
				b[at] = (uint8_t)rnd();
			break;
		case 2: /* insert a separator */
			if (n < MAXIN) {
				memmove(b + at + 1, b + at, n - at);
				b[at] = (uint8_t)seps[rnd() % (sizeof(seps) - 1)];
				n++;
			}
			break;
		case 3: /* delete */
			if (n > 0) {
				memmove(b + at, b + at + 1, n - at - 1);
				n--;
			}
			break;
		default: /* repeat a stretch */
			if (n > 0) {
				size_t len = 1 + rnd() % n;
				if (len > n - at)
					len = n - at;
				if (n + len <= MAXIN) {
					memmove(b + at + len, b + at, n - at);
					n += len;
				}
			}
			break;
		}
	}
	return n;
}

static int
replay(const char *dir, long mutations)
{
	static uint8_t in[MAXIN], b[MAXIN];
	char path[4096];
	struct dirent *de;
	int files = 0;
	DIR *d = opendir(dir);

	if (d == NULL) {
		fprintf(stderr, "cannot open the corpus %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		FILE *f;
		size_t n;
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    (f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(in, 1, sizeof(in), f);
		fclose(f);
		files++;
		run(in, n);
		for (long m = 0; m < mutations; m++) {
			memcpy(b, in, n);
			run(b, mutate(b, n));
		}
	}
	closedir(d);
	return files;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir"), *name = strrchr(argv[0], '/');
	const char *m = getenv("FUZZ_REPLAY_MUTATIONS");
	long mutations = m != NULL ? atol(m) : 2000;
	char dir[4096];
	int files;

	(void)argc;
	signal(SIGABRT, on_abort);
	name = name != NULL ? name + 1 : argv[0];
	if (strncmp(name, "replay-", 7) == 0)
		name += 7;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top != NULL ? top : ".", name);
	files = replay(dir, mutations);
	if (files <= 0) {
		fprintf(stderr, "%s: no corpus in %s\n", name, dir);
		return 99;
	}
	printf("%s: %d corpus files, %ld mutations each, every invariant held\n", name, files,
	    mutations);
	return 0;
}
