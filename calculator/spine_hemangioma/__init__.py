"""Management algorithm for symptomatic spine hemangiomas (educational)."""
