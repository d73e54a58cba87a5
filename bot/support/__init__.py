"""What the assistant decides about orders, products and policies, free of Rasa."""
