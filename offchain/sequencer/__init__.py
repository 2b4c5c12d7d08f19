"""The one operator core of both rollups: admission, durable intake, batch posting, status,
the HTTP front, metrics and configuration."""
