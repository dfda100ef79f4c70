"""Serving the dashboard: the Panel server behind its hardening, and the ``serve`` command's setup."""
