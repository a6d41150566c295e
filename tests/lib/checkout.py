"""The source tree as an admin's clone has it, for copying into a Debian
root (debroot.Session.copy_in)."""

import os
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def files(top=TOP):
    """The checkout's files as git knows them (tracked and new, not the
    ignored build products), relative to top; without git (an unpacked
    release), every file."""
    r = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                       cwd=top, capture_output=True)
    if r.returncode != 0:
        return sorted(os.path.relpath(os.path.join(d, f), top)
                      for d, _, names in os.walk(top) for f in names)
    return [name for name in r.stdout.decode().split("\0")
            if name and os.path.isfile(os.path.join(top, name))]
