"""Credentials: who may receive them, how requests carry them, and how they are obtained."""
