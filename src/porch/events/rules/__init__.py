"""The rules engine (issue 6): company, team and teammate rules run on the event log.

- ``registry``: the condition and action registries and their base classes.
- ``conditions`` / ``actions``: the registered types.
- ``definition``: a rule's triggers, conditions and actions parsed from JSON.
- ``facts`` / ``runtime``: what conditions read and what actions run with.
- ``engine``: the ``rules`` event-log consumer (idempotent per rule and event).
- ``timers``: the worker that fires time-based triggers.
"""
