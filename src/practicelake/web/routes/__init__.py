"""The web app's routes: pages (HTML), api (JSON under /api/v1), admin, and error pages."""
