"""A certificate authority of the test's own (openssl), for TLS between
Dovecot and MariaDB.

CA(directory, name) makes a CA key and a self-signed CA certificate
(ca.pem). issue(name, addresses=(), names=(), client=False) writes a key
and a certificate signed by it for a server (subjectAltName IP and DNS
entries) or a client (CN=name), and returns (cert, key). Files belong to
root with mode 0644 (keys 0600) unless owner is given: a server or client
process that reads its key needs to own it."""

import os
import pwd
import subprocess

DAYS = 30


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


class CA:
    def __init__(self, directory, name="Test CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.cert = os.path.join(directory, "ca.pem")
        self.key = os.path.join(directory, "ca-key.pem")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-keyout", self.key, "-out", self.cert, "-days", str(DAYS),
                 "-subj", "/CN=%s" % name,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        os.chmod(self.key, 0o600)
        os.chmod(self.cert, 0o644)

    def issue(self, name, addresses=(), names=(), client=False, owner=None):
        """A certificate for name signed by this CA: (cert, key) paths."""
        base = os.path.join(self.dir, name.replace("/", "_"))
        cert, key, csr = base + ".pem", base + "-key.pem", base + ".csr"
        ext = base + ".ext"
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                 "-out", csr, "-subj", "/CN=%s" % name)
        with open(ext, "w") as f:
            if client:
                f.write("extendedKeyUsage = clientAuth\n")
            else:
                alt = ["IP:%s" % a for a in addresses] + ["DNS:%s" % n for n in names]
                f.write("extendedKeyUsage = serverAuth\n")
                if alt:
                    f.write("subjectAltName = %s\n" % ",".join(alt))
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                 "-CAcreateserial", "-out", cert, "-days", str(DAYS),
                 "-extfile", ext)
        os.chmod(key, 0o600)
        os.chmod(cert, 0o644)
        if owner is not None:
            user = pwd.getpwnam(owner)
            os.chown(key, user.pw_uid, user.pw_gid)
        return cert, key
