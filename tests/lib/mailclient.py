"""Mail clients as the tests use them: imaplib's IMAP4 from 127.0.0.2, TLS
that trusts a test server's own certificate, logins over IMAP and SMTP
submission, and what the tests ask of a mailbox (imaplib)."""

import imaplib
import smtplib
import socket
import ssl


class IMAP4(imaplib.IMAP4):
    """imaplib's IMAP4, connecting from 127.0.0.2 as a client on another
    host would: Dovecot treats a connection whose remote and local
    addresses are equal as secured, and would allow plaintext LOGIN."""

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=("127.0.0.2", 0))


def tls_context(cert):
    """A client TLS context that trusts only cert, a test server's
    self-signed certificate (lib/dovecot.py make_certificate()): it names
    localhost and 127.0.0.1, so the host name is checked too."""
    return ssl.create_default_context(cafile=cert)


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


def imap_login(port, user, password, cafile):
    """An IMAP connection to 127.0.0.1:port from 127.0.0.2, logged in as
    user after STARTTLS (the server's certificate checked against cafile).
    Raises imaplib.IMAP4.error if the login is refused."""
    imap = IMAP4("127.0.0.1", port, timeout=30)
    try:
        imap.starttls(ssl_context=tls_context(cafile))
        imap.login(user, password)
    except BaseException:
        imap.shutdown()
        raise
    return imap


def submission_login(port, user, password, cafile):
    """An SMTP submission connection to 127.0.0.1:port, logged in as user
    with AUTH after STARTTLS (the certificate checked against cafile).
    Raises smtplib.SMTPAuthenticationError if the login is refused."""
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        smtp.starttls(context=tls_context(cafile))
        smtp.login(user, password)
    except BaseException:
        smtp.close()
        raise
    return smtp
