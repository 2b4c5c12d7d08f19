"""The operator's service plumbing: durable store, HTTP JSON API, retrying L1 sender."""
