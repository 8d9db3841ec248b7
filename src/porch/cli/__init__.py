"""The ``porch`` command."""
