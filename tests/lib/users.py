"""Users that tests add to the sample database (sql/04-sample-data.sql):
cheap bcrypt hashes, and the load tests' users (user<i>, password pw-<i>,
in nahida.net)."""

import subprocess
import warnings


def cheap_hash(password):
    """A cost-4 bcrypt hash as doveadm pw writes it ({BLF-CRYPT}$2y$04$...)."""
    r = subprocess.run(["doveadm", "pw", "-s", "BLF-CRYPT", "-r", "4", "-p", password],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def bcrypt_hashes(passwords):
    """Cost-4 bcrypt hashes, fast: Python's crypt module (libxcrypt) where
    it exists, else doveadm pw."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        return [crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
                for p in passwords]
    except ImportError:
        return [cheap_hash(p) for p in passwords]


def load_users(count):
    """count users (local part, password): user<i> with password pw-<i>."""
    return [("user%d" % i, "pw-%d" % i) for i in range(count)]


def add_load_users(db, count, extra=()):
    """Add load_users(count) and the extra (local part, password) pairs to
    db's users in nahida.net, with cost-4 hashes."""
    users = load_users(count) + list(extra)
    hashes = bcrypt_hashes([p for _, p in users])
    rows = ["('%s', 'nahida.net', '%s', 'load test')" % (local, h)
            for (local, _), h in zip(users, hashes)]
    db.sql("INSERT INTO users (local, domain, password_hash, display_name) "
           "VALUES %s;" % ", ".join(rows), database="mail_server")
