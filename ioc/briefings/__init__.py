"""PDF briefings, the parts without the dashboard: the `briefings:` config section, the archive
(`briefing` table + files) and e-mail delivery through the province's SMTP relay. The PDF itself
is built by `dashboard.briefings` (it uses the dashboard's figures)."""
