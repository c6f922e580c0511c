"""Property-based contract checks: schemathesis driven by the API description."""
