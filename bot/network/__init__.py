"""The child's network circle: people on three rings by closeness, in sectors by role."""
