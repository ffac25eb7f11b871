"""Answer questions from an article index: retrieve, extract, cite, follow a conversation."""
