"""Conversations read back from Rasa's tracker store, and personal data kept out of sight."""
