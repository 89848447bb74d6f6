/* anyecho's output, text or JSON: the client core's report callbacks,
 * and the worst outcome seen, from which anyecho.c picks its exit status. */
#ifndef AE_REPORT_H
#define AE_REPORT_H

#include "client.h"

struct report_opts {
	bool json;    /* one JSON object per line */
	bool quiet;   /* summaries only */
	bool verbose; /* more detail */
	bool all;     /* --all: rows gathered into a table per target */
	bool pmtu;    /* --pmtu: a verdict per address stands for its summary */
	bool name_target; /* several targets: every probe line names its own */
	bool pipe;    /* --stdin: stdout is the echo, records go to stderr */
};

/* Worst first last: a later value outranks an earlier one. */
enum report_outcome { REPORT_ALL_WELL, REPORT_FALLBACK, REPORT_FAILED, REPORT_UNRESOLVED };

/* Fill rep with the callbacks that print what o asks for. */
void report_setup(const struct report_opts *o, struct client_report *rep);
enum report_outcome report_outcome(void);
/* The run is over: what is said once for it all (a local cause such as
 * running out of descriptors, which every address met alike). */
void report_end(void);
void report_free(void);
/* Standard output is where the report goes (not in pipe mode, where it
 * carries the echo): every record is flushed as it is made, so that a
 * pipeline sees each as it happens. The first write that fails calls
 * stop(arg), once and from within a client callback (arm a timer: the
 * client must not be stopped from there); the reader may be gone, and an
 * endless run must not write on into nothing. */
void report_on_output_error(void (*stop)(void *arg), void *arg);
/* Flush standard output: 0, or the errno of its first failed write. */
int report_output_error(void);
/* --resolve --json: the record of one endpoint (error NULL: it resolved). */
void report_resolved(const char *target, const struct addr_list *list, const char *error);
/* Loss as people read it: whole numbers as they are, the rest to one
 * decimal, never rounded to 0 or 100 when it is neither ("<0.1%",
 * ">99.9%"); 100% when nothing was sent. Returns buf. */
const char *report_loss_text(long long sent, long long lost, char *buf, size_t len);

#endif
