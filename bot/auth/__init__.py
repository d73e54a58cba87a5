"""Who is chatting: roles carried by signed tokens in the channel metadata."""
