"""A name server of the test's own, for a Dovecot that resolves names.

It listens on UDP port 53 of a loopback address of its own (127.x.y.z, so
that it meets no other server on the host) and answers what the test told
it: A records for the names in `names` (name -> [IPv4 addresses]), no
record of another type (AAAA) for those names, and NXDOMAIN at once for
every other name. The answers for the names in `hold` are held back, as
by a name server that does not answer, until release() (other queries are
answered meanwhile); wait_held() waits until one is held. Both take a
name, to hold several names and release them one at a time. etc_files()
writes a resolv.conf that points at it, and a gai.conf that makes
getaddrinfo() put chosen addresses first (it sorts a name's addresses by
RFC 6724, which for loopback addresses means 127.0.0.1 first);
lib/dovecot.py's Dovecot(etc_files=...) puts them over /etc in Dovecot's
own mount namespace, so the host's resolver is never changed. queries
lists the names asked so far, in order."""

import os
import random
import socket
import threading

TYPE_A = 1
CLASS_IN = 1


def _question(query):
    """(name in lower case, type, end of the question) of a query."""
    labels = []
    pos = 12
    while pos < len(query) and query[pos] != 0:
        length = query[pos]
        labels.append(query[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    qtype = int.from_bytes(query[pos + 1:pos + 3], "big")
    return ".".join(labels).lower(), qtype, pos + 5


class NameServer:
    def __init__(self, names=None, hold=()):
        self.names = {k.lower(): v for k, v in (names or {}).items()}
        self.hold = {name.lower() for name in hold}
        self.queries = []
        self.sock = None
        self.address = None
        self._lock = threading.Lock()
        # (name, reply, client) of the queries held back
        self._held = []
        self._held_events = {name: threading.Event() for name in self.hold}

    def start(self):
        for _ in range(20):
            address = "127.%d.%d.%d" % (random.randrange(1, 255),
                                        random.randrange(0, 256),
                                        random.randrange(1, 255))
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((address, 53))
            except OSError:
                sock.close()
                continue
            self.sock, self.address = sock, address
            break
        else:
            raise RuntimeError("no free loopback address for port 53")
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def wait_held(self, name, timeout):
        """Wait until a query for the held name has come; False if none
        did within timeout seconds."""
        return self._held_events[name.lower()].wait(timeout)

    def release(self, name=None):
        """Answer the held queries for name (None: for every name) now,
        and hold it no more."""
        with self._lock:
            names = self.hold if name is None else {name.lower()}
            self.hold = self.hold - names
            held = [h for h in self._held if h[0] in names]
            self._held = [h for h in self._held if h[0] not in names]
        sock = self.sock
        if sock is not None:
            for _, reply, client in held:
                self._send(sock, reply, client)

    def etc_files(self, directory, timeout=30, first=()):
        """Write resolv.conf (this server, one attempt that waits up to
        timeout seconds) and gai.conf (the IPv4 addresses in first before
        any other) into directory; return them as {/etc path: file}."""
        resolv_conf = os.path.join(directory, "resolv.conf")
        with open(resolv_conf, "w") as f:
            f.write("nameserver %s\noptions timeout:%d attempts:1\n"
                    % (self.address, timeout))
        gai_conf = os.path.join(directory, "gai.conf")
        with open(gai_conf, "w") as f:
            # RFC 6724's default table, with the chosen addresses (as
            # IPv4-mapped IPv6) above it
            for address in first:
                f.write("precedence ::ffff:%s/128 100\n" % address)
            f.write("precedence ::1/128 50\nprecedence ::/0 40\n"
                    "precedence ::ffff:0:0/96 35\nprecedence 2002::/16 30\n"
                    "precedence 2001::/32 5\nprecedence fc00::/7 3\n"
                    "precedence ::/96 1\nprecedence fec0::/10 1\n"
                    "precedence 3ffe::/16 1\n")
        for path in (resolv_conf, gai_conf):
            os.chmod(path, 0o644)
        return {"/etc/resolv.conf": resolv_conf, "/etc/gai.conf": gai_conf}

    def _serve(self):
        sock = self.sock
        while True:
            try:
                query, client = sock.recvfrom(4096)
            except OSError:
                return  # closed
            if len(query) < 17:
                continue
            name, qtype, end = _question(query)
            self.queries.append(name)
            reply = self._reply(query, name, qtype, end)
            with self._lock:
                if name in self.hold:
                    self._held.append((name, reply, client))
                    self._held_events[name].set()
                    continue
            self._send(sock, reply, client)

    def _reply(self, query, name, qtype, end):
        known = name in self.names
        answers = self.names.get(name, []) if qtype == TYPE_A else []
        # the query's ID, QR, its RD, RA, RCODE 0 or 3 (NXDOMAIN); the
        # question as asked, then the answers
        flags = 0x8000 | (query[2] << 8 & 0x0100) | 0x0080 | (0 if known else 3)
        reply = (query[:2] + flags.to_bytes(2, "big") + (1).to_bytes(2, "big") +
                 len(answers).to_bytes(2, "big") + bytes(4) + query[12:end])
        for address in answers:
            # a pointer to the question's name, A, IN, TTL 0, 4 octets
            reply += (b"\xc0\x0c" + TYPE_A.to_bytes(2, "big") +
                      CLASS_IN.to_bytes(2, "big") + bytes(4) +
                      (4).to_bytes(2, "big") + socket.inet_aton(address))
        return reply

    @staticmethod
    def _send(sock, reply, client):
        try:
            sock.sendto(reply, client)
        except OSError:
            pass  # stopped meanwhile
