"""Background work an API process runs beside serving requests (reminders)."""
