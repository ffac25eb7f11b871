"""Turn folders of articles into a persisted, searchable index (parse, chunk, embed, store)."""
