"""The domain layer: access checks and actions, free of HTTP.

Every write is an action (``do_*``) that runs in one transaction and appends to the event log in
that transaction; every object a request names is loaded through an ``access_*`` function that
enforces the company and the token's namespaces.
"""
