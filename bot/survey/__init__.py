"""The end-of-chat survey: reading answers, deciding what they mean, storing them."""
