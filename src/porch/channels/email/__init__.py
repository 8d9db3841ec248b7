"""The email channel: MIME parsing (``mime``), threading (``threading``), our own Message-IDs and
reply addresses (``addresses``), the inbound SMTP server (``smtp_server``), IMAP mailboxes
(``imap``), and outbound composition and relay (``compose``, ``relay``)."""
