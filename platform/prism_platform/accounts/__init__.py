"""Accounts: users with roles, hashed passwords, API tokens, logins."""
