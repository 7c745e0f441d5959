"""Secrets: the backend interface, the encrypted file store and resolution at injection."""
