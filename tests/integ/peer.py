#!/usr/bin/env python3
"""Test peer for anyechod: each subcommand is one client behaviour, checks
what comes back byte for byte, prints one line and exits 0 on success, 1 on
a failed check. Every wait is bounded."""
import os
import select
import socket
import sys
import threading
import time

FAMILIES = {"IPv4": socket.AF_INET, "IPv6": socket.AF_INET6, "unix": socket.AF_UNIX}
TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM,
         "seqpacket": socket.SOCK_SEQPACKET}


def die(msg):
    print("FAIL:", msg)
    sys.exit(1)


def target(fam, host, port):
    return host if fam == "unix" else (host, int(port))


def connect(fam, typ, host, port, timeout=10):
    s = socket.socket(FAMILIES[fam], TYPES[typ])
    s.settimeout(timeout)
    s.connect(target(fam, host, port))
    return s


def recv_all(s, limit=1 << 30):
    got = bytearray()
    while len(got) < limit:
        b = s.recv(1 << 16)
        if not b:
            break
        got += b
    return bytes(got)


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def check_same(what, sent, got):
    if sent != got:
        die("%s: sent %d bytes, got %d back, first difference at byte %d"
            % (what, len(sent), len(got), first_diff(sent, got)))


def cmd_stream(fam, typ, host, port, size, delay_ms="0"):
    """Send SIZE random bytes (writer thread), half-close, read all back."""
    data = os.urandom(int(size))
    s = connect(fam, typ, host, port, timeout=30)

    def writer():
        chunk = 1 << 16
        for i in range(0, len(data), chunk):
            s.sendall(data[i:i + chunk])
            if int(delay_ms):
                time.sleep(int(delay_ms) / 1000.0)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=writer)
    t.start()
    got = recv_all(s)
    t.join()
    check_same("%s %s" % (fam, typ), data, got)
    print("ok: %s %s %d bytes" % (fam, typ, len(got)))


def cmd_urgent(fam, host, port):
    """Urgent data (MSG_OOB: TCP, and unix streams since Linux 5.15) is
    data the client sent: it comes back in its place in the stream, and
    what follows the urgent mark is echoed without the client sending
    anything more (a read stops at the mark). Exit 77 where a unix stream
    cannot send it."""
    tcp = fam != "unix"
    for corked in (False, True):
        s = connect(fam, "stream", host, port)
        # Corked: one segment, so the server finds all of it queued and
        # its first read stops short at the mark with bytes still there.
        # (A unix stream has no cork: unpaced, the same happens.)
        tcp and s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, int(corked))
        s.sendall(b"abc")
        corked or time.sleep(0.05)
        try:
            s.send(b"X", socket.MSG_OOB)
        except OSError as e:
            if tcp:
                raise
            print("SKIP: this kernel has no MSG_OOB on unix streams: %s" % e)
            sys.exit(77)
        corked or time.sleep(0.05)
        s.sendall(b"def")
        tcp and s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        want, got = b"abcXdef", b""
        s.settimeout(5)
        try:
            while len(got) < len(want):
                d = s.recv(100)
                if not d:
                    break
                got += d
        except socket.timeout:
            pass
        s.close()
        if got != want:
            die("urgent data%s: sent %r, echo %r" % (" (corked)" if corked else "", want, got))


def records_socket(fam, host, sizes):
    """A seqpacket socket whose send buffer takes the largest record, and
    that tells an empty record from the end (see recv_record)."""
    s = socket.socket(FAMILIES[fam], socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, max(sizes + [0]) + 4096)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.connect(target(fam, host, None))
    return s


def recv_record(s, n):
    """One record, or None at the end of the stream: recv says b"" for
    both, but with SO_PASSCRED a record, even empty, carries credentials."""
    data, anc, _, _ = s.recvmsg(n + 1, socket.CMSG_SPACE(12))
    return data if data or anc else None


def cmd_records(fam, host, sizes):
    """seqpacket: each record comes back whole, as one record (0: empty)."""
    sizes = [int(x) for x in sizes.split(",")]
    s = records_socket(fam, host, sizes)
    for n in sizes:
        p = os.urandom(n)
        s.send(p)
        r = recv_record(s, n)
        if r is None:
            die("record of %d: the server ended the stream" % n)
        check_same("record of %d" % n, p, r)
    s.shutdown(socket.SHUT_WR)
    if recv_record(s, 10) is not None:
        die("no EOF after half-close")
    print("ok: records", ",".join(map(str, sizes)))


def cmd_records_burst(fam, host, sizes):
    """seqpacket: send every record, half-close, then read: each comes
    back, in order, then the end."""
    sizes = [int(x) for x in sizes.split(",")]
    s = records_socket(fam, host, sizes)
    sent = [os.urandom(n) for n in sizes]
    for p in sent:
        s.send(p)
    s.shutdown(socket.SHUT_WR)
    for i, p in enumerate(sent):
        r = recv_record(s, len(p))
        if r is None:
            die("record %d (%d bytes): the server ended the stream" % (i, len(p)))
        check_same("record %d" % i, p, r)
    if recv_record(s, 10) is not None:
        die("no EOF after the last record")
    print("ok: records in a burst", ",".join(map(str, sizes)))


def cmd_record_refused(fam, host, size):
    """seqpacket: a record over the server's limit ends the connection
    (EOF or a reset), and nothing comes back."""
    s = records_socket(fam, host, [int(size)])
    s.send(os.urandom(int(size)))
    try:
        r = recv_record(s, int(size))
    except ConnectionResetError:
        r = None
    if r is not None:
        die("a record of %s bytes came back (%d bytes)" % (size, len(r)))
    print("ok: record of %s bytes refused" % size)


def dgram_socket(fam, bind_to=None):
    u = socket.socket(FAMILIES[fam], socket.SOCK_DGRAM)
    u.settimeout(5)
    if bind_to is not None:
        u.bind(bind_to)
    return u


def cmd_dgram(fam, host, port, sizes, bind_path=None):
    """Every datagram comes back whole, from the address it was sent to."""
    u = dgram_socket(fam, bind_path)
    dst = target(fam, host, port)
    for n in [int(x) for x in sizes.split(",")]:
        p = os.urandom(n)
        u.sendto(p, dst)
        r, src = u.recvfrom(1 << 17)
        check_same("datagram of %d" % n, p, r)
        if fam != "unix" and src[0] != host:
            die("reply from %s, sent to %s" % (src[0], host))
    print("ok: %s dgram sizes %s" % (fam, sizes))


def cmd_slowreader(fam, host, port, size, pause_ms, pid, max_growth_kb):
    """Write SIZE bytes without reading for PAUSE_MS: the server must stop
    reading (TCP back-pressure) instead of buffering; RSS growth bounded."""
    data = os.urandom(int(size))
    rss0 = rss_kb(pid)
    s = connect(fam, "stream", host, port, timeout=30)
    s.setblocking(False)
    sent = 0
    end = time.monotonic() + int(pause_ms) / 1000.0
    while time.monotonic() < end and sent < len(data):
        select.select([], [s], [], 0.05)
        try:
            sent += s.send(data[sent:sent + 65536])
        except BlockingIOError:
            pass
    growth = rss_kb(pid) - rss0
    if sent >= len(data):
        die("sent all %d bytes without reading: no back-pressure" % sent)
    if growth > int(max_growth_kb):
        die("server grew by %d KiB while the client did not read" % growth)
    s.setblocking(True)
    s.settimeout(30)

    def writer():
        s.sendall(data[sent:])
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=writer)
    t.start()
    got = recv_all(s)
    t.join()
    check_same("slow reader", data, got)
    print("ok: stalled after %d of %d bytes, server grew %d KiB, all came back"
          % (sent, len(data), growth))


def rss_kb(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def echo_batch(fam, host, port, n, size, deadline):
    """Open N connections at once and echo SIZE bytes on each. Returns the
    sockets, still open. An echo proves the server accepted the connection,
    so at most N handshakes ever wait in its accept queue."""
    socks = []
    for _ in range(n):
        s = socket.socket(FAMILIES[fam], socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(target(fam, host, port))
        except BlockingIOError:
            pass
        socks.append(s)
    byfd = {s.fileno(): s for s in socks}
    payload = {fd: os.urandom(size) for fd in byfd}
    got = {fd: bytearray() for fd in byfd}
    ep = select.epoll()
    for fd in byfd:
        ep.register(fd, select.EPOLLOUT)
    unsent, done = set(byfd), 0
    while done < n:
        if time.monotonic() > deadline:
            die("%d of a batch of %d connections not echoed in time" % (n - done, n))
        for fd, ev in ep.poll(1.0):
            if fd in unsent and ev & select.EPOLLOUT:
                byfd[fd].send(payload[fd])  # small: fits the socket buffer
                unsent.discard(fd)
                ep.modify(fd, select.EPOLLIN)
            elif ev & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                b = byfd[fd].recv(65536)
                if not b:
                    die("connection closed early after %d bytes" % len(got[fd]))
                got[fd] += b
                if len(got[fd]) == size:
                    done += 1
                    ep.unregister(fd)
    ep.close()
    for fd in byfd:
        check_same("connection", payload[fd], bytes(got[fd]))
    return socks


def cmd_many(fam, host, port, count, size):
    """COUNT connections open at the same time, each echoes SIZE bytes.
    They are opened in batches well below the server's listen backlog: a
    client that sends thousands of SYNs at once overflows any accept queue,
    and the kernel's answer to that (drop, or RST under gVisor) is not the
    server's to test."""
    count, size, batch = int(count), int(size), 250
    deadline = time.monotonic() + 120
    socks = []
    while len(socks) < count:
        n = min(batch, count - len(socks))
        socks += echo_batch(fam, host, port, n, size, deadline)
    print("ok: %d concurrent connections, all echoed" % count)
    # keep them open until told, so the server's count can be checked
    if os.environ.get("HOLD_FILE"):
        open(os.environ["HOLD_FILE"], "w").write("%d\n" % count)
        for _ in range(600):
            if not os.path.exists(os.environ["HOLD_FILE"]):
                break
            time.sleep(0.05)


def hog_status(path, opened, closed, sent):
    with open(path + ".tmp", "w") as f:
        f.write("open %d closed %d sent %d\n" % (opened, closed, sent))
    os.rename(path + ".tmp", path)


def cmd_hog(host, port, count, size, srcs, status_file):
    """COUNT connections spread over the source addresses SRCS (a comma
    list), each writing SIZE bytes and never reading, with a small receive
    buffer so that the server soon has to keep what it cannot send back.
    Every 100 ms writes "open N closed M sent B" to STATUS_FILE (closed:
    by the server, seen as a reset or hang-up); stops when STATUS_FILE.stop
    appears, or after 120 s."""
    count, size, srcs = int(count), int(size), srcs.split(",")
    ep, socks, left = select.epoll(), {}, {}
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
        s.bind((srcs[i % len(srcs)], 0))
        s.setblocking(False)
        try:
            s.connect((host, int(port)))
        except BlockingIOError:
            pass
        socks[s.fileno()], left[s.fileno()] = s, size
        ep.register(s.fileno(), select.EPOLLOUT)
    chunk, sent, closed = b"h" * 65536, 0, 0
    deadline, report = time.monotonic() + 120, 0
    hog_status(status_file, count, 0, 0)
    while time.monotonic() < deadline and not os.path.exists(status_file + ".stop"):
        for fd, ev in ep.poll(0.1):
            s = socks[fd]
            if ev & (select.EPOLLERR | select.EPOLLHUP):
                closed += 1
                ep.unregister(fd)
                continue
            try:
                n = s.send(chunk[:min(left[fd], len(chunk))])
            except BlockingIOError:
                continue
            except OSError:  # reset by the server
                closed += 1
                ep.unregister(fd)
                continue
            sent, left[fd] = sent + n, left[fd] - n
            if left[fd] == 0:  # all written: now only watch for a close
                ep.modify(fd, select.EPOLLRDHUP)
        if time.monotonic() >= report:
            hog_status(status_file, count, closed, sent)
            report = time.monotonic() + 0.1
    print("ok: %d connections, %d closed by the server, %d bytes sent" % (count, closed, sent))


def cmd_closed_within(fam, host, port, lo_ms, hi_ms):
    """Open a connection, send nothing: the server must close it between
    LO and HI ms (idle timeout, or refusal)."""
    s = connect(fam, "stream", host, port)
    t0 = time.monotonic()
    s.settimeout(int(hi_ms) / 1000.0 + 1)
    try:
        b = s.recv(10)
    except ConnectionResetError:
        b = b""
    except socket.timeout:
        die("still open after %s ms" % hi_ms)
    el = (time.monotonic() - t0) * 1000
    if b != b"":
        die("got data instead of a close")
    if not int(lo_ms) <= el <= int(hi_ms):
        die("closed after %d ms, expected %s..%s" % (el, lo_ms, hi_ms))
    print("ok: closed after %d ms" % el)


def cmd_guard(host, port, srcs):
    """Send from each forbidden source (addr:port), then from an ordinary
    port; when the ordinary reply is in, any reply to a forbidden one would
    have come before it (one socket, processed in order)."""
    dst = (host, int(port))
    bad = []
    for spec in srcs.split(","):
        a, p = spec.rsplit(":", 1)
        u = dgram_socket("IPv4", (a, int(p)))
        u.sendto(b"forbidden " + spec.encode(), dst)
        bad.append(u)
    ok = dgram_socket("IPv4")
    ok.sendto(b"control", dst)
    if ok.recvfrom(100)[0] != b"control":
        die("control datagram not echoed")
    for u in bad:
        r, _, _ = select.select([u], [], [], 0)
        if r:
            die("answered a datagram from %s:%d" % u.getsockname())
    print("ok: %d forbidden sources refused, control answered" % len(bad))


def cmd_expect_reply(host, port, src):
    a, p = src.rsplit(":", 1)
    u = dgram_socket("IPv4", (a, int(p)))
    u.sendto(b"x", (host, int(port)))
    if u.recvfrom(10)[0] != b"x":
        die("no reply")
    print("ok: answered from", src)


def cmd_flood(fam, host, port, count, rate, slack_ms="0"):
    """Send COUNT datagrams at once from one socket to a server limited to
    RATE replies a second per source; the replies must be no fewer than one
    second's budget (or COUNT) and no more than the budget plus what refills
    between the first send and the last reply. Stops listening after 500 ms
    without a reply: the bound on absence, not a wait for presence."""
    count, rate = int(count), int(rate)
    u = dgram_socket(fam)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    dst = target(fam, host, port)
    t0 = time.monotonic()
    for i in range(count):
        u.sendto(b"%06d" % i + b"x" * 58, dst)
    got, last = 0, t0
    u.settimeout(0.5)
    try:
        while True:
            d = u.recv(100)
            if len(d) != 64:
                die("reply of %d bytes" % len(d))
            got, last = got + 1, time.monotonic()
    except socket.timeout:
        pass
    most = rate + int(rate * (last - t0 + int(slack_ms) / 1000.0)) + 1
    least = min(rate, count)
    if not least <= got <= most:
        die("%d of %d answered: expected %d to %d at %d a second"
            % (got, count, least, most, rate))
    print("ok: %d of %d answered (limit %d/s, at most %d in %.0f ms)"
          % (got, count, rate, most, (last - t0) * 1000))


def main():
    cmds = {k[4:]: v for k, v in globals().items() if k.startswith("cmd_")}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        die("usage: peer.py {%s} ..." % ",".join(sorted(cmds)))
    try:
        cmds[sys.argv[1]](*sys.argv[2:])
    except (OSError, socket.timeout) as e:
        die("%s: %s" % (sys.argv[1], e))


if __name__ == "__main__":
    main()
