"""Users that tests add to the sample database (sql/04-sample-data.sql):
cheap bcrypt hashes, the load tests' users (user<i>, password pw-<i>, in
nahida.net), and stored passwords of every kind, made by the tools admins
have: Dovecot's doveadm pw (every scheme it lists) and mkpasswd (package
whois, libxcrypt's methods)."""

import subprocess
import warnings


def dovecot_schemes():
    """Every password scheme this Dovecot knows (doveadm pw -l)."""
    r = subprocess.run(["doveadm", "pw", "-l"], capture_output=True,
                       text=True, check=True)
    return sorted(set(r.stdout.split()))


def doveadm_hash(scheme, password, user=None, rounds=None):
    """A stored password as doveadm pw -s SCHEME writes it: {SCHEME}...
    (user: for the schemes that hash it in, e.g. DIGEST-MD5). PLAIN-TRUNC's
    stored form, "<length>-<password>", is made here: doveadm pw doesn't
    write it."""
    if scheme == "PLAIN-TRUNC":
        return "{PLAIN-TRUNC}%d-%s" % (len(password), password)
    cmd = ["doveadm", "pw", "-s", scheme, "-p", password]
    if user is not None:
        cmd += ["-u", user]
    if rounds is not None:
        cmd += ["-r", str(rounds)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return r.stdout.strip()


def mkpasswd_hash(method, password):
    """A bare crypt string as mkpasswd -m METHOD writes it ($6$..., $y$...,
    $1$...), as in /etc/shadow."""
    r = subprocess.run(["mkpasswd", "-m", method, "--stdin"], input=password,
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def cheap_hash(password):
    """A cost-4 bcrypt hash as doveadm pw writes it ({BLF-CRYPT}$2y$04$...)."""
    return doveadm_hash("BLF-CRYPT", password, rounds=4)


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


def sql_string(value):
    """value as a '...' SQL string literal."""
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "''")


def add_users(db, stored):
    """Insert (or replace) users of the sample schema, stored: {address:
    stored password}, in one statement; their domains must exist."""
    rows = []
    for address, value in stored.items():
        local, domain = address.split("@")
        rows.append("(%s, %s, %s, %s)" % (
            sql_string(local), sql_string(domain), sql_string(value),
            sql_string(local[:40])))
    db.sql("REPLACE INTO users (local, domain, password_hash, display_name) "
           "VALUES %s;" % ", ".join(rows), database="mail_server")


def add_user(db, address, stored):
    """Insert (or replace) one user (add_users())."""
    add_users(db, {address: stored})


def stored_password(db, address):
    """The user's password_hash as stored now."""
    local, domain = address.split("@")
    return db.sql("SELECT password_hash FROM users WHERE local = %s AND "
                  "domain = %s;" % (sql_string(local), sql_string(domain)),
                  database="mail_server").rstrip("\n")


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
