"""HTTP and HTML for article-qa: the answer API, the chat page and the article page.

Kept import-light on purpose: `web.app.create_app` builds the FastAPI app, `web.server.serve` runs it.
"""
