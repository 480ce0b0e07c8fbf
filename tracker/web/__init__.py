"""The web layer: blueprints (one per area), forms, URL parameters, the permission guard and
the HTTP error pages. Views here call services; nothing below imports from here."""
