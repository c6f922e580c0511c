"""Recording and replay of real traffic on vcrpy cassettes: matching, scrubbing, storage, conformance."""
