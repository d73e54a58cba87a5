"""The improvement loop: customer messages the bot misunderstood become training data.

Staff mark a message in a transcript with the intent it should have had (`marks`), review
the marks and the messages the bot was unsure of on `/staff/nlu`, and `supportbot nlu
export` writes the accepted marks as Rasa training data (`export`); `supportbot nlu report`
says how many of them the current model gets right (`report`).
"""
