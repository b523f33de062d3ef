"""The caseworkers' portal: what it shows and who may see it. The web routes are in
bot/web/routers/portal_*.py; this package holds the logic they share with the PDF and
the command line."""
