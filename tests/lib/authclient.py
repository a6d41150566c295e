"""A client for Dovecot's auth protocol (auth-client and auth-userdb sockets).

Used by the integration tests to send exactly the bytes a test needs (NUL,
invalid UTF-8, 300-octet names), which IMAP clients refuse to send, and to
see the difference between a temporary failure and a rejected password."""

import base64
import os
import socket


def _escape(value):
    # Dovecot's tab-escaping (str_append_tabescaped)
    return (value.replace(b"\x01", b"\x011").replace(b"\t", b"\x01t")
            .replace(b"\r", b"\x01r").replace(b"\n", b"\x01n"))


def _fields(line):
    parts = line.split("\t")
    out = {}
    for p in parts[2:]:
        key, _, value = p.partition("=")
        out[key] = value
    return parts[0], out


class AuthClient:
    """One connection to the auth-client socket (SASL, as login processes use it)."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.sock.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        # handshake: VERSION, MECH..., SPID, CUID, COOKIE, DONE
        while self.file.readline().rstrip(b"\n") != b"DONE":
            pass
        self.next_id = 1

    def plain(self, user, password, service=b"imap", no_penalty=True, secured=True):
        """AUTH PLAIN. user/password are bytes or str. Returns (result, fields):
        result is "OK", or "FAIL" with fields such as "temp" or "user"."""
        if isinstance(user, str):
            user = user.encode()
        if isinstance(password, str):
            password = password.encode()
        rid = self.next_id
        self.next_id += 1
        resp = base64.b64encode(b"\0" + user + b"\0" + password)
        line = b"AUTH\t%d\tPLAIN\tservice=%s\tlip=127.0.0.1\trip=127.0.0.1" % (rid, service)
        if secured:
            line += b"\tsecured"
        if no_penalty:
            line += b"\tno-penalty"
        line += b"\tresp=" + resp + b"\n"
        self.sock.sendall(line)
        reply = self.file.readline().decode("utf-8", "replace").rstrip("\n")
        return _fields(reply)

    def close(self):
        self.file.close()
        self.sock.close()


class MasterClient:
    """One connection to the auth-userdb socket (USER lookups, as LMTP does)."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.sock.sendall(b"VERSION\t1\t0\n")
        self.file.readline()  # VERSION
        self.file.readline()  # SPID
        self.next_id = 1

    def user(self, user, service=b"lmtp"):
        """USER lookup. Returns (result, fields): "USER", "NOTFOUND" or "FAIL"."""
        if isinstance(user, str):
            user = user.encode()
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall(b"USER\t%d\t%s\tservice=%s\n" % (rid, _escape(user), service))
        reply = self.file.readline().decode("utf-8", "replace").rstrip("\n")
        parts = reply.split("\t")
        fields = {}
        for p in parts[3 if parts[0] == "USER" else 2:]:
            key, _, value = p.partition("=")
            fields[key] = value
        return parts[0], fields

    def close(self):
        self.file.close()
        self.sock.close()


def auth(dovecot, user, password, timeout=30):
    """One AUTH PLAIN over a new connection to the auth-client socket of
    dovecot (a lib/dovecot.py Dovecot), waiting at most timeout seconds
    for each answer: (result, fields)."""
    c = AuthClient(dovecot.auth_client_socket, timeout=timeout)
    try:
        return c.plain(user, password)
    finally:
        c.close()


def userdb(dovecot, user):
    """One USER lookup over a new connection to the auth-userdb socket of
    dovecot: (result, fields)."""
    m = MasterClient(dovecot.auth_userdb_socket)
    try:
        return m.user(user)
    finally:
        m.close()


def is_tempfail(fields):
    """A temporary failure: Dovecot 2.3.19 says code=temp_fail, older
    versions a bare "temp"."""
    return fields.get("code") == "temp_fail" or "temp" in fields
