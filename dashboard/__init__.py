"""The Dash app: wall screens, desktop pages and PDF briefings."""
