"""Engagement Lake: a layered lakehouse data model for customer-engagement data."""

__version__ = "0.1.0"
