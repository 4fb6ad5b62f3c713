"""Server-rendered pages: Jinja2 templates and static files (no CDN)."""
