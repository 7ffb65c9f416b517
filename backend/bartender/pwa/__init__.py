"""The progressive web app: the jinja2 shell, the service worker and the static assets."""
