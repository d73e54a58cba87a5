"""The demo shop: a deterministic catalog, customers and order history to chat about."""
