#include "common.h"

#include <sys/stat.h>

#include "sockdiag.h"

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/rtnetlink.h> /* struct rtattr */
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

/* One exact request and its answer (one message: no dump). */
struct sockdiag_req {
	struct nlmsghdr nh;
	struct unix_diag_req r;
};

/* Ask about the unix socket of inode ino for what show names; the answer's
 * attribute of type attr is copied to out (len bytes). 0, or -1 with errno. */
static int
ask(int nl, uint32_t ino, uint32_t show, int attr, void *out, size_t len)
{
	static uint32_t seq;
	struct sockdiag_req q;
	union {
		struct nlmsghdr nh;
		char b[1024];
	} a;
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct unix_diag_msg *m;
	struct rtattr *rta;
	ssize_t n;
	int rlen;

	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.nh.nlmsg_seq = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
	q.r.sdiag_family = AF_UNIX;
	q.r.udiag_states = ~0U;
	q.r.udiag_ino = ino;
	q.r.udiag_show = show;
	q.r.udiag_cookie[0] = q.r.udiag_cookie[1] = ~0U; /* no cookie: by inode */
	if (sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&k, sizeof(k)) == -1)
		return -1;
	n = recv(nl, &a, sizeof(a), MSG_DONTWAIT); /* answered within sendto */
	if (n == -1)
		return -1;
	if (!NLMSG_OK(&a.nh, (size_t)n) || a.nh.nlmsg_seq != q.nh.nlmsg_seq) {
		errno = EPROTO;
		return -1;
	}
	if (a.nh.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&a.nh);
		bool whole = a.nh.nlmsg_len >= NLMSG_LENGTH(sizeof(*e));
		errno = whole && e->error < 0 ? -e->error : EPROTO;
		return -1;
	}
	if (a.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY || a.nh.nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		errno = EPROTO;
		return -1;
	}
	m = NLMSG_DATA(&a.nh);
	rlen = (int)(a.nh.nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (rta = (struct rtattr *)(m + 1); RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
		if (rta->rta_type == attr && RTA_PAYLOAD(rta) >= len) {
			memcpy(out, RTA_DATA(rta), len);
			return 0;
		}
	}
	errno = ENOENT; /* no peer (not connected, or gone) */
	return -1;
}

long long
sockdiag_unix_unread(int fd)
{
	struct unix_diag_rqlen rq;
	struct stat st;
	uint32_t ours, peer;
	long long r = -1;
	int nl, e;

	if (fstat(fd, &st) == -1)
		return -1;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl == -1)
		return -1;
	/* Our socket names its peer's inode; the peer's receive queue, as
	 * unix_inq_len() counts it, leaves out what was read of a buffer. */
	ours = (uint32_t)st.st_ino;
	if (ask(nl, ours, UDIAG_SHOW_PEER, UNIX_DIAG_PEER, &peer, sizeof(peer)) == 0 &&
	    ask(nl, peer, UDIAG_SHOW_RQLEN, UNIX_DIAG_RQLEN, &rq, sizeof(rq)) == 0)
		r = rq.udiag_rqueue;
	e = errno;
	close(nl);
	errno = e;
	return r;
}

#else

long long
sockdiag_unix_unread(int fd)
{
	(void)fd;
	errno = ENOSYS;
	return -1;
}

#endif
