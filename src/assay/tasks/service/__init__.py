"""The tasks domain's services: creation, reads and listing, and small mutations."""
