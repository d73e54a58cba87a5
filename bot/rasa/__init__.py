"""What plugs into Rasa: the channels (`channels`, named in credentials.yml), the rules they
apply to every message (`messages`) and the action server's launcher (`action_server`)."""
