"""PDF briefings ("bản tin điều hành"): numbers from the read model, the dashboard's figures as
vector SVG (kaleido), an HTML template laid out by WeasyPrint. No Flask or Dash app needed."""

from dashboard.briefings.build import build_briefing
from dashboard.briefings.charts import ChromiumMissing

__all__ = ["ChromiumMissing", "build_briefing"]
