"""Adapters: implementations of the ports (storage, feeds, providers, publishers)."""
