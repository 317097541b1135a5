"""The Jupyter server adapter: tornado handlers over the core."""
