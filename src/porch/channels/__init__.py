"""Channels: how messages reach Porch from outside and leave it (email now; partner channels
later). Each channel package turns its medium into the domain's messages and back."""
