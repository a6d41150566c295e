"""The shell steps that the documentation asks an admin to type, taken from
the documents themselves so that a test runs exactly what they say.

A step is a fenced code block whose info string is "sh" and the marker,
Markdown's way of naming a block's language (GitHub shows it as a shell
block and does not show the marker):

    ```sh real-server
    apt-get update
    ```

The same fence works in the plain-text READMEs of sql/. A line

    <!-- real-server: sql/README -->

(an HTML comment: invisible in rendered Markdown) puts the steps of another
document, relative to the one that names it, at that point. Steps run in the
order this gives, starting from one document (the README's real-server
sections), in one shell, so that a variable set in one step (the database
password, the certificate's path) is there in the next, as it is for an
admin who follows the documents in one root shell."""

import os
import re
import shlex
from collections import namedtuple

MARKER = "real-server"

Step = namedtuple("Step", "path line text")


def steps(path, top, marker=MARKER, _seen=None):
    """The marked blocks of path and of the documents it includes, in
    order. Paths in the result are relative to top."""
    _seen = set() if _seen is None else _seen
    real = os.path.realpath(path)
    if real in _seen:
        raise ValueError("%s includes itself" % path)
    _seen.add(real)
    rel = os.path.relpath(path, top)
    include = re.compile(r"^<!--\s*%s:\s*(\S+)\s*-->\s*$" % re.escape(marker))
    opening = re.compile(r"^```sh\s+%s\s*$" % re.escape(marker))
    result = []
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = include.match(line)
        if m:
            other = os.path.join(os.path.dirname(path), m.group(1))
            if not os.path.isfile(other):
                raise ValueError("%s:%d: no such document %s" % (rel, i + 1, m.group(1)))
            result += steps(other, top, marker, _seen)
        elif opening.match(line):
            start = i + 1
            i += 1
            while i < len(lines) and lines[i] != "```":
                i += 1
            if i == len(lines):
                raise ValueError("%s:%d: the block does not end" % (rel, start))
            result.append(Step(rel, start, "\n".join(lines[start:i])))
        i += 1
    _seen.discard(real)
    return result


def script(step_list, show=()):
    """One bash script of the steps. Before each it prints "@@step N
    path:line"; at the end "@@var NAME=value" for each name in show. It
    stops at the first failing command (set -e), as an admin would, and
    prints that command as written (not expanded: no password)."""
    out = ["set -e",
           """trap 'echo "@@failed: $BASH_COMMAND" >&2' ERR"""]
    for n, step in enumerate(step_list, 1):
        out.append("echo %s" % shlex.quote("@@step %d %s:%d" % (n, step.path, step.line)))
        out.append(step.text)
    for name in show:
        out.append('echo "@@var %s=${%s-}"' % (name, name))
    return "\n".join(out) + "\n"
