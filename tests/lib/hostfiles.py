"""The host's files that a test must leave alone, and a way to see that it
did."""

import hashlib
import os

# what setting up a mail server (the local stack, the README's real-server
# steps) could touch on the host by mistake
WATCHED = ("/etc/postfix", "/etc/dovecot", "/etc/mysql", "/etc/aliases",
           "/etc/passwd", "/etc/group", "/etc/rspamd", "/etc/clamav", "/etc/hosts",
           "/usr/lib/dovecot/modules")


def snapshot(paths=WATCHED):
    """path -> (mode, uid, gid, sha256 or link target) for every file below
    paths."""
    out = {}
    for top in paths:
        if not os.path.lexists(top):
            continue
        for root, dirs, files in os.walk(top) if os.path.isdir(top) else [("", [], [top])]:
            for name in dirs + files:
                path = os.path.join(root, name)
                st = os.lstat(path)
                if os.path.islink(path):
                    content = os.readlink(path)
                elif os.path.isfile(path):
                    with open(path, "rb") as f:
                        content = hashlib.sha256(f.read()).hexdigest()
                else:
                    content = None
                out[path] = (st.st_mode, st.st_uid, st.st_gid, content)
    return out
