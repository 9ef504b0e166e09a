"""Calls out of the service: subscribers' webhook URLs and the SMTP server."""
