"""Accounts service: Companies (clients), their buyers and roles, client groups, credit standing, receivables, the client card and knowledge goals, login and API keys."""
