"""VLM Run skills contract harness."""
