/* The socket error queue: see errq.h. */
#include "common.h"

#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>

#include "addr.h"
#include "errq.h"

int
errq_enable(int fd, int family)
{
	int on = 1;

	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
}

static void
errq_take(struct errq_msg *m, const struct cmsghdr *cm)
{
	/* The extended error, then the offender (what SO_EE_OFFENDER points
	 * at: the bytes right after it), copied out of the control data. */
	union {
		struct sock_extended_err ee;
		unsigned char b[sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6)];
	} u;
	size_t have = cm->cmsg_len > CMSG_LEN(0) ? cm->cmsg_len - CMSG_LEN(0) : 0;
	const unsigned char *off = u.b + sizeof(u.ee);
	sa_family_t fam;

	memset(&u, 0, sizeof(u));
	memcpy(u.b, CMSG_DATA(cm), have < sizeof(u.b) ? have : sizeof(u.b));
	m->errnum = (int)u.ee.ee_errno;
	m->info = u.ee.ee_info;
	switch (u.ee.ee_origin) {
	case SO_EE_ORIGIN_LOCAL: m->origin = ERRQ_LOCAL; break;
	case SO_EE_ORIGIN_ICMP: m->origin = ERRQ_ICMP; break;
	case SO_EE_ORIGIN_ICMP6: m->origin = ERRQ_ICMP6; break;
	default: m->origin = ERRQ_OTHER;
	}
	if (m->origin == ERRQ_ICMP || m->origin == ERRQ_ICMP6) {
		m->type = u.ee.ee_type;
		m->code = u.ee.ee_code;
	}
	memcpy(&fam, off + offsetof(struct sockaddr, sa_family), sizeof(fam));
	if (fam == AF_INET && have >= sizeof(u.ee) + sizeof(struct sockaddr_in))
		memcpy(&m->from, off, sizeof(struct sockaddr_in));
	else if (fam == AF_INET6 && have >= sizeof(u.b))
		memcpy(&m->from, off, sizeof(struct sockaddr_in6));
}

int
errq_read(int fd, struct errq_msg *m, unsigned char *buf, size_t cap)
{
	union {
		char b[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6)) + 256];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
		.msg_controllen = sizeof(ctl.b) };
	ssize_t n;

	memset(m, 0, sizeof(*m));
	m->type = m->code = -1;
	m->origin = ERRQ_OTHER; /* until the control message says */
	m->from.ss_family = AF_UNSPEC;
	n = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	m->len = (size_t)n > cap ? cap : (size_t)n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
		    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR))
			errq_take(m, cm);
	return 1;
}

bool
errq_too_big(const struct errq_msg *m)
{
	if (m->origin == ERRQ_ICMP)
		return m->type == ICMP_DEST_UNREACH && m->code == ICMP_FRAG_NEEDED;
	if (m->origin == ERRQ_ICMP6)
		return m->type == ICMP6_PACKET_TOO_BIG;
	return m->errnum == EMSGSIZE;
}

static const char *
icmp4_words(int type, int code)
{
	static const char *const unreach[] = { "network unreachable", "host unreachable",
		"protocol unreachable", "port unreachable", "fragmentation needed",
		"source route failed", "destination network unknown", "destination host unknown",
		"source host isolated", "network administratively prohibited",
		"host administratively prohibited", "network unreachable for TOS",
		"host unreachable for TOS", "administratively prohibited", "host precedence violation",
		"precedence cutoff" };

	if (type == ICMP_DEST_UNREACH)
		return code >= 0 && code < (int)AE_NELEM(unreach) ? unreach[code] : "unreachable";
	if (type == ICMP_TIME_EXCEEDED)
		return "time exceeded";
	if (type == ICMP_PARAMETERPROB)
		return "parameter problem";
	if (type == ICMP_SOURCE_QUENCH)
		return "source quench";
	return "ICMP error";
}

static const char *
icmp6_words(int type, int code)
{
	static const char *const unreach[] = { "no route", "administratively prohibited",
		"beyond the scope of the source address", "address unreachable", "port unreachable",
		"source address failed ingress/egress policy", "reject route" };

	if (type == ICMP6_DST_UNREACH)
		return code >= 0 && code < (int)AE_NELEM(unreach) ? unreach[code] : "unreachable";
	if (type == ICMP6_PACKET_TOO_BIG)
		return "packet too big";
	if (type == ICMP6_TIME_EXCEEDED)
		return "time exceeded";
	if (type == ICMP6_PARAM_PROB)
		return "parameter problem";
	return "ICMPv6 error";
}

const char *
errq_describe(const struct errq_msg *m, char *buf, size_t len)
{
	char from[ADDR_STRLEN] = "", mtu[32] = "";
	struct addr a;

	if (m->from.ss_family == AF_INET || m->from.ss_family == AF_INET6) {
		memset(&a, 0, sizeof(a));
		memcpy(&a.sa, &m->from, sizeof(m->from));
		a.family = m->from.ss_family;
		a.len = m->from.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						     : sizeof(struct sockaddr_in6);
		addr_format_host(&a, from, sizeof(from));
	}
	if (errq_too_big(m) && m->info > 0)
		snprintf(mtu, sizeof(mtu), ", MTU %u", (unsigned)m->info);
	if (m->origin == ERRQ_ICMP || m->origin == ERRQ_ICMP6)
		snprintf(buf, len, "%s (%s type %d code %d%s)%s%s",
		    m->origin == ERRQ_ICMP ? icmp4_words(m->type, m->code)
					   : icmp6_words(m->type, m->code),
		    m->origin == ERRQ_ICMP ? "ICMP" : "ICMPv6", m->type, m->code, mtu,
		    from[0] ? " from " : "", from);
	else
		snprintf(buf, len, "%s (local%s)", strerror(m->errnum), mtu);
	return buf;
}
