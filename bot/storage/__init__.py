"""The app database: models, sessions, repositories and migrations."""
