"""The source tree as an admin's clone has it, for copying into a Debian
root (debroot.Session.copy_in) or into a directory for a build with other
flags (tests/run --sanitize, --fuzz: `python3 -m lib.checkout` in tests/
prints the names, each ended by a NUL, for tar --null -T -)."""

import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def files(top=TOP):
    """The checkout's files as git knows them (tracked and new, not the
    ignored build products), relative to top; without git (an unpacked
    release), every file."""
    try:
        r = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                           cwd=top, capture_output=True)
    except FileNotFoundError:
        r = None  # no git: a Debian root of tests/run --dovecot has none
    if r is None or r.returncode != 0:
        return sorted(os.path.relpath(os.path.join(d, f), top)
                      for d, _, names in os.walk(top) for f in names)
    return [name for name in r.stdout.decode().split("\0")
            if name and os.path.isfile(os.path.join(top, name))]


if __name__ == "__main__":
    sys.stdout.buffer.write(b"".join(name.encode() + b"\0" for name in files()))
