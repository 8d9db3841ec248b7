"""Where a webhook may go: an http(s) URL whose host resolves only to public addresses, unless
the company allows private targets (``allow_private_webhook_targets``).

Checked when a webhook URL is saved and again whenever the delivery worker opens a connection,
on the addresses the host resolves to then (a name may later point elsewhere); the worker
connects to the address it checked, and keeps the connection alive a few seconds at most.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from porch.domain.errors import BadRequest


class RefusedTarget(Exception):
    """A webhook URL that may not be used; the message says why."""


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host, else BadRequest."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("A webhook URL must be an absolute http or https URL")
    if len(url) > 2048:
        raise BadRequest("A webhook URL must be at most 2048 characters")
    return url


def _private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to now (the host itself for an IP literal)."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedTarget(f"{host} does not resolve: {exc}") from exc
    return sorted({str(info[4][0]) for info in infos})


async def check_target(url: str, *, allow_private: bool) -> None:
    """Raise RefusedTarget if ``url``'s host resolves to a private, loopback or link-local
    address and the company does not allow them."""
    if allow_private:
        return
    await address_for(urlsplit(url).hostname or "", allow_private=False)


async def address_for(host: str, *, allow_private: bool) -> str:
    """The address a delivery to ``host`` connects to: one it resolves to now, after the
    check of ``check_target`` (RefusedTarget if any is private and that is not allowed).
    Connecting to the checked address, not the name, leaves a re-pointed name no window."""
    addresses = await resolve(host)
    if not allow_private:
        for addr in addresses:
            if _private(ipaddress.ip_address(addr.split("%")[0])):
                raise RefusedTarget(
                    f"{host} resolves to {addr}, a private, loopback or link-local address; "
                    "the company setting allow_private_webhook_targets permits such targets"
                )
    if not addresses:
        raise RefusedTarget(f"{host} resolves to no address")
    return addresses[0]
