"""Desktop views for department staff (issue 9): pure builders of page content from filters and the
read model; the Dash Pages modules in `dashboard/pages/desk/` only register them."""
