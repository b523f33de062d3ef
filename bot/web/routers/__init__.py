"""One APIRouter per area; bot/web/app.py wires them."""
