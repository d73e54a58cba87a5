"""Deployment profiles: the processes of a topology, their configuration and their start."""
