"""What plugs into Rasa: the channels (`channels`, named in credentials.yml), the rules they
apply to every message (`messages`), the tracker store (`tracker_store`) and lock store
(`lock_store`) named in the endpoints file, the rule policy named in config.yml
(`indexed_rule_policy`), the launcher of the Rasa server (`launcher`) with its patches
(`performance`, `socketio_fixes`) and the action server's launcher (`action_server`)."""
