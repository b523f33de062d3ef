"""Privacy and data protection: encrypted tracker events, erasure ("vergeet mij"),
export for access requests, retention, key rotation and input limits (docs/privacy.md)."""
