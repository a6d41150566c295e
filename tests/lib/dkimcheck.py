"""Check DKIM signatures with an independent verifier, without DNS.

The verifier is Debian's python3-dkim (dkimpy), run by Debian's own Python
(/usr/bin/python3, where the package installs it; the tests may run under
another Python). The public keys come from the DNS records in zone-file
form that the stack prints and keeps (lib/rspamd.py), as a resolver would
return them: the record's quoted strings joined into one TXT value.
"""

import json
import re
import subprocess

VERIFIER_PYTHON = "/usr/bin/python3"

# Run by VERIFIER_PYTHON: argv[1] = {record name: TXT value}, the message on
# standard input; prints {"ok": bool, "signatures": [{"d":..., "s":...}]}.
VERIFY_SCRIPT = r"""
import json, sys
import dkim

records = json.loads(sys.argv[1])

def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    value = records.get(name.rstrip(".").lower())
    return value.encode() if value is not None else None

message = sys.stdin.buffer.read()
verifier = dkim.DKIM(message)
signatures = []
for name, value in verifier.headers:
    if name.lower() == b"dkim-signature":
        tags = dkim.util.parse_tag_value(b"".join(value.split()))
        signatures.append({"d": tags[b"d"].decode(), "s": tags[b"s"].decode()})
results = []
for i in range(len(signatures)):
    try:
        results.append(verifier.verify(idx=i, dnsfunc=dnsfunc))
    except dkim.DKIMException as e:
        signatures[i]["error"] = str(e)
        results.append(False)
print(json.dumps({"ok": bool(results) and all(results), "signatures": signatures}))
"""


class DkimCheckError(RuntimeError):
    """The verifier could not run (python3-dkim missing?)."""


def parse_record(text):
    """(name, TXT value) of a record in zone-file form, e.g.
    'kawaii2309._domainkey.nahida.net. IN TXT ( "v=DKIM1; k=rsa; " "p=..." )'."""
    name = text.split(None, 1)[0].rstrip(".").lower()
    return name, "".join(re.findall(r'"([^"]*)"', text))


def verify(message, records):
    """Verify every DKIM-Signature of message (bytes) against records
    (texts in zone-file form). Returns (ok, signatures): ok is True if there
    is at least one signature and each verifies; signatures lists the d= and
    s= tags of each, as {"d": ..., "s": ...}, and why it failed ("error")
    if the verifier says so."""
    table = dict(parse_record(text) for text in records)
    try:
        r = subprocess.run([VERIFIER_PYTHON, "-c", VERIFY_SCRIPT, json.dumps(table)],
                           input=message, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise DkimCheckError("%s not found: install python3 and python3-dkim"
                             % VERIFIER_PYTHON) from None
    if r.returncode != 0:
        raise DkimCheckError("the DKIM verifier failed: %s"
                             % r.stderr.decode(errors="replace").strip())
    result = json.loads(r.stdout)
    return result["ok"], result["signatures"]
