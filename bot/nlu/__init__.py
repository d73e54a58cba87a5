"""Custom Rasa NLU components of the support bot (referenced by module path in config.yml)."""
