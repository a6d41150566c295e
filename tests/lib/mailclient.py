"""What the tests ask of a mailbox as a mail client (imaplib)."""


def inbox_subjects(imap):
    """The Subject header lines ("Subject: ...") of the messages in the
    INBOX of a logged-in imaplib connection, read-only."""
    imap.select("INBOX", readonly=True)
    _, data = imap.search(None, "ALL")
    subjects = []
    for num in data[0].split():
        _, parts = imap.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects.append(parts[0][1].decode().strip())
    return subjects


def find_message(imap, token, part="RFC822"):
    """The part ("RFC822", "BODY.PEEK[HEADER]") of the first message in the
    INBOX of a logged-in imaplib connection whose subject contains token,
    as bytes; None if there is none."""
    imap.select("INBOX", readonly=True)
    _, data = imap.search(None, "SUBJECT", '"%s"' % token)
    if not data[0].split():
        return None
    _, parts = imap.fetch(data[0].split()[0], "(%s)" % part)
    return parts[0][1]
