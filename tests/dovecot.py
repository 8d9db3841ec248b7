"""A private Dovecot IMAP server on loopback, started and stopped by the tests.

Uses the Debian ``dovecot-imapd`` package's binary (``scripts/test`` installs it). Each server
lives in a temporary directory of its own: its configuration, a self-signed certificate for
``127.0.0.1``, a passwd-file with plain passwords, Maildirs, sockets and log. It listens on two
free ports: plain IMAP (LOGIN allowed without TLS, and STARTTLS offered) and implicit TLS.
``capabilities`` replaces what the server announces after LOGIN, to play a server without
IDLE or MOVE. As root, Dovecot runs its login processes as ``dovenull``, its internal ones as
``dovecot`` and the mail processes as ``nobody``, as it refuses to touch mail as root.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.pg import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "support@dundermifflin.com"
PASSWORD = "Scranton-1!"


def available() -> bool:
    return Path(DOVECOT).is_file() and shutil.which("openssl") is not None


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Dovecot did not listen on port {port}")
        time.sleep(0.05)


class Dovecot:
    """One running Dovecot with one user (``USER``/``PASSWORD``)."""

    def __init__(self, *, capabilities: str | None = None) -> None:
        self.capabilities = capabilities
        self.dir = Path(tempfile.mkdtemp(prefix="porch-dovecot-"))
        self.port = 0
        self.tls_port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        """What the server logged so far."""
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> Dovecot:
        if not available():
            raise RuntimeError("Dovecot is not installed (apt-get install dovecot-imapd)")
        self.dir.chmod(0o755)
        mail = self.dir / "mail"
        mail.mkdir()
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("nobody")
            internal, login = "dovecot", "dovenull"
            shutil.chown(mail, mail_user.pw_uid, mail_user.pw_gid)
        else:
            mail_user = pwd.getpwuid(os.geteuid())
            internal = login = mail_user.pw_name
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(self.dir / "key.pem"), "-out", str(self.dir / "cert.pem"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
        (self.dir / "users").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail}/{USER}::\n"
        )
        self.port, self.tls_port = free_port(), free_port()
        capability = f"imap_capability = {self.capabilities}\n" if self.capabilities else ""
        (self.dir / "dovecot.conf").write_text(
            f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_internal_group = {_group(internal)}
default_login_user = {login}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <{self.dir}/cert.pem
ssl_key = <{self.dir}/key.pem
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.dir}/users
}}
userdb {{
  driver = passwd-file
  args = {self.dir}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
    ssl = yes
  }}
}}
protocol imap {{
  {capability}
}}
"""
        )
        self._proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_port(self.port)
            _wait_port(self.tls_port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"Dovecot did not start:\n{self.log}") from None
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
            if proc.stdout is not None:
                proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- A mail client of the test's own (the stdlib's imaplib) -----------------------------

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in stdlib IMAP client on the plain port."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        try:
            imap.login(USER, PASSWORD)
            yield imap
        finally:
            with contextlib.suppress(Exception):
                imap.logout()
            imap.sock.close()

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        with self.client() as imap:
            imap.create(_q(mailbox))  # fails harmlessly when it exists
            when = imaplib.Time2Internaldate(time.time())
            status, answer = imap.append(_q(mailbox), "", when, raw)
            assert status == "OK", answer

    def uids(self, mailbox: str = "INBOX") -> list[int]:
        """The UIDs in ``mailbox`` (none if it does not exist)."""
        with self.client() as imap:
            status, _ = imap.select(_q(mailbox), readonly=True)
            if status != "OK":
                return []
            status, data = imap.uid("SEARCH", "ALL")
            assert status == "OK", data
            return [int(u) for u in (data[0] or b"").split()]

    def uidvalidity(self, mailbox: str = "INBOX") -> int:
        with self.client() as imap:
            status, data = imap.status(_q(mailbox), "(UIDVALIDITY)")
            assert status == "OK", data
            return int(data[0].split(b"UIDVALIDITY ")[1].rstrip(b")"))

    def recreate(self, mailbox: str) -> None:
        """Delete and create ``mailbox`` again: it gets a new UIDVALIDITY, its UIDs start at 1."""
        with self.client() as imap:
            status, answer = imap.delete(_q(mailbox))
            assert status == "OK", answer
            status, answer = imap.create(_q(mailbox))
            assert status == "OK", answer

    def sessions(self) -> int:
        """How many IMAP connections are logged in right now."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        conf = str(self.dir / "dovecot.conf")
        out = subprocess.run(
            [doveadm, "-c", conf, "who", "-1"], check=True, capture_output=True, text=True
        ).stdout
        return sum(1 for line in out.splitlines()[1:] if line.strip())

    def tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate."""
        return ssl.create_default_context(cafile=str(self.dir / "cert.pem"))


def _q(mailbox: str) -> str:
    """imaplib sends mailbox names as they are: quoted here (the tests' names are ASCII)."""
    return '"' + mailbox + '"'


def _group(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
