"""The HTTP API: OGC API - Features for the layers, analysis endpoints. Thin: one core call per endpoint."""
