"""The marketing system: subscribers, campaigns' e-mails (``email``), journeys (``journeys``) and
their daily loads (``day``)."""
