"""Who is calling: API keys, passwords, browser sessions and the `Principal` every request
resolves to (see principals.py). What a principal may do is decided by the per-resource
policies through `assay.authz.authorize`."""
