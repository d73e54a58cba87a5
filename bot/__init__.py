"""Supportbot: the library shared by the Rasa actions, the CLI and the web app."""
