"""The operator core of both rollups (issue #10): intake, store, HTTP front, metrics, config."""
