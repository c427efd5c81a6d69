"""What the probes saw, per family: frozen data the checks judge."""
