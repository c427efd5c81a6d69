"""The details the engine writes itself, not a judge: a check that overran its deadline or
raised, and the scanner's own errors (no usable resolver, no raw socket)."""

from __future__ import annotations
