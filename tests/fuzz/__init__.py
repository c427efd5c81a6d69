"""Fuzzing of the DNS decoders (lane_fuzz.py) and its bounded CI run."""
