"""The web UI (server-rendered pages) and the JSON API, on one FastAPI app."""
